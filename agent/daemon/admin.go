package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/localapi"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/agent/store"
	"github.com/msgguard/msgguard/policy"
)

// AdminOptions let administrators record decisions through the local API
// while the daemon holds the database: `agent attest`, `agent exempt` and
// `agent baseline accept` would otherwise have to stop the service. The
// read endpoints behind `agent attest --list`, `agent exempt --list`,
// `agent baseline show` and `agent explain` read the same database
// (reads.go); the API redacts them for users who are not administrators.
type AdminOptions struct {
	// DB is the open database (store.Store.DB()).
	DB *bolt.DB
	// Drift is the drift configuration a baseline acceptance records its
	// event with (its clock is the daemon's).
	Drift drift.Config
	// Kick, if set, is called after a baseline acceptance stored its
	// event, so that the sinks deliver it at once (report.Dispatcher.Kick).
	Kick func()
}

// lock takes the daemon's work slot, which a scan holds for its whole
// cycle: a record never interleaves with a scan's transactions (bbolt
// serialises writers, but a scan's compliance step must read the records
// as they were before or after, never half-way). It refuses once the
// daemon is stopping.
func (d *Daemon) lock(ctx context.Context) (unlock func(), err error) {
	select {
	case d.busy <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	d.mu.Lock()
	stopping := d.stopping
	d.mu.Unlock()
	if stopping {
		<-d.busy
		return nil, localapi.ErrStopping
	}
	return func() { <-d.busy }, nil
}

// Attest implements localapi.Recorder: it validates the request against
// the policy in force exactly as `agent attest` does, stores the
// attestation, and rescans so that status shows it at once.
func (d *Daemon) Attest(ctx context.Context, req apitype.AttestRequest) (*apitype.AttestResult, error) {
	creq := compliance.AttestRequest{Rule: req.Rule, By: req.By, Note: req.Note}
	a, pol, last, err := record(ctx, d, req.Device, req.Until, &creq.Until,
		func(pol *policy.Policy, dev string, now time.Time) (compliance.Attestation, error) {
			creq.Device = dev
			return compliance.NewAttestation(pol, creq, now)
		},
		func(cs *compliance.Store, a compliance.Attestation) error { return cs.Attest(a) })
	if err != nil {
		return nil, wrapRecordErr("attestation", err)
	}
	d.log.Info().Str("rule", a.Rule).Str("device", a.Device).Time("until", a.Until).Msg("attestation_recorded")
	res := &apitype.AttestResult{Attestation: a, Applies: true}
	if r := pol.Attestation(a.Rule); r != nil && last != nil && last.Inventory != nil {
		res.Applies = r.AppliesWhen.Applies(last.Inventory)
	}
	res.Rescan = d.rescan(ctx, "attest", a.Device)
	return res, nil
}

// Exempt implements localapi.Recorder: as `agent exempt`, then a rescan.
func (d *Daemon) Exempt(ctx context.Context, req apitype.ExemptRequest) (*apitype.ExemptResult, error) {
	creq := compliance.ExemptRequest{Rule: req.Rule, Subject: req.Subject, User: req.User, Reason: req.Reason, Approver: req.Approver}
	x, _, _, err := record(ctx, d, req.Device, req.Until, &creq.Until,
		func(pol *policy.Policy, dev string, now time.Time) (compliance.Exemption, error) {
			creq.Device = dev
			return compliance.NewExemption(pol, creq, now)
		},
		func(cs *compliance.Store, x compliance.Exemption) error { return cs.Exempt(x) })
	if err != nil {
		return nil, wrapRecordErr("exemption", err)
	}
	d.log.Info().Str("rule", x.Rule).Str("device", x.Device).Time("until", x.Until).Msg("exemption_recorded")
	return &apitype.ExemptResult{Exemption: x, Rescan: d.rescan(ctx, "exempt", x.Device)}, nil
}

// saveError marks a failure to store a valid record (as opposed to a
// request the caller got wrong).
type saveError struct{ err error }

func (e saveError) Error() string { return e.err.Error() }
func (e saveError) Unwrap() error { return e.err }

func wrapRecordErr(what string, err error) error {
	var se saveError
	if errors.As(err, &se) {
		return fmt.Errorf("recording the %s: %w", what, se.err)
	}
	return err
}

// record runs the steps attest and exempt share, in the CLI's order: parse
// until into *untilField, validate against the policy in force before
// touching the database (so a typo is reported before an unknown device),
// then under the work lock (never during a scan's transaction) resolve the
// device, build the record for it and save it. It returns the record, the
// policy it was checked against and the device's latest report.
func record[T any](ctx context.Context, d *Daemon, device, until string, untilField *time.Time,
	build func(pol *policy.Policy, device string, now time.Time) (T, error),
	save func(*compliance.Store, T) error) (T, *policy.Policy, *status.Report, error) {
	var zero T
	if d.opt.Admin == nil {
		return zero, nil, nil, localapi.ErrUnavailable
	}
	if until != "" {
		t, err := policy.ParseDate(until)
		if err != nil {
			return zero, nil, nil, localapi.Invalid(fmt.Errorf("--until: %w", err))
		}
		*untilField = t
	}
	pol := d.pol.current().Policy
	if pol == nil {
		return zero, nil, nil, errors.New("no policy in force")
	}
	now := d.now()
	if _, err := build(pol, "check", now); err != nil {
		return zero, nil, nil, localapi.Invalid(err)
	}
	unlock, err := d.lock(ctx)
	if err != nil {
		return zero, nil, nil, err
	}
	defer unlock()
	dev, last, err := d.recordDevice(device)
	if err != nil {
		return zero, nil, nil, err
	}
	rec, err := build(pol, dev, now)
	if err != nil {
		return zero, nil, nil, localapi.Invalid(err)
	}
	if err := save(compliance.NewStore(d.opt.Admin.DB, compliance.Retention{}), rec); err != nil {
		return zero, nil, nil, saveError{err}
	}
	return rec, pol, last, nil
}

// AcceptBaseline implements localapi.Recorder: as `agent baseline
// accept`, then the sinks are kicked to deliver the baseline_accepted
// events. No rescan: accepting changes no finding.
func (d *Daemon) AcceptBaseline(ctx context.Context, req apitype.BaselineAcceptRequest) (*apitype.BaselineAcceptResult, error) {
	if d.opt.Admin == nil {
		return nil, localapi.ErrUnavailable
	}
	// The CLI's own flag check; drift.Accept checks the rest.
	if req.By == "" || req.Why == "" {
		return nil, localapi.Invalid(errors.New("--by and --why are required: the baseline records who accepted it and why"))
	}
	unlock, err := d.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	db := d.opt.Admin.DB
	cfg := d.opt.Admin.Drift
	cfg.Now = d.now
	evs, err := drift.Accept(db, cfg, req.Device, req.By, req.Why)
	if err != nil {
		// drift.Accept refuses a blank name or reason and a device without
		// drift state (no scan yet, an unknown id): the caller's to fix,
		// told in Accept's words. Anything else is the database's.
		if strings.TrimSpace(req.By) == "" || strings.TrimSpace(req.Why) == "" {
			return nil, localapi.Invalid(err)
		}
		if bs, berr := drift.Baselines(db, req.Device); berr == nil && len(bs) == 0 {
			return nil, localapi.Invalid(err)
		}
		return nil, fmt.Errorf("accepting the baseline: %w", err)
	}
	for _, ev := range evs {
		d.log.Info().Str("device", ev.Device).Msg("baseline_accepted")
	}
	if d.opt.Admin.Kick != nil {
		d.opt.Admin.Kick()
	}
	return &apitype.BaselineAcceptResult{Events: evs}, nil
}

// recordDevice returns the device a record is for, with its latest
// report: the named device, else the computer's own (the database's
// primary device). The messages are the CLI's (cmd_attest.go).
func (d *Daemon) recordDevice(device string) (string, *status.Report, error) {
	r, err := d.opt.Store.Latest(device)
	switch {
	case errors.Is(err, store.ErrNoScan) && device == "":
		return "", nil, localapi.Invalid(errors.New("no scan of this computer recorded yet; run 'agent scan' first"))
	case errors.Is(err, store.ErrNoScan):
		return "", nil, localapi.Invalid(fmt.Errorf("no device %q in the database (see the device ids in 'agent status --json')", device))
	case err != nil:
		return "", nil, err
	}
	return r.Device.ID, r, nil
}

// rescan runs (or joins) a scan that starts after the record was stored
// and reports whether it covered device.
func (d *Daemon) rescan(ctx context.Context, reason, device string) apitype.Rescan {
	f := d.request(reason)
	select {
	case <-f.done:
	case <-ctx.Done():
		return apitype.Rescan{Error: ctx.Err().Error()}
	}
	if f.err != nil {
		return apitype.Rescan{Error: f.err.Error()}
	}
	out := apitype.Rescan{ScannedAt: f.report.ScannedAt, Covered: f.report.Device.ID == device}
	for _, p := range f.report.Phones {
		if p.Device.ID == device {
			out.Covered = true
		}
	}
	return out
}
