// Package compliance answers "what does the policy demand beyond what the
// probes saw, and how hard?": after policy.Evaluate it turns attestation
// rules into findings (attested, or failing "not yet attested" /
// "attestation expired"), applies exemptions from the policy and from local
// administrators (status exempt with the real result kept in Underlying),
// sets deadlines from per-rule grace periods (first failure + grace) and the
// enforcement stage. Apply is pure; Store keeps the records it needs — who
// attested, local exemptions, when each finding first failed, which
// exemptions were seen expired — in the agent's bbolt database, bounded by a
// retention period.
//
// Clocks go backwards (a dead RTC battery, a VM restored from a snapshot):
// an attestation or exemption the agent has once seen expired is recorded as
// expired and never comes back, and a first failure is never moved, so a
// deadline is never reset.
package compliance

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/msgguard/msgguard/policy"
)

// Attestation is a recorded confirmation of an attestation rule.
type Attestation struct {
	// Rule is the finding rule, "attestation.<id>".
	Rule string `json:"rule"`
	// Device is the device id the confirmation is for.
	Device string `json:"device"`
	// By names the person who confirmed it; Note is optional free text.
	By   string    `json:"by"`
	Note string    `json:"note,omitempty"`
	At   time.Time `json:"at"`
	// Until is the last instant the confirmation holds: for a date, the
	// end of that day (policy.EndOfDay). Records written before that rule
	// hold the following midnight, which FormatDay shows as the same day.
	Until time.Time `json:"until"`
	// ExpiredAt is set by the first scan that sees Until passed. From then
	// on the record is expired whatever the clock says.
	ExpiredAt time.Time `json:"expired_at,omitzero"`
}

// Expired reports whether the record has ended at now (or was seen ended).
func (a *Attestation) Expired(now time.Time) bool {
	return !a.ExpiredAt.IsZero() || !now.Before(a.Until)
}

// Exemption is a local exemption recorded with `agent exempt`.
type Exemption struct {
	Rule    string `json:"rule"`
	Subject string `json:"subject,omitempty"`
	User    string `json:"user,omitempty"`
	Device  string `json:"device"`
	// Reason and Approver are required.
	Reason   string    `json:"reason"`
	Approver string    `json:"approver"`
	At       time.Time `json:"at"`
	Until    time.Time `json:"until"`
	// ExpiredAt is set by the first scan that sees Until passed.
	ExpiredAt time.Time `json:"expired_at,omitzero"`
}

// Expired reports whether the exemption has ended at now (or was seen
// ended).
func (x *Exemption) Expired(now time.Time) bool {
	return !x.ExpiredAt.IsZero() || !now.Before(x.Until)
}

// Key identifies a local exemption's scope on its device.
func (x *Exemption) Key() string { return x.Rule + "\x00" + x.Subject + "\x00" + x.User }

func (x *Exemption) matches(f *policy.Finding) bool {
	return x.Rule == f.Rule && (x.Subject == "" || x.Subject == f.Subject) && (x.User == "" || x.User == f.User)
}

// State is one device's compliance records.
type State struct {
	// Attestations by rule.
	Attestations map[string]Attestation
	// Exemptions (local) by Key.
	Exemptions map[string]Exemption
	// PolicyExpired maps the ID of a policy exemption to when a scan first
	// saw it expired.
	PolicyExpired map[string]time.Time
	// FirstFailed maps a finding key to its first failure.
	FirstFailed map[string]time.Time
}

// NewState returns an empty state.
func NewState() State {
	return State{Attestations: map[string]Attestation{}, Exemptions: map[string]Exemption{},
		PolicyExpired: map[string]time.Time{}, FirstFailed: map[string]time.Time{}}
}

func (s State) clone() State {
	out := NewState()
	for k, v := range s.Attestations {
		out.Attestations[k] = v
	}
	for k, v := range s.Exemptions {
		out.Exemptions[k] = v
	}
	for k, v := range s.PolicyExpired {
		out.PolicyExpired[k] = v
	}
	for k, v := range s.FirstFailed {
		out.FirstFailed[k] = v
	}
	return out
}

// Event kinds of the audit log.
const (
	LogAttested               = "attested"
	LogAttestationExpired     = "attestation_expired"
	LogExempted               = "exempted"
	LogExemptionExpired       = "exemption_expired"
	LogPolicyExemptionExpired = "policy_exemption_expired"
)

// LogEntry is one audit record: who attested or exempted what, and when a
// record expired.
type LogEntry struct {
	Time    time.Time `json:"time"`
	Kind    string    `json:"kind"`
	Device  string    `json:"device"`
	Rule    string    `json:"rule"`
	Subject string    `json:"subject,omitempty"`
	User    string    `json:"user,omitempty"`
	// By is the attesting person or the approver.
	By     string    `json:"by,omitempty"`
	Reason string    `json:"reason,omitempty"`
	Until  time.Time `json:"until,omitzero"`
}

// Input is one scan's evaluation.
type Input struct {
	Policy    *policy.Policy
	Inventory *policy.Inventory
	Findings  []policy.Finding
	Now       time.Time
	Lang      string
}

// Result is what Apply returns: the findings to report, the device's
// updated state and audit entries for what changed.
type Result struct {
	Findings []policy.Finding
	State    State
	Log      []LogEntry
}

// Apply runs the workflow on one scan's findings. It does not modify in or
// st. Order: attestation findings are added; deadlines are set from the
// first failure and the rule's grace; exemptions in force turn failing and
// unknown findings into exempt (keeping the real status in Underlying);
// every finding gets its rule's stage. The output is sorted by rule,
// subject and user.
func Apply(in Input, st State) Result {
	a := applier{in: in, st: st.clone(), lang: policy.NormalizeLang(in.Lang), dev: in.Inventory.Device.ID}
	fs := make([]policy.Finding, 0, len(in.Findings)+len(in.Policy.Attestations))
	fs = append(fs, in.Findings...)
	fs = append(fs, a.attestations()...)
	a.confirmConditions(fs)
	a.grace(fs)
	a.exempt(fs)
	for i := range fs {
		fs[i].Stage = in.Policy.EnforcementFor(&fs[i]).Stage
	}
	sort.SliceStable(fs, func(i, j int) bool {
		x, y := &fs[i], &fs[j]
		if x.Rule != y.Rule {
			return x.Rule < y.Rule
		}
		if x.Subject != y.Subject {
			return x.Subject < y.Subject
		}
		return x.User < y.User
	})
	return Result{Findings: fs, State: a.st, Log: a.log}
}

type applier struct {
	in   Input
	st   State
	lang string
	dev  string
	log  []LogEntry
}

func (a *applier) tr(en, de string, args ...any) string {
	if a.lang == "de" {
		return fmt.Sprintf(de, args...)
	}
	return fmt.Sprintf(en, args...)
}

// date renders the last day a record holds ("valid until 30 June" for an
// Until of 1 July 00:00) in the language's usual form.
func (a *applier) date(t time.Time) string {
	return FormatDay(t, a.lang)
}

// FormatDay renders the last day an end time covers: the day of the instant
// before it, so that both the last instant of 30 June (policy.EndOfDay) and
// the following midnight (records written by older agents) read
// 2026-06-30 in English, 30.06.2026 in German, UTC.
func FormatDay(end time.Time, lang string) string {
	d := end.Add(-time.Nanosecond).UTC()
	if policy.NormalizeLang(lang) == "de" {
		return d.Format("02.01.2006")
	}
	return d.Format("2006-01-02")
}

// formatAt renders an instant's day (an attestation's time).
func (a *applier) formatAt(t time.Time) string {
	return FormatDay(t.Add(time.Nanosecond), a.lang)
}

// attestations returns one finding per attestation rule that applies.
func (a *applier) attestations() []policy.Finding {
	var out []policy.Finding
	p, now := a.in.Policy, a.in.Now
	for i := range p.Attestations {
		r := &p.Attestations[i]
		if !r.AppliesWhen.Applies(a.in.Inventory) {
			continue
		}
		f := policy.Finding{Rule: r.Rule(), Subject: policy.SubjectDevice, Severity: r.Severity, EvaluatedAt: now}
		rec, ok := a.st.Attestations[r.Rule()]
		switch {
		case ok && !rec.Expired(now):
			f.Status = policy.StatusAttested
			f.Attestation = &policy.AttestationInfo{By: rec.By, At: rec.At, Until: rec.Until, Note: rec.Note}
		case ok:
			if rec.ExpiredAt.IsZero() {
				rec.ExpiredAt = now
				a.st.Attestations[r.Rule()] = rec
				a.log = append(a.log, LogEntry{Time: now, Kind: LogAttestationExpired, Device: a.dev, Rule: rec.Rule, By: rec.By, Until: rec.Until})
			}
			f.Status = policy.StatusFail
			f.Attestation = &policy.AttestationInfo{By: rec.By, At: rec.At, Until: rec.Until, Note: rec.Note, Expired: true}
		default:
			f.Status = policy.StatusFail
		}
		f.Message, f.Remediation = attestationTexts(r, &f, a.lang)
		if info := f.Attestation; info != nil {
			// Who attested and their note stay in f.Attestation: texts
			// carry no names, so that a view without the structured
			// fields (a non-administrator's) holds none.
			detail := a.tr("attested on %s until %s", "bestätigt am %s bis %s", a.formatAt(info.At), a.date(info.Until))
			f.Evidence = []policy.Evidence{{Source: "attestation", Location: "agent attest", Detail: detail}}
		}
		out = append(out, f)
	}
	return out
}

// confirmConditions marks a conditional messenger's finding (unknown: the
// agent cannot check the condition) attested when every attestation rule
// that confirms its condition (policy.ConditionAttestations) and applies to
// the device is attested: after both Telegram attestations, Telegram no
// longer asks for a confirmation. The confirmation holds as long as the
// first of them; the finding keeps its evidence of where the messenger was
// found.
func (a *applier) confirmConditions(fs []policy.Finding) {
	byRule := make(map[string]*policy.Finding)
	for i := range fs {
		if strings.HasPrefix(fs[i].Rule, policy.RuleAttestationPrefix) {
			byRule[fs[i].Rule] = &fs[i]
		}
	}
	for i := range fs {
		f := &fs[i]
		if f.Status != policy.StatusUnknown || !strings.HasPrefix(f.Rule, policy.RuleMessengerPrefix) {
			continue
		}
		var first *policy.AttestationInfo
		confirmed, n := true, 0
		for _, r := range a.in.Policy.ConditionAttestations(strings.TrimPrefix(f.Rule, policy.RuleMessengerPrefix)) {
			af, ok := byRule[r.Rule()]
			if !ok {
				continue // does not apply to this device
			}
			n++
			if af.Status != policy.StatusAttested || af.Attestation == nil {
				confirmed = false
				break
			}
			if first == nil || af.Attestation.Until.Before(first.Until) {
				first = af.Attestation
			}
		}
		if !confirmed || n == 0 {
			continue
		}
		info := *first
		f.Status = policy.StatusAttested
		f.Attestation = &info
		f.Message, f.Remediation = conditionTexts(a.in.Policy, f, a.lang)
	}
}

// conditionTexts returns the message and remediation of a messenger finding
// whose condition is confirmed by attestations, in lang.
func conditionTexts(p *policy.Policy, f *policy.Finding, lang string) (msg, remediation string) {
	a := applier{lang: policy.NormalizeLang(lang)}
	rules := p.ConditionAttestations(strings.TrimPrefix(f.Rule, policy.RuleMessengerPrefix))
	ids := make([]string, len(rules))
	for i, r := range rules {
		ids[i] = r.ID
	}
	until := ""
	if f.Attestation != nil {
		until = a.date(f.Attestation.Until)
	}
	return a.tr("The policy's condition for this messenger is confirmed (attestations %s), valid until %s.",
		"Die Bedingung der Richtlinie für diesen Messenger ist bestätigt (Bestätigungen %s), gültig bis %s.",
		strings.Join(ids, ", "), until), ""
}

// attestationTexts returns the message and remediation of an attestation
// finding f of rule r in lang, from the finding's status and attestation.
// They name no person: who attested is f.Attestation.By, shown to
// administrators only.
func attestationTexts(r *policy.AttestationRule, f *policy.Finding, lang string) (msg, remediation string) {
	a := applier{lang: policy.NormalizeLang(lang)}
	q := sentence(r.Question.In(a.lang))
	role := r.Role.In(a.lang)
	info := f.Attestation
	switch {
	case f.Status == policy.StatusAttested && info != nil:
		return a.tr("Attested on %s, valid until %s: %s", "Bestätigt am %s, gültig bis %s: %s",
			a.formatAt(info.At), a.date(info.Until), q), ""
	case info != nil && info.Expired:
		msg = a.tr("Attestation expired on %s (attested on %s; role: %s): %s",
			"Bestätigung am %s abgelaufen (bestätigt am %s; zuständig: %s): %s",
			a.date(info.Until), a.formatAt(info.At), role, q)
	default:
		msg = a.tr("Not yet attested (role: %s): %s", "Noch nicht bestätigt (zuständig: %s): %s", role, q)
	}
	if why := r.Rationale.In(a.lang); why != "" {
		msg += " " + why
	}
	remediation = r.Remediation.In(a.lang)
	if remediation == "" {
		remediation = a.tr("Have %s check this; an administrator records the confirmation with: agent attest %s --by NAME",
			"Von %s prüfen lassen; eine Administratorin oder ein Administrator erfasst die Bestätigung mit: agent attest %s --by NAME", role, r.ID)
	}
	return msg, remediation
}

// Localize rewrites the texts the workflow wrote into f (an attestation
// finding's message and remediation, a policy exemption's reason) in lang,
// so that a report recorded in one language can be shown in another. Other
// findings are left alone.
func Localize(p *policy.Policy, f *policy.Finding, lang string) {
	if r := p.Attestation(f.Rule); r != nil && strings.HasPrefix(f.Rule, policy.RuleAttestationPrefix) {
		if f.Status == policy.StatusExempt {
			saved := f.Status
			f.Status = f.Underlying
			f.Message, f.Remediation = attestationTexts(r, f, lang)
			f.Status = saved
		} else {
			f.Message, f.Remediation = attestationTexts(r, f, lang)
		}
	}
	if f.Status == policy.StatusAttested && strings.HasPrefix(f.Rule, policy.RuleMessengerPrefix) {
		f.Message, f.Remediation = conditionTexts(p, f, lang)
	}
	if x := f.Exemption; x != nil && x.Source == "policy" {
		for i := range p.Exemptions {
			pe := &p.Exemptions[i]
			if pe.Matches(f) && pe.Expires.Equal(x.Until) && pe.Approver == x.Approver {
				x.Reason = pe.Reason.In(lang)
				break
			}
		}
	}
}

// grace tracks first failures and sets deadlines. A first failure is kept
// while the finding fails or is unknown (a probe hiccup is no recovery) and
// dropped when it passes, is attested, does not apply, or disappears.
func (a *applier) grace(fs []policy.Finding) {
	seen := make(map[string]bool, len(fs))
	for i := range fs {
		f := &fs[i]
		k := f.Key()
		seen[k] = true
		switch f.Status {
		case policy.StatusFail:
			first, ok := a.st.FirstFailed[k]
			if !ok {
				first = a.in.Now
				a.st.FirstFailed[k] = first
			}
			if g := a.in.Policy.EnforcementFor(f).Grace; g > 0 {
				f.Deadline = first.Add(g.Std())
			}
		case policy.StatusUnknown:
		default:
			delete(a.st.FirstFailed, k)
		}
	}
	for k := range a.st.FirstFailed {
		if !seen[k] {
			delete(a.st.FirstFailed, k)
		}
	}
}

// inForce is an exemption that currently applies, with where it came from.
type inForce struct {
	match func(*policy.Finding) bool
	info  policy.ExemptionInfo
}

// exempt applies the exemptions in force to failing and unknown findings,
// recording exemptions seen expired for the first time.
func (a *applier) exempt(fs []policy.Finding) {
	now := a.in.Now
	var active []inForce
	for i := range a.in.Policy.Exemptions {
		x := &a.in.Policy.Exemptions[i]
		id := x.ID()
		_, seenExpired := a.st.PolicyExpired[id]
		if !seenExpired && !now.Before(x.Expires.Time) {
			a.st.PolicyExpired[id] = now
			a.log = append(a.log, LogEntry{Time: now, Kind: LogPolicyExemptionExpired, Device: a.dev, Rule: x.Rule,
				Subject: x.Subject, User: x.User, By: x.Approver, Reason: x.Reason.EN, Until: x.Expires.Time})
			seenExpired = true
		}
		if seenExpired || x.Approved.After(now) {
			continue
		}
		active = append(active, inForce{match: x.Matches, info: policy.ExemptionInfo{Source: "policy",
			Reason: x.Reason.In(a.lang), Approver: x.Approver, Until: x.Expires.Time}})
	}
	keys := make([]string, 0, len(a.st.Exemptions))
	for k := range a.st.Exemptions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		x := a.st.Exemptions[k]
		if x.Expired(now) {
			if x.ExpiredAt.IsZero() {
				x.ExpiredAt = now
				a.st.Exemptions[k] = x
				a.log = append(a.log, LogEntry{Time: now, Kind: LogExemptionExpired, Device: a.dev, Rule: x.Rule,
					Subject: x.Subject, User: x.User, By: x.Approver, Reason: x.Reason, Until: x.Until})
			}
			continue
		}
		active = append(active, inForce{match: x.matches, info: policy.ExemptionInfo{Source: "local",
			Reason: x.Reason, Approver: x.Approver, Until: x.Until}})
	}
	for i := range fs {
		f := &fs[i]
		if f.Status != policy.StatusFail && f.Status != policy.StatusUnknown {
			continue
		}
		for _, x := range active {
			if x.match(f) {
				info := x.info
				f.Underlying, f.Status, f.Exemption = f.Status, policy.StatusExempt, &info
				break
			}
		}
	}
}

// sentence makes sure a text ends with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}
