package compliance

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/msgguard/msgguard/policy"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const testPolicy = `name: compliance test
messengers:
  whatsapp: {decision: deny, severity: high}
  skype: {decision: deny, severity: high, stage: report}
posture:
  disk_encryption: {required: true, severity: high, grace: 7d, stage: escalate,
    remediation: {en: Encrypt it., de: Verschlüsseln.}}
exemptions:
  - rule: messenger.skype
    user: alice
    reason: {en: Supplier only on Skype., de: Lieferant nur über Skype.}
    approver: Jane Roe
    approved: 2026-03-01
    expires: 2026-03-31
attestations:
  - id: wab.contacts
    applies_when: {messengers: [whatsapp-business]}
    validity: 180d
    severity: medium
    role: {en: team lead, de: Teamleitung}
    question: {en: Only customer contacts on the device., de: Nur Kundenkontakte auf dem Gerät.}
    rationale: {en: Private contacts would be uploaded., de: Private Kontakte würden hochgeladen.}
    remediation: {en: Remove private contacts., de: Private Kontakte löschen.}
`

func loadTestPolicy(t testing.TB) *policy.Policy {
	t.Helper()
	p, err := policy.Load("test.yaml", []byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// device is a phone with WhatsApp Business, alice's Skype, consumer
// WhatsApp and an unencrypted data volume.
func device() *policy.Inventory {
	return &policy.Inventory{
		Device: policy.Device{ID: "dev1", Kind: "phone", Platform: "android"},
		Messengers: []policy.Messenger{
			{ID: "whatsapp-business", Name: "WhatsApp Business", Variant: policy.VariantBusiness, Source: "package"},
			{ID: "skype", Name: "Skype", Variant: policy.VariantPrivate, Source: "package", User: "alice"},
			{ID: "whatsapp", Name: "WhatsApp", Variant: policy.VariantPrivate, Source: "package"},
		},
		Posture: policy.Posture{Inspected: true, Encryption: policy.DiskEncryption{Volumes: []policy.Volume{{Mount: "data", Encrypted: policy.No}}}},
	}
}

// scan evaluates inv at now and applies the workflow with st.
func scan(t testing.TB, p *policy.Policy, inv *policy.Inventory, st State, now time.Time, lang string) Result {
	t.Helper()
	fs := policy.Evaluate(p, inv, policy.EvalOptions{Now: now, Lang: lang})
	return Apply(Input{Policy: p, Inventory: inv, Findings: fs, Now: now, Lang: lang}, st)
}

func get(t testing.TB, fs []policy.Finding, rule, subject, user string) policy.Finding {
	t.Helper()
	for _, f := range fs {
		if f.Rule == rule && f.Subject == subject && f.User == user {
			return f
		}
	}
	t.Fatalf("no finding %s|%s|%s in %v", rule, subject, user, keys(fs))
	return policy.Finding{}
}

func ofKind(log []LogEntry, kind string) []LogEntry {
	var out []LogEntry
	for _, e := range log {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func keys(fs []policy.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Key()+"="+string(f.Status))
	}
	return out
}

func TestAttestationLifecycle(t *testing.T) {
	p := loadTestPolicy(t)
	st := NewState()

	res := scan(t, p, device(), st, t0, "en")
	f := get(t, res.Findings, "attestation.wab.contacts", "device", "")
	if f.Status != policy.StatusFail || f.Severity != policy.SeverityMedium ||
		f.Message != "Not yet attested (role: team lead): Only customer contacts on the device. Private contacts would be uploaded." ||
		f.Remediation != "Remove private contacts." || f.Attestation != nil {
		t.Fatalf("unattested = %+v", f)
	}
	de := get(t, scan(t, p, device(), st, t0, "de").Findings, "attestation.wab.contacts", "device", "")
	if de.Message != "Noch nicht bestätigt (zuständig: Teamleitung): Nur Kundenkontakte auf dem Gerät. Private Kontakte würden hochgeladen." {
		t.Errorf("German message = %q", de.Message)
	}

	a, err := NewAttestation(p, AttestRequest{Rule: "wab.contacts", Device: "dev1", By: "Erika Mustermann", Note: "ticket 42"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	// Without --until the confirmation holds through the last day of its
	// validity.
	if want := time.Date(2026, 8, 29, 23, 59, 59, 999999999, time.UTC); !a.Until.Equal(want) {
		t.Errorf("Until = %v; want %v", a.Until, want)
	}
	st.Attestations[a.Rule] = a
	res = scan(t, p, device(), st, t0.Add(time.Hour), "en")
	f = get(t, res.Findings, "attestation.wab.contacts", "device", "")
	wantInfo := &policy.AttestationInfo{By: "Erika Mustermann", At: t0, Until: a.Until, Note: "ticket 42"}
	if f.Status != policy.StatusAttested || !cmp.Equal(f.Attestation, wantInfo) ||
		f.Message != "Attested on 2026-03-02, valid until 2026-08-29: Only customer contacts on the device." {
		t.Errorf("attested = %s %q %+v", f.Status, f.Message, f.Attestation)
	}
	if f.Remediation != "" || len(f.Evidence) != 1 || f.Evidence[0].Detail != "attested on 2026-03-02 until 2026-08-29" {
		t.Errorf("attested remediation %q evidence %+v", f.Remediation, f.Evidence)
	}
	// Who attested and the note are structured fields only: no text
	// carries them, so a view without the fields holds none.
	for _, txt := range []string{f.Message, f.Remediation, f.Evidence[0].Detail, f.Evidence[0].Location} {
		if strings.Contains(txt, "Erika") || strings.Contains(txt, "ticket 42") {
			t.Errorf("text %q names the attester or the note", txt)
		}
	}
	if len(res.Log) != 0 {
		t.Errorf("log = %+v; want nothing for a valid attestation", res.Log)
	}

	// Past its end: fail, recorded as expired once.
	expiry := a.Until.Add(time.Hour)
	res = scan(t, p, device(), res.State, expiry, "de")
	f = get(t, res.Findings, "attestation.wab.contacts", "device", "")
	if f.Status != policy.StatusFail || f.Attestation == nil || !f.Attestation.Expired ||
		!strings.HasPrefix(f.Message, "Bestätigung am 29.08.2026 abgelaufen (bestätigt am 02.03.2026; zuständig: Teamleitung): ") {
		t.Errorf("expired = %s %q %+v", f.Status, f.Message, f.Attestation)
	}
	if got := res.State.Attestations[a.Rule].ExpiredAt; !got.Equal(expiry) {
		t.Errorf("ExpiredAt = %v; want %v", got, expiry)
	}
	if got := ofKind(res.Log, LogAttestationExpired); len(got) != 1 || got[0].Rule != a.Rule {
		t.Errorf("log = %+v; want one attestation_expired", res.Log)
	}

	// The clock jumps back to before the expiry: no resurrection.
	res = scan(t, p, device(), res.State, t0.Add(24*time.Hour), "en")
	if f := get(t, res.Findings, "attestation.wab.contacts", "device", ""); f.Status != policy.StatusFail {
		t.Errorf("after the clock went back: %s; want fail (no resurrection)", f.Status)
	}
	if got := ofKind(res.Log, LogAttestationExpired); len(got) != 0 {
		t.Errorf("log = %+v; the expiry is recorded once", res.Log)
	}
}

func TestAttestationAppliesWhen(t *testing.T) {
	p := loadTestPolicy(t)
	inv := device()
	inv.Messengers = inv.Messengers[1:] // no WhatsApp Business
	for _, f := range scan(t, p, inv, NewState(), t0, "en").Findings {
		if strings.HasPrefix(f.Rule, policy.RuleAttestationPrefix) {
			t.Errorf("attestation finding %s without WhatsApp Business", f.Key())
		}
	}
}

func TestGracePeriod(t *testing.T) {
	p := loadTestPolicy(t)
	res := scan(t, p, device(), NewState(), t0, "en")
	f := get(t, res.Findings, "disk-encryption", "data", "")
	if f.Status != policy.StatusFail || !f.Deadline.Equal(t0.Add(7*policy.Day)) || !f.Due() || f.Stage != policy.StageEscalate {
		t.Fatalf("first failure = %s deadline %v due %v stage %s", f.Status, f.Deadline, f.Due(), f.Stage)
	}
	// A denied messenger has no grace: it fails at once.
	if w := get(t, res.Findings, "messenger.whatsapp", "whatsapp", ""); !w.Deadline.IsZero() || w.Stage != policy.StageNotify {
		t.Errorf("whatsapp deadline %v stage %s; want none, notify", w.Deadline, w.Stage)
	}

	// Three days on: the same deadline.
	res = scan(t, p, device(), res.State, t0.Add(3*policy.Day), "en")
	if f := get(t, res.Findings, "disk-encryption", "data", ""); !f.Deadline.Equal(t0.Add(7*policy.Day)) || !f.Due() {
		t.Errorf("day 3: deadline %v due %v", f.Deadline, f.Due())
	}
	// The clock jumps back ten days: no reset.
	back := scan(t, p, device(), res.State, t0.Add(-10*policy.Day), "en")
	if f := get(t, back.Findings, "disk-encryption", "data", ""); !f.Deadline.Equal(t0.Add(7 * policy.Day)) {
		t.Errorf("after the clock went back: deadline %v; want unchanged %v", f.Deadline, t0.Add(7*policy.Day))
	}
	// Past the deadline: a violation.
	res = scan(t, p, device(), back.State, t0.Add(8*policy.Day), "en")
	if f := get(t, res.Findings, "disk-encryption", "data", ""); f.Due() {
		t.Errorf("day 8: still due (deadline %v)", f.Deadline)
	}
	// Unknown keeps the first failure (a probe hiccup is no recovery).
	inv := device()
	inv.Posture.Encryption.Volumes[0].Encrypted = policy.Unknown
	res = scan(t, p, inv, res.State, t0.Add(9*policy.Day), "en")
	if _, ok := res.State.FirstFailed["disk-encryption|data|"]; !ok {
		t.Error("unknown dropped the first failure")
	}
	// Fixed: the record goes, and a new failure gets a new grace period.
	inv.Posture.Encryption.Volumes[0].Encrypted = policy.Yes
	res = scan(t, p, inv, res.State, t0.Add(10*policy.Day), "en")
	if _, ok := res.State.FirstFailed["disk-encryption|data|"]; ok {
		t.Error("a passing finding kept its first failure")
	}
	res = scan(t, p, device(), res.State, t0.Add(20*policy.Day), "en")
	if f := get(t, res.Findings, "disk-encryption", "data", ""); !f.Deadline.Equal(t0.Add(27 * policy.Day)) {
		t.Errorf("new failure deadline %v; want %v", f.Deadline, t0.Add(27*policy.Day))
	}
	// A finding that disappears is resolved.
	inv = device()
	inv.Posture.Encryption.Volumes = []policy.Volume{{Mount: "/", Encrypted: policy.Yes}}
	res = scan(t, p, inv, res.State, t0.Add(21*policy.Day), "en")
	if _, ok := res.State.FirstFailed["disk-encryption|data|"]; ok {
		t.Error("a vanished finding kept its first failure")
	}
}

func TestPolicyExemption(t *testing.T) {
	p := loadTestPolicy(t)
	res := scan(t, p, device(), NewState(), t0, "de")
	f := get(t, res.Findings, "messenger.skype", "skype", "alice")
	want := &policy.ExemptionInfo{Source: "policy", Reason: "Lieferant nur über Skype.", Approver: "Jane Roe",
		Until: time.Date(2026, 3, 31, 23, 59, 59, 999999999, time.UTC)}
	if f.Status != policy.StatusExempt || f.Underlying != policy.StatusFail || !cmp.Equal(f.Exemption, want) || f.Stage != policy.StageReport {
		t.Fatalf("exempted skype = %s underlying %s %+v stage %s", f.Status, f.Underlying, f.Exemption, f.Stage)
	}
	if !policy.Compliant([]policy.Finding{f}) {
		t.Error("an exempt finding fails the device")
	}
	// Only alice's Skype: the system-wide consumer WhatsApp still fails.
	if w := get(t, res.Findings, "messenger.whatsapp", "whatsapp", ""); w.Status != policy.StatusFail {
		t.Errorf("whatsapp = %s", w.Status)
	}

	// Expired: the real status returns, and stays after the clock goes back.
	end := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	res = scan(t, p, device(), res.State, end, "en")
	if f := get(t, res.Findings, "messenger.skype", "skype", "alice"); f.Status != policy.StatusFail || f.Exemption != nil {
		t.Errorf("after expiry = %s %+v", f.Status, f.Exemption)
	}
	if len(res.Log) != 1 || res.Log[0].Kind != LogPolicyExemptionExpired {
		t.Errorf("log = %+v", res.Log)
	}
	res = scan(t, p, device(), res.State, t0, "en")
	if f := get(t, res.Findings, "messenger.skype", "skype", "alice"); f.Status != policy.StatusFail {
		t.Errorf("after the clock went back = %s; want fail (no resurrection)", f.Status)
	}
}

func TestLocalExemption(t *testing.T) {
	p := loadTestPolicy(t)
	x, err := NewExemption(p, ExemptRequest{Rule: "messenger.whatsapp", Device: "dev1", Reason: "migration to Threema",
		Approver: "Jane Roe", Until: t0.Add(30 * policy.Day)}, t0)
	if err != nil {
		t.Fatal(err)
	}
	st := NewState()
	st.Exemptions[x.Key()] = x
	res := scan(t, p, device(), st, t0, "en")
	f := get(t, res.Findings, "messenger.whatsapp", "whatsapp", "")
	if f.Status != policy.StatusExempt || f.Underlying != policy.StatusFail || f.Exemption.Source != "local" || f.Exemption.Reason != "migration to Threema" {
		t.Fatalf("exempted whatsapp = %s %s %+v", f.Status, f.Underlying, f.Exemption)
	}
	// A passing finding of the same rule is not touched.
	inv := device()
	inv.Messengers = inv.Messengers[:2]
	res = scan(t, p, inv, st, t0, "en")
	if f := get(t, res.Findings, "messenger.whatsapp", "whatsapp", ""); f.Status != policy.StatusPass || f.Exemption != nil {
		t.Errorf("absent whatsapp = %s %+v; want pass", f.Status, f.Exemption)
	}
	res = scan(t, p, device(), st, x.Until, "en")
	if f := get(t, res.Findings, "messenger.whatsapp", "whatsapp", ""); f.Status != policy.StatusFail {
		t.Errorf("expired local exemption = %s", f.Status)
	}
	if e := res.State.Exemptions[x.Key()]; !e.ExpiredAt.Equal(x.Until) || len(ofKind(res.Log, LogExemptionExpired)) != 1 {
		t.Errorf("expiry not recorded: %+v log %+v", e, res.Log)
	}
	res = scan(t, p, device(), res.State, t0, "en")
	if f := get(t, res.Findings, "messenger.whatsapp", "whatsapp", ""); f.Status != policy.StatusFail {
		t.Errorf("after the clock went back = %s; want fail", f.Status)
	}
}

func TestApplyDoesNotModifyInput(t *testing.T) {
	p := loadTestPolicy(t)
	inv := device()
	fs := policy.Evaluate(p, inv, policy.EvalOptions{Now: t0})
	before := append([]policy.Finding(nil), fs...)
	st := NewState()
	Apply(Input{Policy: p, Inventory: inv, Findings: fs, Now: t0}, st)
	if diff := cmp.Diff(before, fs); diff != "" {
		t.Errorf("Apply modified the findings (-before +after):\n%s", diff)
	}
	if len(st.FirstFailed) != 0 {
		t.Error("Apply modified the state")
	}
}

func TestNewAttestationRefuses(t *testing.T) {
	p := loadTestPolicy(t)
	ok := AttestRequest{Rule: "attestation.wab.contacts", Device: "d", By: "Erika"}
	tests := []struct {
		name string
		mod  func(*AttestRequest)
		want string
	}{
		{"unknown rule", func(r *AttestRequest) { r.Rule = "wab.contact" }, `unknown rule "wab.contact"; did you mean "wab.contacts"?`},
		{"observed rule", func(r *AttestRequest) { r.Rule = "messenger.whatsapp" }, "is observed by the agent, not attested"},
		{"no name", func(r *AttestRequest) { r.By = "  " }, "--by is required"},
		{"control characters", func(r *AttestRequest) { r.By = "Erika\x1b[31m" }, "--by contains control characters"},
		{"past until", func(r *AttestRequest) { r.Until = t0.Add(-time.Hour) }, "is not in the future"},
		{"beyond validity", func(r *AttestRequest) { r.Until = t0.Add(400 * policy.Day) }, "beyond the rule's validity of 180d"},
		{"long note", func(r *AttestRequest) { r.Note = strings.Repeat("x", 1001) }, "--note is 1001 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.mod(&r)
			_, err := NewAttestation(p, r, t0)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewAttestation() = %v; want %q", err, tt.want)
			}
		})
	}
	if _, err := NewAttestation(p, ok, t0); err != nil {
		t.Errorf("valid request refused: %v", err)
	}
}

func TestNewExemptionRefuses(t *testing.T) {
	p := loadTestPolicy(t)
	ok := ExemptRequest{Rule: "disk-encryption", Subject: "data", Device: "d", Reason: "r", Approver: "a", Until: t0.Add(30 * policy.Day)}
	tests := []struct {
		name string
		mod  func(*ExemptRequest)
		want string
	}{
		{"unknown rule", func(r *ExemptRequest) { r.Rule = "disk-encryptoin" }, `did you mean "disk-encryption"?`},
		{"switched-off rule", func(r *ExemptRequest) { r.Rule = "screen-lock" }, "is off in the policy"},
		{"no expiry", func(r *ExemptRequest) { r.Until = time.Time{} }, "--until is required"},
		{"past date", func(r *ExemptRequest) { r.Until = t0.Add(-policy.Day) }, "is not in the future"},
		{"ten years out", func(r *ExemptRequest) { r.Until = t0.Add(3653 * policy.Day) }, "is more than max_exemption (365d) from now"},
		{"no reason", func(r *ExemptRequest) { r.Reason = "" }, "--reason is required"},
		{"no approver", func(r *ExemptRequest) { r.Approver = "" }, "--approver is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.mod(&r)
			_, err := NewExemption(p, r, t0)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewExemption() = %v; want %q", err, tt.want)
			}
		})
	}
}

// BenchmarkApply measures the pure workflow on the default policy with
// every catalog messenger present (the worst case: ~90 findings).
func BenchmarkApply(b *testing.B) {
	p := policy.Default()
	inv := device()
	for _, m := range p.Catalog().Messengers {
		inv.Messengers = append(inv.Messengers, policy.Messenger{ID: m.ID, Name: m.Name, Variant: m.Variant, Source: "package", User: "alice"})
	}
	fs := policy.Evaluate(p, inv, policy.EvalOptions{Now: t0})
	st := NewState()
	b.ReportAllocs()
	for b.Loop() {
		Apply(Input{Policy: p, Inventory: inv, Findings: fs, Now: t0}, st)
	}
}
