package procs

import (
	"context"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"testing"
	"time"
)

// TestListSeesChild starts a copy of sleep under a name longer than the
// kernel's 15-byte comm and finds it in the real /proc with its full name,
// executable, uid and user name.
func TestListSeesChild(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	b, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "teams-for-linux-helper")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "30")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start %s: %v", bin, err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	time.Sleep(50 * time.Millisecond)

	ps, err := List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var found *Process
	for i := range ps {
		if int(ps[i].PID) == cmd.Process.Pid {
			found = &ps[i]
		}
	}
	if found == nil {
		t.Fatalf("child %d not listed among %d processes", cmd.Process.Pid, len(ps))
	}
	if found.Name != "teams-for-linux-helper" || found.Exe != bin || found.UID != int64(os.Getuid()) {
		t.Errorf("child = %+v; want name teams-for-linux-helper, exe %s, uid %d", *found, bin, os.Getuid())
	}
	me, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	if name, err := found.Username(context.Background()); err != nil || name != me.Username {
		t.Errorf("Username = %q, %v; want %q", name, err, me.Username)
	}
}

// TestListFixture reads a /proc tree written here: entries that are not
// processes, a process that vanished (no status) and a kernel thread
// (empty cmdline) are handled.
func TestListFixture(t *testing.T) {
	proc := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(proc, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// From a real Debian 12 /proc/<pid>/status (fields trimmed).
	write("1201/status", "Name:\tsignal-desktop\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t1201\nPid:\t1201\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n")
	write("1201/cmdline", "/opt/Signal/signal-desktop\x00--no-sandbox\x00")
	write("1300/status", "Name:\tchrome_crashpad\nUid:\t1001\t1001\t1001\t1001\n")
	write("1300/cmdline", "/opt/google/chrome/chrome_crashpad_handler\x00--monitor-self\x00")
	write("1400/status", "Name:\tkworker/0:1-eve\nUid:\t0\t0\t0\t0\n")
	write("1400/cmdline", "")
	write("1500/cmdline", "gone\x00")
	write("self/status", "Name:\tagent\n")
	write("sys/kernel", "")
	ps, err := listIn(context.Background(), proc)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int32]Process{}
	for _, p := range ps {
		got[p.PID] = p
	}
	if len(got) != 3 {
		t.Fatalf("listed %+v; want pids 1201, 1300, 1400", ps)
	}
	for pid, want := range map[int32]struct {
		name string
		uid  int64
	}{1201: {"signal-desktop", 1000}, 1300: {"chrome_crashpad_handler", 1001}, 1400: {"kworker/0:1-eve", 0}} {
		if p := got[pid]; p.Name != want.name || p.UID != want.uid {
			t.Errorf("pid %d = %q uid %d; want %q uid %d", pid, p.Name, p.UID, want.name, want.uid)
		}
	}
}

func TestExtendName(t *testing.T) {
	for _, tt := range []struct{ comm, cmdline, want string }{
		{"telegram-deskto", "/usr/bin/telegram-desktop\x00-startintray\x00", "telegram-desktop"},
		{"telegram-deskto", "/usr/bin/other\x00", "telegram-deskto"},
		{"telegram-deskto", "", "telegram-deskto"},
		{"telegram-deskto", "telegram-deskto\x00", "telegram-deskto"},
	} {
		if got := extendName(tt.comm, []byte(tt.cmdline)); got != tt.want {
			t.Errorf("extendName(%q, %q) = %q; want %q", tt.comm, tt.cmdline, got, tt.want)
		}
	}
}

func TestParseStatCPU(t *testing.T) {
	// A command name with a space and a parenthesis, as comm allows.
	stat := "4242 (my) (prog) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 130 0 0 20 0 8 0 12345 1000000 2000 18446744073709551615\n"
	cpu, err := parseStatCPU([]byte(stat))
	if err != nil || cpu != 3800*time.Millisecond {
		t.Errorf("parseStatCPU = %v, %v; want 3.8s", cpu, err)
	}
	if _, err := parseStatCPU([]byte("4242 (x) S 1 2")); err == nil {
		t.Error("a truncated stat line gave no error")
	}
}

func TestSelfSampler(t *testing.T) {
	s, err := SelfSampler()
	if err != nil {
		t.Fatal(err)
	}
	// Burn a little CPU so that the clock-tick counters move.
	deadline := time.Now().Add(50 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x * x
	}
	u, err := s()
	if err != nil || u.RSS < 1<<20 || u.CPU <= 0 {
		t.Errorf("sample = %+v, %v; want an RSS above 1 MB and some CPU time", u, err)
	}
}
