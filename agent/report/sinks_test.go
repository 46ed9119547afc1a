package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/msgguard/msgguard/agent/config"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/policy"
)

func msgs(t testing.TB, n int, prefix string) []Message {
	var out []Message
	for i := range n {
		e := drift.Event{SchemaVersion: 1, ID: fmt.Sprintf("%s%04d", prefix, i), Kind: drift.KindVersionChanged, Severity: policy.SeverityLow,
			Message: strings.Repeat("x", 60)}
		out = append(out, message(t, e))
	}
	return out
}

func TestJSONLRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log", "events.jsonl")
	j := NewJSONL("file", path, 1000, 2)
	defer j.Close()
	for i := range 12 {
		if n, err := j.Deliver(context.Background(), msgs(t, 2, fmt.Sprintf("b%02d-", i))); n != 2 || err != nil {
			t.Fatalf("Deliver batch %d = %d, %v", i, n, err)
		}
	}
	for _, name := range []string{"events.jsonl", "events.jsonl.1", "events.jsonl.2"} {
		fi, err := os.Stat(filepath.Join(dir, "log", name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if fi.Size() > 1000 {
			t.Errorf("%s is %d bytes; limit 1000", name, fi.Size())
		}
		if fi.Mode().Perm() != 0o640 {
			t.Errorf("%s mode %v; want 0640", name, fi.Mode().Perm())
		}
		for _, l := range readLines(t, filepath.Join(dir, "log", name)) {
			var e drift.Event
			if err := json.Unmarshal([]byte(l), &e); err != nil || e.ID == "" {
				t.Errorf("%s: bad line %q", name, l)
			}
		}
	}
	if _, err := os.Stat(path + ".3"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("events.jsonl.3 exists; max_files is 2")
	}
	last := readLines(t, path)
	if !strings.Contains(last[len(last)-1], `"b11-0001"`) {
		t.Errorf("newest event not in the current file: %v", last)
	}
	// An external rotation (logrotate moved the file away) is noticed.
	if err := os.Rename(path, path+".moved"); err != nil {
		t.Fatal(err)
	}
	if n, err := j.Deliver(context.Background(), msgs(t, 1, "after-move-")); n != 1 || err != nil {
		t.Fatal(err)
	}
	if l := readLines(t, path); len(l) != 1 || !strings.Contains(l[0], "after-move-") {
		t.Errorf("after external rotation the file holds %v", l)
	}
}

func TestJSONLRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "passwd")
	os.WriteFile(target, []byte("root:x:0:0\n"), 0o644)
	path := filepath.Join(dir, "events.jsonl")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	j := NewJSONL("file", path, 1<<20, 1)
	if n, err := j.Deliver(context.Background(), msgs(t, 1, "e")); n != 0 || err == nil {
		t.Errorf("Deliver through a symlink = %d, %v; want refusal", n, err)
	}
	if b, _ := os.ReadFile(target); string(b) != "root:x:0:0\n" {
		t.Errorf("symlink target was written: %q", b)
	}
}

// A full disk: writes fail with ENOSPC. The batch is not counted as
// delivered and no half line is left behind.
func TestJSONLDiskFull(t *testing.T) {
	t.Run("failing writer", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "events.jsonl")
		j := NewJSONL("file", path, 1<<20, 1)
		room := 700 // bytes left on the "disk"
		j.openFile = func(name string, flag int, perm fs.FileMode) (outFile, error) {
			f, err := os.OpenFile(name, flag, perm)
			return &fullDisk{File: f, room: &room}, err
		}
		if n, err := j.Deliver(context.Background(), msgs(t, 3, "a")); n != 3 || err != nil {
			t.Fatalf("first batch = %d, %v", n, err)
		}
		before, _ := os.ReadFile(path)
		n, err := j.Deliver(context.Background(), msgs(t, 5, "b"))
		if n != 0 || !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("Deliver on a full disk = %d, %v; want 0 and ENOSPC", n, err)
		}
		if after, _ := os.ReadFile(path); string(after) != string(before) {
			t.Errorf("partial batch left in the file:\n%s", after[len(before):])
		}
		room = 1 << 20
		if n, err := j.Deliver(context.Background(), msgs(t, 5, "b")); n != 5 || err != nil {
			t.Errorf("Deliver after space came back = %d, %v", n, err)
		}
		if l := readLines(t, path); len(l) != 8 {
			t.Errorf("file has %d lines; want 3 + 5", len(l))
		}
	})
	t.Run("tmpfs of 64 KiB", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("mounting a tmpfs needs root")
		}
		dir := t.TempDir()
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir).CombinedOutput(); err != nil {
			t.Skipf("cannot mount tmpfs: %v %s", err, out)
		}
		t.Cleanup(func() { exec.Command("umount", dir).Run() })
		path := filepath.Join(dir, "events.jsonl")
		j := NewJSONL("file", path, 1<<30, 0)
		defer j.Close()
		delivered := 0
		var err error
		for i := 0; i < 1000 && err == nil; i++ {
			var n int
			n, err = j.Deliver(context.Background(), msgs(t, 10, fmt.Sprintf("b%03d-", i)))
			delivered += n
		}
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("filling 64 KiB ended with %v; want ENOSPC", err)
		}
		lines := readLines(t, path)
		if len(lines) != delivered {
			t.Errorf("file holds %d lines; %d reported delivered", len(lines), delivered)
		}
		for _, l := range lines {
			var e drift.Event
			if json.Unmarshal([]byte(l), &e) != nil {
				t.Fatalf("half-written line left behind: %q", l)
			}
		}
		// Space comes back (the shipper's old files were cleaned up):
		// delivery resumes.
		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
		if n, err := j.Deliver(context.Background(), msgs(t, 2, "later-")); n != 2 || err != nil {
			t.Errorf("Deliver after freeing space = %d, %v", n, err)
		}
	})
}

// fullDisk writes until room runs out, then writes what fits and fails
// with ENOSPC, like write(2) on a full filesystem.
type fullDisk struct {
	*os.File
	room *int
}

func (f *fullDisk) Write(p []byte) (int, error) {
	if len(p) <= *f.room {
		*f.room -= len(p)
		return f.File.Write(p)
	}
	n, _ := f.File.Write(p[:*f.room])
	*f.room = 0
	return n, &fs.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
}

func testReport() *status.Report {
	fs := []status.Finding{
		{Finding: policy.Finding{Rule: "messenger.private-denied", Subject: "whatsapp", Status: policy.StatusFail, Severity: policy.SeverityHigh}},
		{Finding: policy.Finding{Rule: "disk-encryption", Subject: "/", Status: policy.StatusPass, Severity: policy.SeverityCritical}},
		{Finding: policy.Finding{Rule: "screen-lock", User: "alice", Status: policy.StatusUnknown, Severity: policy.SeverityHigh}},
	}
	r := &status.Report{SchemaVersion: 1, ScannedAt: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC),
		Device:   policy.Device{ID: "3b2f9c0e", Kind: "computer", Platform: "linux", Hostname: `laptop "7"`},
		Policy:   status.PolicyRef{Name: "default", SHA256: "abc"},
		Findings: fs, Summary: status.Summarize(fs)}
	return r
}

func TestPrometheusText(t *testing.T) {
	s := State{Reports: []*status.Report{testReport()}, Sinks: []status.SinkHealth{
		{Name: "hq", QueueDepth: 3, LastSuccess: time.Unix(1740819600, 500e6), LastError: "POST https://c/: collector answered 503"},
		{Name: "file"},
		{Name: "(not started)", LastError: "c.yaml:3:5: webhook sink not started"},
	}}
	got := string(PrometheusText(s))
	for _, want := range []string{
		"# TYPE msgguard_compliant gauge\nmsgguard_compliant{device=\"3b2f9c0e\"} 0\n",
		`msgguard_device_info{device="3b2f9c0e",hostname="laptop \"7\"",kind="computer",platform="linux",policy="default",policy_sha256="abc"} 1`,
		`msgguard_findings{device="3b2f9c0e",status="fail"} 1`,
		`msgguard_findings{device="3b2f9c0e",status="unknown"} 1`,
		`msgguard_findings{device="3b2f9c0e",status="exempt"} 0`,
		`msgguard_failing_findings{device="3b2f9c0e",severity="high"} 1`,
		`msgguard_failing_findings{device="3b2f9c0e",severity="critical"} 0`,
		`msgguard_denied_messengers{device="3b2f9c0e"} 1`,
		`msgguard_last_scan_timestamp_seconds{device="3b2f9c0e"} 1740819600`,
		`msgguard_outbox_depth{sink="hq"} 3`,
		`msgguard_sink_last_success_timestamp_seconds{sink="hq"} 1740819600.5`,
		`msgguard_sink_last_success_timestamp_seconds{sink="file"} 0`,
		`msgguard_sink_errors{sink="hq"} 1`,
		`msgguard_sink_errors{sink="not_started_2"} 1`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("textfile lacks %q\n%s", want, got)
		}
	}
	// Every sample line has a preceding TYPE for its metric name.
	typed := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(got), "\n") {
		if name, ok := strings.CutPrefix(l, "# TYPE "); ok {
			typed[strings.Fields(name)[0]] = true
			continue
		}
		if strings.HasPrefix(l, "#") {
			continue
		}
		name, _, _ := strings.Cut(l, "{")
		if !typed[name] {
			t.Errorf("sample without TYPE: %q", l)
		}
	}
}

func TestCheckmkLocal(t *testing.T) {
	ok := testReport()
	ok.Findings = ok.Findings[1:2]
	phone := testReport()
	phone.Device = policy.Device{ID: "p1", Kind: "phone", Label: "Anna's Pixel"}
	s := State{Reports: []*status.Report{testReport(), phone, ok}, Sinks: []status.SinkHealth{{Name: "hq", QueueDepth: 4, LastError: "POST https://c/: collector answered 503\nmore"}}}
	got := string(CheckmkLocal(s))
	want := "<<<local:sep(0)>>>\n" +
		"2 msgguard_compliance failing=1;;1;0|unknown=1;;;0|failing_critical=0;;1;0 not compliant: 1 failing finding(s) (0 critical, 1 high): messenger.private-denied (whatsapp); scanned 2025-03-01 09:00 UTC\n" +
		"2 msgguard_compliance_phone_Anna_s_Pixel failing=1;;1;0|unknown=1;;;0|failing_critical=0;;1;0 not compliant: 1 failing finding(s) (0 critical, 1 high): messenger.private-denied (whatsapp); scanned 2025-03-01 09:00 UTC\n" +
		"0 msgguard_compliance_computer_3b2f9c0e failing=0;;1;0|unknown=0;;;0|failing_critical=0;;1;0 compliant; scanned 2025-03-01 09:00 UTC\n" +
		"1 msgguard_reporting outbox=4;100;1000;0 4 event(s) queued; hq: POST https://c/: collector answered 503 more\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Checkmk output mismatch (-want +got):\n%s", diff)
	}
}

func TestStateSinksWrittenAtomically(t *testing.T) {
	dir := t.TempDir()
	st := openTestStore(t, filepath.Join(dir, "state.db"))
	defer st.Close()
	r := testReport()
	if _, err := st.Record(r); err != nil {
		t.Fatal(err)
	}
	prom, cmk := filepath.Join(dir, "msgguard.prom"), filepath.Join(dir, "7200_msgguard")
	sinks := Build([]config.Sink{
		{Name: "prometheus", Type: config.SinkPrometheus, Path: prom},
		{Name: "checkmk", Type: config.SinkCheckmk, Path: cmk},
		{Name: "file", Type: config.SinkJSONL, Path: filepath.Join(dir, "e.jsonl"), MaxSizeMB: 1},
	}, BuildOptions{})
	run := start(t, st, sinks, zerolog.Nop())
	run.d.Kick()
	waitFor(t, "state files", func() bool {
		_, e1 := os.Stat(prom)
		_, e2 := os.Stat(cmk)
		return e1 == nil && e2 == nil
	})
	run.stop()
	b, _ := os.ReadFile(prom)
	if !strings.Contains(string(b), `msgguard_outbox_depth{sink="file"} 0`) {
		t.Errorf("textfile:\n%s", b)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
	hs := run.d.Health()
	names := map[string]bool{}
	for _, h := range hs {
		names[h.Name] = true
		if h.LastError != "" {
			t.Errorf("sink %s error %q", h.Name, h.LastError)
		}
	}
	if !names["prometheus"] || !names["checkmk"] || !names["file"] {
		t.Errorf("Health = %+v", hs)
	}
}

// A malformed sink is a clear error naming file:line, and the other sinks
// are built anyway.
func TestBuildKeepsGoodSinks(t *testing.T) {
	yaml := "sinks:\n  - type: jsonl\n    path: /var/log/msgguard/events.jsonl\n  - type: webhook\n    url: http://collector/\n  - type: syslog\n    network: tls\n    address: siem:6514\n    ca_file: /nonexistent/ca.pem\n"
	cfg, err := config.Parse("/etc/msgguard/agent.yaml", []byte(yaml), config.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s := Build(cfg.Sinks, BuildOptions{Log: zerolog.Nop()})
	if len(s.Events) != 1 || s.Events[0].Name() != "jsonl" {
		t.Errorf("built %d event sinks; want the jsonl one", len(s.Events))
	}
	var msgs []string
	for _, e := range s.Errors {
		msgs = append(msgs, e.Error())
	}
	want := []string{
		"sink not started: /etc/msgguard/agent.yaml:5:10: sinks[1].url: must be an https:// URL (events name users and devices)\n" +
			"/etc/msgguard/agent.yaml:4:5: sinks[1].token_file: missing (required for type webhook)",
		`/etc/msgguard/agent.yaml:6:5: syslog sink "syslog" not started: reading CA bundle: /nonexistent/ca.pem: lstat ca.pem: no such file or directory`,
	}
	if diff := cmp.Diff(want, msgs); diff != "" {
		t.Errorf("errors mismatch (-want +got):\n%s", diff)
	}
}
