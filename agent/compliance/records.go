package compliance

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/msgguard/msgguard/policy"
)

// Limits on free text an administrator types: records are small, and a
// name or reason is not the place for a document.
const (
	maxName   = 200
	maxReason = 1000
)

// AttestRequest is what `agent attest` asks to record.
type AttestRequest struct {
	// Rule is the attestation's id or rule ("x" or "attestation.x").
	Rule   string
	Device string
	By     string
	Note   string
	// Until is optional: zero means the rule's full validity.
	Until time.Time
}

// NewAttestation validates req against the policy and returns the record to
// store. It refuses an unknown attestation, a missing name, an Until that is
// not in the future or that exceeds the rule's validity. A confirmation
// without --until holds through the last day of its validity (UTC).
func NewAttestation(p *policy.Policy, req AttestRequest, now time.Time) (Attestation, error) {
	r := p.Attestation(req.Rule)
	if r == nil {
		if p.KnownRule(req.Rule) {
			return Attestation{}, fmt.Errorf("rule %q is observed by the agent, not attested; only attestation rules can be attested (to waive it, use agent exempt)", req.Rule)
		}
		return Attestation{}, p.UnknownRuleError(req.Rule)
	}
	if err := checkText("--by", req.By, maxName, true); err != nil {
		return Attestation{}, err
	}
	if err := checkText("--note", req.Note, maxReason, false); err != nil {
		return Attestation{}, err
	}
	if req.Device == "" {
		return Attestation{}, errors.New("no device to attest for")
	}
	max := endOfDay(now.Add(r.Validity.Std()))
	until := req.Until
	switch {
	case until.IsZero():
		until = max
	case !until.After(now):
		return Attestation{}, fmt.Errorf("--until %s is not in the future", until.UTC().Format(time.RFC3339))
	case until.After(max):
		return Attestation{}, fmt.Errorf("--until %s is beyond the rule's validity of %s (at most %s)",
			FormatDay(until, "en"), r.Validity, FormatDay(max, "en"))
	}
	return Attestation{Rule: r.Rule(), Device: req.Device, By: strings.TrimSpace(req.By), Note: strings.TrimSpace(req.Note),
		At: now.UTC(), Until: until.UTC()}, nil
}

// ExemptRequest is what `agent exempt` asks to record.
type ExemptRequest struct {
	Rule, Subject, User string
	Device              string
	Reason, Approver    string
	// Until is required.
	Until time.Time
}

// NewExemption validates req against the policy: a known rule, a reason and
// an approver, and an expiry in the future but at most max_exemption away.
func NewExemption(p *policy.Policy, req ExemptRequest, now time.Time) (Exemption, error) {
	if !p.KnownRule(req.Rule) {
		return Exemption{}, p.UnknownRuleError(req.Rule)
	}
	if req.Rule == policy.RulePolicyInvalid {
		return Exemption{}, errors.New("a broken policy cannot be exempted")
	}
	if err := checkText("--reason", req.Reason, maxReason, true); err != nil {
		return Exemption{}, err
	}
	if err := checkText("--approver", req.Approver, maxName, true); err != nil {
		return Exemption{}, err
	}
	for _, f := range []struct{ name, v string }{{"--subject", req.Subject}, {"--user", req.User}} {
		if err := checkText(f.name, f.v, maxName, false); err != nil {
			return Exemption{}, err
		}
	}
	if req.Device == "" {
		return Exemption{}, errors.New("no device to exempt")
	}
	max := p.EffectiveMaxExemption()
	switch {
	case req.Until.IsZero():
		return Exemption{}, fmt.Errorf("--until is required: every exemption ends (at most %s from now)", max)
	case !req.Until.After(now):
		return Exemption{}, fmt.Errorf("--until %s is not in the future", req.Until.UTC().Format(time.RFC3339))
	case req.Until.Sub(now) > max.Std():
		return Exemption{}, fmt.Errorf("--until %s is more than max_exemption (%s) from now", FormatDay(req.Until, "en"), max)
	}
	return Exemption{Rule: req.Rule, Subject: strings.TrimSpace(req.Subject), User: strings.TrimSpace(req.User), Device: req.Device,
		Reason: strings.TrimSpace(req.Reason), Approver: strings.TrimSpace(req.Approver), At: now.UTC(), Until: req.Until.UTC()}, nil
}

// checkText validates a free-text flag: required where asked, valid UTF-8
// without control characters, and at most max bytes.
func checkText(flag, s string, max int, required bool) error {
	s = strings.TrimSpace(s)
	switch {
	case s == "" && required:
		return fmt.Errorf("%s is required", flag)
	case len(s) > max:
		return fmt.Errorf("%s is %d bytes; at most %d", flag, len(s), max)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not valid UTF-8", flag)
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("%s contains control characters", flag)
	}
	return nil
}

// endOfDay is the last instant of t's day UTC: a confirmation holds
// through the whole last day.
func endOfDay(t time.Time) time.Time {
	return policy.EndOfDay(t)
}
