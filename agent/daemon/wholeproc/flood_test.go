//go:build linux

package wholeproc

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Flood sizes: the connections one unprivileged account opens, and the
// bounds the agent must stay within meanwhile.
const (
	floodConns  = 4000
	floodMaxRSS = 64 << 10 // kB
	// floodMaxGrowth bounds what the flood may add: with the limits the
	// agent holds a fixed number of connections whatever the flood's size
	// (without them 4,000 connections added about 28 MB, 10,000 over 200).
	floodMaxGrowth = 16 << 10 // kB
	statusBudget   = time.Second
)

func TestMain(m *testing.M) {
	if sock := os.Getenv("MSGGUARD_GET_SOCKET"); sock != "" {
		getAll(sock)
		return
	}
	if sock := os.Getenv("MSGGUARD_FLOOD_SOCKET"); sock != "" {
		n, _ := strconv.Atoi(os.Getenv("MSGGUARD_FLOOD_CONNS"))
		flood(sock, n)
		return
	}
	os.Exit(m.Run())
}

// flood is the child process: it opens n idle connections to sock, says
// how many it got, and holds them until its stdin closes.
func flood(sock string, n int) {
	conns := make([]net.Conn, 0, n)
	failed := 0
	var lastErr error
	for range n {
		var c net.Conn
		var err error
		// A full accept backlog makes a non-blocking connect(2) fail
		// with EAGAIN; retry briefly as a real client would.
		for try := 0; try < 50; try++ {
			if c, err = net.DialTimeout("unix", sock, 2*time.Second); err == nil || !errors.Is(err, syscall.EAGAIN) {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		if err != nil {
			failed++
			lastErr = err
			continue
		}
		conns = append(conns, c)
	}
	fmt.Printf("connected %d failed %d uid %d last error %v\n", len(conns), failed, os.Getuid(), lastErr)
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// TestFloodFromUnprivilegedAccount: 4,000 idle connections from nobody
// keep the agent's resident set within 64 MB, and root's `agent status`
// still answers through the service within a second. It runs the real
// agent and a real flood process (this test binary, re-executed as uid
// 65534), on a Unix socket only; it takes about 10 s.
func TestFloodFromUnprivilegedAccount(t *testing.T) {
	a := build(t, "")
	p := a.start(t)
	before := p.StatusKB(t, "VmRSS")

	// The test binary may sit in a 0700 build directory: copy it where
	// nobody can execute it.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(a.dir, "flood.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, data, 0o755); err != nil {
		t.Fatal(err)
	}
	child := exec.Command(exe)
	child.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	child.Env = []string{"MSGGUARD_FLOOD_SOCKET=" + a.socket, "MSGGUARD_FLOOD_CONNS=" + strconv.Itoa(floodConns), "HOME=/nonexistent"}
	child.Dir = "/"
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		child.Process.Kill()
		child.Wait()
	}()
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- s
	}()
	select {
	case l := <-line:
		t.Logf("flood: %s", l)
		var got, failed, uid int
		if _, err := fmt.Sscanf(l, "connected %d failed %d uid %d", &got, &failed, &uid); err != nil || uid != 65534 || got < floodConns/2 {
			t.Fatalf("the flood did not take hold: %q (%v)", l, err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("flood child did not report within 60 s")
	}

	// Let the agent accept (and refuse) what is queued, then measure.
	time.Sleep(time.Second)
	during := p.StatusKB(t, "VmRSS")
	var worst time.Duration
	for i := range 3 {
		start := time.Now()
		cmd := exec.Command(a.bin, "status", "--socket", a.socket, "--json")
		cmd.Env = append(os.Environ(), "LANG=C")
		out, err := cmd.Output()
		took := time.Since(start)
		worst = max(worst, took)
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("agent status: %v", err)
		}
		var r struct {
			Source string `json:"source"`
		}
		if err := json.Unmarshal(out, &r); err != nil || r.Source != "service" {
			t.Errorf("status %d during the flood: source %q (%v); want an answer from the service\n%s", i, r.Source, err, out)
		}
	}
	peak := p.StatusKB(t, "VmHWM")
	t.Logf("FIGURES flood: %d idle connections from uid 65534; agent VmRSS %d kB before, %d kB during, VmHWM %d kB; root `agent status` slowest of 3: %v",
		floodConns, before, during, peak, worst)
	if during > floodMaxRSS || peak > floodMaxRSS {
		t.Errorf("agent RSS during the flood %d kB (peak %d kB); want at most %d kB", during, peak, floodMaxRSS)
	}
	if during-before > floodMaxGrowth {
		t.Errorf("the flood grew the agent's RSS by %d kB; want at most %d kB (connections must be bounded)", during-before, floodMaxGrowth)
	}
	if worst > statusBudget {
		t.Errorf("root's agent status took %v during the flood; want at most %v", worst, statusBudget)
	}
	select {
	case err := <-p.Done:
		p.Done <- err
		t.Fatalf("the agent exited during the flood: %v", err)
	default:
	}
}
