package linux

import (
	"path"
	"strings"
	"testing"
)

func TestCommandsAreAbsoluteSystemPaths(t *testing.T) {
	cmds := Commands()
	for _, name := range []string{"rpm", "systemctl"} {
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
