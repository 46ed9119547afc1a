package darwin

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/platformtest"
	"github.com/msgguard/msgguard/policy"
)

// coreByProbe indexes an inventory's Core problems by probe.
func coreByProbe(inv *policy.Inventory) map[string]policy.Problem {
	out := map[string]policy.Problem{}
	for _, p := range inv.CoreProblems() {
		out[p.Probe] = p
	}
	return out
}

// TestScanEmptyRootIsCore: a Mac whose account records cannot be read (and
// dscl does not answer) and whose /Applications cannot be listed proves no
// messenger absent. Both are Core problems naming what was not read, so
// the verdict is "could not check". Before, the scan listed only the users
// problem, not Core, and an absent /Applications was silent: a clean pass.
func TestScanEmptyRootIsCore(t *testing.T) {
	root := t.TempDir()
	h := &platform.Host{GOOS: "darwin", Root: platform.NewDirFS(root), RootDir: root,
		Run: platform.ReplayRunner{Dir: t.TempDir()}}
	inv, err := Scan(context.Background(), h, defaultCatalog(t))
	if err != nil {
		t.Fatalf("Scan() error: %v", err)
	}
	core := coreByProbe(inv)
	if len(core) != 2 {
		t.Fatalf("core problems = %+v; want users and apps", inv.CoreProblems())
	}
	if u := core["users"]; u.Path != "/"+dslocalUsers || !strings.Contains(u.Message, "accounts not read") || !strings.Contains(u.Message, "dscl") {
		t.Errorf("users core problem = %+v; want one naming the records and dscl", u)
	}
	if a := core["apps"]; a.Path != "/Applications" || !strings.Contains(a.Message, "not listed") {
		t.Errorf("apps core problem = %+v; want one naming /Applications", a)
	}
	fs := policy.Evaluate(policy.Default(), inv, policy.EvalOptions{})
	if policy.Compliant(fs) {
		t.Error("Compliant = true for a Mac that could not be checked")
	}
}

// TestScanApplicationsNotAFolderIsCore: /Applications replaced by a file
// (or a link, refused the same way) is not listed and is Core; the users
// read from the fixture's records are not.
func TestScanApplicationsNotAFolderIsCore(t *testing.T) {
	root := t.TempDir()
	users := filepath.Join(root, filepath.FromSlash(dslocalUsers))
	if err := os.MkdirAll(users, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "Applications"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := &platform.Host{GOOS: "darwin", Root: platform.NewDirFS(root), RootDir: root,
		Run: platform.ReplayRunner{Dir: t.TempDir()}}
	inv, err := Scan(context.Background(), h, defaultCatalog(t))
	if err != nil {
		t.Fatalf("Scan() error: %v", err)
	}
	core := coreByProbe(inv)
	if _, ok := core["apps"]; !ok || len(core) != 1 {
		t.Errorf("core problems = %+v; want only apps (the empty record folder was read)", inv.CoreProblems())
	}
}

// TestScanFixtureMacHasNoCore: the complete fixture Mac leaves no core
// source unread.
func TestScanFixtureMacHasNoCore(t *testing.T) {
	h, _ := macHost(t)
	inv, err := Scan(context.Background(), h, defaultCatalog(t))
	if err != nil {
		t.Fatalf("Scan() error: %v", err)
	}
	if c := inv.CoreProblems(); len(c) != 0 {
		t.Errorf("core problems = %+v; want none", c)
	}
}

// TestScanDsclFallbackIsNotCore: records that cannot be read but a dscl
// that lists the accounts leave the users known: no Core users problem.
func TestScanDsclFallbackIsNotCore(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "Applications"), 0o755); err != nil {
		t.Fatal(err)
	}
	run := platformtest.NewFakeRunner()
	run.Set("dscl . -list /Users UniqueID", "alice 501\n")
	run.Set("dscl . -list /Users NFSHomeDirectory", "alice /Users/alice\n")
	h := &platform.Host{GOOS: "darwin", Root: platform.NewDirFS(root), RootDir: root, Run: run}
	inv, err := Scan(context.Background(), h, defaultCatalog(t))
	if err != nil {
		t.Fatalf("Scan() error: %v", err)
	}
	if len(inv.Users) != 1 {
		t.Errorf("users = %+v; want alice from dscl", inv.Users)
	}
	if c := inv.CoreProblems(); len(c) != 0 {
		t.Errorf("core problems = %+v; want none", c)
	}
}
