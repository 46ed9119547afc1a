// Package scan runs one scan cycle: probe the device, evaluate the
// inventory against the policy, record the result in the store (with any
// hooks such as drift), and return the report.
package scan

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/rs/zerolog"

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
// explicitly (no globals): the probe, the store (nil for a dry run), hooks
// run inside the store's transaction, the clock and the output language.
type Scanner struct {
	Probe        Probe
	Store        *store.Store
	Hooks        []store.Hook
	Now          func() time.Time
	Lang         string
	ProbeTimeout time.Duration
	Log          zerolog.Logger
	// Post adjusts the evaluated findings (with Policy.Extra and
	// scan.incomplete) before the report is built: the compliance workflow
	// (agent/compliance.Store.Apply) adds attestation findings and applies
	// exemptions, grace periods and stages. nil keeps them as evaluated.
	Post PostFunc
}

// PostFunc is the type of Scanner.Post.
type PostFunc func(ctx context.Context, p *policy.Policy, inv *policy.Inventory, fs []policy.Finding, now time.Time, lang string) ([]policy.Finding, error)

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
	if s.Post != nil {
		if findings, err = s.Post(ctx, pol.Policy, inv, findings, start, s.Lang); err != nil {
			return nil, err
		}
	}
	r := BuildReport(inv, findings, pol.Ref, start)
	r.Duration = now().Sub(start)
	r.Source = "scan"
	if s.Store != nil {
		if _, err := s.Store.Record(r, s.Hooks...); err != nil {
			return nil, err
		}
	}
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
