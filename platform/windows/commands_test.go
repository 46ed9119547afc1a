package windows

import (
	"strings"
	"testing"
)

// TestCommands checks that every command the scan runs is in the table,
// by absolute path under %SystemRoot%.
func TestCommands(t *testing.T) {
	f := loadFixture(t, "office")
	scanFixture(t, f)
	table := Commands()
	for _, line := range f.run.CallLog() {
		name, _, _ := strings.Cut(line, " ")
		paths, ok := table[name]
		if !ok || len(paths) == 0 {
			t.Errorf("command %q is not in Commands()", name)
		}
		for _, p := range paths {
			if !strings.HasPrefix(p, `C:\Windows\System32\`) {
				t.Errorf("Commands()[%q] = %q; want an absolute path under C:\\Windows\\System32", name, p)
			}
		}
	}
}
