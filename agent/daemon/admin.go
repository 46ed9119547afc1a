package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"

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
func (d *Daemon) Attest(ctx context.Context, req localapi.AttestRequest) (*localapi.AttestResult, error) {
	if d.opt.Admin == nil {
		return nil, localapi.ErrUnavailable
	}
	creq := compliance.AttestRequest{Rule: req.Rule, By: req.By, Note: req.Note}
	if req.Until != "" {
		t, err := policy.ParseDate(req.Until)
		if err != nil {
			return nil, localapi.Invalid(fmt.Errorf("--until: %w", err))
		}
		creq.Until = t
	}
	pol := d.pol.current().Policy
	if pol == nil {
		return nil, errors.New("no policy in force")
	}
	now := d.now()
	// As the CLI: what needs no database first, so that a typo is
	// reported before an unknown device.
	probe := creq
	probe.Device = "check"
	if _, err := compliance.NewAttestation(pol, probe, now); err != nil {
		return nil, localapi.Invalid(err)
	}
	unlock, err := d.lock(ctx)
	if err != nil {
		return nil, err
	}
	dev, last, err := d.recordDevice(req.Device)
	if err != nil {
		unlock()
		return nil, err
	}
	creq.Device = dev
	a, err := compliance.NewAttestation(pol, creq, now)
	if err != nil {
		unlock()
		return nil, localapi.Invalid(err)
	}
	err = compliance.NewStore(d.opt.Admin.DB, compliance.Retention{}).Attest(a)
	unlock()
	if err != nil {
		return nil, fmt.Errorf("recording the attestation: %w", err)
	}
	d.log.Info().Str("rule", a.Rule).Str("device", a.Device).Time("until", a.Until).Msg("attestation_recorded")
	res := &localapi.AttestResult{Attestation: a, Applies: true}
	if r := pol.Attestation(a.Rule); r != nil && last != nil && last.Inventory != nil {
		res.Applies = r.AppliesWhen.Applies(last.Inventory)
	}
	res.Rescan = d.rescan(ctx, "attest", a.Device)
	return res, nil
}

// Exempt implements localapi.Recorder: as `agent exempt`, then a rescan.
func (d *Daemon) Exempt(ctx context.Context, req localapi.ExemptRequest) (*localapi.ExemptResult, error) {
	if d.opt.Admin == nil {
		return nil, localapi.ErrUnavailable
	}
	creq := compliance.ExemptRequest{Rule: req.Rule, Subject: req.Subject, User: req.User, Reason: req.Reason, Approver: req.Approver}
	if req.Until != "" {
		t, err := policy.ParseDate(req.Until)
		if err != nil {
			return nil, localapi.Invalid(fmt.Errorf("--until: %w", err))
		}
		creq.Until = t
	}
	pol := d.pol.current().Policy
	if pol == nil {
		return nil, errors.New("no policy in force")
	}
	now := d.now()
	probe := creq
	probe.Device = "check"
	if _, err := compliance.NewExemption(pol, probe, now); err != nil {
		return nil, localapi.Invalid(err)
	}
	unlock, err := d.lock(ctx)
	if err != nil {
		return nil, err
	}
	dev, _, err := d.recordDevice(req.Device)
	if err != nil {
		unlock()
		return nil, err
	}
	creq.Device = dev
	x, err := compliance.NewExemption(pol, creq, now)
	if err != nil {
		unlock()
		return nil, localapi.Invalid(err)
	}
	err = compliance.NewStore(d.opt.Admin.DB, compliance.Retention{}).Exempt(x)
	unlock()
	if err != nil {
		return nil, fmt.Errorf("recording the exemption: %w", err)
	}
	d.log.Info().Str("rule", x.Rule).Str("device", x.Device).Time("until", x.Until).Msg("exemption_recorded")
	return &localapi.ExemptResult{Exemption: x, Rescan: d.rescan(ctx, "exempt", x.Device)}, nil
}

// AcceptBaseline implements localapi.Recorder: as `agent baseline
// accept`, then the sinks are kicked to deliver the baseline_accepted
// events. No rescan: accepting changes no finding.
func (d *Daemon) AcceptBaseline(ctx context.Context, req localapi.BaselineAcceptRequest) (*localapi.BaselineAcceptResult, error) {
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
	return &localapi.BaselineAcceptResult{Events: evs}, nil
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
func (d *Daemon) rescan(ctx context.Context, reason, device string) localapi.Rescan {
	f := d.request(reason)
	select {
	case <-f.done:
	case <-ctx.Done():
		return localapi.Rescan{Error: ctx.Err().Error()}
	}
	if f.err != nil {
		return localapi.Rescan{Error: f.err.Error()}
	}
	out := localapi.Rescan{ScannedAt: f.report.ScannedAt, Covered: f.report.Device.ID == device}
	for _, p := range f.report.Phones {
		if p.Device.ID == device {
			out.Covered = true
		}
	}
	return out
}
