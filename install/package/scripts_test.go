package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// scriptEnv runs the maintainer scripts against a fake root: the absolute
// paths in them are moved under root, and systemctl is a stand-in on PATH
// that records its arguments (and answers is-enabled with the content of
// root/unit-state). CI runs the real scripts through dpkg on a host without
// systemd; this covers the systemd branches.
type scriptEnv struct {
	t    *testing.T
	root string
	bin  string
}

func newScriptEnv(t *testing.T, systemd bool) *scriptEnv {
	e := &scriptEnv{t: t, root: t.TempDir(), bin: t.TempDir()}
	if systemd {
		os.MkdirAll(filepath.Join(e.root, "run/systemd/system"), 0o755)
	}
	fake := "#!/bin/sh\necho \"$*\" >>\"$FAKE_ROOT/calls\"\n" +
		"if [ \"$1\" = is-enabled ]; then cat \"$FAKE_ROOT/unit-state\" 2>/dev/null || echo disabled; fi\n"
	if err := os.WriteFile(filepath.Join(e.bin, "systemctl"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	return e
}

// run runs one script (as packaged: common.sh spliced in) with args and
// returns its output and the systemctl calls it made.
func (e *scriptEnv) run(script string, args ...string) (string, []string) {
	e.t.Helper()
	s := withCommon(script)
	for _, p := range []string{"/run/systemd/system", "/etc/systemd/system/", "/etc/msgguard", "/var/lib/msgguard", "/var/log/msgguard", "/run/msgguard"} {
		s = strings.ReplaceAll(s, " "+p, " $FAKE_ROOT"+p)
	}
	path := filepath.Join(e.bin, "script")
	if err := os.WriteFile(path, []byte(s), 0o755); err != nil {
		e.t.Fatal(err)
	}
	os.Remove(filepath.Join(e.root, "calls"))
	cmd := exec.Command("sh", append([]string{path}, args...)...)
	cmd.Env = append(os.Environ(), "FAKE_ROOT="+e.root, "PATH="+e.bin+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		e.t.Fatalf("%v: %v\n%s", args, err, out)
	}
	b, _ := os.ReadFile(filepath.Join(e.root, "calls"))
	return string(out), strings.Fields(strings.ReplaceAll(strings.TrimSpace(string(b)), " ", "_"))
}

func (e *scriptEnv) exists(p string) bool {
	_, err := os.Lstat(filepath.Join(e.root, p))
	return err == nil
}

func TestDebScriptsWithSystemd(t *testing.T) {
	e := newScriptEnv(t, true)
	start := []string{"daemon-reload", "is-enabled_msgguard.service", "enable_msgguard.service", "restart_msgguard.service"}
	// First install, then an upgrade from 1.0.0: both enable and (re)start.
	for _, args := range [][]string{{"configure", ""}, {"configure", "1.0.0"}} {
		_, calls := e.run(debPostinst, args...)
		if diff := cmp.Diff(start, calls); diff != "" {
			t.Errorf("postinst %v (-want +got):\n%s", args, diff)
		}
	}
	for p, mode := range map[string]os.FileMode{"/var/lib/msgguard": 0o700, "/var/log/msgguard": 0o750, "/etc/msgguard": 0o755} {
		if st, err := os.Stat(filepath.Join(e.root, p)); err != nil || st.Mode().Perm() != mode {
			t.Errorf("%s: %v %v; want mode %v", p, st, err, mode)
		}
	}
	// An administrator masked the unit: it stays off.
	os.WriteFile(filepath.Join(e.root, "unit-state"), []byte("masked\n"), 0o644)
	out, calls := e.run(debPostinst, "configure", "1.0.0")
	if diff := cmp.Diff([]string{"daemon-reload", "is-enabled_msgguard.service"}, calls); diff != "" || !strings.Contains(out, "masked") {
		t.Errorf("postinst with a masked unit (-want +got):\n%s\n%s", diff, out)
	}
	// prerm: an upgrade leaves the service running; a removal stops it.
	if _, calls := e.run(debPrerm, "upgrade", "1.1.0"); len(calls) != 0 {
		t.Errorf("prerm upgrade ran %v", calls)
	}
	if _, calls := e.run(debPrerm, "remove"); !cmp.Equal(calls, []string{"disable_--now_msgguard.service"}) {
		t.Errorf("prerm remove ran %v", calls)
	}
	// postrm remove keeps everything; purge removes it.
	os.WriteFile(filepath.Join(e.root, "etc/msgguard/agent.yaml"), []byte("# edited\n"), 0o644)
	os.WriteFile(filepath.Join(e.root, "var/lib/msgguard/state.db"), []byte("db"), 0o600)
	os.MkdirAll(filepath.Join(e.root, "etc/systemd/system"), 0o755)
	os.WriteFile(filepath.Join(e.root, "etc/systemd/system/msgguard.service"), nil, 0o644)
	if _, calls := e.run(debPostrm, "remove"); !cmp.Equal(calls, []string{"daemon-reload"}) {
		t.Errorf("postrm remove ran %v", calls)
	}
	for _, p := range []string{"/etc/msgguard/agent.yaml", "/var/lib/msgguard/state.db", "/var/log/msgguard"} {
		if !e.exists(p) {
			t.Errorf("postrm remove removed %s", p)
		}
	}
	e.run(debPostrm, "purge")
	for _, p := range []string{"/etc/msgguard", "/var/lib/msgguard", "/var/log/msgguard", "/etc/systemd/system/msgguard.service"} {
		if e.exists(p) {
			t.Errorf("postrm purge left %s", p)
		}
	}
}

func TestScriptsWithoutSystemd(t *testing.T) {
	e := newScriptEnv(t, false)
	out, calls := e.run(debPostinst, "configure", "")
	if len(calls) != 0 {
		t.Errorf("postinst without systemd ran systemctl %v", calls)
	}
	if !strings.Contains(out, "agent run --config ") || !strings.Contains(out, "does not run systemd") {
		t.Errorf("postinst without systemd does not say how to run the agent:\n%s", out)
	}
	if !e.exists("/var/lib/msgguard") {
		t.Error("postinst without systemd did not create the data directory")
	}
	if _, calls := e.run(debPrerm, "remove"); len(calls) != 0 {
		t.Errorf("prerm without systemd ran %v", calls)
	}
}

func TestRPMScriptsWithSystemd(t *testing.T) {
	e := newScriptEnv(t, true)
	start := []string{"daemon-reload", "is-enabled_msgguard.service", "enable_msgguard.service", "restart_msgguard.service"}
	for _, n := range []string{"1", "2"} { // install, upgrade
		if _, calls := e.run(rpmPost, n); !cmp.Equal(calls, start) {
			t.Errorf("%%post %s ran %v", n, calls)
		}
	}
	if _, calls := e.run(rpmPreun, "1"); len(calls) != 0 {
		t.Errorf("%%preun 1 (upgrade) ran %v", calls)
	}
	if _, calls := e.run(rpmPostun, "1"); len(calls) != 0 {
		t.Errorf("%%postun 1 (upgrade) ran %v", calls)
	}
	if _, calls := e.run(rpmPreun, "0"); !cmp.Equal(calls, []string{"disable_--now_msgguard.service"}) {
		t.Errorf("%%preun 0 ran %v", calls)
	}
	if _, calls := e.run(rpmPostun, "0"); !cmp.Equal(calls, []string{"daemon-reload"}) {
		t.Errorf("%%postun 0 ran %v", calls)
	}
	if !e.exists("/var/lib/msgguard") {
		t.Error("erase removed the data directory")
	}
}
