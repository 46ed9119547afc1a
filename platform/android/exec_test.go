//go:build unix

package android

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/phone/phonetest"
	"github.com/msgguard/msgguard/policy"
)

// fakeAdb installs phonetest's fakecmd.sh as "adb" in a temporary
// directory, serving `adb devices -l` from adb-devices-l.txt and each given
// phone fixture as phones/<serial>.txtar, and returns a real ExecRunner
// whose table points at it (see phonetest.FakeTools).
func fakeAdb(t *testing.T, fixtures ...string) *platform.ExecRunner {
	t.Helper()
	dir := t.TempDir()
	devices, err := os.ReadFile("testdata/adb-devices-l.txt")
	if err != nil {
		t.Fatal(err)
	}
	host := append([]byte("-- adb devices -l --\n"), devices...)
	if err := os.WriteFile(filepath.Join(dir, "host.txtar"), host, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "phones"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range fixtures {
		f := loadFixture(t, name)
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "phones", f.ID+".txtar"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return phonetest.FakeTools(t, dir, Command)
}

func TestExecListAndScan(t *testing.T) {
	run := fakeAdb(t, "pixel7-a14-workprofile-nopin.txtar")
	phones, err := List(context.Background(), run)
	if err != nil {
		t.Fatal(err)
	}
	if len(phones) != 6 || phones[0].Serial != "2B261FDH2000AB" || !phones[0].Ready() || phones[1].State != StateUnauthorized {
		t.Fatalf("List = %+v", phones)
	}
	inv, err := Scan(context.Background(), run, phones[0].Serial, testCatalog(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(doneWhenInventory(), inv); diff != "" {
		t.Errorf("Scan through exec (-want +got):\n%s", diff)
	}
}

// TestExecNotReady: the real adb prints "error: device 'X' not found" on
// stderr with exit status 1 (captured with Debian's adb 29.0.6); the fake
// does the same for a serial it has no fixture for.
func TestExecNotReady(t *testing.T) {
	run := fakeAdb(t)
	_, err := Scan(context.Background(), run, "R5CW20ABCDE", testCatalog(), Options{})
	if !errors.Is(err, ErrDisconnected) {
		t.Errorf("Scan of an absent phone: %v", err)
	}
}

// TestExecTwoPhonesAtOnce scans two phones concurrently through one runner:
// each inventory is its own device and neither borrows the other's data.
func TestExecTwoPhonesAtOnce(t *testing.T) {
	files := []string{"pixel7-a14-workprofile-nopin.txtar", "pixel6-a12-cope.txtar"}
	run := fakeAdb(t, files...)
	invs := make([]*policy.Inventory, len(files))
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	for i, name := range files {
		f := loadFixture(t, name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			invs[i], errs[i] = Scan(context.Background(), run, f.ID, testCatalog(), Options{})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s: %v", files[i], err)
		}
	}
	if diff := cmp.Diff(doneWhenInventory(), invs[0]); diff != "" {
		t.Errorf("first phone (-want +got):\n%s", diff)
	}
	cope := invs[1]
	if cope.Device.ID == invs[0].Device.ID || cope.Device.Model != "Google Pixel 6" ||
		len(cope.Messengers) != 2 || cope.Messengers[1].ID != "threema-work" ||
		cope.Posture.RemoteWipe.Scope != "device" {
		t.Errorf("second phone = %+v", cope)
	}
}

// TestExecHang: a real process that never answers is killed at the
// per-command timeout; the scan goes on and reports it.
func TestExecHang(t *testing.T) {
	run := fakeAdb(t)
	dir := filepath.Dir(run.Paths[Command][1])
	f := loadFixture(t, "pixel7-a14-workprofile-nopin.txtar")
	b, err := os.ReadFile("testdata/pixel7-a14-workprofile-nopin.txtar")
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(b), "-- dpm list-owners --\n", "-- dpm list-owners [hang] --\n", 1))
	if err := os.WriteFile(filepath.Join(dir, "phones", f.ID+".txtar"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	// The timeout must let every other (fake, shell-script) adb command
	// finish on a loaded CI machine: at 300 ms, one of them timed out too
	// at a load average near 28. The hanging one still costs only this.
	start := time.Now()
	inv, err := Scan(context.Background(), run, f.ID, testCatalog(), Options{CommandTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("scan took %s", d)
	}
	w := inv.Posture.RemoteWipe
	if w.Capable != policy.Unknown || len(inv.Problems) != 1 || inv.Problems[0].Path != "dpm list-owners" {
		t.Errorf("remote wipe = %+v, problems = %+v", w, inv.Problems)
	}
	if len(inv.Messengers) != 2 {
		t.Errorf("messengers = %+v", inv.Messengers)
	}
}

func TestExecAdbMissing(t *testing.T) {
	run := &platform.ExecRunner{Paths: map[string][]string{Command: {"/nonexistent/adb"}}}
	if _, err := List(context.Background(), run); !errors.Is(err, platform.ErrCommandNotFound) {
		t.Errorf("List without adb: %v", err)
	}
	if _, err := Scan(context.Background(), run, "X1", testCatalog(), Options{}); !errors.Is(err, platform.ErrCommandNotFound) {
		t.Errorf("Scan without adb: %v", err)
	}
}
