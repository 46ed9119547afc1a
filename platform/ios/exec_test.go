//go:build unix

package ios

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/phone/phonetest"
)

// fakeTools installs phonetest's fakecmd.sh as idevice_id, idevicepair,
// ideviceinfo and ideviceinstaller in a temporary directory serving the
// given fixtures (merged into host.txtar), and returns a real ExecRunner
// pointing at them (see phonetest.FakeTools).
func fakeTools(t *testing.T, fixtures ...string) *platform.ExecRunner {
	t.Helper()
	dir := t.TempDir()
	var host []byte
	for _, f := range fixtures {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		host = append(host, b...)
	}
	if err := os.WriteFile(filepath.Join(dir, "host.txtar"), host, 0o644); err != nil {
		t.Fatal(err)
	}
	return phonetest.FakeTools(t, dir, CmdID, CmdPair, CmdInfo, CmdInstaller)
}

func TestExecScan(t *testing.T) {
	run := fakeTools(t, "list.txtar", "iphone13-ios17-paired.txtar")
	phones, err := List(context.Background(), run)
	if err != nil || len(phones) != 3 || !phones[0].Ready() {
		t.Fatalf("List = %+v, %v", phones, err)
	}
	inv, err := Scan(context.Background(), run, phones[0].UDID, testCatalog(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(iphone13Inventory(), inv); diff != "" {
		t.Errorf("Scan through exec (-want +got):\n%s", diff)
	}
}

// TestExecInstaller12AndPairing goes through the exit-status paths: the
// 1.1 syntax rejected with exit 2, then lockdownd refusing a stale pairing
// with exit 255.
func TestExecInstaller12AndPairing(t *testing.T) {
	run := fakeTools(t, "ipad-ios16-supervised-installer12.txtar", "iphone-pairing-pending.txtar")
	inv, err := Scan(context.Background(), run, "00008027-000B4D2A3E61002E", testCatalog(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Messengers) != 4 || inv.Posture.ScreenLock[0].Enabled.String() != "false" {
		t.Errorf("iPad = %+v", inv)
	}
	_, err = Scan(context.Background(), run, "f1e2d3c4b5a6978812345678abcdef0123456789", testCatalog(), Options{})
	if !errors.Is(err, ErrNotPaired) {
		t.Errorf("stale pairing: %v", err)
	}
}
