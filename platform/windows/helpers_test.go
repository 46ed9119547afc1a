package windows

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/platformtest"
	"github.com/msgguard/msgguard/policy"
)

// bitLockerCmd is the command line the FakeRunner answers for the
// BitLocker probe.
func bitLockerCmd() string {
	return "powershell " + strings.Join(BitLockerArgs(), " ")
}

// errSharingViolation is the message of ERROR_SHARING_VIOLATION (32), what
// RegLoadKey returns for a hive file another process holds open.
//
//lint:ignore ST1005 the exact text Windows returns
var errSharingViolation = errors.New("The process cannot access the file because it is being used by another process.")

// fixture is one recorded machine under testdata/<name>: every *.reg file
// in the directory is loaded into the registry (HKLM and the hives of
// logged-in users), hives/<user>.reg are the NTUSER.DAT contents of users
// who are logged off, root/ is the system drive and bitlocker.json the
// recorded output of the BitLocker probe.
type fixture struct {
	h   *platform.Host
	reg *MemRegistry
	run *platformtest.FakeRunner
}

func loadFixture(t testing.TB, name string) fixture {
	t.Helper()
	dir := filepath.Join("testdata", name)
	reg, err := LoadRegistryDir(dir) // the loader `agent scan --registry` uses
	if err != nil {
		t.Fatal(err)
	}
	run := platformtest.NewFakeRunner()
	if err := run.SetFile(bitLockerCmd(), filepath.Join(dir, "bitlocker.json")); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "root")
	h := &platform.Host{GOOS: "windows", Root: platform.NewDirFS(root), RootDir: root, Run: run}
	return fixture{h: h, reg: reg, run: run}
}

func defaultCatalog(t testing.TB) *policy.Catalog {
	t.Helper()
	cat, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatalf("DefaultCatalog() error: %v", err)
	}
	return cat
}

func scanFixture(t testing.TB, f fixture) *policy.Inventory {
	t.Helper()
	inv, err := Scan(context.Background(), f.h, f.reg, defaultCatalog(t))
	if err != nil {
		t.Fatalf("Scan() error: %v", err)
	}
	return inv
}

// evidence builds an expected Messenger, taking name and variant from the
// catalog so that the expectations do not restate it.
func evidence(t testing.TB, cat *policy.Catalog, id, source, user, version, location string) policy.Messenger {
	t.Helper()
	e := cat.Messenger(id)
	if e == nil {
		t.Fatalf("catalog has no messenger %q", id)
	}
	return policy.Messenger{ID: id, Name: e.Name, Variant: e.Variant, Source: source, User: user, Version: version, Location: location}
}

func intp(n int) *int { return &n }
