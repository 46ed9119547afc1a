package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"

	"github.com/msgguard/msgguard/agent/report/outbox"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/agent/store"
	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/platformtest"
	"github.com/msgguard/msgguard/policy"
)

// testEnv is an env with captured output, a non-root user and a fixed
// environment.
func testEnv(t *testing.T) (*Env, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var out, errb bytes.Buffer
	vars := map[string]string{"HOME": t.TempDir(), "LANG": "C"}
	return &Env{
		stdout: &out, stderr: &errb,
		getenv: func(k string) string { return vars[k] },
		euid:   1000, goos: "linux",
		log: zerolog.New(zerolog.NewTestWriter(t)),
	}, &out, &errb
}

func runCLI(t *testing.T, e *Env, args ...string) int {
	t.Helper()
	return Run(context.Background(), args, e)
}

const fixtureRoot = "../../platform/linux/testdata/debian-desktop"

func TestScanFixtureRootThenStatus(t *testing.T) {
	e, out, errb := testEnv(t)
	db := filepath.Join(t.TempDir(), "state.db")
	code := runCLI(t, e, "scan", "--root", fixtureRoot, "--db", db, "--json")
	if code != exitNotCompliant {
		t.Fatalf("scan exit = %d; want %d (stderr: %s)", code, exitNotCompliant, errb)
	}
	var r status.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("scan --json output: %v", err)
	}
	if r.Compliant || r.Policy.SHA256 == "" || r.ScannedAt.IsZero() || r.Inventory == nil {
		t.Fatalf("report = compliant %v policy %+v scanned %v", r.Compliant, r.Policy, r.ScannedAt)
	}
	found := map[string]bool{}
	for _, m := range r.Inventory.Messengers {
		found[m.ID] = true
	}
	for _, id := range []string{"signal", "telegram", "whatsapp", "slack", "teams"} {
		if !found[id] {
			t.Errorf("fixture messenger %s not found; inventory has %v", id, found)
		}
	}
	failing := map[string]bool{}
	for _, f := range r.Findings {
		if f.Status == policy.StatusFail {
			failing[f.Rule] = true
		}
	}
	if !failing["messenger.whatsapp"] {
		t.Errorf("failing rules = %v; want messenger.whatsapp among them", failing)
	}

	// status reads the same scan back from the database.
	e2, out2, errb2 := testEnv(t)
	if code := runCLI(t, e2, "status", "--db", db); code != exitNotCompliant {
		t.Fatalf("status exit = %d; want %d (stderr: %s)", code, exitNotCompliant, errb2)
	}
	text := out2.String()
	for _, want := range []string{"service not running", "NOT COMPLIANT", "messenger.whatsapp", "fix:"} {
		if !strings.Contains(text, want) {
			t.Errorf("status output lacks %q:\n%s", want, text)
		}
	}
}

func TestStatusWithoutScan(t *testing.T) {
	e, _, errb := testEnv(t)
	if code := runCLI(t, e, "status", "--db", filepath.Join(t.TempDir(), "none.db")); code != exitNoScan {
		t.Fatalf("status exit = %d; want %d", code, exitNoScan)
	}
	if !strings.Contains(errb.String(), "no scan recorded yet") {
		t.Errorf("stderr = %q", errb)
	}
}

func TestDefaultDBForNonRoot(t *testing.T) {
	e, _, _ := testEnv(t)
	if got := e.defaultDB(); !strings.HasSuffix(got, "/.local/state/msgguard/state.db") {
		t.Errorf("defaultDB() = %s", got)
	}
	e.euid = 0
	if got := e.defaultDB(); got != "/var/lib/msgguard/state.db" {
		t.Errorf("defaultDB() as root = %s", got)
	}
}

func TestPolicyCheck(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, body string
		code       int
		want       string
	}{
		{"good.yaml", string(policy.DefaultYAML()), 0, "ok"},
		{"syntax.yaml", "version: 1\nname: x\nmessengers:\n  whatsapp: [\n", exitUsage, "syntax.yaml:"},
		{"unknown-key.yaml", "version: 1\nname: x\ncolour: red\n", exitUsage, "syntax.yaml"},
		{"unknown-id.yaml", "version: 1\nname: x\nmessengers:\n  whatsap:\n    decision: deny\n", exitUsage, "unknown-id.yaml:4"},
	}
	cases[2].want = "unknown-key.yaml:3"
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name)
			os.WriteFile(p, []byte(c.body), 0o644)
			e, out, errb := testEnv(t)
			if code := runCLI(t, e, "policy", "check", p); code != c.code {
				t.Fatalf("exit = %d; want %d (stderr %s)", code, c.code, errb)
			}
			if got := out.String() + errb.String(); !strings.Contains(got, c.want) {
				t.Errorf("output %q lacks %q", got, c.want)
			}
		})
	}
}

func TestScanRejectsBadPolicy(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(p, []byte("version: 1\nname: x\nmessengers:\n  whatsapp:\n    decision: maybe\n"), 0o644)
	e, _, errb := testEnv(t)
	if code := runCLI(t, e, "scan", "--root", fixtureRoot, "--no-store", "--policy", p); code != exitUsage {
		t.Fatalf("exit = %d; want %d", code, exitUsage)
	}
	if !strings.Contains(errb.String(), "bad.yaml:5") {
		t.Errorf("stderr %q does not name bad.yaml:5", errb)
	}
}

func TestPolicyDefaultRoundTrips(t *testing.T) {
	e, out, _ := testEnv(t)
	if code := runCLI(t, e, "policy", "default"); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if _, err := policy.Load("default", out.Bytes()); err != nil {
		t.Errorf("policy default output does not load: %v", err)
	}
}

// phoneRunner serves a recorded phone (platform/android/testdata/*.txtar:
// "-- ARGS --" sections with the output of `adb -s SERIAL shell ARGS`).
func phoneRunner(t *testing.T, fixture string) (*platformtest.FakeRunner, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../platform/android/testdata", fixture))
	if err != nil {
		t.Fatal(err)
	}
	r := platformtest.NewFakeRunner()
	serial, cmd := "", ""
	var body strings.Builder
	flush := func() {
		if cmd != "" {
			r.Set("adb -s "+serial+" shell "+cmd, body.String())
		}
		body.Reset()
	}
	for _, line := range strings.SplitAfter(string(b), "\n") {
		trim := strings.TrimRight(line, "\n")
		if strings.HasPrefix(trim, "-- ") && strings.HasSuffix(trim, " --") {
			flush()
			cmd = trim[3 : len(trim)-3]
			continue
		}
		if cmd == "" {
			if v, ok := strings.CutPrefix(trim, "serial: "); ok {
				serial = v
			}
			continue
		}
		body.WriteString(line)
	}
	flush()
	r.Set("adb devices -l", "List of devices attached\n"+serial+"         device usb:1-4 product:panther model:Pixel_7 device:panther transport_id:3\nR5CW20ABCDE            unauthorized usb:1-3 transport_id:5\n\n")
	r.SetErr("idevice_id -l", "", platform.ErrCommandNotFound)
	r.SetErr("idevicepair list", "", platform.ErrCommandNotFound)
	return r, serial
}

func TestPhonesListAndScan(t *testing.T) {
	run, serial := phoneRunner(t, "pixel7-a14-workprofile-nopin.txtar")
	e, out, errb := testEnv(t)
	e.phoneRun = run
	if code := runCLI(t, e, "phones"); code != 0 {
		t.Fatalf("phones exit %d: %s", code, errb)
	}
	for _, want := range []string{serial, "Pixel_7", "R5CW20ABCDE", "unauthorized", "accept the USB debugging prompt"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("phones output lacks %q:\n%s", want, out)
		}
	}

	db := filepath.Join(t.TempDir(), "state.db")
	e, out, errb = testEnv(t)
	e.phoneRun = run
	if code := runCLI(t, e, "scan", "--phone", serial, "--db", db, "--json"); code != exitNotCompliant {
		t.Fatalf("scan --phone exit %d; stderr %s", code, errb)
	}
	var r status.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Device.Kind != "phone" || r.Device.ID == serial || strings.Contains(out.String(), serial) {
		t.Errorf("phone stored as %+v; want kind phone with a hashed id and no clear serial in the report", r.Device)
	}
	got := map[string]policy.Status{}
	for _, f := range r.Findings {
		if f.Status == policy.StatusFail {
			got[f.Rule] = f.Status
		}
	}
	for _, rule := range []string{"separation.whatsapp", "contacts.whatsapp", "screen-lock", "messenger.whatsapp"} {
		if _, ok := got[rule]; !ok {
			t.Errorf("failing rules %v lack %s", got, rule)
		}
	}

	// The computer's status lists the phone as a device of its own.
	e, _, _ = testEnv(t)
	if code := runCLI(t, e, "scan", "--root", fixtureRoot, "--db", db); code != exitNotCompliant {
		t.Fatalf("computer scan exit %d", code)
	}
	e, out, errb = testEnv(t)
	runCLI(t, e, "status", "--db", db, "--json")
	var st status.Report
	if err := json.Unmarshal(out.Bytes(), &st); err != nil {
		t.Fatalf("status json: %v (%s)", err, errb)
	}
	if st.Device.Kind != "computer" || len(st.Phones) != 1 || st.Phones[0].Device.ID != r.Device.ID {
		t.Errorf("status = device %+v with %d phones; want the computer with the phone attached", st.Device, len(st.Phones))
	}
}

// failing returns the failing findings as "rule [user]" strings.
func failing(r *status.Report) map[string]bool {
	out := map[string]bool{}
	for _, f := range r.Findings {
		if f.Status == policy.StatusFail {
			out[f.Rule+" ["+f.User+"]"] = true
		}
	}
	return out
}

func scanJSON(t *testing.T, args ...string) *status.Report {
	t.Helper()
	e, out, errb := testEnv(t)
	code := runCLI(t, e, append([]string{"scan", "--no-store", "--json"}, args...)...)
	if code != exitNotCompliant && code != exitCompliant {
		t.Fatalf("scan %v exit %d: %s", args, code, errb)
	}
	var r status.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("scan json: %v", err)
	}
	return &r
}

// TestScanMacFixture is the macOS acceptance scenario through the CLI: the fixture Mac
// (alice with consumer WhatsApp and Telegram and her screen lock off, bob
// clean, MDM-enrolled, FileVault on) scanned on Linux.
func TestScanMacFixture(t *testing.T) {
	r := scanJSON(t, "--platform", "darwin", "--root", "../../platform/darwin/testdata/mac",
		"--commands", "../../platform/darwin/testdata/mac-commands")
	// alice's Telegram brings the two Telegram attestations,
	// failing until someone confirms them; her Chrome profile holds a
	// Messenger web session (browser inspection is on by default).
	want := map[string]bool{"messenger.whatsapp []": true, "messenger.whatsapp [alice]": true, "screen-lock [alice]": true,
		"messenger.facebook-messenger [alice]":      true,
		"attestation.telegram.secret-chats-only []": true, "attestation.telegram.contact-sync-off []": true}
	if got := failing(r); !equalSets(got, want) {
		t.Errorf("failing = %v; want %v", got, want)
	}
	if r.Device.Platform != "darwin" {
		t.Errorf("platform = %s", r.Device.Platform)
	}
}

// TestScanWindowsFixture scans the recorded Intune-managed office laptop.
func TestScanWindowsFixture(t *testing.T) {
	cmds := t.TempDir()
	b, err := os.ReadFile("../../platform/windows/testdata/office/bitlocker.json")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(cmds, "powershell.txt"), b, 0o644)
	r := scanJSON(t, "--platform", "windows", "--root", "../../platform/windows/testdata/office/root",
		"--registry", "../../platform/windows/testdata/office", "--commands", cmds)
	want := map[string]bool{"messenger.whatsapp [alice]": true, "screen-lock [bob]": true,
		"messenger.teams-personal [bob]": true, "disk-encryption []": true,
		"attestation.telegram.secret-chats-only []": true, "attestation.telegram.contact-sync-off []": true}
	if got := failing(r); !equalSets(got, want) {
		t.Errorf("failing = %v; want %v", got, want)
	}
}

// couldNotCheck reports whether r is the "could not check" verdict: not
// compliant, with the failing scan.could-not-check finding.
func couldNotCheck(r *status.Report) bool {
	return !r.Compliant && failing(r)[policy.RuleCouldNotCheck+" []"]
}

// TestScanMacNothingReadable: a Mac whose accounts and /Applications
// cannot be read is "could not check", never compliant.
func TestScanMacNothingReadable(t *testing.T) {
	r := scanJSON(t, "--platform", "darwin", "--root", t.TempDir(), "--commands", t.TempDir())
	if !couldNotCheck(r) {
		t.Errorf("compliant = %v, failing = %v; want could not check", r.Compliant, failing(r))
	}
}

// TestScanWindowsNothingReadable: a Windows registry with neither HKLM's
// Uninstall key nor ProfileList (only the MachineGuid that names the
// device) is "could not check", never compliant.
func TestScanWindowsNothingReadable(t *testing.T) {
	reg := t.TempDir()
	hklm := "Windows Registry Editor Version 5.00\r\n\r\n" +
		"[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography]\r\n" +
		"\"MachineGuid\"=\"00000000-1111-2222-3333-444444444444\"\r\n"
	if err := os.WriteFile(filepath.Join(reg, "hklm.reg"), []byte(hklm), 0o644); err != nil {
		t.Fatal(err)
	}
	r := scanJSON(t, "--platform", "windows", "--root", t.TempDir(), "--registry", reg, "--commands", t.TempDir())
	if !couldNotCheck(r) {
		t.Errorf("compliant = %v, failing = %v; want could not check", r.Compliant, failing(r))
	}
}

// The complete fixtures leave no core source unread.
func TestScanFixturesNotCouldNotCheck(t *testing.T) {
	r := scanJSON(t, "--platform", "darwin", "--root", "../../platform/darwin/testdata/mac",
		"--commands", "../../platform/darwin/testdata/mac-commands")
	if failing(r)[policy.RuleCouldNotCheck+" []"] {
		t.Errorf("fixture Mac: could not check")
	}
	r = scanJSON(t, "--platform", "windows", "--root", "../../platform/windows/testdata/office/root",
		"--registry", "../../platform/windows/testdata/office", "--commands", t.TempDir())
	if failing(r)[policy.RuleCouldNotCheck+" []"] {
		t.Errorf("fixture Windows: could not check")
	}
}

func equalSets(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// scannedWithQueuedEvent returns a database with a fixture scan and one
// event queued for a sink "siem", written while no service runs.
func scannedWithQueuedEvent(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "state.db")
	e, _, errb := testEnv(t)
	if code := runCLI(t, e, "scan", "--root", fixtureRoot, "--db", db); code != exitNotCompliant {
		t.Fatalf("scan exit %d: %s", code, errb)
	}
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := outbox.Register(st.DB(), []outbox.Spec{{Name: "siem"}}); err != nil {
		t.Fatal(err)
	}
	err = st.DB().Update(func(tx *bolt.Tx) error {
		return outbox.Enqueue(tx, outbox.Entry{ID: "e1", Severity: policy.SeverityHigh, Body: json.RawMessage(`{}`)}, time.Now())
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestStatusShowsQueuedSinkEvents: with the service stopped, status still
// says how many events wait for each sink.
func TestStatusShowsQueuedSinkEvents(t *testing.T) {
	db := scannedWithQueuedEvent(t)
	e, out, _ := testEnv(t)
	runCLI(t, e, "status", "--db", db)
	if !strings.Contains(out.String(), "sink siem: queue 1") || !strings.Contains(out.String(), "service:  not running") {
		t.Errorf("status output lacks the sink queue:\n%s", out)
	}
}

// TestStatusFromDatabaseHealthDegradedBySink: with the service stopped,
// status applies the service's health rule to the database: a sink with
// events queued behind a failed delivery makes health degraded (not ok),
// a queue without an error does not.
func TestStatusFromDatabaseHealthDegradedBySink(t *testing.T) {
	db := scannedWithQueuedEvent(t)
	health := func() status.Health {
		t.Helper()
		e, out, _ := testEnv(t)
		e.euid = 0
		runCLI(t, e, "status", "--db", db, "--json")
		var r status.Report
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatalf("status --json: %v\n%s", err, out)
		}
		if r.Service == nil {
			t.Fatalf("status --json has no service health:\n%s", out)
		}
		return r.Service.Health
	}
	if h := health(); !h.OK || h.State != status.HealthOK || len(h.Problems) != 0 {
		t.Errorf("queue without a failed delivery: health %+v; want ok", h)
	}
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = st.DB().Update(func(tx *bolt.Tx) error {
		return outbox.Fail(tx, "siem", "POST https://collector.example/hook: 503", time.Now())
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	h := health()
	if h.OK || h.State != status.HealthDegraded || h.ProblemCount != 1 || len(h.Sinks) != 1 || !h.Sinks[0].Failing ||
		!strings.Contains(strings.Join(h.Problems, "\n"), "sink siem: 1 events queued after failed deliveries") {
		t.Errorf("queue behind a failed delivery: health %+v; want degraded with the sink's problem", h)
	}
}

// TestSignalVerbs pins which verbs listen for SIGINT and SIGTERM: every
// verb that writes (the database, the service, an installation) must, so
// that an interrupt closes the database or rolls an install back; the read
// verbs must not, since listening costs each start a thread.
func TestSignalVerbs(t *testing.T) {
	want := map[string]bool{"scan": true, "attest": true, "exempt": true, "baseline": true, "phones": true,
		"run": true, "install": true, "uninstall": true, "start": true, "stop": true, "restart": true}
	for _, v := range verbs() {
		if v.signals != want[v.name] {
			t.Errorf("verb %s: signals = %v, want %v", v.name, v.signals, want[v.name])
		}
		delete(want, v.name)
	}
	for name := range want {
		t.Errorf("verb %s is gone from the table", name)
	}
}
