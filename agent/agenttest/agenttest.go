// Package agenttest runs the real agent binary for tests: it builds it,
// starts `agent run` with a test's config, and waits until the service
// answers with a report. The CLI's service tests (agent/cli) and the
// whole-process tests (agent/daemon/wholeproc) use it; production code
// does not.
package agenttest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/msgguard/msgguard/agent/localapi"
)

// Build compiles the agent into bin with extra go build flags (the
// release's are -trimpath and -ldflags=-s -w, with CGO_ENABLED=0, which
// Build always sets). It skips the test when no go tool is found.
func Build(t testing.TB, bin string, flags ...string) {
	t.Helper()
	gobin := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		if gobin, err = exec.LookPath("go"); err != nil {
			t.Skip("go tool not found; cannot build the agent binary")
		}
	}
	args := append(append([]string{"build"}, flags...), "-o", bin, "github.com/msgguard/msgguard/agent")
	cmd := exec.Command(gobin, args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
}

// Proc is a running `agent run`.
type Proc struct {
	Cmd *exec.Cmd
	// Out is its standard output and error.
	Out *SyncBuffer
	// Done receives its exit once; a reader that only looks puts it back.
	Done chan error
}

// SyncBuffer is a bytes.Buffer safe for the process's writes and the
// test's reads.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Start runs `bin run --config config`. The process is killed when the test
// ends, and its output logged if the test failed.
func Start(t testing.TB, bin, config string) *Proc {
	t.Helper()
	p := &Proc{Out: &SyncBuffer{}, Done: make(chan error, 1)}
	p.Cmd = exec.Command(bin, "run", "--config", config)
	p.Cmd.Stdout, p.Cmd.Stderr = p.Out, p.Out
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.Done <- p.Cmd.Wait() }()
	t.Cleanup(func() {
		p.Cmd.Process.Kill()
		p.Done <- <-p.Done
		if t.Failed() {
			t.Logf("agent output:\n%s", p.Out)
		}
	})
	return p
}

// Client waits, at most timeout, until the agent at socket answers with a
// report, and returns a client closed when the test ends. The test fails
// at once if the agent exits.
func (p *Proc) Client(t testing.TB, socket string, timeout time.Duration) *localapi.Client {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := localapi.Dial(context.Background(), socket)
		if err == nil {
			if _, err = c.Status(context.Background()); err == nil {
				t.Cleanup(c.Close)
				return c
			}
			c.Close()
		}
		select {
		case err := <-p.Done:
			p.Done <- err
			t.Fatalf("agent exited: %v\n%s", err, p.Out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent did not answer with a report: %v\n%s", err, p.Out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop sends SIGTERM and waits up to 20 s for a clean exit.
func (p *Proc) Stop(t testing.TB) {
	t.Helper()
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.Done:
		p.Done <- err
		if err != nil {
			t.Fatalf("agent exited with %v\n%s", err, p.Out)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("agent did not stop within 20 s of SIGTERM")
	}
}

// StatusKB reads a kB field (VmRSS, VmHWM, RssAnon, RssFile) of the
// process's /proc/PID/status (Linux).
func (p *Proc) StatusKB(t testing.TB, field string) int {
	t.Helper()
	pid := p.Cmd.Process.Pid
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// CPU returns the process's user+system time so far (proc(5),
// /proc/PID/stat fields 14 and 15, in clock ticks of 1/100 s on Linux).
func (p *Proc) CPU(t testing.TB) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return time.Duration(ut+st) * 10 * time.Millisecond
}
