package linux

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

func TestMatchProcesses(t *testing.T) {
	c := &collector{idx: newCatalogIndex(testCatalog())}
	procs := []procInfo{
		{Name: "signal-desktop", Exe: "/opt/Signal/signal-desktop", UID: 1000},
		{Name: "signal-desktop", Exe: "/opt/Signal/signal-desktop", UID: 1000}, // renderer helper
		{Name: "telegram-deskto", Exe: "/usr/bin/telegram-desktop (deleted)", UID: 1001},
		{Name: "slack", Exe: "", UID: 4242},
		{Name: "bash", Exe: "/usr/bin/bash", UID: 1000},
		{Name: "Telegram", Exe: "", UID: -1},
	}
	c.matchProcesses(procs, map[int64]string{1000: "alice", 1001: "bob"})
	got := dedupMessengers(c.items)
	want := []policy.Messenger{
		{ID: "signal", Name: "Signal", Variant: policy.VariantPrivate, Source: "process", User: "alice", Location: "/opt/Signal/signal-desktop"},
		{ID: "slack", Name: "Slack", Variant: policy.VariantBusiness, Source: "process", User: "uid 4242", Location: "slack"},
		{ID: "telegram", Name: "Telegram", Variant: policy.VariantPrivate, Source: "process", Location: "Telegram"},
		{ID: "telegram", Name: "Telegram", Variant: policy.VariantPrivate, Source: "process", User: "bob", Location: "/usr/bin/telegram-desktop"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("matchProcesses mismatch (-want +got):\n%s", diff)
	}
}

func TestProcessesOnlyWhenLive(t *testing.T) {
	h := fixtureHost(t, "debian-desktop")
	inv, err := Scan(context.Background(), h, testCatalog())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range inv.Messengers {
		if m.Source == policy.SourceProcess {
			t.Errorf("process evidence on a non-live root: %+v", m)
		}
	}
}

// TestLiveProcess starts a real process named like a messenger (a copy of
// sleep called signal-desktop) and scans with Live set: the scan must see
// it (platform/procs reads /proc) and map it to the current user.
func TestLiveProcess(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "signal-desktop")
	b, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "30")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start %s: %v", bin, err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	root := t.TempDir()
	uid := os.Getuid()
	writeFile(t, filepath.Join(root, "etc", "passwd"), "tester:x:"+strconv.Itoa(uid)+":0::/nonexistent:/bin/sh\n")
	h := &platform.Host{GOOS: "linux", Root: platform.NewDirFS(root), RootDir: root, Live: true}
	deadline := time.Now().Add(5 * time.Second)
	for {
		inv, err := Scan(context.Background(), h, testCatalog())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range inv.Messengers {
			if m.ID == "signal" && m.Source == policy.SourceProcess && m.Location == bin {
				if m.User != "tester" {
					t.Errorf("process user = %q; want tester", m.User)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("live process %s not found; got %+v", bin, inv.Messengers)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
