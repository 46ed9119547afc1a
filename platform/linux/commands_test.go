package linux

import (
	"context"
	"path"
	"strings"
	"testing"

	"github.com/msgguard/msgguard/platform/platformtest"
)

func TestCommandsAreAbsoluteSystemPaths(t *testing.T) {
	cmds := Commands()
	for _, name := range []string{"rpm", "zfs"} {
		if len(cmds[name]) == 0 {
			t.Errorf("Commands()[%q] missing", name)
		}
	}
	for name, paths := range cmds {
		for _, p := range paths {
			if !path.IsAbs(p) || path.Clean(p) != p || strings.HasPrefix(p, "/home/") || strings.HasPrefix(p, "/tmp/") || strings.HasPrefix(p, "/var/tmp/") {
				t.Errorf("Commands()[%q] = %q; want a clean absolute path outside user-writable trees", name, p)
			}
		}
	}
	cmds["x"] = nil
	if _, ok := Commands()["x"]; ok {
		t.Error("Commands returns a shared map")
	}
}

// TestScanRunsOnlyTableCommands scans roots that make the probes run their
// commands (an RPM database, a ZFS root) and checks each command's name is
// in Commands(): production refuses any other, which would leave its
// result unknown on every device.
func TestScanRunsOnlyTableCommands(t *testing.T) {
	root := t.TempDir()
	postureWriteFile(t, root, "proc/self/mountinfo", mountLine(1, "0:24", "/", "zfs", "rpool/ROOT/debian")+"\n")
	postureWriteFile(t, root, "usr/lib/sysimage/rpm/rpmdb.sqlite", "")
	h := postureHost(t, root)
	run := platformtest.NewFakeRunner()
	h.Run = run
	if _, err := Scan(context.Background(), h, testCatalog()); err != nil {
		t.Fatal(err)
	}
	calls := run.CallLog()
	if len(calls) < 2 {
		t.Fatalf("Scan ran %q; want the rpm and zfs probes", calls)
	}
	names := Commands()
	for _, c := range calls {
		if name, _, _ := strings.Cut(c, " "); names[name] == nil {
			t.Errorf("Scan ran %q, whose name is not in Commands()", c)
		}
	}
}
