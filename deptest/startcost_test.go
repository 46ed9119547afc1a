package deptest

import (
	"strings"
	"testing"
)

// TestLinuxAgentLinksNoGopsutil: every package linked into a binary runs
// its init at every start of every verb, and gopsutil's cpu package reads
// /proc/stat twice in its init. On Linux the agent reads /proc itself
// (platform/procs); gopsutil serves macOS and Windows only.
func TestLinuxAgentLinksNoGopsutil(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	for _, p := range list(t, "linux") {
		if p.ImportPath != module+"/agent" {
			continue
		}
		for _, d := range p.Deps {
			if strings.HasPrefix(d, "github.com/shirou/gopsutil") {
				t.Errorf("the linux agent links %s", d)
			}
		}
		return
	}
	t.Fatal("the agent command is not in go list's output")
}
