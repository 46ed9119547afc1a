package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"time"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/config"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/localapi"
	"github.com/msgguard/msgguard/agent/msg"
	"github.com/msgguard/msgguard/agent/records"
	"github.com/msgguard/msgguard/agent/scan"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/agent/store"
	"github.com/msgguard/msgguard/policy"
)

// backend is where the read and admin verbs get and record their data:
// the running service through the local API (it holds the database), or
// the database itself when no service runs. chooseBackend picks one per
// invocation; the verbs print, and decide their exit code, the same way
// whichever answered. *localapi.Client is the service's implementation,
// *dbBackend the database's.
type backend interface {
	Status(ctx context.Context) (*status.Report, error)
	Drift(ctx context.Context, since time.Time) (*apitype.DriftResponse, error)
	Attestations(ctx context.Context, device string) (*apitype.AttestationList, error)
	Exemptions(ctx context.Context, device string) (*apitype.ExemptionList, error)
	Baselines(ctx context.Context, device string) (*apitype.BaselineList, error)
	Explain(ctx context.Context, rule, device string) (*apitype.RuleHistory, error)
	Attest(ctx context.Context, req apitype.AttestRequest) (*apitype.AttestResult, error)
	Exempt(ctx context.Context, req apitype.ExemptRequest) (*apitype.ExemptResult, error)
	AcceptBaseline(ctx context.Context, req apitype.BaselineAcceptRequest) (*apitype.BaselineAcceptResult, error)
	Close()
}

var (
	_ backend = (*localapi.Client)(nil)
	_ backend = (*dbBackend)(nil)
)

// chooseBackend returns the running service when c names a socket and no
// --db was given and a service answers there, else the database at c.db.
// A service that exists but does not answer is reported, then the
// database is read.
func chooseBackend(ctx context.Context, e *Env, c *common) backend {
	if c.socket != "" && !c.given("db") {
		cl, err := localapi.Dial(ctx, c.socket)
		if err == nil {
			return serviceBackend{cl}
		}
		if !errors.Is(err, localapi.ErrNotRunning) {
			e.complain(c.verb, fmt.Sprintf(msg.T(c.lang(), "the service did not answer (%v); using the database instead"), err))
		}
	}
	return &dbBackend{e: e, path: c.db, policyFile: c.policy}
}

// serviceBackend is the running service. It marks the reports it returns
// as the service's.
type serviceBackend struct{ *localapi.Client }

// fromService reports whether b is the running service.
func fromService(b backend) bool {
	_, ok := b.(serviceBackend)
	return ok
}

// dbBackend reads and records in the database itself. Reads open it
// read-only for the call; records open it for writing, as an
// administrator, checking the request against the policy in force.
type dbBackend struct {
	e          *Env
	path       string
	policyFile string
}

// Close implements backend; each call closes what it opened.
func (b *dbBackend) Close() {}

// readDB opens b's database read-only for one call of fn.
func readDB[T any](b *dbBackend, fn func(st *store.Store) (T, error)) (T, error) {
	st, err := store.Open(b.path, store.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		var zero T
		return zero, err
	}
	defer st.Close()
	return fn(st)
}

func (b *dbBackend) Status(context.Context) (*status.Report, error) {
	return readDB(b, func(st *store.Store) (*status.Report, error) { return readLatest(st) })
}

func (b *dbBackend) Drift(_ context.Context, since time.Time) (*apitype.DriftResponse, error) {
	return readDB(b, func(st *store.Store) (*apitype.DriftResponse, error) { return records.Drift(st, since) })
}

func (b *dbBackend) Attestations(_ context.Context, device string) (*apitype.AttestationList, error) {
	return readDB(b, func(st *store.Store) (*apitype.AttestationList, error) { return records.Attestations(st.DB(), device) })
}

func (b *dbBackend) Exemptions(_ context.Context, device string) (*apitype.ExemptionList, error) {
	return readDB(b, func(st *store.Store) (*apitype.ExemptionList, error) { return records.Exemptions(st.DB(), device) })
}

func (b *dbBackend) Baselines(_ context.Context, device string) (*apitype.BaselineList, error) {
	return readDB(b, func(st *store.Store) (*apitype.BaselineList, error) { return records.Baselines(st.DB(), device) })
}

func (b *dbBackend) Explain(_ context.Context, rule, device string) (*apitype.RuleHistory, error) {
	return readDB(b, func(st *store.Store) (*apitype.RuleHistory, error) { return records.Explain(st.DB(), rule, device) })
}

// beforeRecord is what an attestation and an exemption check before they
// open the database, in this order: the --until date, that the caller is
// an administrator, and the policy in force (which the record is checked
// against).
func (b *dbBackend) beforeRecord(untilArg string) (until time.Time, pol scan.Policy, err error) {
	if untilArg != "" {
		if until, err = policy.ParseDate(untilArg); err != nil {
			return until, pol, localapi.Invalid(fmt.Errorf("--until: %w", err))
		}
	}
	if !b.e.admin() {
		return until, pol, errAdminOnly
	}
	if pol, err = policyInForce(b.e, b.policyFile); err != nil {
		return until, pol, localapi.Invalid(err)
	}
	return until, pol, nil
}

func (b *dbBackend) Attest(_ context.Context, req apitype.AttestRequest) (*apitype.AttestResult, error) {
	until, pol, err := b.beforeRecord(req.Until)
	if err != nil {
		return nil, err
	}
	creq := compliance.AttestRequest{Rule: req.Rule, By: req.By, Note: req.Note, Until: until}
	a, last, err := record(b, req.Device, func(dev string, now time.Time) (compliance.Attestation, error) {
		creq.Device = dev
		return compliance.NewAttestation(pol.Policy, creq, now)
	}, func(cs *compliance.Store, a compliance.Attestation) error { return cs.Attest(a) })
	if err != nil {
		return nil, err
	}
	applies := true
	if r := pol.Policy.Attestation(a.Rule); last != nil && last.Inventory != nil {
		applies = r.AppliesWhen.Applies(last.Inventory)
	}
	return &apitype.AttestResult{Attestation: a, Applies: applies}, nil
}

func (b *dbBackend) Exempt(_ context.Context, req apitype.ExemptRequest) (*apitype.ExemptResult, error) {
	until, pol, err := b.beforeRecord(req.Until)
	if err != nil {
		return nil, err
	}
	creq := compliance.ExemptRequest{Rule: req.Rule, Subject: req.Subject, User: req.User, Reason: req.Reason, Approver: req.Approver, Until: until}
	x, _, err := record(b, req.Device, func(dev string, now time.Time) (compliance.Exemption, error) {
		creq.Device = dev
		return compliance.NewExemption(pol.Policy, creq, now)
	}, func(cs *compliance.Store, x compliance.Exemption) error { return cs.Exempt(x) })
	if err != nil {
		return nil, err
	}
	return &apitype.ExemptResult{Exemption: x}, nil
}

func (b *dbBackend) AcceptBaseline(_ context.Context, req apitype.BaselineAcceptRequest) (*apitype.BaselineAcceptResult, error) {
	st, err := store.Open(b.path, store.Options{Timeout: time.Second})
	if errors.Is(err, store.ErrLocked) {
		return nil, errServiceHoldsDB
	}
	if err != nil {
		return nil, err
	}
	defer st.Close()
	evs, err := drift.Accept(st.DB(), driftConfig(config.DefaultDrift()), req.Device, req.By, req.Why)
	if err != nil {
		return nil, localapi.Invalid(err)
	}
	return &apitype.BaselineAcceptResult{Events: evs}, nil
}

// record records into the database: it validates with build before
// anything is opened, so that a typo is reported first, then opens the
// store, resolves the device (req's, else this computer), builds the
// record for it and saves it. It returns the record and the device's
// latest report (nil when it has none).
func record[T any](b *dbBackend, device string,
	build func(device string, now time.Time) (T, error),
	save func(*compliance.Store, T) error) (T, *status.Report, error) {
	var zero T
	now := b.e.clock()
	if _, err := build("check", now); err != nil {
		return zero, nil, localapi.Invalid(err)
	}
	if _, err := os.Stat(b.path); errors.Is(err, fs.ErrNotExist) {
		return zero, nil, localapi.Invalid(fmt.Errorf("no scan recorded yet in %s; run 'agent scan' first (a confirmation belongs to a scanned device)", b.path))
	}
	st, err := store.Open(b.path, store.Options{Timeout: time.Second, Log: b.e.log, Now: b.e.clock})
	if errors.Is(err, store.ErrLocked) {
		return zero, nil, errServiceHoldsDB
	}
	if err != nil {
		return zero, nil, err
	}
	defer st.Close()
	r, err := st.Latest(device)
	switch {
	case errors.Is(err, store.ErrNoScan) && device == "":
		return zero, nil, localapi.Invalid(errors.New("no scan of this computer recorded yet; run 'agent scan' first"))
	case errors.Is(err, store.ErrNoScan):
		return zero, nil, localapi.Invalid(fmt.Errorf("no device %q in the database (see the device ids in 'agent status --json')", device))
	case err != nil:
		return zero, nil, err
	}
	rec, err := build(r.Device.ID, now)
	if err != nil {
		return zero, nil, localapi.Invalid(err)
	}
	if err := save(complianceStore(st, config.Retention{}), rec); err != nil {
		return zero, nil, err
	}
	return rec, r, nil
}

// errAdminOnly refuses a record to anyone but an administrator.
var errAdminOnly = errors.New("only an administrator may record this")

// errServiceHoldsDB says why attest/exempt cannot record in the database
// while the service runs (with --db, or a service that does not answer or
// predates the record endpoints): the service holds the database.
var errServiceHoldsDB = errors.New("the msgguard service is running and holds the database; stop it ('agent stop'), record, then start it again ('agent start')")

// errServiceHoldsDBForRead says why a read verb cannot open the database:
// the service holds it (and --db was given, or it cannot answer).
var errServiceHoldsDBForRead = errors.New("the msgguard service is running and holds the database; ask it (leave out --db), or stop it ('agent stop') to read the database")

// errServiceTooOld says why a read verb cannot ask the running service.
var errServiceTooOld = errors.New("the running service cannot answer this (an older version?); " + errServiceHoldsDBForRead.Error())

// fail prints err for verb, in the words both backends share, and returns
// the exit code: 3 when nothing was recorded yet, else 2. example is the
// command line to suggest with sudo when err says only administrators may.
func fail(e *Env, c *common, err error, example string) int {
	var (
		api     *localapi.APIError
		denied  *localapi.AccessDeniedError
		invalid *localapi.RequestError
		verb    = c.verb
		l       = c.lang()
	)
	// Texts the service or the compliance package built in English are
	// translated by pattern (msg.Dynamic); an error of the operating
	// system inside them stays as it is.
	switch {
	case errors.As(err, &denied), errors.Is(err, errAdminOnly):
		e.complain(verb, fmt.Sprintf(msg.T(l, "only an administrator may record this (try: sudo agent %s)"), example))
	case errors.As(err, &invalid):
		e.complain(verb, msg.Dynamic(l, invalid.Err.Error()))
	case errors.As(err, &api) && api.Code == http.StatusBadRequest:
		e.complain(verb, msg.Dynamic(l, api.Msg))
	case errors.As(err, &api) && api.Code == http.StatusServiceUnavailable:
		e.complain(verb, fmt.Sprintf(msg.T(l, "the service is running but %s"), msg.Dynamic(l, api.Msg)))
		return exitNoScan
	case errors.As(err, &api) && (api.Code == http.StatusNotFound || api.Code == http.StatusNotImplemented):
		e.complain(verb, msg.Dynamic(l, errServiceTooOld.Error()))
	case errors.Is(err, store.ErrNoDatabase), errors.Is(err, store.ErrNoScan):
		e.complain(verb, fmt.Sprintf(msg.T(l, "no scan recorded yet in %s; run 'agent scan'"), c.db))
		return exitNoScan
	case errors.Is(err, store.ErrLocked):
		e.complain(verb, msg.Dynamic(l, errServiceHoldsDBForRead.Error()))
	default:
		e.complain(verb, msg.Dynamic(l, err.Error()))
		fmt.Fprint(e.stderr, dbHint(err, l))
	}
	return exitUsage
}

// flagGiven reports whether any of the named flags was given.
func flagGiven(fs *flag.FlagSet, names ...string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		for _, n := range names {
			set = set || f.Name == n
		}
	})
	return set
}
