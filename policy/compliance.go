package policy

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// This file holds the compliance-workflow part of the schema:
// attestation rules for what the agent cannot observe, exemptions with an
// expiry, and per-rule grace periods and enforcement stages. Applying them
// to findings needs the agent's records (who attested, when a finding first
// failed) and lives in agent/compliance; everything here is pure.

// Rule ids of the compliance workflow.
const (
	// RuleAttestationPrefix starts the rule id of an attestation finding:
	// "attestation." + the attestation's id.
	RuleAttestationPrefix = "attestation."
	// RuleScanIncomplete is the agent's own finding for probes that could
	// not read everything (agent/scan). It is known here so that an
	// exemption may name it.
	RuleScanIncomplete = "scan.incomplete"
)

// Day is 24 hours: policy durations are counted in calendar days.
const Day = 24 * time.Hour

// DefaultMaxExemption is how far ahead an exemption may expire when the
// policy sets no max_exemption: one year, the limit Fleet's own security
// policy sets for exceptions (github.com/fleetdm/fleet pull request 5670).
const DefaultMaxExemption = Duration(365 * Day)

// Limits of the durations a policy may set.
const (
	maxGrace        = 365 * Day
	maxValidity     = 3 * 365 * Day
	maxMaxExemption = 5 * 365 * Day
)

// Duration is a length of time written in days ("180d"), weeks ("26w") or
// hours ("36h"). Plain numbers are refused: "grace: 7" could mean anything.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String renders d the way a policy writes it: whole days as "7d", else
// hours ("36h").
func (d Duration) String() string {
	td := time.Duration(d)
	if td%Day == 0 {
		return strconv.FormatInt(int64(td/Day), 10) + "d"
	}
	return strconv.FormatInt(int64(td/time.Hour), 10) + "h"
}

// MarshalText writes the policy form ("180d"), so JSON shows what the
// policy said.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads what MarshalText writes.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

var durationRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9]{1,5})([dwh])$`) })

// ParseDuration reads "180d", "26w" or "36h" (at most five digits).
func ParseDuration(s string) (Duration, error) {
	m := durationRe().FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("%q is not a duration; write days, weeks or hours such as 7d, 26w or 36h", truncate(s, 40))
	}
	n, _ := strconv.Atoi(m[1]) // at most five digits: cannot fail or overflow
	unit := map[string]time.Duration{"d": Day, "w": 7 * Day, "h": time.Hour}[m[2]]
	return Duration(time.Duration(n) * unit), nil
}

func (d *Duration) decodeNode(dec *decoder, n *yaml.Node, path string) {
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!str" && n.ShortTag() != "!!int") {
		dec.errorf(n, path, "expected a duration such as 7d, got %s", describe(n))
		return
	}
	if n.ShortTag() == "!!int" {
		dec.errorf(n, path, "%s has no unit; write days, weeks or hours such as %sd", n.Value, n.Value)
		return
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		dec.errorf(n, path, "%v", err)
		return
	}
	*d = v
}

// Date is a point in time written as a date ("2026-06-30") or an RFC 3339
// time. A date alone means the last instant of that day in UTC
// (2026-06-30T23:59:59.999999999Z): "expires: 2026-06-30" holds through
// 30 June, and the JSON of the value names that same day.
type Date struct{ time.Time }

// EndOfDay returns the last instant of t's day in UTC: the end of a period
// that is "valid through" that day.
func EndOfDay(t time.Time) time.Time {
	return t.UTC().Truncate(Day).Add(Day - time.Nanosecond)
}

// ParseDate reads a date ("2026-06-30": the last instant of that day, UTC,
// so that the value and its JSON say "valid through 30 June") or an RFC
// 3339 time. A value holds while the clock is not After it.
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return EndOfDay(t), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date; write YYYY-MM-DD or an RFC 3339 time", truncate(s, 40))
}

func (dt *Date) decodeNode(dec *decoder, n *yaml.Node, path string) {
	// yaml.v3 resolves an unquoted 2026-06-30 to !!timestamp; quoted it
	// is a string. Both are read from the source text, so that a date
	// means the same whatever the quoting.
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!timestamp" && n.ShortTag() != "!!str") {
		dec.errorf(n, path, "expected a date such as 2026-06-30, got %s", describe(n))
		return
	}
	t, err := ParseDate(n.Value)
	if err != nil {
		dec.errorf(n, path, "%v", err)
		return
	}
	dt.Time = t
}

// Stage is how far a failing rule is pushed (Kolide's remediation
// strategies, Intune's actions for noncompliance; anchors.md §1.4, §4).
type Stage string

const (
	// StageReport: IT sees it in reports and sinks; the person at the
	// keyboard is not bothered with it (`agent status` lists it only for
	// administrators or with --verbose).
	StageReport Stage = "report"
	// StageNotify: shown to the local user by `agent status` (default).
	StageNotify Stage = "notify"
	// StageEscalate: shown to the user and marked for IT's escalation
	// (sinks carry the stage so a collector can page or block).
	StageEscalate Stage = "escalate"
)

func (s *Stage) decodeNode(d *decoder, n *yaml.Node, path string) {
	if v, ok := d.decodeEnum(n, path, "stage", []string{"report", "notify", "escalate"}); ok {
		*s = Stage(v)
	}
}

// Platforms that remediation_by_platform may name: Device.Platform values.
var platforms = []string{"linux", "darwin", "windows", "android", "ios"}

// PlatformTexts are texts per platform (Device.Platform: linux, darwin,
// windows, android, ios), for steps that differ per operating system.
type PlatformTexts map[string]Text

// remediationFor returns the platform's text where the rule has one, else
// the generic text.
func remediationFor(generic Text, by PlatformTexts, platform string) Text {
	if t, ok := by[platform]; ok && !t.IsZero() {
		return t
	}
	return generic
}

// AttestationRule is an organisational measure the agent cannot observe
// without reading private data (the article's "only customer contacts on
// the device", Telegram's "secret chats only"). A person confirms it with
// `agent attest`; the finding is attested until the confirmation expires,
// and fails ("not yet attested", "attestation expired") otherwise — never a
// silent pass.
type AttestationRule struct {
	// ID is the attestation's name; the finding's rule is
	// "attestation.<id>".
	ID string `yaml:"id" json:"id"`
	// Question is what the person confirms, in English and German (both
	// required).
	Question Text `yaml:"question" json:"question"`
	// Role is who may confirm it ("data protection officer"), in English
	// and German (both required). The agent records the named person; it
	// cannot check their role.
	Role Text `yaml:"role" json:"role"`
	// Validity is how long a confirmation holds (required, at most 3
	// years); `agent attest --until` may shorten it, never extend it.
	Validity Duration `yaml:"validity" json:"validity"`
	// Severity of the finding while not attested (default medium), with
	// the rule's notes.
	RuleCommon `yaml:",inline"`
	// AppliesWhen limits the rule to devices where it matters; empty
	// applies everywhere.
	AppliesWhen AppliesWhen `yaml:"applies_when" json:"applies_when"`
}

// Rule returns the finding rule id: "attestation.<id>".
func (a *AttestationRule) Rule() string { return RuleAttestationPrefix + a.ID }

// AppliesWhen is the condition under which an attestation rule produces a
// finding. A rule that does not apply produces no finding at all, so the
// WhatsApp Business questions appear only where WhatsApp Business is.
type AppliesWhen struct {
	// Messengers: at least one of these catalog ids is on the device (for
	// any user; process-only evidence counts, as for messenger rules).
	Messengers []string `yaml:"messengers" json:"messengers,omitempty"`
	// DeviceKind: "computer" or "phone".
	DeviceKind string `yaml:"device_kind" json:"device_kind,omitempty"`
}

// Applies reports whether the condition holds for inv.
func (a AppliesWhen) Applies(inv *Inventory) bool {
	if a.DeviceKind != "" && inv.Device.Kind != a.DeviceKind {
		return false
	}
	if len(a.Messengers) == 0 {
		return true
	}
	for i := range inv.Messengers {
		for _, id := range a.Messengers {
			if inv.Messengers[i].ID == id {
				return true
			}
		}
	}
	return false
}

// Exemption waives a rule (for a subject or user, or all of them) until it
// expires. In the policy it is reviewed like code; `agent exempt` records
// local ones. An exempted finding is still evaluated and keeps its real
// result (Finding.Underlying); it is never hidden.
type Exemption struct {
	// Rule is a rule id the policy produces ("messenger.whatsapp",
	// "disk-encryption", "attestation.x").
	Rule string `yaml:"rule" json:"rule"`
	// Subject and User narrow the exemption; empty matches any.
	Subject string `yaml:"subject" json:"subject,omitempty"`
	User    string `yaml:"user" json:"user,omitempty"`
	// Reason and Approver are required: who decided, and why.
	Reason   Text   `yaml:"reason" json:"reason"`
	Approver string `yaml:"approver" json:"approver"`
	// Approved is the day it was approved (required in the policy); it
	// anchors the max_exemption limit, so the file itself proves the
	// exemption is no longer than allowed.
	Approved Date `yaml:"approved" json:"approved"`
	// Expires is required: no exemption lasts for ever.
	Expires Date `yaml:"expires" json:"expires"`

	// pos is where the entry starts in the file, for CheckDates.
	pos position
	// field is the entry's path ("exemptions[2]").
	field string
}

// Matches reports whether x covers finding f.
func (x *Exemption) Matches(f *Finding) bool {
	return x.Rule == f.Rule && (x.Subject == "" || x.Subject == f.Subject) && (x.User == "" || x.User == f.User)
}

// ID identifies the exemption across scans: the same rule, scope, approver
// and dates. Editing any of them makes a new exemption, so that a record of
// an expired one never blocks a newly approved one.
func (x *Exemption) ID() string {
	// The dates are written as the instant after them, as they were when a
	// date meant the following midnight, so that the ids recorded in
	// existing databases stay the same.
	return strings.Join([]string{x.Rule, x.Subject, x.User, x.Approver,
		x.Approved.Add(time.Nanosecond).UTC().Format(time.RFC3339), x.Expires.Add(time.Nanosecond).UTC().Format(time.RFC3339)}, "|")
}

// Enforcement is the grace period and stage that apply to one finding.
type Enforcement struct {
	Grace Duration `json:"grace,omitempty"`
	Stage Stage    `json:"stage"`
}

// ConditionAttestations returns the attestation rules that confirm the
// condition of messenger id: those its rule names in confirmed_by
// (telegram.secret-chats-only and telegram.contact-sync-off for Telegram in
// the default policy). The agent cannot check such a condition itself; once
// every one of them that applies is attested, the messenger's finding is
// attested too. Nil for a messenger the policy does not name, or one whose
// decision is not conditional.
func (p *Policy) ConditionAttestations(id string) []*AttestationRule {
	r, explicit := p.RuleFor(id)
	if !explicit || r.Decision != DecisionConditional {
		return nil
	}
	var out []*AttestationRule
	for _, aid := range r.ConfirmedBy {
		if a := p.Attestation(aid); a != nil {
			out = append(out, a)
		}
	}
	return out
}

// Attestation returns the attestation rule with the given id ("x" or
// "attestation.x"), or nil.
func (p *Policy) Attestation(id string) *AttestationRule {
	id = strings.TrimPrefix(id, RuleAttestationPrefix)
	for i := range p.Attestations {
		if p.Attestations[i].ID == id {
			return &p.Attestations[i]
		}
	}
	return nil
}

// EffectiveMaxExemption is max_exemption, or DefaultMaxExemption when the
// policy sets none.
func (p *Policy) EffectiveMaxExemption() Duration {
	if p.MaxExemption > 0 {
		return p.MaxExemption
	}
	return DefaultMaxExemption
}

// KnownRule reports whether the policy can produce findings with this rule
// id: a messenger or contacts rule of a catalog messenger, a separation rule
// of a family it names, a posture rule it requires, one of its attestations,
// or scan.incomplete. Exemptions and `agent attest` refuse anything else.
func (p *Policy) KnownRule(rule string) bool {
	switch rule {
	case RuleScreenLock:
		return p.Posture.ScreenLock.Required
	case RuleRemoteWipe:
		return p.Posture.RemoteWipe.Required
	case RuleDiskEncryption:
		return p.Posture.DiskEncryption.Required
	case RuleBusinessOnly:
		return p.Device.BusinessOnly
	case RuleScanIncomplete:
		return true
	}
	if id, ok := strings.CutPrefix(rule, RuleMessengerPrefix); ok {
		return id == UnlistedID || p.catalog != nil && p.catalog.Messenger(id) != nil
	}
	if id, ok := strings.CutPrefix(rule, RuleContactsPrefix); ok {
		return p.catalog != nil && p.catalog.Messenger(id) != nil
	}
	if fam, ok := strings.CutPrefix(rule, RuleSeparationPrefix); ok {
		_, named := p.Separation.Families[fam]
		if named {
			return true
		}
		// Phone-profile findings use the app's family even without a
		// families entry.
		if p.Separation.Profiles.Enabled && p.catalog != nil {
			return len(p.catalog.Family(fam)) > 0
		}
		return false
	}
	if _, ok := strings.CutPrefix(rule, RuleAttestationPrefix); ok {
		return p.Attestation(rule) != nil
	}
	return false
}

// KnownRules lists the rule ids KnownRule accepts (messenger and contacts
// rules only for messengers the policy names), for "did you mean" hints and
// `agent explain` with no argument.
func (p *Policy) KnownRules() []string {
	var out []string
	for _, r := range []string{RuleScreenLock, RuleRemoteWipe, RuleDiskEncryption, RuleBusinessOnly, RuleScanIncomplete, RuleMessengerPrefix + UnlistedID} {
		if p.KnownRule(r) {
			out = append(out, r)
		}
	}
	for _, id := range sortedKeys(p.Messengers) {
		out = append(out, RuleMessengerPrefix+id, RuleContactsPrefix+id)
	}
	for _, fam := range p.SeparationFamilies() {
		out = append(out, RuleSeparationPrefix+fam)
	}
	for i := range p.Attestations {
		out = append(out, p.Attestations[i].Rule())
	}
	return out
}

// UnknownRuleError explains why rule is not one of the policy's, with a
// "did you mean" hint where one is close.
func (p *Policy) UnknownRuleError(rule string) error {
	switch off := map[string]string{
		RuleScreenLock:     "posture.screen_lock.required",
		RuleRemoteWipe:     "posture.remote_wipe.required",
		RuleDiskEncryption: "posture.disk_encryption.required",
		RuleBusinessOnly:   "device.business_only",
	}[rule]; {
	case off != "":
		return fmt.Errorf("rule %q is off in the policy %q (%s is false), so it produces no findings", rule, p.Name, off)
	}
	msg := fmt.Sprintf("unknown rule %q", truncate(rule, 60))
	cands := p.KnownRules()
	for i := range p.Attestations {
		cands = append(cands, p.Attestations[i].ID) // "agent attest ID" works too
	}
	if p.catalog != nil {
		for _, id := range p.catalog.IDs() {
			cands = append(cands, RuleMessengerPrefix+id, RuleContactsPrefix+id)
		}
	}
	if s := suggest(rule, cands); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return fmt.Errorf("%s (the policy %q produces no findings with it)", msg, p.Name)
}

// EnforcementFor returns the grace period and stage of the rule behind f.
// Rules that set no stage are StageNotify; agent findings (policy.invalid,
// scan.incomplete) have no grace.
func (p *Policy) EnforcementFor(f *Finding) Enforcement {
	g, s := p.enforcement(f)
	if s == "" {
		s = StageNotify
	}
	return Enforcement{Grace: g, Stage: s}
}

func (p *Policy) enforcement(f *Finding) (Duration, Stage) {
	switch f.Rule {
	case RuleScreenLock:
		r := p.Posture.ScreenLock
		return r.Grace, r.Stage
	case RuleRemoteWipe:
		r := p.Posture.RemoteWipe
		return r.Grace, r.Stage
	case RuleDiskEncryption:
		r := p.Posture.DiskEncryption
		return r.Grace, r.Stage
	case RuleBusinessOnly:
		r := p.Separation.BusinessOnly
		return r.Grace, r.Stage
	}
	switch {
	case f.Rule == RuleMessengerPrefix+UnlistedID:
		r, _ := p.UnlistedRuleFor(f.Subject)
		return r.Grace, r.Stage
	case strings.HasPrefix(f.Rule, RuleMessengerPrefix):
		r, _ := p.RuleFor(strings.TrimPrefix(f.Rule, RuleMessengerPrefix))
		return r.Grace, r.Stage
	case strings.HasPrefix(f.Rule, RuleContactsPrefix):
		return p.Contacts.Grace, p.Contacts.Stage
	case strings.HasPrefix(f.Rule, RuleSeparationPrefix):
		if f.Subject != SubjectDevice {
			return p.Separation.Profiles.Grace, p.Separation.Profiles.Stage
		}
		r := p.Separation.Families[strings.TrimPrefix(f.Rule, RuleSeparationPrefix)]
		return r.Grace, r.Stage
	case strings.HasPrefix(f.Rule, RuleAttestationPrefix):
		if a := p.Attestation(f.Rule); a != nil {
			return a.Grace, a.Stage
		}
	}
	return 0, ""
}

// CheckDates reports the policy's exemptions that make no sense at now:
// already expired, approved in the future, or expiring further ahead than
// max_exemption. `agent policy check` runs it; a scan does not (an
// exemption that expires while a policy is in force simply ends, and the
// finding returns to its real status). Each problem is a *LoadError with
// the exemption's line.
func (p *Policy) CheckDates(now time.Time) error {
	d := newDecoder(p.File)
	max := p.EffectiveMaxExemption()
	for i := range p.Exemptions {
		x := &p.Exemptions[i]
		switch {
		case !now.Before(x.Expires.Time):
			// The instant it ended: the first one after Expires.
			d.add(x.pos, x.field+".expires", fmt.Sprintf("expired on %s; remove the exemption or approve a new one", x.Expires.Add(time.Nanosecond).UTC().Format(time.RFC3339)))
		case x.Approved.After(now):
			d.add(x.pos, x.field+".approved", fmt.Sprintf("approved in the future (%s)", x.Approved.UTC().Format("2006-01-02")))
		case x.Expires.Sub(now) > max.Std():
			d.add(x.pos, x.field+".expires", fmt.Sprintf("expires more than max_exemption (%s) from now", max))
		}
	}
	return d.err()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ExemptionInfo says which exemption made a finding exempt.
type ExemptionInfo struct {
	// Source is "policy" or "local" (`agent exempt`).
	Source   string    `json:"source"`
	Reason   string    `json:"reason"`
	Approver string    `json:"approver"`
	Until    time.Time `json:"until"`
}

// AttestationInfo says who confirmed an attestation and until when.
type AttestationInfo struct {
	By    string    `json:"by"`
	At    time.Time `json:"at"`
	Until time.Time `json:"until"`
	Note  string    `json:"note,omitempty"`
	// Expired is set on a failing finding whose attestation ran out.
	Expired bool `json:"expired,omitempty"`
}

// Due reports whether f fails but is still within its grace period at its
// evaluation time: it counts as "due in N days", not as a violation yet
// (Intune's InGracePeriod).
func (f Finding) Due() bool {
	return f.Status == StatusFail && !f.Deadline.IsZero() && f.EvaluatedAt.Before(f.Deadline)
}

// DueAt reports whether f fails and its deadline is after now.
func (f Finding) DueAt(now time.Time) bool {
	return f.Status == StatusFail && !f.Deadline.IsZero() && now.Before(f.Deadline)
}
