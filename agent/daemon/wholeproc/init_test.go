//go:build linux

package wholeproc

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestPackageInitIsCheap: every command pays every package's init, agent
// version included. The project's own packages compile their regexps and
// build their tables on first use (sync.OnceValue), not at init; the Go
// runtime's init trace (GODEBUG=inittrace=1) shows what each package's
// init allocated. A package-level regexp.MustCompile costs tens of
// allocations; a message table, hundreds.
func TestPackageInitIsCheap(t *testing.T) {
	a := build(t, "")
	cmd := exec.Command(a.bin, "version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("agent version: %v\n%s", err, out)
	}
	const maxAllocs, maxBytes = 24, 8 << 10
	n := 0
	for line := range strings.Lines(string(out)) {
		// init PKG @T ms, C ms clock, B bytes, A allocs
		f := strings.Fields(line)
		if len(f) != 11 || f[0] != "init" || !strings.HasPrefix(f[1], "github.com/msgguard/msgguard/") {
			continue
		}
		n++
		bytes, _ := strconv.Atoi(f[7])
		allocs, _ := strconv.Atoi(f[9])
		if allocs > maxAllocs || bytes > maxBytes {
			t.Errorf("init of %s: %d allocations, %d bytes (at most %d, %d bytes): make the package-level work lazy", f[1], allocs, bytes, maxAllocs, maxBytes)
		}
	}
	if n < 5 {
		t.Fatalf("the init trace names only %d of the project's packages:\n%s", n, out)
	}
}
