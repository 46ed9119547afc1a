//go:build linux

package wholeproc

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/msgguard/msgguard/agent/agenttest"
)

// agent is a temporary installation of the real agent binary.
type agent struct {
	dir, bin, config, db, socket, root string
}

// build compiles the agent as released (CGO_ENABLED=0, stripped) into a
// fresh 0755 directory and writes its config; extra is appended to it.
func build(t testing.TB, extra string) *agent {
	t.Helper()
	if testing.Short() {
		t.Skip("whole-process test: builds and runs the agent binary")
	}
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("run as root on Linux: the agent checks its files' owners and the flood runs as nobody")
	}
	// Not t.TempDir(): socket paths must fit in sun_path (108 bytes), and
	// the directory must be reachable by nobody.
	dir, err := os.MkdirTemp("", "mgwp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("../../../platform/linux/testdata/debian-desktop")
	if err != nil {
		t.Fatal(err)
	}
	a := &agent{dir: dir, bin: filepath.Join(dir, "agent"), config: filepath.Join(dir, "agent.yaml"),
		db: filepath.Join(dir, "data", "state.db"), socket: filepath.Join(dir, "run", "agent.sock"), root: root}
	agenttest.Build(t, a.bin, "-trimpath", "-ldflags=-s -w")
	cfg := fmt.Sprintf("root: %q\ndatabase: %q\nsocket: %q\nlog:\n  level: warn\n%s", a.root, a.db, a.socket, extra)
	if err := os.WriteFile(a.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return a
}

// start runs the agent and waits until it answers with a report.
func (a *agent) start(t testing.TB) *agenttest.Proc {
	t.Helper()
	p := agenttest.Start(t, a.bin, a.config)
	p.Client(t, a.socket, 30*time.Second)
	return p
}

// percentile returns the p-th percentile (0..100) of ds (sorted in place).
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	i := int(float64(len(ds)-1) * p / 100)
	return ds[i]
}
