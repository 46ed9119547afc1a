package windows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// bareMachine is a registry with nothing but the MachineGuid a scan needs
// to name the device: no ProfileList, no Uninstall keys.
const bareMachine = "Windows Registry Editor Version 5.00\r\n\r\n" +
	"[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography]\r\n" +
	"\"MachineGuid\"=\"00000000-1111-2222-3333-444444444444\"\r\n\r\n"

func coreByProbe(inv *policy.Inventory) map[string]policy.Problem {
	out := map[string]policy.Problem{}
	for _, p := range inv.CoreProblems() {
		out[p.Probe] = p
	}
	return out
}

// TestScanBareRegistryIsCore: without HKLM's Uninstall key and without
// ProfileList nothing can be shown absent; both are Core problems naming
// the key, and the verdict is "could not check". Before, both were silent
// or ordinary problems and the machine passed every messenger rule.
func TestScanBareRegistryIsCore(t *testing.T) {
	reg := NewMemRegistry()
	if err := reg.Load([]byte(bareMachine)); err != nil {
		t.Fatal(err)
	}
	h := &platform.Host{GOOS: "windows", Root: platform.NewDirFS(t.TempDir())}
	inv, err := Scan(context.Background(), h, reg, defaultCatalog(t))
	if err != nil {
		t.Fatalf("Scan() error: %v", err)
	}
	core := coreByProbe(inv)
	if len(core) != 2 {
		t.Fatalf("core problems = %+v; want uninstall and users", inv.CoreProblems())
	}
	if p := core[sourceUninstall]; p.Path != keyUninstall || !strings.Contains(p.Message, "installed programs not read") {
		t.Errorf("uninstall core problem = %+v; want one naming %s", p, keyUninstall)
	}
	if p := core["users"]; p.Path != keyProfileList || !strings.Contains(p.Message, "profiles not listed") {
		t.Errorf("users core problem = %+v; want one naming %s", p, keyProfileList)
	}
	if policy.Compliant(policy.Evaluate(policy.Default(), inv, policy.EvalOptions{})) {
		t.Error("Compliant = true for a machine that could not be checked")
	}
}

// subKeysFail makes SubKeys of one key fail, like a key the service may
// not read.
type subKeysFail struct {
	Registry
	key string
}

func (r subKeysFail) SubKeys(path string) ([]string, error) {
	if strings.EqualFold(path, r.key) {
		return nil, fmt.Errorf("%s: %w", path, errors.New("Access is denied."))
	}
	return r.Registry.SubKeys(path)
}

// TestScanUnreadableKeysAreCore: each of the machine-wide Uninstall key,
// ProfileList and the list of loaded hives (HKU), when it cannot be read,
// is one Core problem carrying the reason.
func TestScanUnreadableKeysAreCore(t *testing.T) {
	for _, tt := range []struct{ key, probe string }{
		{keyUninstall, sourceUninstall},
		{keyProfileList, "users"},
		{"HKU", "users"},
	} {
		t.Run(tt.key, func(t *testing.T) {
			f := loadFixture(t, "office")
			inv, err := Scan(context.Background(), f.h, subKeysFail{f.reg, tt.key}, defaultCatalog(t))
			if err != nil {
				t.Fatal(err)
			}
			c := inv.CoreProblems()
			if len(c) != 1 || c[0].Probe != tt.probe || c[0].Path != tt.key || !strings.Contains(c[0].Message, "Access is denied.") {
				t.Errorf("core problems = %+v; want one for %s", c, tt.key)
			}
		})
	}
}

// TestScanWOWUninstallMissingIsNotCore: 32-bit Windows has no
// WOW6432Node; its absence (or an unreadable one) is not Core.
func TestScanWOWUninstallMissingIsNotCore(t *testing.T) {
	f := loadFixture(t, "office")
	inv, err := Scan(context.Background(), f.h, subKeysFail{f.reg, keyUninstallWOW}, defaultCatalog(t))
	if err != nil {
		t.Fatal(err)
	}
	if c := inv.CoreProblems(); len(c) != 0 {
		t.Errorf("core problems = %+v; want none", c)
	}
}

// TestScanFixturesHaveNoCore: the recorded machines leave no core source
// unread.
func TestScanFixturesHaveNoCore(t *testing.T) {
	for _, name := range []string{"office", "home"} {
		f := loadFixture(t, name)
		if name == "home" {
			f.reg.AddHiveError(`C:\Users\dave\NTUSER.DAT`, errSharingViolation)
		}
		if c := scanFixture(t, f).CoreProblems(); len(c) != 0 {
			t.Errorf("%s: core problems = %+v; want none", name, c)
		}
	}
}
