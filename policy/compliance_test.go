package policy

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestComplianceLoadErrors is the compliance workflow's bad input for the policy: an
// exemption for an unknown rule, without expiry, with a past date or ten
// years out, duplicate rule ids, a missing translation — each with the
// file:line:col the admin is sent to.
func TestComplianceLoadErrors(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"exemption-bad.yaml", []string{
			`exemption-bad.yaml:5:11: exemptions[0].rule: unknown rule "messenger.whatsap"; did you mean "messenger.whatsapp"? (the policy "bad exemptions" produces no findings with it)`,
			`exemption-bad.yaml:10:5: exemptions[1].expires: expires is required: every exemption ends (at most 365d after approval)`,
			`exemption-bad.yaml:18:14: exemptions[2].expires: expires must be after approved`,
			`exemption-bad.yaml:23:14: exemptions[3].expires: expires 3652 days after approval; max_exemption is 365d`,
			`exemption-bad.yaml:24:5: exemptions[4].reason: reason is required: why the rule is waived`,
			`exemption-bad.yaml:24:5: exemptions[4].approver: approver is required: who approved the exemption`,
			`exemption-bad.yaml:24:5: exemptions[4].approved: approved is required: the day the exemption was approved (YYYY-MM-DD)`,
			`exemption-bad.yaml:24:11: exemptions[4].rule: rule "screen-lock" is off in the policy "bad exemptions" (posture.screen_lock.required is false), so it produces no findings`,
			`exemption-bad.yaml:26:5: exemptions[5]: duplicate exemption for rule "messenger.whatsapp", subject "", user "" (first defined on line 19)`,
		}},
		{"attestation-bad.yaml", []string{
			`attestation-bad.yaml:6:15: attestations[0].question: the German translation (de:) is missing; the question must be given in both languages`,
			`attestation-bad.yaml:7:5: attestations[1].validity: validity is required: how long a confirmation holds, such as 180d`,
			`attestation-bad.yaml:7:9: attestations[1].id: duplicate attestation id "wa.contacts" (first defined on line 3)`,
			`attestation-bad.yaml:10:33: attestations[1].applies_when.messengers[0]: unknown messenger id "whatsap-business"; did you mean "whatsapp-business"?`,
			`attestation-bad.yaml:10:65: attestations[1].applies_when.device_kind: unknown device kind "tablet" (want computer or phone)`,
			`attestation-bad.yaml:11:5: attestations[2].role: the role that may confirm it is required, in English (en:) and German (de:)`,
			`attestation-bad.yaml:11:9: attestations[2].id: id "Bad Id" must be lower-case letters, digits, '.', '-' or '_' (at most 64)`,
			`attestation-bad.yaml:13:15: attestations[2].validity: validity 1500d is longer than 1095d; organisational measures must be confirmed again`,
		}},
		{"attestation-types.yaml", []string{
			`attestation-types.yaml:6:15: attestations[0].validity: 7 has no unit; write days, weeks or hours such as 7d`,
			`attestation-types.yaml:10:15: attestations[1].validity: "10y" is not a duration; write days, weeks or hours such as 7d, 26w or 36h`,
			`attestation-types.yaml:11:12: attestations[1].stage: unknown stage "shout" (want report, notify or escalate)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p, err := Load(tt.file, readFixture(t, tt.file))
			if err == nil || p != nil {
				t.Fatalf("Load(%q) = %v, %v; want only errors", tt.file, p, err)
			}
			var got []string
			for _, le := range LoadErrors(err) {
				got = append(got, le.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Load(%q) errors mismatch (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}

func TestComplianceLoadErrorsInline(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"grace too long", "name: x\nposture: {disk_encryption: {required: true, grace: 400d}}\n",
			"p.yaml:2:52: posture.disk_encryption.grace: grace 400d is longer than 365d; a grace period is a deadline, not an exemption"},
		{"messenger grace too long", "name: x\nmessengers: {skype: {decision: deny, grace: 53w}}\n",
			"p.yaml:2:45: messengers.skype.grace: grace 371d is longer than 365d; a grace period is a deadline, not an exemption"},
		{"max exemption zero", "name: x\nmax_exemption: 0d\n",
			"p.yaml:2:16: max_exemption: must be longer than 0d (every exemption needs room to exist)"},
		{"max exemption too long", "name: x\nmax_exemption: 2000d\n",
			"p.yaml:2:16: max_exemption: must be at most 1825d"},
		{"unknown platform", "name: x\nposture: {screen_lock: {required: true, remediation_by_platform: {beos: x}}}\n",
			`p.yaml:2:67: posture.screen_lock.remediation_by_platform.beos: unknown platform "beos" (want linux, darwin, windows, android or ios)`},
		{"date of the wrong kind", "name: x\nexemptions: [{rule: messenger.skype, reason: r, approver: a, approved: 2026-01-01, expires: 30}]\n",
			"p.yaml:2:93: exemptions[0].expires: expected a date such as 2026-06-30, got a whole number"},
		{"not a date", "name: x\nexemptions: [{rule: messenger.skype, reason: r, approver: a, approved: 2026-01-01, expires: soon}]\n",
			`p.yaml:2:93: exemptions[0].expires: "soon" is not a date; write YYYY-MM-DD or an RFC 3339 time`},
		{"attestation rule off", "name: x\nexemptions: [{rule: attestation.nope, reason: r, approver: a, approved: 2026-01-01, expires: 2026-02-01}]\n",
			`p.yaml:2:21: exemptions[0].rule: unknown rule "attestation.nope" (the policy "x" produces no findings with it)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("p.yaml", []byte(tt.in))
			if err == nil || err.Error() != tt.want {
				t.Errorf("Load() error = %v; want %q", err, tt.want)
			}
		})
	}
}

func TestLoadComplianceOK(t *testing.T) {
	p, err := Load("compliance-ok.yaml", readFixture(t, "compliance-ok.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if p.EffectiveMaxExemption() != Duration(90*Day) {
		t.Errorf("EffectiveMaxExemption() = %s; want 90d", p.EffectiveMaxExemption())
	}
	if len(p.Exemptions) != 1 || len(p.Attestations) != 1 {
		t.Fatalf("exemptions %d, attestations %d; want 1 and 1", len(p.Exemptions), len(p.Attestations))
	}
	x := p.Exemptions[0]
	// A date alone means the last instant of that day (UTC), quoted or not.
	if want := time.Date(2026, 4, 16, 0, 0, 0, 0, time.UTC).Add(-time.Nanosecond); !x.Expires.Equal(want) {
		t.Errorf("Expires = %v; want %v", x.Expires, want)
	}
	if want := time.Date(2026, 1, 16, 0, 0, 0, 0, time.UTC).Add(-time.Nanosecond); !x.Approved.Equal(want) {
		t.Errorf("Approved = %v; want %v", x.Approved, want)
	}
	a := p.Attestations[0]
	if a.Rule() != "attestation.wa.customer-contacts" || a.Validity != Duration(26*7*Day) || a.Severity != SeverityMedium {
		t.Errorf("attestation = %s validity %s severity %s", a.Rule(), a.Validity, a.Severity)
	}
	if p.Attestation("wa.customer-contacts") != &p.Attestations[0] || p.Attestation("attestation.wa.customer-contacts") == nil || p.Attestation("nope") != nil {
		t.Error("Attestation() lookup by id and by rule failed")
	}
	enf := []struct {
		f    Finding
		want Enforcement
	}{
		{Finding{Rule: "messenger.whatsapp", Subject: "whatsapp"}, Enforcement{Grace: Duration(3 * Day), Stage: StageEscalate}},
		{Finding{Rule: "messenger.skype", Subject: "skype"}, Enforcement{Stage: StageNotify}},
		{Finding{Rule: "disk-encryption", Subject: "/"}, Enforcement{Grace: Duration(7 * Day), Stage: StageNotify}},
		{Finding{Rule: "remote-wipe", Subject: "device"}, Enforcement{Stage: StageReport}},
		{Finding{Rule: "scan.incomplete", Subject: "device"}, Enforcement{Stage: StageNotify}},
		{Finding{Rule: "attestation.wa.customer-contacts", Subject: "device"}, Enforcement{Stage: StageNotify}},
	}
	for _, e := range enf {
		if got := p.EnforcementFor(&e.f); got != e.want {
			t.Errorf("EnforcementFor(%s) = %+v; want %+v", e.f.Rule, got, e.want)
		}
	}
	// Per-platform remediation replaces the generic text on that platform.
	inv := &Inventory{Device: Device{Kind: "computer", Platform: "windows"}, Posture: Posture{Inspected: true,
		Encryption: DiskEncryption{Volumes: []Volume{{Mount: "C:", Encrypted: No}}}}}
	for plat, want := range map[string]string{"windows": "BitLocker aktivieren.", "linux": "Die Festplatte verschlüsseln."} {
		inv.Device.Platform = plat
		f := find(t, Evaluate(p, inv, EvalOptions{Lang: "de"}), "disk-encryption", "C:", "")
		if f.Remediation != want {
			t.Errorf("%s remediation = %q; want %q", plat, f.Remediation, want)
		}
	}
	// JSON shows durations the way the policy writes them.
	b, _ := json.Marshal(p.Attestations[0])
	if !strings.Contains(string(b), `"validity":"182d"`) {
		t.Errorf("attestation JSON = %s; want validity 182d", b)
	}
}

func TestCheckDates(t *testing.T) {
	p, err := Load("compliance-ok.yaml", readFixture(t, "compliance-ok.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		now  time.Time
		want string
	}{
		{time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC), ""},
		{time.Date(2026, 4, 16, 0, 0, 0, 0, time.UTC), "compliance-ok.yaml:17:5: exemptions[0].expires: expired on 2026-04-16T00:00:00Z; remove the exemption or approve a new one"},
		{time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC), "compliance-ok.yaml:17:5: exemptions[0].approved: approved in the future (2026-01-15)"},
	}
	for _, tt := range tests {
		err := p.CheckDates(tt.now)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("CheckDates(%v) = %q; want %q", tt.now, got, tt.want)
		}
	}
	// Beyond max_exemption from now: a policy whose approval date was
	// back-dated cannot stretch the limit.
	p.Exemptions[0].Approved.Time = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p.MaxExemption = Duration(30 * Day)
	err = p.CheckDates(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC))
	if err == nil || !strings.Contains(err.Error(), "expires more than max_exemption (30d) from now") {
		t.Errorf("CheckDates() = %v; want the max_exemption error", err)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want Duration
		err  bool
	}{
		{"7d", Duration(7 * Day), false},
		{"26w", Duration(182 * Day), false},
		{"36h", Duration(36 * time.Hour), false},
		{"0d", 0, false},
		{" 180d ", Duration(180 * Day), false},
		{"7", 0, true},
		{"-7d", 0, true},
		{"1.5d", 0, true},
		{"123456d", 0, true},
		{"7D", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
	if s := Duration(36 * time.Hour).String(); s != "36h" {
		t.Errorf("String() = %s", s)
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"2026-06-30", time.Date(2026, 6, 30, 23, 59, 59, 999999999, time.UTC), false},
		{"2026-06-30T10:00:00+02:00", time.Date(2026, 6, 30, 8, 0, 0, 0, time.UTC), false},
		{"30.06.2026", time.Time{}, true},
		{"2026-02-30", time.Time{}, true},
		{"tomorrow", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in)
		if !got.Equal(tt.want) || (err != nil) != tt.err {
			t.Errorf("ParseDate(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"7d", "26w", "36h", "0d", "99999d", "", "7", "d", "1e3d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v; negative", s, d)
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Fatalf("ParseDuration(%q) = %v; String() %q does not round-trip (%v, %v)", s, d, d.String(), back, err)
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-06-30", "2026-06-30T10:00:00Z", "2026-06-30T10:00:00+02:00", "", "0000-01-01", "9999-12-31"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err == nil && d.Location() != time.UTC {
			t.Fatalf("ParseDate(%q) = %v; not UTC", s, d)
		}
	})
}

func TestKnownRule(t *testing.T) {
	p := Default()
	for rule, want := range map[string]bool{
		"messenger.whatsapp": true, "messenger.session": true, "contacts.telegram": true,
		"separation.whatsapp": true, "separation.threema": true, // phone profiles use any family
		"separation.business-only": false, "screen-lock": true, "remote-wipe": true, "disk-encryption": true,
		"scan.incomplete": true, "policy.invalid": false, "messenger.nope": false,
		"attestation.whatsapp-business.group-consent": true, "attestation.nope": false, "": false,
	} {
		if got := p.KnownRule(rule); got != want {
			t.Errorf("KnownRule(%q) = %v; want %v", rule, got, want)
		}
	}
	for _, r := range p.KnownRules() {
		if !p.KnownRule(r) {
			t.Errorf("KnownRules() lists %q, which KnownRule refuses", r)
		}
	}
	if err := p.UnknownRuleError("whatsapp-business.group-consen"); !strings.Contains(err.Error(), `did you mean "whatsapp-business.group-consent"?`) {
		t.Errorf("UnknownRuleError = %v", err)
	}
}

func TestDescribe(t *testing.T) {
	p := Default()
	info, ok := p.Describe(RuleDiskEncryption, "darwin")
	if !ok || info.Kind != "disk-encryption" || info.Enforcement.Grace != Duration(7*Day) || info.Enforcement.Stage != StageEscalate {
		t.Fatalf("Describe(disk-encryption) = %+v, %v", info, ok)
	}
	if !strings.Contains(info.Remediation.DE, "FileVault → Einschalten") {
		t.Errorf("macOS remediation = %q; want the FileVault steps", info.Remediation.DE)
	}
	info, ok = p.Describe("attestation.telegram.secret-chats-only", "")
	if !ok || info.Kind != "attestation" || info.Validity != Duration(180*Day) || info.Role.DE != "Teamleitung" || info.Question.DE == "" {
		t.Errorf("Describe(attestation) = %+v, %v", info, ok)
	}
	info, _ = p.Describe("messenger.session", "")
	if info.Named || info.Decision != DecisionConditional || info.Remediation.IsZero() {
		t.Errorf("Describe(messenger.session) = %+v; want the default rule with its texts", info)
	}
	if _, ok := p.Describe("policy.invalid", ""); ok {
		t.Error("Describe(policy.invalid) = ok; the policy does not produce it")
	}
}

// TestDefaultAttestations checks the article's non-observable points: three
// for WhatsApp Business (checklist points 2, 3, 6) and two for Telegram,
// each bilingual and applying only where its messenger is.
func TestDefaultAttestations(t *testing.T) {
	p := Default()
	want := map[string]string{
		"whatsapp-business.customer-contacts-only": "whatsapp-business",
		"whatsapp-business.no-extra-contact-data":  "whatsapp-business",
		"whatsapp-business.group-consent":          "whatsapp-business",
		"telegram.secret-chats-only":               "telegram",
		"telegram.contact-sync-off":                "telegram",
	}
	if len(p.Attestations) != len(want) {
		t.Errorf("default policy has %d attestations; want %d", len(p.Attestations), len(want))
	}
	for _, a := range p.Attestations {
		id, ok := want[a.ID]
		if !ok {
			t.Errorf("unexpected attestation %s", a.ID)
			continue
		}
		if a.Validity != Duration(180*Day) || a.Question.DE == "" || a.Rationale.DE == "" || a.Remediation.DE == "" || a.Role.DE == "" {
			t.Errorf("%s: validity %s, texts %+v", a.ID, a.Validity, a)
		}
		with := &Inventory{Messengers: []Messenger{{ID: id}}}
		if !a.AppliesWhen.Applies(with) || a.AppliesWhen.Applies(&Inventory{Messengers: []Messenger{{ID: "signal"}}}) {
			t.Errorf("%s: applies_when does not follow %s", a.ID, id)
		}
	}
	if p.EffectiveMaxExemption() != DefaultMaxExemption {
		t.Errorf("max_exemption = %s", p.EffectiveMaxExemption())
	}
}

// TestDefaultRemediationCoverage evaluates the default policy with every
// catalog messenger present and every posture setting failing, on every
// platform, and checks that each failing or unknown finding tells the
// person at the keyboard what to do in English and in German, and that
// each rule explains itself (rationale) in both.
func TestDefaultRemediationCoverage(t *testing.T) {
	p := Default()
	idle := 900
	for _, plat := range platforms {
		kind := "computer"
		if plat == "android" || plat == "ios" {
			kind = "phone"
		}
		inv := &Inventory{Device: Device{Kind: kind, Platform: plat}, Users: []User{{Name: "alice"}},
			Posture: Posture{Inspected: true,
				ScreenLock: []ScreenLock{{User: "alice", Applicable: Yes, Enabled: Yes, IdleSeconds: &idle, LockOnSuspend: No}},
				RemoteWipe: RemoteWipe{Capable: No},
				Encryption: DiskEncryption{Volumes: []Volume{{Mount: "/", Encrypted: No}}}}}
		for _, m := range p.Catalog().Messengers {
			inv.Messengers = append(inv.Messengers, Messenger{ID: m.ID, Name: m.Name, Variant: m.Variant, Source: "package", User: "alice", Contacts: Yes})
		}
		en := Evaluate(p, inv, EvalOptions{Lang: "en"})
		de := Evaluate(p, inv, EvalOptions{Lang: "de"})
		for i := range en {
			f, g := en[i], de[i]
			if f.Status != StatusFail && f.Status != StatusUnknown {
				continue
			}
			if f.Remediation == "" || g.Remediation == "" || f.Remediation == g.Remediation {
				t.Errorf("%s %s %s: remediation en %q / de %q; want both, translated", plat, f.Rule, f.Subject, f.Remediation, g.Remediation)
			}
			info, ok := p.Describe(f.Rule, plat)
			if !ok || info.Rationale.EN == "" || info.Rationale.DE == "" {
				t.Errorf("%s %s: rationale %+v; want English and German", plat, f.Rule, info.Rationale)
			}
		}
	}
}
