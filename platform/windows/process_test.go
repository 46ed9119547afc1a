package windows

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/msgguard/msgguard/policy"
)

// TestScanProcessesLive runs the live process walk on the test machine's
// own process table (platform/procs: /proc on Linux, gopsutil on Windows): a child process
// named in a test catalog entry must be found, once, with its user.
func TestScanProcessesLive(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sleep, "30")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start a child process: %v", err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	time.Sleep(100 * time.Millisecond)

	f := loadFixture(t, "office")
	f.h.Live = true
	cat := &policy.Catalog{Messengers: []policy.CatalogEntry{{
		ID: "sleeper", Name: "Sleeper", Variant: policy.VariantPrivate,
		Windows: policy.WindowsIDs{Processes: []string{"SLEEP.exe"}},
	}}}
	inv, err := Scan(ctx, f.h, f.reg, cat)
	if err != nil {
		t.Fatalf("Scan() error: %v", err)
	}
	var found []policy.Messenger
	for _, m := range inv.Messengers {
		if m.ID == "sleeper" {
			found = append(found, m)
		}
	}
	if len(found) != 1 || found[0].Source != policy.SourceProcess || found[0].Location != "sleep" || found[0].User == "" {
		t.Errorf("process evidence = %+v; want one process entry for sleep with its user", found)
	}
}
