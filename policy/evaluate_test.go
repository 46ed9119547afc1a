package policy

import (
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// defaultPolicy loads the embedded default policy once for all evaluation
// tests (Load parses the catalog, which is slow under -race); sharing it
// also proves that Evaluate does not modify the policy (see
// TestEvaluateLeavesPolicyAlone).
var defaultPolicy = sync.OnceValue(Default)

func intp(i int) *int { return &i }

func mustLoad(t testing.TB, yml string) *Policy {
	t.Helper()
	p, err := Load("test.yaml", []byte(yml))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return p
}

// brief is the part of a finding most tests compare.
type brief struct {
	Rule, Subject, User string
	Status              Status
	Severity            Severity
}

func briefs(fs []Finding, prefix string) []brief {
	var out []brief
	for _, f := range fs {
		if strings.HasPrefix(f.Rule, prefix) {
			out = append(out, brief{f.Rule, f.Subject, f.User, f.Status, f.Severity})
		}
	}
	return out
}

func find(t *testing.T, fs []Finding, rule, subject, user string) Finding {
	t.Helper()
	for _, f := range fs {
		if f.Rule == rule && f.Subject == subject && f.User == user {
			return f
		}
	}
	t.Fatalf("no finding %s|%s|%s in:\n%s", rule, subject, user, dump(fs))
	return Finding{}
}

func dump(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %s|%s|%s %s %s: %s\n", f.Rule, f.Subject, f.User, f.Status, f.Severity, f.Message)
	}
	return b.String()
}

// inspected returns a posture that passes the default policy.
func goodPosture(users ...string) Posture {
	p := Posture{
		Inspected:  true,
		RemoteWipe: RemoteWipe{Capable: Yes, Scope: "device", Provider: "Microsoft Intune", Source: "intune-daemon.service"},
		Encryption: DiskEncryption{Volumes: []Volume{{Mount: "/", Encrypted: Yes, Method: "LUKS2", Source: "sys/dev/block/253:0/dm/uuid"}}},
	}
	for _, u := range users {
		p.ScreenLock = append(p.ScreenLock, ScreenLock{User: u, Desktop: "gnome", Applicable: Yes, Enabled: Yes,
			IdleSeconds: intp(300), GraceSeconds: intp(0), LockOnSuspend: Yes, Source: "dconf"})
	}
	return p
}

func TestEvaluateMessengersDefault(t *testing.T) {
	inv := &Inventory{
		Device: Device{Kind: "computer", Platform: "linux"},
		Users:  []User{{Name: "alice"}, {Name: "bob"}},
		Messengers: []Messenger{
			{ID: "whatsapp", Name: "WhatsApp", Variant: VariantPrivate, Source: "flatpak", Location: "var/lib/flatpak/app/com.rtosta.zapzap"},
			{ID: "whatsapp", Name: "WhatsApp", Variant: VariantPrivate, Source: "data-dir", User: "alice", Location: "home/alice/.var/app/com.rtosta.zapzap"},
			{ID: "whatsapp", Name: "WhatsApp", Variant: VariantPrivate, Source: "desktop", User: "alice", Location: "home/alice/.local/share/applications/chrome-web.whatsapp.com.desktop"},
			{ID: "signal", Name: "Signal", Variant: VariantDual, Source: "deb", Version: "7.40.0"},
			{ID: "telegram", Name: "Telegram", Variant: VariantDual, Source: "snap", User: ""},
			{ID: "session", Name: "Session", Variant: VariantDual, Source: "appimage", User: "bob"},
		},
		Posture: goodPosture("alice", "bob"),
	}
	fs := Evaluate(defaultPolicy(), inv, EvalOptions{Now: testNow})
	want := []brief{
		{"messenger.discord", "discord", "", StatusPass, SeverityMedium},
		{"messenger.facebook-messenger", "facebook-messenger", "", StatusPass, SeverityHigh},
		{"messenger.instagram", "instagram", "", StatusPass, SeverityHigh},
		{"messenger.session", "session", "bob", StatusUnknown, SeverityLow},
		{"messenger.signal", "signal", "", StatusPass, SeverityInfo},
		{"messenger.skype", "skype", "", StatusPass, SeverityHigh},
		{"messenger.teams-personal", "teams-personal", "", StatusPass, SeverityMedium},
		{"messenger.telegram", "telegram", "", StatusUnknown, SeverityMedium},
		{"messenger.wechat", "wechat", "", StatusPass, SeverityMedium},
		{"messenger.whatsapp", "whatsapp", "", StatusFail, SeverityHigh},
		{"messenger.whatsapp", "whatsapp", "alice", StatusFail, SeverityHigh},
	}
	if diff := cmp.Diff(want, briefs(fs, "messenger.")); diff != "" {
		t.Errorf("messenger findings mismatch (-want +got):\n%s", diff)
	}
	wa := find(t, fs, "messenger.whatsapp", "whatsapp", "alice")
	wantEv := []Evidence{
		{Source: "data-dir", Location: "home/alice/.var/app/com.rtosta.zapzap"},
		{Source: "desktop", Location: "home/alice/.local/share/applications/chrome-web.whatsapp.com.desktop"},
	}
	if diff := cmp.Diff(wantEv, wa.Evidence); diff != "" {
		t.Errorf("evidence mismatch (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(wa.Message, "WhatsApp was found on this device (data-dir, desktop); the policy does not allow it. Consumer WhatsApp") {
		t.Errorf("message = %q", wa.Message)
	}
	if !strings.HasPrefix(wa.Remediation, "Uninstall WhatsApp") {
		t.Errorf("remediation = %q", wa.Remediation)
	}
	if !wa.EvaluatedAt.Equal(testNow) {
		t.Errorf("EvaluatedAt = %v; want %v", wa.EvaluatedAt, testNow)
	}
	tg := find(t, fs, "messenger.telegram", "telegram", "")
	if !strings.Contains(tg.Message, "Only secret chats") || !strings.Contains(tg.Message, "cannot check") {
		t.Errorf("conditional message lacks the condition: %q", tg.Message)
	}
	sig := find(t, fs, "messenger.signal", "signal", "")
	if diff := cmp.Diff([]Evidence{{Source: "deb", Detail: "version 7.40.0"}}, sig.Evidence); diff != "" {
		t.Errorf("signal evidence mismatch (-want +got):\n%s", diff)
	}
	if Compliant(fs) {
		t.Error("Compliant() = true with WhatsApp present")
	}
}

func TestEvaluateAbsentDeniedNotesIncompleteScan(t *testing.T) {
	inv := &Inventory{Problems: []Problem{{Probe: "dpkg", Path: "var/lib/dpkg/status", Message: "missing"}}, Posture: goodPosture()}
	fs := Evaluate(defaultPolicy(), inv, EvalOptions{Now: testNow})
	f := find(t, fs, "messenger.whatsapp", "whatsapp", "")
	if f.Status != StatusPass || !strings.Contains(f.Message, "1 problem(s)") {
		t.Errorf("absent WhatsApp with scan problems = %s %q; want pass noting the problems", f.Status, f.Message)
	}
}

// TestEvaluateDriftKeys checks that removing a denied messenger turns the
// same finding key from fail into pass, which drift relies on.
func TestEvaluateDriftKeys(t *testing.T) {
	p := defaultPolicy()
	before := Evaluate(p, &Inventory{Messengers: []Messenger{{ID: "skype", Source: "deb"}}}, EvalOptions{Now: testNow})
	after := Evaluate(p, &Inventory{}, EvalOptions{Now: testNow})
	b := find(t, before, "messenger.skype", "skype", "")
	a := find(t, after, "messenger.skype", "skype", "")
	if b.Key() != a.Key() || b.Status != StatusFail || a.Status != StatusPass {
		t.Errorf("before %s %s, after %s %s; want the same key fail -> pass", b.Key(), b.Status, a.Key(), a.Status)
	}
}

func TestEvaluateSeparation(t *testing.T) {
	wa := Messenger{ID: "whatsapp", Variant: VariantPrivate, Source: "package", User: "0", Profile: "personal", Location: "com.whatsapp"}
	wab := Messenger{ID: "whatsapp-business", Variant: VariantBusiness, Source: "package", User: "0", Profile: "personal", Location: "com.whatsapp.w4b"}
	tests := []struct {
		name   string
		items  []Messenger
		status Status
		nEv    int
	}{
		{"both", []Messenger{wa, wab}, StatusFail, 2},
		{"business only", []Messenger{wab}, StatusPass, 0},
		{"private only", []Messenger{wa}, StatusPass, 0},
		{"none", nil, StatusPass, 0},
		// Users don't matter: one device, one risk.
		{"different users", []Messenger{{ID: "whatsapp", Source: "deb"}, {ID: "whatsapp-business", Source: "data-dir", User: "bob"}}, StatusFail, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := Evaluate(defaultPolicy(), &Inventory{Device: Device{Kind: "computer"}, Messengers: tt.items}, EvalOptions{Now: testNow})
			f := find(t, fs, "separation.whatsapp", SubjectDevice, "")
			if f.Status != tt.status || len(f.Evidence) != tt.nEv || f.Severity != SeverityHigh {
				t.Errorf("separation.whatsapp = %s, %d evidence, %s; want %s, %d, high\n%s", f.Status, len(f.Evidence), f.Severity, tt.status, tt.nEv, f.Message)
			}
			if tt.status == StatusFail && !strings.HasPrefix(f.Message, "WhatsApp (private) and WhatsApp Business (business) are both on this device.") {
				t.Errorf("message = %q", f.Message)
			}
		})
	}
}

func TestEvaluateBusinessOnly(t *testing.T) {
	bizOnly := mustLoad(t, "name: phones\ndevice: {business_only: true}\n")
	tests := []struct {
		name  string
		p     *Policy
		items []Messenger
		want  []brief
	}{
		{"private apps fail", bizOnly,
			[]Messenger{{ID: "whatsapp-business", Source: "package"}, {ID: "instagram", Source: "package"}, {ID: "signal", Source: "package"}},
			[]brief{{RuleBusinessOnly, SubjectDevice, "", StatusFail, SeverityHigh}}},
		{"only business and dual apps pass", bizOnly,
			[]Messenger{{ID: "whatsapp-business", Source: "package"}, {ID: "signal", Source: "package"}},
			[]brief{{RuleBusinessOnly, SubjectDevice, "", StatusPass, SeverityHigh}}},
		{"not business-only: no finding", defaultPolicy(),
			[]Messenger{{ID: "instagram", Source: "package"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := Evaluate(tt.p, &Inventory{Messengers: tt.items}, EvalOptions{Now: testNow})
			if diff := cmp.Diff(tt.want, briefs(fs, RuleBusinessOnly)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if len(tt.want) > 0 && tt.want[0].Status == StatusFail {
				f := find(t, fs, RuleBusinessOnly, SubjectDevice, "")
				if !strings.Contains(f.Message, "Instagram") || strings.Contains(f.Message, "Signal") || len(f.Evidence) != 1 {
					t.Errorf("business-only finding names the wrong apps: %q %v", f.Message, f.Evidence)
				}
			}
		})
	}
}

// TestEvaluatePhoneScenario is the phone acceptance scenario: WhatsApp
// in the personal profile with the contacts permission, WhatsApp Business
// in the work profile, no PIN, no device owner.
func TestEvaluatePhoneScenario(t *testing.T) {
	inv := &Inventory{
		Device: Device{Kind: "phone", Platform: "android", ID: "phone-1"},
		Users:  []User{{Name: "0", Profile: "personal"}, {Name: "10", Profile: "work"}},
		Messengers: []Messenger{
			{ID: "whatsapp", Variant: VariantPrivate, Source: "package", User: "0", Profile: "personal", Location: "com.whatsapp", Contacts: Yes},
			{ID: "whatsapp-business", Variant: VariantBusiness, Source: "package", User: "10", Profile: "work", Location: "com.whatsapp.w4b", Contacts: No},
		},
		Posture: Posture{
			Inspected: true,
			ScreenLock: []ScreenLock{
				{User: "0", Applicable: Yes, Enabled: No, Source: "dumpsys lock_settings"},
				{User: "10", Applicable: Yes, Enabled: No, Source: "dumpsys lock_settings"},
			},
			RemoteWipe: RemoteWipe{Capable: No, Source: "dpm list-owners"},
			Encryption: DiskEncryption{Volumes: []Volume{{Mount: "data", Encrypted: Yes, Method: "file-based", Source: "getprop ro.crypto.state"}}},
		},
	}
	fs := Evaluate(defaultPolicy(), inv, EvalOptions{Now: testNow})
	var fails []brief
	for _, b := range briefs(fs, "") {
		if b.Status == StatusFail {
			fails = append(fails, b)
		}
	}
	want := []brief{
		{"contacts.whatsapp", "whatsapp", "0", StatusFail, SeverityCritical},
		{"messenger.whatsapp", "whatsapp", "0", StatusFail, SeverityHigh},
		{"remote-wipe", SubjectDevice, "", StatusFail, SeverityMedium},
		{"screen-lock", "", "0", StatusFail, SeverityHigh},
		{"screen-lock", "", "10", StatusFail, SeverityHigh},
		{"separation.whatsapp", SubjectDevice, "", StatusFail, SeverityHigh},
	}
	if diff := cmp.Diff(want, fails); diff != "" {
		t.Errorf("failing findings mismatch (-want +got):\n%s\nall:\n%s", diff, dump(fs))
	}
	// WhatsApp Business is where it belongs: no profile finding, and its
	// conditional rule stays unknown.
	if f := find(t, fs, "messenger.whatsapp-business", "whatsapp-business", "10"); f.Status != StatusUnknown {
		t.Errorf("whatsapp-business = %s; want unknown", f.Status)
	}
	if f := find(t, fs, "contacts.whatsapp-business", "whatsapp-business", "10"); f.Status != StatusPass {
		t.Errorf("contacts.whatsapp-business = %s; want pass", f.Status)
	}
}

func TestEvaluatePhoneProfiles(t *testing.T) {
	phone := Device{Kind: "phone"}
	tests := []struct {
		name  string
		p     *Policy
		dev   Device
		items []Messenger
		want  []brief
	}{
		{"private app in the work profile", defaultPolicy(), phone,
			[]Messenger{{ID: "whatsapp", Source: "package", User: "10", Profile: "work"}},
			[]brief{
				{"separation.whatsapp", SubjectDevice, "", StatusPass, SeverityHigh},
				{"separation.whatsapp", "whatsapp", "10", StatusFail, SeverityMedium},
			}},
		{"business app in the personal profile", defaultPolicy(), phone,
			[]Messenger{{ID: "slack", Source: "package", User: "0", Profile: "personal"}},
			[]brief{
				{"separation.slack", "slack", "0", StatusFail, SeverityMedium},
				{"separation.whatsapp", SubjectDevice, "", StatusPass, SeverityHigh},
			}},
		{"dual app anywhere is fine", defaultPolicy(), phone,
			[]Messenger{{ID: "signal", Source: "package", User: "10", Profile: "work"}, {ID: "signal", Source: "package", User: "0", Profile: "personal"}},
			[]brief{{"separation.whatsapp", SubjectDevice, "", StatusPass, SeverityHigh}}},
		{"correct placement", defaultPolicy(), phone,
			[]Messenger{{ID: "teams", Source: "package", User: "10", Profile: "work"}, {ID: "instagram", Source: "package", User: "0", Profile: "personal"}},
			[]brief{{"separation.whatsapp", SubjectDevice, "", StatusPass, SeverityHigh}}},
		{"profiles off", mustLoad(t, "name: x\nseparation: {profiles: {enabled: false}}\n"), phone,
			[]Messenger{{ID: "slack", Source: "package", User: "0", Profile: "personal"}}, nil},
		{"computers have no profiles", defaultPolicy(), Device{Kind: "computer"},
			[]Messenger{{ID: "slack", Source: "deb", Profile: "personal"}},
			[]brief{{"separation.whatsapp", SubjectDevice, "", StatusPass, SeverityHigh}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := Evaluate(tt.p, &Inventory{Device: tt.dev, Messengers: tt.items}, EvalOptions{Now: testNow})
			if diff := cmp.Diff(tt.want, briefs(fs, "separation.")); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\nall:\n%s", diff, dump(fs))
			}
		})
	}
	fs := Evaluate(defaultPolicy(), &Inventory{Device: phone, Messengers: []Messenger{{ID: "whatsapp", Source: "package", User: "10", Profile: "work", Location: "com.whatsapp"}}}, EvalOptions{Now: testNow})
	f := find(t, fs, "separation.whatsapp", "whatsapp", "10")
	if !strings.HasPrefix(f.Message, "WhatsApp is a private app but is installed in the work profile.") {
		t.Errorf("message = %q", f.Message)
	}
	if diff := cmp.Diff([]Evidence{{Source: "package", Location: "com.whatsapp", Detail: "profile work"}}, f.Evidence); diff != "" {
		t.Errorf("evidence mismatch (-want +got):\n%s", diff)
	}
}

func TestEvaluateContacts(t *testing.T) {
	items := []Messenger{
		{ID: "telegram", Source: "package", User: "0", Contacts: Yes},
		{ID: "whatsapp", Source: "package", User: "0", Contacts: No},
		{ID: "signal", Source: "package", User: "0", Contacts: Yes},  // allowed: no finding
		{ID: "instagram", Source: "package", User: "0"},              // unreadable
		{ID: "threema", Source: "package", User: "0", Contacts: Yes}, // allowed
	}
	want := []brief{
		{"contacts.instagram", "instagram", "0", StatusUnknown, SeverityCritical},
		{"contacts.telegram", "telegram", "0", StatusFail, SeverityLow},
		{"contacts.whatsapp", "whatsapp", "0", StatusPass, SeverityCritical},
	}
	fs := Evaluate(defaultPolicy(), &Inventory{Device: Device{Kind: "phone"}, Messengers: items}, EvalOptions{Now: testNow})
	if diff := cmp.Diff(want, briefs(fs, "contacts.")); diff != "" {
		t.Errorf("phone contacts mismatch (-want +got):\n%s", diff)
	}
	fs = Evaluate(defaultPolicy(), &Inventory{Device: Device{Kind: "computer"}, Messengers: items}, EvalOptions{Now: testNow})
	if got := briefs(fs, "contacts."); len(got) != 0 {
		t.Errorf("computer produced contacts findings: %v", got)
	}
	// A policy can forbid the permission for an allowed messenger.
	p := mustLoad(t, "name: x\nmessengers: {signal: {decision: allow, contacts: deny}}\n")
	fs = Evaluate(p, &Inventory{Device: Device{Kind: "phone"}, Messengers: items[2:3]}, EvalOptions{Now: testNow})
	if diff := cmp.Diff([]brief{{"contacts.signal", "signal", "0", StatusFail, SeverityLow}}, briefs(fs, "contacts.")); diff != "" {
		t.Errorf("contacts: deny override mismatch (-want +got):\n%s", diff)
	}
}

func TestEvaluateScreenLock(t *testing.T) {
	ok := ScreenLock{User: "alice", Desktop: "gnome", Applicable: Yes, Enabled: Yes, IdleSeconds: intp(300), GraceSeconds: intp(0), LockOnSuspend: Yes, Source: "home/alice/.config/dconf/user"}
	with := func(f func(*ScreenLock)) ScreenLock { s := ok; f(&s); return s }
	users := []User{{Name: "alice"}}
	tests := []struct {
		name      string
		posture   Posture
		users     []User
		want      []brief
		msg       string // substring of the first finding's message
		noRemedy  bool
		remedyFor bool
	}{
		{"not inspected", Posture{Inspected: false}, []User{{Name: "alice"}, {Name: "bob"}},
			[]brief{{RuleScreenLock, "", "alice", StatusUnknown, SeverityHigh}, {RuleScreenLock, "", "bob", StatusUnknown, SeverityHigh}},
			"not inspected on this platform yet", true, false},
		{"not inspected, no users", Posture{}, nil,
			[]brief{{RuleScreenLock, SubjectDevice, "", StatusUnknown, SeverityHigh}}, "not inspected on this platform yet", true, false},
		{"pass", Posture{Inspected: true, ScreenLock: []ScreenLock{ok}}, users,
			[]brief{{RuleScreenLock, "", "alice", StatusPass, SeverityHigh}}, "The screen lock is on, locks after 300 s idle, password required after 0 s, locks on suspend.", true, false},
		{"no graphical session", Posture{Inspected: true, ScreenLock: []ScreenLock{{User: "alice", Applicable: No, Reason: "no desktop session found"}}}, users,
			[]brief{{RuleScreenLock, "", "alice", StatusNotApplicable, SeverityHigh}}, "does not apply: no desktop session found.", true, false},
		{"disabled", Posture{Inspected: true, ScreenLock: []ScreenLock{with(func(s *ScreenLock) { s.Enabled = No })}}, users,
			[]brief{{RuleScreenLock, "", "alice", StatusFail, SeverityHigh}}, "Screen lock: the screen lock is off.", false, true},
		{"idle too long", Posture{Inspected: true, ScreenLock: []ScreenLock{with(func(s *ScreenLock) { s.IdleSeconds = intp(900) })}}, users,
			[]brief{{RuleScreenLock, "", "alice", StatusFail, SeverityHigh}}, "Screen lock: locks only after 900 s idle (at most 300 s allowed).", false, true},
		{"never locks when idle", Posture{Inspected: true, ScreenLock: []ScreenLock{with(func(s *ScreenLock) { s.IdleSeconds = intp(0) })}}, users,
			[]brief{{RuleScreenLock, "", "alice", StatusFail, SeverityHigh}}, "the screen never locks when idle", false, true},
		{"grace too long", Posture{Inspected: true, ScreenLock: []ScreenLock{with(func(s *ScreenLock) { s.GraceSeconds = intp(30) })}}, users,
			[]brief{{RuleScreenLock, "", "alice", StatusFail, SeverityHigh}}, "the password is required only 30 s after locking (at most 5 s allowed)", false, true},
		{"no lock on suspend", Posture{Inspected: true, ScreenLock: []ScreenLock{with(func(s *ScreenLock) { s.LockOnSuspend = No })}}, users,
			[]brief{{RuleScreenLock, "", "alice", StatusFail, SeverityHigh}}, "the screen does not lock on suspend", false, true},
		{"several problems", Posture{Inspected: true, ScreenLock: []ScreenLock{with(func(s *ScreenLock) { s.IdleSeconds = intp(900); s.LockOnSuspend = No })}}, users,
			[]brief{{RuleScreenLock, "", "alice", StatusFail, SeverityHigh}}, "900 s idle (at most 300 s allowed); the screen does not lock on suspend.", false, true},
		{"fail beats unknown", Posture{Inspected: true, ScreenLock: []ScreenLock{with(func(s *ScreenLock) { s.IdleSeconds = intp(900); s.GraceSeconds = nil })}}, users,
			[]brief{{RuleScreenLock, "", "alice", StatusFail, SeverityHigh}}, "900 s", false, true},
		{"enabled unknown", Posture{Inspected: true, ScreenLock: []ScreenLock{{User: "alice", Applicable: Unknown, Reason: "sway: configured in scripts"}}}, users,
			[]brief{{RuleScreenLock, "", "alice", StatusUnknown, SeverityHigh}}, "Could not determine whether the screen lock is on, the idle time before locking, how soon after locking the password is required, whether the screen locks on suspend: sway: configured in scripts.", true, false},
		{"idle unknown", Posture{Inspected: true, ScreenLock: []ScreenLock{with(func(s *ScreenLock) { s.IdleSeconds = nil })}}, users,
			[]brief{{RuleScreenLock, "", "alice", StatusUnknown, SeverityHigh}}, "Could not determine the idle time before locking.", true, false},
		{"user without result", Posture{Inspected: true, ScreenLock: []ScreenLock{ok}}, []User{{Name: "alice"}, {Name: "carol"}},
			[]brief{{RuleScreenLock, "", "alice", StatusPass, SeverityHigh}, {RuleScreenLock, "", "carol", StatusUnknown, SeverityHigh}}, "", true, false},
		{"inspected, nothing reported", Posture{Inspected: true}, nil,
			[]brief{{RuleScreenLock, SubjectDevice, "", StatusUnknown, SeverityHigh}}, "No screen-lock result", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := Evaluate(defaultPolicy(), &Inventory{Users: tt.users, Posture: tt.posture}, EvalOptions{Now: testNow})
			got := briefs(fs, RuleScreenLock)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("mismatch (-want +got):\n%s", diff)
			}
			var first Finding
			for _, f := range fs {
				if f.Rule == RuleScreenLock {
					first = f
					break
				}
			}
			if !strings.Contains(first.Message, tt.msg) {
				t.Errorf("message = %q; want it to contain %q", first.Message, tt.msg)
			}
			if tt.noRemedy && first.Remediation != "" {
				t.Errorf("remediation on a %s finding: %q", first.Status, first.Remediation)
			}
			if tt.remedyFor && !strings.Contains(first.Remediation, "5 minutes") {
				t.Errorf("remediation = %q; want the policy's text", first.Remediation)
			}
		})
	}
	// Required false switches the rule off entirely.
	p := mustLoad(t, "name: x\n")
	if got := briefs(Evaluate(p, &Inventory{Users: users}, EvalOptions{}), RuleScreenLock); len(got) != 0 {
		t.Errorf("screen lock not required, got %v", got)
	}
	// Evidence names the source and desktop.
	fs := Evaluate(defaultPolicy(), &Inventory{Users: users, Posture: Posture{Inspected: true, ScreenLock: []ScreenLock{with(func(s *ScreenLock) { s.Policy = "dconf lock idle-delay=300" })}}}, EvalOptions{})
	f := find(t, fs, RuleScreenLock, "", "alice")
	want := []Evidence{{Source: "screen-lock", Location: "home/alice/.config/dconf/user", Detail: "desktop gnome; enforced dconf lock idle-delay=300"}}
	if diff := cmp.Diff(want, f.Evidence); diff != "" {
		t.Errorf("evidence mismatch (-want +got):\n%s", diff)
	}
}

func TestEvaluateRemoteWipe(t *testing.T) {
	tests := []struct {
		name   string
		p      *Policy
		post   Posture
		status Status
		msg    string
	}{
		{"not inspected", defaultPolicy(), Posture{}, StatusUnknown, "not inspected on this platform yet"},
		{"agent", defaultPolicy(), Posture{Inspected: true, RemoteWipe: RemoteWipe{Capable: Yes, Scope: "device", Provider: "Fleet (fleetd/orbit)", Source: "orbit.service"}},
			StatusPass, "The company can wipe this device remotely (Fleet (fleetd/orbit))."},
		{"work profile accepted", defaultPolicy(), Posture{Inspected: true, RemoteWipe: RemoteWipe{Capable: Yes, Scope: "work-profile", Provider: "profile owner com.google.android.apps.work.clouddpc"}},
			StatusPass, "The company can wipe the work profile remotely"},
		{"work profile not enough", mustLoad(t, "name: x\nposture: {remote_wipe: {required: true, accept_work_profile: false}}\n"),
			Posture{Inspected: true, RemoteWipe: RemoteWipe{Capable: Yes, Scope: "work-profile", Provider: "MDM"}},
			StatusFail, "Only the work profile can be wiped remotely (MDM)"},
		{"none", defaultPolicy(), Posture{Inspected: true, RemoteWipe: RemoteWipe{Capable: No, Reason: "no management agent installed"}},
			StatusFail, "The company cannot wipe this device remotely: no management agent installed. If the device"},
		{"consumer lock does not count", defaultPolicy(), Posture{Inspected: true, RemoteWipe: RemoteWipe{Capable: No, ConsumerLock: Yes}},
			StatusFail, "Find My is set up, but the company does not control it."},
		{"unknown", defaultPolicy(), Posture{Inspected: true, RemoteWipe: RemoteWipe{Reason: "systemctl failed"}},
			StatusUnknown, "could not be determined: systemctl failed."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := Evaluate(tt.p, &Inventory{Posture: tt.post}, EvalOptions{Now: testNow})
			f := find(t, fs, RuleRemoteWipe, SubjectDevice, "")
			if f.Status != tt.status || !strings.Contains(f.Message, tt.msg) {
				t.Errorf("remote-wipe = %s %q; want %s containing %q", f.Status, f.Message, tt.status, tt.msg)
			}
			if (f.Status == StatusFail) != (f.Remediation != "") {
				t.Errorf("remediation %q on a %s finding", f.Remediation, f.Status)
			}
		})
	}
}

func TestEvaluateDiskEncryption(t *testing.T) {
	vols := []Volume{
		{Mount: "/", Encrypted: Yes, Method: "LVM-on-LUKS", Device: "dm-1", Source: "sys/dev/block/253:1"},
		{Mount: "/home", Encrypted: No, Device: "sda3"},
		{Mount: "swap", Encrypted: Unknown, Reason: "swap device not found"},
		{Mount: "C:", Encrypted: Yes, Protected: No, Method: "BitLocker"},
	}
	tests := []struct {
		name string
		p    *Policy
		post Posture
		want []brief
	}{
		{"not inspected", defaultPolicy(), Posture{}, []brief{{RuleDiskEncryption, SubjectDevice, "", StatusUnknown, SeverityHigh}}},
		{"per volume", defaultPolicy(), Posture{Inspected: true, Encryption: DiskEncryption{Volumes: vols}}, []brief{
			{RuleDiskEncryption, "/", "", StatusPass, SeverityHigh},
			{RuleDiskEncryption, "/home", "", StatusFail, SeverityHigh},
			{RuleDiskEncryption, "C:", "", StatusFail, SeverityHigh},
			{RuleDiskEncryption, "swap", "", StatusUnknown, SeverityHigh},
		}},
		{"mounts filter", mustLoad(t, "name: x\nposture: {disk_encryption: {required: true, mounts: [/, swap]}}\n"),
			Posture{Inspected: true, Encryption: DiskEncryption{Volumes: vols}}, []brief{
				{RuleDiskEncryption, "/", "", StatusPass, SeverityHigh},
				{RuleDiskEncryption, "swap", "", StatusUnknown, SeverityHigh},
			}},
		{"no volumes", defaultPolicy(), Posture{Inspected: true, Encryption: DiskEncryption{Reason: "mountinfo unreadable"}},
			[]brief{{RuleDiskEncryption, SubjectDevice, "", StatusUnknown, SeverityHigh}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := Evaluate(tt.p, &Inventory{Posture: tt.post}, EvalOptions{Now: testNow})
			if diff := cmp.Diff(tt.want, briefs(fs, RuleDiskEncryption)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, dump(fs))
			}
		})
	}
	fs := Evaluate(defaultPolicy(), &Inventory{Posture: Posture{Inspected: true, Encryption: DiskEncryption{Volumes: vols}}}, EvalOptions{})
	for subject, want := range map[string]string{
		"/":     "/ is encrypted (LVM-on-LUKS).",
		"/home": "/home is not encrypted.",
		"C:":    "C: is encrypted, but its protection is suspended.",
		"swap":  "Whether swap is encrypted could not be determined: swap device not found.",
	} {
		if f := find(t, fs, RuleDiskEncryption, subject, ""); !strings.HasPrefix(f.Message, want) {
			t.Errorf("%s: message = %q; want prefix %q", subject, f.Message, want)
		}
	}
	root := find(t, fs, RuleDiskEncryption, "/", "")
	if diff := cmp.Diff([]Evidence{{Source: "disk-encryption", Location: "sys/dev/block/253:1", Detail: "dm-1 LVM-on-LUKS"}}, root.Evidence); diff != "" {
		t.Errorf("evidence mismatch (-want +got):\n%s", diff)
	}
}

// TestEvaluateNeverPassesUninspectedPosture: whatever else is in the
// inventory, an uninspected posture yields no posture pass.
func TestEvaluateNeverPassesUninspectedPosture(t *testing.T) {
	inv := &Inventory{Users: []User{{Name: "a"}}, Posture: goodPosture("a")}
	inv.Posture.Inspected = false
	for _, f := range Evaluate(defaultPolicy(), inv, EvalOptions{}) {
		switch f.Rule {
		case RuleScreenLock, RuleRemoteWipe, RuleDiskEncryption:
			if f.Status != StatusUnknown || f.Message != NotInspectedReason {
				t.Errorf("%s|%s|%s = %s %q; want unknown %q", f.Rule, f.Subject, f.User, f.Status, f.Message, NotInspectedReason)
			}
		}
	}
}

func TestEvaluateGerman(t *testing.T) {
	inv := &Inventory{
		Users:      []User{{Name: "alice"}},
		Messengers: []Messenger{{ID: "whatsapp", Source: "deb"}, {ID: "telegram", Source: "snap"}},
		Posture:    Posture{},
	}
	fs := Evaluate(defaultPolicy(), inv, EvalOptions{Now: testNow, Lang: "de_DE.UTF-8"})
	wa := find(t, fs, "messenger.whatsapp", "whatsapp", "")
	if !strings.HasPrefix(wa.Message, "WhatsApp wurde auf diesem Gerät gefunden (deb); die Richtlinie erlaubt es nicht. Das private WhatsApp") {
		t.Errorf("German message = %q", wa.Message)
	}
	if !strings.HasPrefix(wa.Remediation, "WhatsApp (auch eine WhatsApp-Web-App) von diesem Gerät entfernen.") {
		t.Errorf("German remediation = %q", wa.Remediation)
	}
	tg := find(t, fs, "messenger.telegram", "telegram", "")
	if !strings.Contains(tg.Message, "Nur geheime Chats") {
		t.Errorf("German condition missing: %q", tg.Message)
	}
	if sl := find(t, fs, RuleScreenLock, "", "alice"); sl.Message != "auf dieser Plattform noch nicht geprüft" {
		t.Errorf("German not-inspected = %q", sl.Message)
	}
	// Every finding of a German evaluation of a busy inventory has German
	// text: no English sentence leaks through.
	busy := benchInventory(5, 20)
	for _, f := range Evaluate(defaultPolicy(), busy, EvalOptions{Lang: "de"}) {
		for _, en := range []string{" was found", " is ", "Could not", "The company", "Screen lock:"} {
			if strings.Contains(f.Message, en) {
				t.Errorf("%s|%s|%s: English in German message: %q", f.Rule, f.Subject, f.User, f.Message)
			}
		}
	}
}

func TestEvaluateDeterministic(t *testing.T) {
	inv := benchInventory(10, 60)
	want := Evaluate(defaultPolicy(), inv, EvalOptions{Now: testNow})
	r := rand.New(rand.NewSource(7))
	for range 5 {
		shuffled := inv.Clone()
		r.Shuffle(len(shuffled.Messengers), func(i, j int) {
			shuffled.Messengers[i], shuffled.Messengers[j] = shuffled.Messengers[j], shuffled.Messengers[i]
		})
		r.Shuffle(len(shuffled.Posture.ScreenLock), func(i, j int) {
			shuffled.Posture.ScreenLock[i], shuffled.Posture.ScreenLock[j] = shuffled.Posture.ScreenLock[j], shuffled.Posture.ScreenLock[i]
		})
		if diff := cmp.Diff(want, Evaluate(defaultPolicy(), shuffled, EvalOptions{Now: testNow})); diff != "" {
			t.Fatalf("findings depend on inventory order (-want +got):\n%s", diff)
		}
	}
	keys := map[string]bool{}
	for _, f := range want {
		if keys[f.Key()] {
			t.Errorf("duplicate finding key %s", f.Key())
		}
		keys[f.Key()] = true
	}
}

func TestEvaluateUnknownCatalogID(t *testing.T) {
	// An id the catalog does not know (an older agent reading a newer
	// inventory) falls under the default rule with the probe's name.
	fs := Evaluate(defaultPolicy(), &Inventory{Messengers: []Messenger{{ID: "acme", Name: "ACME Chat", Variant: VariantPrivate, Source: "deb"}}}, EvalOptions{})
	f := find(t, fs, "messenger.acme", "acme", "")
	if f.Status != StatusUnknown || !strings.HasPrefix(f.Message, "ACME Chat was found (deb); the policy does not name it: Not yet assessed by IT.") {
		t.Errorf("unknown id = %s %q", f.Status, f.Message)
	}
}

func TestCompliantAndSummary(t *testing.T) {
	fs := []Finding{
		{Status: StatusPass, Severity: SeverityInfo},
		{Status: StatusFail, Severity: SeverityHigh},
		{Status: StatusFail, Severity: SeverityCritical},
		{Status: StatusUnknown, Severity: SeverityMedium},
		{Status: StatusNotApplicable, Severity: SeverityHigh},
		{Status: StatusExempt, Severity: SeverityHigh},
	}
	if Compliant(fs) {
		t.Error("Compliant() = true with failures")
	}
	if !Compliant(fs[3:]) {
		t.Error("Compliant() = false with only unknown, n/a and exempt; unknown must not fail a device")
	}
	s := Summarize(fs)
	want := Summary{
		Compliant:         false,
		Total:             6,
		ByStatus:          map[Status]int{StatusPass: 1, StatusFail: 2, StatusUnknown: 1, StatusNotApplicable: 1, StatusExempt: 1},
		FailedBySeverity:  map[Severity]int{SeverityHigh: 1, SeverityCritical: 1},
		UnknownBySeverity: map[Severity]int{SeverityMedium: 1},
		Worst:             SeverityCritical,
	}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("Summarize mismatch (-want +got):\n%s", diff)
	}
	for lang, want := range map[string]string{
		"en": "not compliant: 2 failed (1 critical, 1 high), 1 unknown, 1 exempt, 1 passed, 1 not applicable",
		"de": "nicht konform: 2 nicht erfüllt (1 kritisch, 1 hoch), 1 unbekannt, 1 ausgenommen, 1 erfüllt, 1 nicht zutreffend",
	} {
		if got := s.Verdict(lang); got != want {
			t.Errorf("Verdict(%q) = %q; want %q", lang, got, want)
		}
	}
	if got := Summarize(nil).Verdict("en"); got != "compliant" {
		t.Errorf("empty verdict = %q", got)
	}
	if got := Summarize(fs[3:4]).Verdict("en"); got != "compliant: 1 unknown" {
		t.Errorf("unknown-only verdict = %q", got)
	}
}

func TestInvalidPolicyFinding(t *testing.T) {
	_, err := Load("bad.yaml", readFixture(t, "bad-values.yaml"))
	f := InvalidPolicyFinding(err, testNow)
	if f.Rule != RulePolicyInvalid || f.Status != StatusFail || f.Severity != SeverityHigh || !f.EvaluatedAt.Equal(testNow) {
		t.Errorf("finding = %+v", f)
	}
	want := []Evidence{
		{Source: "policy", Location: "bad.yaml:5:15", Detail: `messengers.skype.decision: unknown decision "forbid" (want allow, deny or conditional)`},
		{Source: "policy", Location: "bad.yaml:8:15", Detail: `messengers.viber.severity: unknown severity "urgent" (want info, low, medium, high or critical)`},
	}
	if diff := cmp.Diff(want, f.Evidence); diff != "" {
		t.Errorf("evidence mismatch (-want +got):\n%s", diff)
	}
	if !strings.Contains(f.Message, "bad.yaml:5:15") || !strings.Contains(f.Message, "(and 1 more)") {
		t.Errorf("message = %q", f.Message)
	}
	if Compliant([]Finding{f}) {
		t.Error("an invalid policy must not be compliant")
	}
	if g := InvalidPolicyFinding(fmt.Errorf("reading policy: %w", errOpen), testNow); !strings.Contains(g.Message, "permission denied") {
		t.Errorf("plain error message = %q", g.Message)
	}
}

var errOpen = fmt.Errorf("open /etc/msgguard/policy.yaml: permission denied")

// benchInventory builds a computer with users and items spread over the
// catalog: realistic for a shared workstation.
func benchInventory(users, items int) *Inventory {
	cat, err := DefaultCatalog()
	if err != nil {
		panic(err)
	}
	inv := &Inventory{Device: Device{ID: "bench", Kind: "computer", Platform: "linux"}}
	sources := []string{"deb", "flatpak", "desktop", "data-dir", "appimage", "process"}
	for u := range users {
		name := fmt.Sprintf("user%02d", u)
		inv.Users = append(inv.Users, User{Name: name, Home: "home/" + name})
		sl := ScreenLock{User: name, Desktop: "gnome", Applicable: Yes, Enabled: Yes, IdleSeconds: intp(300 * (1 + u%4)), GraceSeconds: intp(u % 10), LockOnSuspend: TriOf(u%3 != 0), Source: "dconf"}
		if u%7 == 0 {
			sl = ScreenLock{User: name, Applicable: No, Reason: "no graphical session"}
		}
		inv.Posture.ScreenLock = append(inv.Posture.ScreenLock, sl)
	}
	for i := range items {
		e := cat.Messengers[i%len(cat.Messengers)]
		user := ""
		if i%3 != 0 {
			user = inv.Users[i%users].Name
		}
		inv.Messengers = append(inv.Messengers, Messenger{
			ID: e.ID, Name: e.Name, Variant: e.Variant, Source: sources[i%len(sources)], User: user,
			Version: fmt.Sprintf("1.%d", i), Location: fmt.Sprintf("home/%s/item%d", user, i),
		})
	}
	inv.Posture.Inspected = true
	inv.Posture.RemoteWipe = RemoteWipe{Capable: No, Reason: "no management agent installed"}
	inv.Posture.Encryption.Volumes = []Volume{{Mount: "/", Encrypted: Yes, Method: "LUKS2"}, {Mount: "swap", Encrypted: No}}
	return inv
}

// BenchmarkEvaluate: 200 inventory items and 50 users under the default
// policy (one scan's evaluation).
func BenchmarkEvaluate(b *testing.B) {
	p := defaultPolicy()
	inv := benchInventory(50, 200)
	opts := EvalOptions{Now: testNow, Lang: "en"}
	b.ReportAllocs()
	var n int
	for b.Loop() {
		n = len(Evaluate(p, inv, opts))
	}
	b.ReportMetric(float64(n), "findings")
}

// BenchmarkLoadDefault measures loading a company policy file the size of
// the default one: Load parses the file and validates it against the
// built-in catalog (generated code, no YAML).
func BenchmarkLoadDefault(b *testing.B) {
	data := DefaultYAML()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load("default.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseDefaultYAML measures what every start used to pay: the
// embedded default policy and catalog loaded from their YAML.
func BenchmarkParseDefaultYAML(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseDefault(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDefault measures what a start pays now for the embedded default
// policy and catalog: building them from the generated literals.
func BenchmarkDefault(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if p := Default(); p.Catalog() == nil {
			b.Fatal("no catalog")
		}
	}
}

func TestEvaluateDefaultDeny(t *testing.T) {
	p, err := Load("custom.yaml", readFixture(t, "custom.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fs := Evaluate(p, &Inventory{Messengers: []Messenger{{ID: "threema", Source: "package"}, {ID: "acme-chat", Source: "package"}}}, EvalOptions{})
	f := find(t, fs, "messenger.threema", "threema", "")
	if f.Status != StatusFail || f.Severity != SeverityMedium || !strings.Contains(f.Message, "the policy allows only the messengers it names") {
		t.Errorf("threema under a default-deny policy = %s %s %q", f.Status, f.Severity, f.Message)
	}
	if f := find(t, fs, "messenger.acme-chat", "acme-chat", ""); f.Status != StatusPass {
		t.Errorf("added catalog messenger acme-chat = %s; want pass", f.Status)
	}
	// Unnamed messengers that the default denies also get absent passes.
	if f := find(t, fs, "messenger.viber", "viber", ""); f.Status != StatusPass {
		t.Errorf("absent viber = %s; want pass", f.Status)
	}
}

func TestEvaluateLeavesPolicyAlone(t *testing.T) {
	p := Default()
	before := Default()
	Evaluate(p, benchInventory(5, 60), EvalOptions{Lang: "de"})
	if diff := cmp.Diff(before, p, cmp.AllowUnexported(Policy{})); diff != "" {
		t.Errorf("Evaluate modified the policy (-before +after):\n%s", diff)
	}
}

// TestGermanKeepsProbeReasonApart checks that an English probe reason does
// not continue a German sentence: it follows as a marked detail.
func TestGermanKeepsProbeReasonApart(t *testing.T) {
	inv := &Inventory{Posture: Posture{Inspected: true,
		RemoteWipe: RemoteWipe{Capable: No, Reason: "no management agent that can wipe this device is installed and active"}}}
	de := find(t, Evaluate(defaultPolicy(), inv, EvalOptions{Now: testNow, Lang: "de"}), RuleRemoteWipe, SubjectDevice, "")
	if !strings.HasPrefix(de.Message, "Die Firma kann dieses Gerät nicht aus der Ferne löschen. Prüfdetail: no management agent") {
		t.Errorf("German message = %q", de.Message)
	}
	en := find(t, Evaluate(defaultPolicy(), inv, EvalOptions{Now: testNow, Lang: "en"}), RuleRemoteWipe, SubjectDevice, "")
	if !strings.HasPrefix(en.Message, "The company cannot wipe this device remotely: no management agent") {
		t.Errorf("English message = %q", en.Message)
	}
}
