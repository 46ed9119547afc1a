package daemon

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestDropTextPages: after dropTextPages the process's file-backed
// resident set (its executable's pages) is smaller, and the process keeps
// running code from those pages (this test returning is the proof).
func TestDropTextPages(t *testing.T) {
	if !staticExe() {
		if n := dropTextPages(); n != 0 {
			t.Fatalf("dropped %d bytes of a dynamically linked executable", n)
		}
		t.Skip("the test binary is dynamically linked (-race, cgo): nothing is dropped, as intended; run with CGO_ENABLED=0")
	}
	before := rssFileKB(t)
	n := dropTextPages()
	after := rssFileKB(t)
	if n == 0 {
		t.Fatal("dropTextPages found no read-only mapping of the executable")
	}
	if after >= before {
		t.Errorf("RssFile %d kB before, %d kB after dropping %d bytes; want less", before, after, n)
	}
	t.Logf("RssFile %d kB -> %d kB", before, after)
}

func rssFileKB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "RssFile:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	t.Skip("no RssFile in /proc/self/status")
	return 0
}
