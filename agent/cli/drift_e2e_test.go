package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/config"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/report"
	"github.com/msgguard/msgguard/agent/report/outbox"
	"github.com/msgguard/msgguard/agent/report/reporttest"
	"github.com/msgguard/msgguard/agent/scan"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/agent/store"
	"github.com/msgguard/msgguard/policy"
)

// TestDriftEndToEnd is the drift acceptance scenario: a messenger .deb installed
// between two scans produces exactly one drift event, which arrives in the
// JSON Lines file, in a real rsyslogd and at an HTTPS webhook that was down
// for a while in between, and `agent drift` lists it.
func TestDriftEndToEnd(t *testing.T) {
	dir := t.TempDir()
	rs := reporttest.StartRsyslog(t)
	ca := reporttest.NewCA(t, dir)
	hook := reporttest.NewCollector(t, dir, ca, false)
	jsonl := filepath.Join(dir, "log", "events.jsonl")
	yaml := fmt.Sprintf(`sinks:
  - type: jsonl
    path: %s
  - name: siem
    type: syslog
    network: tcp
    address: %s
  - name: hq
    type: webhook
    url: %s
    token_file: %s
    ca_file: %s
  - type: prometheus
    path: %s
`, jsonl, rs.TCP, hook.URL, hook.TokenFile, ca.CAFile, filepath.Join(dir, "msgguard.prom"))
	cfg, err := config.Parse(filepath.Join(dir, "agent.yaml"), []byte(yaml), config.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "state.db")
	st, err := store.Open(dbPath, store.Options{Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	sinks := report.Build(cfg.Sinks, report.BuildOptions{Log: zerolog.Nop(), Hostname: "laptop-7"})
	if len(sinks.Errors) > 0 {
		t.Fatal(sinks.Errors)
	}
	disp, err := report.NewDispatcher(st, sinks, report.Options{Log: zerolog.New(zerolog.NewTestWriter(t)),
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { disp.Run(ctx) })

	// The device: Threema Work installed; on the second scan a WhatsApp
	// .deb has been installed too.
	var mu sync.Mutex
	idle := 300
	inv := policy.Inventory{
		Device: policy.Device{ID: "e2e-device", Kind: "computer", Platform: "linux", Hostname: "laptop-7"},
		Users:  []policy.User{{Name: "alice", UID: "1000", Home: "/home/alice"}},
		Messengers: []policy.Messenger{{ID: "threema", Name: "Threema", Variant: policy.VariantBusiness, Source: "deb",
			Location: "var/lib/dpkg/status", Version: "1.2.0"}},
		Posture: policy.Posture{Inspected: true,
			ScreenLock: []policy.ScreenLock{{User: "alice", Applicable: policy.Yes, Enabled: policy.Yes, IdleSeconds: &idle, LockOnSuspend: policy.Yes}},
			RemoteWipe: policy.RemoteWipe{Capable: policy.Yes, Scope: "device", Provider: "Fleet"},
			Encryption: policy.DiskEncryption{Volumes: []policy.Volume{{Mount: "/", Encrypted: policy.Yes, Method: "LUKS2"}}}},
	}
	probe := func(context.Context, *policy.Catalog) (*policy.Inventory, error) {
		mu.Lock()
		defer mu.Unlock()
		return inv.Clone(), nil
	}
	clock := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	scanner := &scan.Scanner{Probe: probe, Store: st, Stages: []scan.Stage{scan.Report(), scan.Record(st), drift.Stage(st, drift.DefaultConfig()), outbox.Stage()},
		Now: func() time.Time { return clock }, Lang: "en", Log: zerolog.Nop()}
	pol := scan.Policy{Policy: policy.Default(), Ref: status.PolicyRef{Name: "default", SHA256: "e2e-policy-sha", Source: "embedded"}}

	outboxEmpty := func() bool {
		for _, h := range disp.Health() {
			if h.QueueDepth != 0 {
				return false
			}
		}
		return true
	}
	if _, err := scanner.Scan(ctx, pol); err != nil {
		t.Fatal(err)
	}
	disp.Kick()
	waitUntil(t, "first scan's summary delivered", outboxEmpty)

	hook.Fail(reporttest.Status500, reporttest.Status500, reporttest.Close) // the collector is down for a while
	mu.Lock()
	inv.Messengers = append(inv.Messengers, policy.Messenger{ID: "whatsapp", Name: "WhatsApp", Variant: policy.VariantPrivate,
		Source: "deb", Location: "var/lib/dpkg/status", Version: "2.2435.5"})
	mu.Unlock()
	clock = clock.Add(time.Hour)
	if _, err := scanner.Scan(ctx, pol); err != nil {
		t.Fatal(err)
	}
	disp.Kick()
	waitUntil(t, "second scan's events delivered everywhere", outboxEmpty)
	cancel()
	wg.Wait()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// JSON Lines: exactly one drift event, and it is the new messenger.
	var fileDrift []drift.Event
	for _, l := range readFileLines(t, jsonl) {
		var e drift.Event
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("bad JSONL line %q: %v", l, err)
		}
		if e.Kind.IsDrift() {
			fileDrift = append(fileDrift, e)
		}
	}
	if len(fileDrift) != 1 {
		t.Fatalf("JSONL has %d drift events; want exactly 1: %+v", len(fileDrift), fileDrift)
	}
	ev := fileDrift[0]
	if ev.Kind != drift.KindMessengerAppeared || ev.Subject != "whatsapp" || ev.Rule != "messenger.whatsapp" ||
		ev.StatusAfter != policy.StatusFail || ev.Direction != drift.Away || ev.Severity != policy.SeverityHigh || ev.Device != "e2e-device" {
		t.Errorf("drift event = %+v", ev)
	}

	// rsyslog parsed it as RFC 5424 with our structured data.
	lines := rs.WaitLines(t, 1, func(l string) bool { return strings.Contains(l, `id="`+ev.ID+`"`) }, 10*time.Second)
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "tcp|") || !strings.Contains(lines[0], "|messenger_appeared|msgguard|laptop-7|[msgguard@32473 ") {
		t.Errorf("rsyslog received %q", lines)
	}
	if all := rs.WaitLines(t, 0, func(l string) bool { return strings.Contains(l, `kind="messenger_appeared"`) }, 0); len(all) != 1 {
		t.Errorf("rsyslog got %d messenger events; want 1", len(all))
	}

	// The webhook: after the outage, the event arrived, once per key.
	ids, times := hook.Delivered()
	if times[ev.ID] < 1 || !containsStr(ids, ev.ID) {
		t.Errorf("webhook never accepted event %s (accepted %v)", ev.ID, ids)
	}
	failed := 0
	for _, r := range hook.Requests() {
		if r.Fault != reporttest.OK {
			failed++
		}
	}
	if failed != 3 {
		t.Errorf("the outage answered %d requests; want 3", failed)
	}

	// `agent drift` lists it.
	e, out, errb := testEnv(t)
	if code := runCLI(t, e, "drift", "--db", dbPath, "--since", "all"); code != 0 {
		t.Fatalf("agent drift exit %d: %s", code, errb)
	}
	if !strings.Contains(out.String(), "1 event(s) since the beginning") || !strings.Contains(out.String(), "messenger WhatsApp (private) appeared system-wide") {
		t.Errorf("agent drift printed:\n%s", out)
	}
	out.Reset()
	if code := runCLI(t, e, "drift", "--db", dbPath, "--since", "all", "--json"); code != 0 {
		t.Fatalf("agent drift --json exit %d: %s", code, errb)
	}
	var view apitype.DriftResponse
	if err := json.Unmarshal(out.Bytes(), &view); err != nil || len(view.Events) != 1 || view.Events[0].ID != ev.ID {
		t.Errorf("agent drift --json = %s (%v)", out, err)
	}
	out.Reset()
	if code := runCLI(t, e, "baseline", "show", "--db", dbPath); code != 0 ||
		!strings.Contains(out.String(), "baseline set by the first scan") || !strings.Contains(out.String(), "1 change(s) since the baseline") {
		t.Errorf("agent baseline show (exit %d):\n%s%s", code, out, errb)
	}
	out.Reset()
	if code := runCLI(t, e, "baseline", "accept", "--db", dbPath, "--by", "Petra", "--why", "INC-1234: approved for testing"); code != 0 {
		t.Fatalf("agent baseline accept exit %d: %s", code, errb)
	}
	out.Reset()
	if code := runCLI(t, e, "baseline", "show", "--db", dbPath); code != 0 ||
		!strings.Contains(out.String(), "baseline accepted") || !strings.Contains(out.String(), "by Petra: INC-1234") || !strings.Contains(out.String(), "no drift since the baseline") {
		t.Errorf("agent baseline show after accept:\n%s%s", out, errb)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func readFileLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func containsStr(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
