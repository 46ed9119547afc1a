package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/config"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/agent/store"
	"github.com/msgguard/msgguard/install"
	"github.com/msgguard/msgguard/policy"
)

var updatePrivacy = flag.Bool("update-privacy", false, "rewrite testdata/privacy-fields.txt")

// testClock is a movable clock for the CLI.
type testClock struct{ t time.Time }

func (c *testClock) now() time.Time { return c.t }

// adminEnv is a test env running as root with the given clock.
func adminEnv(t *testing.T, c *testClock) (*Env, *bytes.Buffer, *bytes.Buffer) {
	e, out, errb := testEnv(t)
	e.euid = 0
	e.now = c.now
	return e, out, errb
}

func statusJSON(t *testing.T, c *testClock, db string) *status.Report {
	t.Helper()
	e, out, errb := adminEnv(t, c)
	if code := runCLI(t, e, "status", "--db", db, "--json"); code != exitCompliant && code != exitNotCompliant {
		t.Fatalf("status exit %d: %s", code, errb)
	}
	var r status.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("status json: %v", err)
	}
	return &r
}

func statusOf(r *status.Report) map[string]status.Finding {
	out := map[string]status.Finding{}
	for _, f := range r.Findings {
		out[f.Rule+"|"+f.User] = f
	}
	return out
}

var waBusiness = []string{
	"attestation.whatsapp-business.customer-contacts-only",
	"attestation.whatsapp-business.no-extra-contact-data",
	"attestation.whatsapp-business.group-consent",
}

// TestDoneWhenAttestationsCLI is the compliance workflow's acceptance scenario through the CLI, on the
// recorded Pixel 8 that runs WhatsApp Business (the article's separate
// business phone): status shows the three article attestations as missing,
// `agent attest` makes them attested, and moving the clock past their
// expiry turns them back to fail. (The drift event per expiry is asserted
// with the real drift stage in agent/compliance.)
func TestDoneWhenAttestationsCLI(t *testing.T) {
	run, serial := phoneRunner(t, "pixel8-a15-deviceowner.txtar")
	c := &testClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	db := filepath.Join(t.TempDir(), "state.db")
	scanPhone := func() *status.Report {
		t.Helper()
		e, out, errb := adminEnv(t, c)
		e.phoneRun = run
		if code := runCLI(t, e, "scan", "--phone", serial, "--db", db, "--json"); code != exitCompliant && code != exitNotCompliant {
			t.Fatalf("scan --phone exit %d: %s", code, errb)
		}
		var r status.Report
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		return &r
	}
	// The computer first: `agent status` shows attached phones under it.
	e0, _, errb0 := adminEnv(t, c)
	if code := runCLI(t, e0, "scan", "--root", fixtureRoot, "--db", db); code != exitNotCompliant {
		t.Fatalf("computer scan exit %d: %s", code, errb0)
	}
	r := scanPhone()
	dev := r.Device.ID
	got := statusOf(r)
	for _, rule := range waBusiness {
		if f := got[rule+"|"]; f.Status != policy.StatusFail || !strings.HasPrefix(f.Message, "Not yet attested") {
			t.Errorf("first scan: %s = %s %q; want fail, not yet attested", rule, f.Status, f.Message)
		}
	}

	// `agent status` shows them to the person at the keyboard.
	e, out, _ := adminEnv(t, c)
	e.euid = 1000
	runCLI(t, e, "status", "--db", db)
	text := out.String()
	for _, rule := range waBusiness {
		if !strings.Contains(text, rule) {
			t.Errorf("status lacks %s:\n%s", rule, text)
		}
	}
	if !strings.Contains(text, "Not yet attested (role: team lead)") {
		t.Errorf("status does not say the attestations are missing:\n%s", text)
	}
	for _, line := range strings.Split(text, "\n") {
		if n := utf8.RuneCountInString(line); n > lineWidth || strings.HasSuffix(line, " ") {
			t.Errorf("status line of %d columns or with trailing blanks: %q", n, line)
		}
	}
	if !strings.Contains(text, "ID:         "+dev) {
		t.Errorf("status does not show the phone's id for --device:\n%s", text)
	}

	c.t = c.t.Add(time.Hour)
	for _, rule := range waBusiness {
		e, out, errb := adminEnv(t, c)
		if code := runCLI(t, e, "attest", strings.TrimPrefix(rule, "attestation."), "--by", "Erika Mustermann", "--note", "checked on the phone", "--device", dev, "--db", db); code != 0 {
			t.Fatalf("attest %s exit %d: %s", rule, code, errb)
		}
		if !strings.Contains(out.String(), "recorded: "+rule+" attested by Erika Mustermann") {
			t.Errorf("attest output = %q", out)
		}
	}
	c.t = c.t.Add(time.Hour)
	got = statusOf(scanPhone())
	for _, rule := range waBusiness {
		if f := got[rule+"|"]; f.Status != policy.StatusAttested || f.Attestation == nil || f.Attestation.By != "Erika Mustermann" {
			t.Errorf("after attest: %s = %s %+v; want attested by Erika Mustermann", rule, f.Status, f.Attestation)
		}
	}
	e, out, _ = adminEnv(t, c)
	runCLI(t, e, "attest", "--list", "--db", db)
	if n := strings.Count(out.String(), "Erika Mustermann"); n != 3 {
		t.Errorf("attest --list shows %d attestations; want 3:\n%s", n, out)
	}

	// 181 days later the confirmations have expired.
	c.t = c.t.Add(181 * policy.Day)
	got = statusOf(scanPhone())
	for _, rule := range waBusiness {
		if f := got[rule+"|"]; f.Status != policy.StatusFail || !strings.HasPrefix(f.Message, "Attestation expired on 2026-08-29") {
			t.Errorf("after expiry: %s = %s %q", rule, f.Status, f.Message)
		}
	}
	// The clock going back does not revive them.
	c.t = c.t.Add(-180 * policy.Day)
	got = statusOf(scanPhone())
	for _, rule := range waBusiness {
		if f := got[rule+"|"]; f.Status != policy.StatusFail {
			t.Errorf("after the clock went back: %s = %s; want fail", rule, f.Status)
		}
	}
	// explain shows the rule, its question and the history.
	e, out, errb := adminEnv(t, c)
	if code := runCLI(t, e, "explain", "whatsapp-business.group-consent", "--device", dev, "--db", db, "--lang", "de"); code != 0 {
		t.Fatalf("explain exit %d: %s", code, errb)
	}
	for _, want := range []string{"attestation.whatsapp-business.group-consent (Bestätigung durch eine Person)", "Zu bestätigen: Keine WhatsApp-Gruppen",
		"Zuständig: Teamleitung", "Gültig für: 180 Tage", "bestätigt von Erika Mustermann, gültig bis 29.08.2026",
		"Bestätigung von Erika Mustermann abgelaufen", "AUF DIESEM GERÄT"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("explain lacks %q:\n%s", want, out)
		}
	}
}

// TestExemptDeniedMessengerCLI: an exempted denied messenger shows exempt
// with its real status, in JSON and for people.
func TestExemptDeniedMessengerCLI(t *testing.T) {
	c := &testClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	db := filepath.Join(t.TempDir(), "state.db")
	scanRoot := func() {
		t.Helper()
		e, _, errb := adminEnv(t, c)
		if code := runCLI(t, e, "scan", "--root", fixtureRoot, "--db", db); code != exitNotCompliant && code != exitCompliant {
			t.Fatalf("scan exit %d: %s", code, errb)
		}
	}
	scanRoot()
	e, out, errb := adminEnv(t, c)
	if code := runCLI(t, e, "exempt", "messenger.whatsapp", "--user", "alice", "--reason", "supplier reachable only on WhatsApp until June",
		"--approver", "Jane Roe (CISO)", "--until", "2026-06-30", "--db", db); code != 0 {
		t.Fatalf("exempt exit %d: %s", code, errb)
	}
	if !strings.Contains(out.String(), "recorded: messenger.whatsapp exempt") {
		t.Errorf("exempt output = %q", out)
	}
	scanRoot()
	got := statusOf(statusJSON(t, c, db))
	f := got["messenger.whatsapp|alice"]
	if f.Status != policy.StatusExempt || f.Underlying != policy.StatusFail || f.Exemption == nil || f.Exemption.Approver != "Jane Roe (CISO)" || f.Exemption.Source != "local" {
		t.Errorf("alice's WhatsApp = %s underlying %s %+v; want exempt with the real fail", f.Status, f.Underlying, f.Exemption)
	}
	if b := got["messenger.whatsapp|bob"]; b.Status != policy.StatusFail {
		t.Errorf("bob's WhatsApp = %s; the exemption is for alice only", b.Status)
	}
	for _, lang := range []struct{ code, header, real string }{
		{"en", "EXEMPT", "Exempt until 2026-06-30, approved by Jane Roe (CISO): supplier reachable only on WhatsApp until June (real result: not met)"},
		{"de", "AUSGENOMMEN", "Ausnahme bis 30.06.2026, genehmigt von Jane Roe (CISO): supplier reachable only on WhatsApp until June (tatsächliches Ergebnis: nicht erfüllt)"},
	} {
		e, out, _ := adminEnv(t, c)
		runCLI(t, e, "status", "--db", db, "--lang", lang.code)
		flat := strings.Join(strings.Fields(out.String()), " ")
		if !strings.Contains(out.String(), "\n"+lang.header+"\n") || !strings.Contains(flat, lang.real) {
			t.Errorf("%s status lacks the exemption with its real result %q:\n%s", lang.code, lang.real, out)
		}
	}
	// The exemption ends: the real status returns.
	c.t = time.Date(2026, 7, 1, 0, 0, 1, 0, time.UTC)
	scanRoot()
	if f := statusOf(statusJSON(t, c, db))["messenger.whatsapp|alice"]; f.Status != policy.StatusFail || f.Exemption != nil {
		t.Errorf("after the exemption ended: %s %+v; want fail", f.Status, f.Exemption)
	}
	e, out, _ = adminEnv(t, c)
	runCLI(t, e, "exempt", "--list", "--db", db)
	if !strings.Contains(out.String(), "expired") {
		t.Errorf("exempt --list does not show the exemption as expired:\n%s", out)
	}
}

// TestRecordBadInput is the bad input for the record verbs: each is a
// clear error with exit 2, and nothing is recorded half-way.
func TestRecordBadInput(t *testing.T) {
	c := &testClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	db := filepath.Join(dir, "state.db")

	// Before any scan: nothing to attest for, and no database created.
	e, _, errb := adminEnv(t, c)
	if code := runCLI(t, e, "attest", "telegram.secret-chats-only", "--by", "x", "--db", db); code != exitUsage || !strings.Contains(errb.String(), "no scan recorded yet") {
		t.Errorf("attest before a scan: exit %d, %q", code, errb)
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("attest before a scan created the database")
	}
	e, _, _ = adminEnv(t, c)
	runCLI(t, e, "scan", "--root", fixtureRoot, "--db", db)

	tests := []struct {
		name string
		euid int
		args []string
		want string
	}{
		{"non-admin attest", 1000, []string{"attest", "telegram.secret-chats-only", "--by", "x"}, "only an administrator may record this (try: sudo agent attest"},
		{"non-admin exempt", 1000, []string{"exempt", "messenger.whatsapp", "--reason", "r", "--approver", "a", "--until", "2026-04-01"}, "only an administrator may record this"},
		{"unknown rule", 0, []string{"attest", "telegram.secret-chat-only", "--by", "x"}, `unknown rule "telegram.secret-chat-only"; did you mean "telegram.secret-chats-only"?`},
		{"observed rule", 0, []string{"attest", "messenger.whatsapp", "--by", "x"}, "is observed by the agent, not attested"},
		{"no name", 0, []string{"attest", "telegram.secret-chats-only"}, "--by is required"},
		{"past until", 0, []string{"attest", "telegram.secret-chats-only", "--by", "x", "--until", "2026-01-01"}, "is not in the future"},
		{"bad date", 0, []string{"attest", "telegram.secret-chats-only", "--by", "x", "--until", "01.04.2026"}, "is not a date"},
		{"beyond validity", 0, []string{"attest", "telegram.secret-chats-only", "--by", "x", "--until", "2027-12-31"}, "beyond the rule's validity of 180d"},
		{"exemption without expiry", 0, []string{"exempt", "messenger.whatsapp", "--reason", "r", "--approver", "a"}, "--until is required"},
		{"exemption in the past", 0, []string{"exempt", "messenger.whatsapp", "--reason", "r", "--approver", "a", "--until", "2026-03-01"}, "is not in the future"},
		{"exemption ten years out", 0, []string{"exempt", "messenger.whatsapp", "--reason", "r", "--approver", "a", "--until", "2036-03-01"}, "is more than max_exemption (365d) from now"},
		{"exemption without reason", 0, []string{"exempt", "messenger.whatsapp", "--approver", "a", "--until", "2026-04-01"}, "--reason is required"},
		{"exemption for an unknown rule", 0, []string{"exempt", "messenger.whatsap", "--reason", "r", "--approver", "a", "--until", "2026-04-01"}, `did you mean "messenger.whatsapp"?`},
		{"unknown device", 0, []string{"attest", "telegram.secret-chats-only", "--by", "x", "--device", "nope"}, `no device "nope" in the database`},
		{"two rules", 0, []string{"attest", "a", "b", "--by", "x"}, "usage: agent attest RULE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, out, errb := adminEnv(t, c)
			e.euid = tt.euid
			code := runCLI(t, e, append(tt.args, "--db", db)...)
			if code != exitUsage || !strings.Contains(errb.String(), tt.want) {
				t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tt.args, code, errb, exitUsage, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("stdout = %q; want nothing on error", out)
			}
		})
	}
	// Nothing was recorded.
	for _, verb := range []string{"attest", "exempt"} {
		e, out, _ := adminEnv(t, c)
		runCLI(t, e, verb, "--list", "--json", "--db", db)
		var recs compliance.Records
		if err := json.Unmarshal(out.Bytes(), &recs); err != nil {
			t.Fatal(err)
		}
		if len(recs.Attestations)+len(recs.Exemptions) != 0 {
			t.Errorf("%s --list = %+v; want nothing recorded", verb, recs)
		}
	}
}

// TestStatusHumanOutput checks the human report: German by --lang or LANG,
// at most 80 columns, no colour into a buffer, report-stage findings only
// for administrators, full texts and evidence with --verbose.
func TestStatusHumanOutput(t *testing.T) {
	c := &testClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	db := filepath.Join(t.TempDir(), "state.db")
	e, _, _ := adminEnv(t, c)
	runCLI(t, e, "scan", "--root", fixtureRoot, "--db", db)

	show := func(euid int, env map[string]string, args ...string) string {
		t.Helper()
		e, out, _ := adminEnv(t, c)
		e.euid = euid
		base := e.getenv
		e.getenv = func(k string) string {
			if v, ok := env[k]; ok {
				return v
			}
			return base(k)
		}
		runCLI(t, e, append([]string{"status", "--db", db}, args...)...)
		return out.String()
	}
	de := show(1000, map[string]string{"LANG": "de_DE.UTF-8"})
	for _, want := range []string{"NICHT KONFORM: ", "NICHT ERFÜLLT\n", "Abhilfe: WhatsApp (auch eine WhatsApp-Web-App) von diesem Gerät", "Noch nicht bestätigt (zuständig: Teamleitung)",
		"weiteres Ergebnis ist nur für die IT bestimmt"} {
		if !strings.Contains(de, want) {
			t.Errorf("German status lacks %q:\n%s", want, de)
		}
	}
	en := show(1000, nil)
	if !strings.Contains(en, "NOT COMPLIANT: ") || strings.Contains(en, "remote-wipe") {
		t.Errorf("English status for a user: want the verdict and no IT-only remote-wipe:\n%s", en)
	}
	admin := show(0, nil)
	if !strings.Contains(admin, "remote-wipe — due in 14 days (2026-03-16)") {
		t.Errorf("admin status lacks the due remote-wipe finding:\n%s", admin)
	}
	verbose := show(1000, nil, "--verbose")
	for _, want := range []string{"Evidence: desktop · /home/alice/.local/share/applications/chrome-", "Stage: notify (shown to the user)",
		"Consumer WhatsApp regularly uploads the whole address book"} {
		if !strings.Contains(strings.Join(strings.Fields(verbose), " "), want) {
			t.Errorf("verbose status lacks %q:\n%s", want, verbose)
		}
	}
	for name, text := range map[string]string{"de": de, "en": en, "admin": admin, "verbose": verbose} {
		if strings.Contains(text, "\x1b[") {
			t.Errorf("%s: colour escape in output written to a buffer", name)
		}
		for _, line := range strings.Split(text, "\n") {
			if n := utf8.RuneCountInString(line); n > lineWidth && !strings.Contains(line, "/home/") {
				t.Errorf("%s: line of %d columns: %q", name, n, line)
			}
		}
	}
	// A non-administrator's summary still counts what is hidden from the list.
	if !strings.Contains(en, "1 more finding is for IT only") {
		t.Errorf("hidden findings not mentioned:\n%s", en)
	}
}

// TestPrivacyDerivedFromConfig: retention and destinations come from the
// live config; the monitoring sinks' payload is what their renderers write.
func TestPrivacyDerivedFromConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "agent.yaml")
	os.WriteFile(cfg, []byte(`database: `+filepath.Join(dir, "state.db")+`
retention: {days: 30, max_scans: 500}
drift: {retention_days: 10, max_events: 1234}
sinks:
  - {type: jsonl, name: siem, path: /var/log/msgguard/events.jsonl, min_severity: medium, max_queue: 777}
  - {type: webhook, name: hook, url: "https://collector.example/ingest?token=secret", token_file: /etc/msgguard/token}
  - {type: prometheus, path: /var/lib/node_exporter/textfile/msgguard.prom}
  - {type: checkmk, path: /var/lib/check_mk_agent/spool/msgguard}
  - {type: syslog, name: broken}
`), 0o644)
	e, out, errb := testEnv(t)
	if code := runCLI(t, e, "privacy", "--config", cfg); code != 0 {
		t.Fatalf("privacy exit %d: %s", code, errb)
	}
	text := strings.Join(strings.Fields(out.String()), " ")
	for _, want := range []string{
		"kept: 30 days or 500 scans per device",
		"kept: 10 days or 1234 events",
		"until 30 days after a scan saw them expire",
		`outbox of sink "siem": drift events not yet delivered`, "at most 777 events",
		"to: file /var/log/msgguard/events.jsonl", "what: drift events of severity medium or higher",
		"to: HTTPS POST to https://collector.example/ingest",
		`msgguard_compliant{device="DEVICE-ID"} 0`,
		`msgguard_device_info{device="DEVICE-ID",hostname="HOSTNAME"`,
		"msgguard_compliance",
		"broken (syslog) not started:",
		"device.hostname*", "findings[].user*", "inventory.users[].home*",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("privacy lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out.String(), "secret") {
		t.Error("privacy shows the webhook URL's query string")
	}
	e, out, _ = testEnv(t)
	runCLI(t, e, "privacy", "--config", cfg, "--json")
	var v privacyView
	if err := json.Unmarshal(out.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	if v.SchemaVersion != PrivacySchemaVersion || len(v.Sent) != 5 || v.Config != cfg {
		t.Errorf("privacy JSON = schema %d, %d sinks, config %q", v.SchemaVersion, len(v.Sent), v.Config)
	}
	// Without a config file and without sinks nothing leaves the device.
	e, out, _ = testEnv(t)
	runCLI(t, e, "privacy", "--lang", "de")
	if !strings.Contains(out.String(), "nichts: Es sind keine Empfänger (sinks) konfiguriert") || !strings.Contains(out.String(), "90 Tage oder 2000 Scans") {
		t.Errorf("German privacy without config:\n%s", out)
	}
}

// TestPrivacyFieldsReviewed fails when a stored or sent type gains a field
// nobody has classified: the field list is compared with
// testdata/privacy-fields.txt (run with -update-privacy after deciding
// whether the new field is personal data, in personalFields).
func TestPrivacyFieldsReviewed(t *testing.T) {
	v := buildPrivacy(config.Default(install.PathsFor("linux", "")), "x", "en")
	var b strings.Builder
	for _, s := range v.Stored {
		for _, f := range s.Fields {
			mark := ""
			if f.Personal != "" {
				mark = "  * " + f.Personal
			}
			b.WriteString(s.What + " :: " + f.Path + mark + "\n")
		}
	}
	golden := filepath.Join("testdata", "privacy-fields.txt")
	if *updatePrivacy {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestPrivacyFieldsReviewed -update-privacy)", err)
	}
	if b.String() != string(want) {
		t.Errorf("the stored fields changed; classify new fields in personalFields and run with -update-privacy.\ngot:\n%s", b.String())
	}
	// Every classification names a field that exists.
	seen := map[string]bool{}
	for _, typ := range []reflect.Type{reflect.TypeFor[status.Report](), reflect.TypeFor[compliance.LogEntry](), reflect.TypeFor[compliance.Attestation](),
		reflect.TypeFor[compliance.Exemption](), reflect.TypeFor[firstFailure]()} {
		collectKeys(typ, seen, map[reflect.Type]bool{})
	}
	for k := range personalFields {
		if !seen[k] && !strings.HasPrefix(k, "drift.") && !strings.HasPrefix(k, "outbox.") {
			t.Errorf("personalFields names %s, which no stored type has", k)
		}
	}
}

func collectKeys(t reflect.Type, seen map[string]bool, visited map[reflect.Type]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || visited[t] {
		return
	}
	visited[t] = true
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			seen[typeKey(t)+"."+name] = true
		}
		collectKeys(f.Type, seen, visited)
	}
}

// TestRenderDue renders a report with a finding in its grace period: the
// verdict says "in grace period", the finding is listed under DUE with the
// days left, and it turns into a failure once its deadline has passed.
func TestRenderDue(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	r := &status.Report{Device: policy.Device{ID: "d", Platform: "linux"}, ScannedAt: now, Findings: []status.Finding{
		{Finding: policy.Finding{Rule: "disk-encryption", Subject: "/home", Status: policy.StatusFail, Severity: policy.SeverityHigh,
			Message: "/home is not encrypted. Geht ein Gerät verloren, z. B. im Zug, ist alles lesbar.", Remediation: "Encrypt it. Then reboot.",
			EvaluatedAt: now, Deadline: now.Add(5 * policy.Day), Stage: policy.StageEscalate}},
		{Finding: policy.Finding{Rule: "messenger.signal", Subject: "signal", Status: policy.StatusPass, EvaluatedAt: now}},
	}}
	var b bytes.Buffer
	writeHuman(&b, r, renderOptions{lang: "en", now: now, width: lineWidth})
	for _, want := range []string{"IN GRACE PERIOD: 1 due in 5 days, 1 passed", "\nDUE\n", "disk-encryption · /home — due in 5 days (2026-03-07)",
		"/home is not encrypted.\n", "fix: Encrypt it.\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	writeHuman(&b, r, renderOptions{lang: "de", now: now.Add(6 * policy.Day), width: lineWidth})
	for _, want := range []string{"NICHT KONFORM: 1 nicht erfüllt (1 hoch), 1 erfüllt", "NICHT ERFÜLLT HOCH", "Frist seit 07.03.2026 abgelaufen [eskaliert]"} {
		if !strings.Contains(strings.Join(strings.Fields(b.String()), " "), want) {
			t.Errorf("overdue report lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	writeHuman(&b, r, renderOptions{lang: "de", now: now, width: lineWidth, color: true})
	if !strings.Contains(b.String(), ansiYellow) {
		t.Errorf("coloured report has no colour:\n%q", b.String())
	}
}

func TestFirstSentence(t *testing.T) {
	tests := []struct{ in, want string }{
		{"One. Two.", "One."},
		{"Ein Gerät, z. B. ein Laptop, ist weg. Danach mehr.", "Ein Gerät, z. B. ein Laptop, ist weg."},
		{"Use it, e.g. Signal. Then more.", "Use it, e.g. Signal."},
		{"It is not allowed. Consumer WhatsApp uploads.", "It is not allowed."},
		{"Version 5.4 is old. Update.", "Version 5.4 is old."},
		{"Point (checklist point 2). Next.", "Point (checklist point 2)."},
		{"no full stop", "no full stop"},
		{"ends with a stop.", "ends with a stop."},
	}
	for _, tt := range tests {
		if got := firstSentence(tt.in); got != tt.want {
			t.Errorf("firstSentence(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestWrap(t *testing.T) {
	s := strings.Repeat("word ", 40)
	for _, line := range strings.Split(strings.TrimRight(wrap(s, 12, 80), "\n"), "\n") {
		if n := utf8.RuneCountInString(line); n > 80 || !strings.HasPrefix(line, strings.Repeat(" ", 12)) {
			t.Errorf("wrapped line %q (%d columns)", line, n)
		}
	}
	if got := visibleLen(ansiBold + "fix:" + ansiReset); got != 4 {
		t.Errorf("visibleLen ignores escapes: %d", got)
	}
}

func TestColorOnlyOnTerminal(t *testing.T) {
	e, _, _ := testEnv(t)
	if colorFor(e) {
		t.Error("colour into a buffer")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e.stdout = f
	if colorFor(e) {
		t.Error("colour into a regular file")
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		e.stdout = tty
		if !colorFor(e) {
			t.Error("no colour on a terminal")
		}
		vars := map[string]string{"NO_COLOR": "1"}
		e.getenv = func(k string) string { return vars[k] }
		if colorFor(e) {
			t.Error("colour despite NO_COLOR")
		}
	}
}

// TestPolicyCheckDates: `agent policy check` reports exemptions that have
// expired or reach beyond max_exemption, with their line.
func TestPolicyCheckDates(t *testing.T) {
	p := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(p, []byte(`name: x
exemptions:
  - rule: messenger.skype
    reason: supplier
    approver: Jane Roe
    approved: 2026-01-01
    expires: 2026-02-01
`), 0o644)
	for _, tt := range []struct {
		now  time.Time
		code int
		want string
	}{
		{time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC), 0, "ok"},
		{time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), exitUsage, "p.yaml:3:5: exemptions[0].expires: expired on 2026-02-02T00:00:00Z"},
	} {
		c := &testClock{t: tt.now}
		e, out, errb := adminEnv(t, c)
		if code := runCLI(t, e, "policy", "check", p); code != tt.code || !strings.Contains(out.String()+errb.String(), tt.want) {
			t.Errorf("policy check at %v: exit %d, %q %q; want %d and %q", tt.now, code, out, errb, tt.code, tt.want)
		}
	}
}

// TestRecordWhileServiceHoldsDB: while another process (the service) holds
// the database, attest and exempt say so instead of hanging or half
// recording.
func TestRecordWhileServiceHoldsDB(t *testing.T) {
	c := &testClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	db := filepath.Join(t.TempDir(), "state.db")
	e, _, _ := adminEnv(t, c)
	runCLI(t, e, "scan", "--root", fixtureRoot, "--db", db)
	held, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	e, _, errb := adminEnv(t, c)
	if code := runCLI(t, e, "attest", "telegram.secret-chats-only", "--by", "x", "--db", db); code != exitUsage ||
		!strings.Contains(errb.String(), "the msgguard service is running and holds the database; stop it ('agent stop'), record, then start it again ('agent start')") {
		t.Errorf("attest on a held database: exit %d, %q", code, errb)
	}
}

// TestUntilOneMeaning: `--until 2026-06-30` means valid through 30 June in
// the text and in the JSON alike: the JSON carries the last instant of that
// day (2026-06-30T23:59:59.999999999Z), not the following midnight.
func TestUntilOneMeaning(t *testing.T) {
	c := &testClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	db := filepath.Join(t.TempDir(), "state.db")
	e, _, errb := adminEnv(t, c)
	if code := runCLI(t, e, "scan", "--root", fixtureRoot, "--db", db); code != exitNotCompliant && code != exitCompliant {
		t.Fatalf("scan exit %d: %s", code, errb)
	}
	e, out, errb := adminEnv(t, c)
	if code := runCLI(t, e, "attest", "telegram.secret-chats-only", "--by", "Erika Mustermann", "--until", "2026-06-30", "--db", db); code != 0 {
		t.Fatalf("attest exit %d: %s", code, errb)
	}
	if !strings.Contains(out.String(), "valid until 2026-06-30") {
		t.Errorf("attest output = %q; want valid until 2026-06-30", out)
	}
	e, out, errb = adminEnv(t, c)
	if code := runCLI(t, e, "exempt", "messenger.whatsapp", "--reason", "r", "--approver", "a", "--until", "2026-06-30", "--db", db); code != 0 {
		t.Fatalf("exempt exit %d: %s", code, errb)
	}
	if !strings.Contains(out.String(), "until 2026-06-30") {
		t.Errorf("exempt output = %q; want until 2026-06-30", out)
	}
	for _, verb := range []string{"attest", "exempt"} {
		e, out, _ := adminEnv(t, c)
		runCLI(t, e, verb, "--list", "--db", db)
		if !strings.Contains(out.String(), "until 2026-06-30") {
			t.Errorf("%s --list = %q; want until 2026-06-30", verb, out)
		}
		e, out, _ = adminEnv(t, c)
		runCLI(t, e, verb, "--list", "--json", "--db", db)
		var l struct {
			Attestations []struct{ Until time.Time } `json:"attestations"`
			Exemptions   []struct{ Until time.Time } `json:"exemptions"`
		}
		if err := json.Unmarshal(out.Bytes(), &l); err != nil {
			t.Fatalf("%s --list --json: %v\n%s", verb, err, out)
		}
		untils := append(l.Attestations, l.Exemptions...)
		if len(untils) != 1 || untils[0].Until.Format(time.DateOnly) != "2026-06-30" ||
			!untils[0].Until.Equal(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC).Add(-time.Nanosecond)) {
			t.Errorf("%s --list --json until = %v; want the last instant of 2026-06-30\n%s", verb, untils, out)
		}
	}
}
