// Package scan runs one scan cycle: probe the device, evaluate the
// inventory against the policy, then run the cycle's stages — compliance,
// report, record, drift, outbox — in one write transaction of the store, and
// return the report. One transaction per scan is one commit: two fdatasyncs,
// and a scan is recorded with its drift events and their deliveries, or not
// at all.
package scan

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"

	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/agent/store"
	"github.com/msgguard/msgguard/policy"
)

// Probe inspects one device and returns its inventory. It must honour ctx.
type Probe func(ctx context.Context, cat *policy.Catalog) (*policy.Inventory, error)

// DefaultProbeTimeout bounds one device probe.
const DefaultProbeTimeout = 2 * time.Minute

// ErrProbeTimeout is returned when a probe does not finish in time.
var ErrProbeTimeout = errors.New("probe did not finish in time")

// Scanner runs scan cycles. Its fields are the cycle's dependencies, passed
// explicitly (no globals): the probe, the store whose one write transaction
// the stages share (nil for a dry run: the stages get a nil tx), the
// stages, the clock and the output language.
type Scanner struct {
	Probe Probe
	Store *store.Store
	// Stages run in order inside the scan's transaction (see Stage). A list
	// without a Report stage gets the report built after the last stage.
	Stages       []Stage
	Now          func() time.Time
	Lang         string
	ProbeTimeout time.Duration
	Log          zerolog.Logger
}

// Cycle is what the stages of one scan share.
type Cycle struct {
	Policy    Policy
	Inventory *policy.Inventory
	// Findings are the evaluated findings (with Policy.Extra and
	// scan.incomplete); stages before Report may adjust them.
	Findings []policy.Finding
	// Start is the scan's time; Lang its output language.
	Start time.Time
	Lang  string
	// Report is set by the Report stage.
	Report *status.Report
	// Events are what a stage (drift) produced for a later one (outbox) to
	// deliver.
	Events []Event
	now    func() time.Time
}

// Event is one event a stage hands to a later one for delivery.
type Event struct {
	ID       string
	Device   string
	Severity policy.Severity
	// Body is the encoded event as it is delivered.
	Body []byte
}

// Stage is one step of a scan's single write transaction. tx is nil in a
// dry run (no store): a stage that needs the database then does nothing, or
// what it does without one.
type Stage struct {
	Name string
	Run  func(tx *bolt.Tx, c *Cycle) error
}

// AdjustFunc changes the evaluated findings before the report is built,
// inside the scan's transaction (agent/compliance.Store.ApplyTx adds
// attestation findings and applies exemptions, grace periods and stages).
// tx is nil in a dry run.
type AdjustFunc func(tx *bolt.Tx, p *policy.Policy, inv *policy.Inventory, fs []policy.Finding, now time.Time, lang string) ([]policy.Finding, error)

// Adjust is a stage that replaces the cycle's findings with fn's.
func Adjust(name string, fn AdjustFunc) Stage {
	return Stage{Name: name, Run: func(tx *bolt.Tx, c *Cycle) (err error) {
		c.Findings, err = fn(tx, c.Policy.Policy, c.Inventory, c.Findings, c.Start, c.Lang)
		return err
	}}
}

// Report is the stage that builds the cycle's report from its findings.
func Report() Stage {
	return Stage{Name: "report", Run: func(_ *bolt.Tx, c *Cycle) error {
		c.buildReport()
		return nil
	}}
}

func (c *Cycle) buildReport() {
	r := BuildReport(c.Inventory, c.Findings, c.Policy.Ref, c.Start)
	r.Duration = c.now().Sub(c.Start)
	r.Source = "scan"
	c.Report = r
}

// Record is the stage that stores the report in st (store.RecordTx). It
// does nothing in a dry run.
func Record(st *store.Store) Stage {
	return Stage{Name: "record", Run: func(tx *bolt.Tx, c *Cycle) error {
		if tx == nil || st == nil {
			return nil
		}
		if c.Report == nil {
			return errors.New("no report to record (the Report stage must come first)")
		}
		return st.RecordTx(tx, c.Report)
	}}
}

// Policy is the policy in force and how to describe it.
type Policy struct {
	Policy *policy.Policy
	Ref    status.PolicyRef
	// Extra are findings about the agent itself to include (for example
	// policy.invalid when a newer policy file was rejected).
	Extra []policy.Finding
}

// Scan runs one cycle and returns the recorded report.
func (s *Scanner) Scan(ctx context.Context, pol Policy) (*status.Report, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	start := now()
	inv, err := s.probe(ctx, pol.Policy.Catalog())
	if err != nil {
		return nil, err
	}
	if inv.Device.ID == "" {
		// Without a stable id the store cannot track this device's history;
		// "local" keeps the computer's own history together.
		inv.Device.ID = "local"
		inv.Problems = append(inv.Problems, policy.Problem{Probe: "identify", Message: "no machine id found; using \"local\" as the device id"})
	}
	findings := policy.Evaluate(pol.Policy, inv, policy.EvalOptions{Now: start, Lang: s.Lang})
	findings = append(findings, pol.Extra...)
	if f, ok := incomplete(inv, start); ok {
		findings = append(findings, f)
	}
	c := &Cycle{Policy: pol, Inventory: inv, Findings: findings, Start: start, Lang: s.Lang, now: now}
	run := func(tx *bolt.Tx) error {
		for _, st := range s.Stages {
			if err := st.Run(tx, c); err != nil {
				return fmt.Errorf("scan stage %s: %w", st.Name, err)
			}
		}
		return nil
	}
	if s.Store == nil {
		err = run(nil)
	} else {
		// The daily consistency check of a long-running service (a no-op
		// for the CLI, whose store has no CheckInterval).
		if err := s.Store.CheckIfDue(); err != nil {
			return nil, err
		}
		err = s.Store.Update(run)
	}
	if err != nil {
		return nil, err
	}
	if c.Report == nil {
		c.buildReport()
	}
	r := c.Report
	s.Log.Info().Str("device", r.Device.ID).Bool("compliant", r.Compliant).
		Int("failing", r.Summary.ByStatus[policy.StatusFail]).Int("unknown", r.Summary.ByStatus[policy.StatusUnknown]).
		Dur("duration", r.Duration).Msg("scan_done")
	return r, nil
}

// probe runs the probe with a deadline. A probe that ignores its context is
// abandoned at the deadline (its goroutine finishes on its own) so that a
// hung probe cannot hang the agent.
func (s *Scanner) probe(ctx context.Context, cat *policy.Catalog) (*policy.Inventory, error) {
	timeout := s.ProbeTimeout
	if timeout <= 0 {
		timeout = DefaultProbeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		inv *policy.Inventory
		err error
	}
	ch := make(chan result, 1)
	go func() {
		inv, err := s.Probe(ctx, cat)
		ch <- result{inv, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("probing device: %w", r.err)
		}
		if r.inv == nil {
			return nil, errors.New("probing device: probe returned no inventory")
		}
		return r.inv, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("probing device: %w after %v", ErrProbeTimeout, timeout)
	}
}

// incomplete returns a finding that says which probes could not read
// everything, so that a partially failed scan never looks clean.
func incomplete(inv *policy.Inventory, now time.Time) (policy.Finding, bool) {
	if len(inv.Problems) == 0 {
		return policy.Finding{}, false
	}
	seen := map[string]bool{}
	var probes []string
	var ev []policy.Evidence
	for _, p := range inv.Problems {
		if !seen[p.Probe] {
			seen[p.Probe] = true
			probes = append(probes, p.Probe)
		}
		if len(ev) < 20 {
			ev = append(ev, policy.Evidence{Source: p.Probe, Location: p.Path, Detail: p.Message})
		}
	}
	sort.Strings(probes)
	return policy.Finding{
		Rule:        "scan.incomplete",
		Status:      policy.StatusUnknown,
		Severity:    policy.SeverityLow,
		Subject:     "device",
		Message:     fmt.Sprintf("%d item(s) could not be inspected (%s); results may be incomplete", len(inv.Problems), strings.Join(probes, ", ")),
		Remediation: "See the evidence for what was skipped; fix or remove the named files, or install the missing tools.",
		Evidence:    ev,
		EvaluatedAt: now,
	}, true
}

// BuildReport assembles a report from an inventory and its findings.
func BuildReport(inv *policy.Inventory, findings []policy.Finding, ref status.PolicyRef, at time.Time) *status.Report {
	r := &status.Report{
		SchemaVersion: status.SchemaVersion,
		ScannedAt:     at.UTC(),
		Device:        inv.Device,
		Policy:        ref,
		Inventory:     inv,
		Findings:      make([]status.Finding, 0, len(findings)),
	}
	for _, f := range findings {
		r.Findings = append(r.Findings, status.Finding{Finding: f})
	}
	r.Summary = status.Summarize(r.Findings)
	r.Compliant = policy.Compliant(findings)
	return r
}
