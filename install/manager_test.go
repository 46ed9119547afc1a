//go:build linux

package install

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kardianos/service"

	"github.com/msgguard/msgguard/platform/platformtest"
)

// tempPaths returns Linux-shaped paths under a temporary root.
func tempPaths(t *testing.T) Paths {
	t.Helper()
	r := t.TempDir()
	return Paths{
		ConfigDir: r + "/etc/msgguard", DataDir: r + "/var/lib/msgguard", RunDir: r + "/run/msgguard",
		Socket: r + "/run/msgguard/agent.sock", DB: r + "/var/lib/msgguard/state.db",
		Policy: r + "/etc/msgguard/policy.yaml", Config: r + "/etc/msgguard/agent.yaml",
		LogDir: r + "/var/log/msgguard", Unit: r + "/etc/systemd/system/msgguard.service",
	}
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("install checks root ownership; run as root")
	}
}

func okValidate(string, []byte) error { return nil }

func newTestManager(t *testing.T, init string) (*Manager, *platformtest.FakeRunner, *bytes.Buffer) {
	t.Helper()
	p := tempPaths(t)
	if err := os.MkdirAll(filepath.Dir(p.Unit), 0o755); err != nil {
		t.Fatal(err)
	}
	run := platformtest.NewFakeRunner()
	for _, c := range []string{"daemon-reload", "enable msgguard.service", "restart msgguard.service",
		"start msgguard.service", "stop msgguard.service", "disable --now msgguard.service"} {
		run.Set("systemctl "+c, "")
	}
	var out bytes.Buffer
	m := &Manager{
		GOOS: "linux", Init: init, Paths: p, Executable: "/usr/local/sbin/agent", Run: run, Out: &out,
		ValidatePolicy: okValidate, ValidateConfig: okValidate,
		DefaultConfig: []byte("# defaults\n"),
		checkExe:      func(string) error { return nil },
	}
	return m, run, &out
}

// source writes a root-owned 0644 source file outside the install paths.
func source(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	st, err := os.Lstat(p)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return st.Mode()
}

func TestInstallSystemdIdempotent(t *testing.T) {
	requireRoot(t)
	m, run, _ := newTestManager(t, InitSystemd)
	pol := source(t, "policy.yaml", "name: test\n")
	ctx := context.Background()
	if err := m.Install(ctx, InstallOptions{Policy: pol}); err != nil {
		t.Fatalf("Install: %v", err)
	}
	want := []string{"systemctl daemon-reload", "systemctl enable msgguard.service", "systemctl restart msgguard.service"}
	if diff := cmp.Diff(want, run.CallLog()); diff != "" {
		t.Errorf("first install commands (-want +got):\n%s", diff)
	}
	for p, want := range map[string]os.FileMode{
		m.Paths.ConfigDir: os.ModeDir | 0o755, m.Paths.DataDir: os.ModeDir | 0o700, m.Paths.LogDir: os.ModeDir | 0o750,
		m.Paths.Policy: 0o644, m.Paths.Config: 0o644, m.Paths.Unit: 0o644,
	} {
		if got := mode(t, p); got != want {
			t.Errorf("mode of %s = %v; want %v", p, got, want)
		}
	}
	if b, _ := os.ReadFile(m.Paths.Policy); string(b) != "name: test\n" {
		t.Errorf("installed policy = %q", b)
	}
	if _, err := os.Lstat(m.Paths.RunDir); err == nil {
		t.Error("install created the run dir; systemd's RuntimeDirectory= owns it")
	}
	unit, _ := os.ReadFile(m.Paths.Unit)
	if !strings.Contains(string(unit), "ExecStart=/usr/local/sbin/agent run --config "+m.Paths.Config+"\n") {
		t.Errorf("unit ExecStart wrong:\n%s", unit)
	}

	// Second run with the same inputs: the unit is unchanged, so no
	// daemon-reload; the admin's edited config is kept.
	if err := os.WriteFile(m.Paths.Config, []byte("# edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run.Calls = nil
	if err := m.Install(ctx, InstallOptions{}); err != nil {
		t.Fatalf("second Install: %v", err)
	}
	want = []string{"systemctl enable msgguard.service", "systemctl restart msgguard.service"}
	if diff := cmp.Diff(want, run.CallLog()); diff != "" {
		t.Errorf("second install commands (-want +got):\n%s", diff)
	}
	if b, _ := os.ReadFile(m.Paths.Config); string(b) != "# edited\n" {
		t.Errorf("second install replaced the edited config: %q", b)
	}
	if b, _ := os.ReadFile(m.Paths.Policy); string(b) != "name: test\n" {
		t.Errorf("second install changed the policy: %q", b)
	}
}

func TestInstallNoStart(t *testing.T) {
	requireRoot(t)
	m, run, _ := newTestManager(t, InitSystemd)
	if err := m.Install(context.Background(), InstallOptions{NoStart: true}); err != nil {
		t.Fatal(err)
	}
	want := []string{"systemctl daemon-reload", "systemctl enable msgguard.service"}
	if diff := cmp.Diff(want, run.CallLog()); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
}

func TestInstallRefusesUntrustedSources(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name  string
		setup func(t *testing.T) string
		want  string
	}{
		{"symlink", func(t *testing.T) string {
			real := source(t, "real.yaml", "name: x\n")
			link := filepath.Join(t.TempDir(), "link.yaml")
			if err := os.Symlink(real, link); err != nil {
				t.Fatal(err)
			}
			return link
		}, "symbolic link"},
		{"group writable", func(t *testing.T) string {
			p := source(t, "p.yaml", "name: x\n")
			os.Chmod(p, 0o664)
			return p
		}, "writable by group or others"},
		{"world writable", func(t *testing.T) string {
			p := source(t, "p.yaml", "name: x\n")
			os.Chmod(p, 0o666)
			return p
		}, "writable by group or others"},
		{"owned by nobody", func(t *testing.T) string {
			p := source(t, "p.yaml", "name: x\n")
			if err := os.Chown(p, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			return p
		}, "owned by uid 65534"},
		{"fifo", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "fifo")
			if err := mkfifo(p); err != nil {
				t.Fatal(err)
			}
			return p
		}, "not a regular file"},
		{"directory", func(t *testing.T) string { return t.TempDir() }, "not a regular file"},
		{"invalid policy", func(t *testing.T) string { return source(t, "bad.yaml", "garbage") }, "policy source is invalid"},
		{"missing", func(t *testing.T) string { return filepath.Join(t.TempDir(), "none.yaml") }, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, run, _ := newTestManager(t, InitSystemd)
			m.ValidatePolicy = func(name string, b []byte) error {
				if string(b) == "garbage" {
					return errors.New(name + ":1:1: not a policy")
				}
				return nil
			}
			err := m.Install(context.Background(), InstallOptions{Policy: tt.setup(t)})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Install = %v; want an error containing %q", err, tt.want)
			}
			if _, err := os.Lstat(m.Paths.ConfigDir); err == nil {
				t.Error("a refused install created the config dir")
			}
			if len(run.CallLog()) > 0 {
				t.Errorf("a refused install ran %v", run.CallLog())
			}
		})
	}
}

func TestInstallRefusesHostileDirs(t *testing.T) {
	requireRoot(t)
	m, _, _ := newTestManager(t, InitSystemd)
	if err := os.MkdirAll(filepath.Dir(m.Paths.DataDir), 0o755); err != nil {
		t.Fatal(err)
	}
	// A user pre-created the data dir as a link to their own directory.
	theirs := t.TempDir()
	if err := os.Symlink(theirs, m.Paths.DataDir); err != nil {
		t.Fatal(err)
	}
	if err := m.Install(context.Background(), InstallOptions{}); err == nil || !errors.Is(err, ErrUntrusted) {
		t.Fatalf("Install over a symlinked data dir = %v; want ErrUntrusted", err)
	}
	os.Remove(m.Paths.DataDir)
	if err := os.Mkdir(m.Paths.DataDir, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chown(m.Paths.DataDir, 65534, 65534)
	if err := m.Install(context.Background(), InstallOptions{}); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("Install over a data dir owned by nobody = %v; want ErrUntrusted", err)
	}
}

func TestInstallChecksExecutable(t *testing.T) {
	m, _, _ := newTestManager(t, InitSystemd)
	m.checkExe = nil
	m.unsafeDirs = func() ([]string, []string) { return nil, nil } // the ownership check, not the location check
	m.Executable = source(t, "agent", "#!/bin/sh\n")               // under /tmp: world-writable ancestor
	if err := m.Install(context.Background(), InstallOptions{}); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("Install of a binary under /tmp = %v; want ErrUntrusted", err)
	}
}

func TestCheckExecutable(t *testing.T) {
	requireRoot(t)
	for _, p := range []string{"/bin/sh", "/usr/bin/env"} {
		if err := CheckExecutable(p); err != nil {
			t.Errorf("CheckExecutable(%s) = %v; want nil (root-owned system binary)", p, err)
		}
	}
	if err := CheckExecutable(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("CheckExecutable(missing) = nil")
	}
}

func TestUninstall(t *testing.T) {
	requireRoot(t)
	m, run, _ := newTestManager(t, InitSystemd)
	ctx := context.Background()
	if err := m.Install(ctx, InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(m.Paths.DB, []byte("db"), 0o600); err != nil {
		t.Fatal(err)
	}
	run.Calls = nil
	if err := m.Uninstall(ctx, false); err != nil {
		t.Fatalf("Uninstall: %v", err)
	}
	if diff := cmp.Diff([]string{"systemctl disable --now msgguard.service", "systemctl daemon-reload"}, run.CallLog()); diff != "" {
		t.Errorf("uninstall commands (-want +got):\n%s", diff)
	}
	if _, err := os.Lstat(m.Paths.Unit); err == nil {
		t.Error("unit still present")
	}
	for _, p := range []string{m.Paths.DB, m.Paths.Config} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("uninstall without --purge removed %s", p)
		}
	}
	// Uninstalling again is fine; with --purge the data goes.
	run.Calls = nil
	if err := m.Uninstall(ctx, true); err != nil {
		t.Fatalf("Uninstall --purge: %v", err)
	}
	if len(run.CallLog()) != 0 {
		t.Errorf("second uninstall ran %v", run.CallLog())
	}
	for _, p := range []string{m.Paths.DataDir, m.Paths.ConfigDir, m.Paths.LogDir} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("--purge left %s", p)
		}
	}
}

func TestPurgeRefusesForeignPaths(t *testing.T) {
	m, _, _ := newTestManager(t, InitSystemd)
	m.Paths.DataDir = t.TempDir()
	if err := m.purge(); err == nil {
		t.Error("purge accepted a directory not named msgguard")
	}
}

func TestControlSystemd(t *testing.T) {
	m, run, _ := newTestManager(t, InitSystemd)
	ctx := context.Background()
	for _, fn := range []func(context.Context) error{m.Start, m.Stop, m.Restart} {
		if err := fn(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"systemctl start msgguard.service", "systemctl stop msgguard.service", "systemctl restart msgguard.service"}
	if diff := cmp.Diff(want, run.CallLog()); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
	run.SetErr("systemctl start msgguard.service", "", errors.New("exit status 5"))
	if err := m.Start(ctx); err == nil || !strings.Contains(err.Error(), "systemctl start msgguard.service") {
		t.Errorf("Start failure = %v; want the command named", err)
	}
}

func TestLaunchdFlow(t *testing.T) {
	requireRoot(t)
	m, run, _ := newTestManager(t, InitLaunchd)
	m.GOOS = "darwin"
	plistPath := m.Paths.Unit
	ctx := context.Background()
	notLoaded := errors.New("exit status 113")
	run.SetErr("launchctl print system/com.msgguard.agent", "", notLoaded)
	run.Set("launchctl enable system/com.msgguard.agent", "")
	run.Set("launchctl bootstrap system "+plistPath, "")
	run.Set("launchctl bootout system/com.msgguard.agent", "")
	run.Set("launchctl kickstart -k system/com.msgguard.agent", "")
	if err := m.Install(ctx, InstallOptions{}); err != nil {
		t.Fatalf("Install: %v", err)
	}
	want := []string{"launchctl enable system/com.msgguard.agent", "launchctl print system/com.msgguard.agent",
		"launchctl bootstrap system " + plistPath}
	if diff := cmp.Diff(want, run.CallLog()); diff != "" {
		t.Errorf("first install (-want +got):\n%s", diff)
	}
	if _, err := os.Lstat(m.Paths.RunDir); err != nil {
		t.Errorf("run dir not created on launchd: %v", err)
	}
	// Loaded and unchanged: kickstart -k.
	run.Set("launchctl print system/com.msgguard.agent", "state = running\n")
	run.Calls = nil
	if err := m.Install(ctx, InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	want = []string{"launchctl enable system/com.msgguard.agent", "launchctl print system/com.msgguard.agent",
		"launchctl kickstart -k system/com.msgguard.agent"}
	if diff := cmp.Diff(want, run.CallLog()); diff != "" {
		t.Errorf("second install (-want +got):\n%s", diff)
	}
	// Loaded but the definition changed (new binary path): bootout, bootstrap.
	m.Executable = "/usr/local/sbin/agent2"
	run.Calls = nil
	if err := m.Install(ctx, InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	want = []string{"launchctl enable system/com.msgguard.agent", "launchctl print system/com.msgguard.agent",
		"launchctl bootout system/com.msgguard.agent", "launchctl bootstrap system " + plistPath}
	if diff := cmp.Diff(want, run.CallLog()); diff != "" {
		t.Errorf("changed install (-want +got):\n%s", diff)
	}
	run.Calls = nil
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Uninstall(ctx, false); err != nil {
		t.Fatal(err)
	}
	want = []string{"launchctl print system/com.msgguard.agent", "launchctl bootout system/com.msgguard.agent",
		"launchctl print system/com.msgguard.agent", "launchctl bootout system/com.msgguard.agent"}
	if diff := cmp.Diff(want, run.CallLog()); diff != "" {
		t.Errorf("stop+uninstall (-want +got):\n%s", diff)
	}
	if _, err := os.Lstat(plistPath); err == nil {
		t.Error("plist left after uninstall")
	}
}

// fakeService is a kardianos service.Service that records calls.
type fakeService struct {
	installed, running bool
	calls              []string
}

func (f *fakeService) Run() error { return nil }
func (f *fakeService) Start() error {
	f.calls = append(f.calls, "start")
	f.running = true
	return nil
}
func (f *fakeService) Stop() error {
	f.calls = append(f.calls, "stop")
	f.running = false
	return nil
}
func (f *fakeService) Restart() error { f.calls = append(f.calls, "restart"); return nil }
func (f *fakeService) Install() error {
	f.calls = append(f.calls, "install")
	f.installed = true
	return nil
}
func (f *fakeService) Uninstall() error {
	f.calls = append(f.calls, "uninstall")
	f.installed = false
	return nil
}
func (f *fakeService) Logger(chan<- error) (service.Logger, error)       { return nil, nil }
func (f *fakeService) SystemLogger(chan<- error) (service.Logger, error) { return nil, nil }
func (f *fakeService) String() string                                    { return "fake" }
func (f *fakeService) Platform() string                                  { return "linux-openrc" }
func (f *fakeService) Status() (service.Status, error) {
	switch {
	case !f.installed:
		return service.StatusUnknown, service.ErrNotInstalled
	case f.running:
		return service.StatusRunning, nil
	}
	return service.StatusStopped, nil
}

func TestInstallWithoutSystemd(t *testing.T) {
	requireRoot(t)
	m, run, _ := newTestManager(t, "linux-openrc")
	fs := &fakeService{}
	var gotCfg *service.Config
	m.kardianos = func(m *Manager) (service.Service, error) {
		gotCfg = m.kardianosConfig()
		return fs, nil
	}
	ctx := context.Background()
	if err := m.Install(ctx, InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := m.Install(ctx, InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"install", "start", "restart"}, fs.calls); diff != "" {
		t.Errorf("kardianos calls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"run", "--config", m.Paths.Config}, gotCfg.Arguments); diff != "" {
		t.Errorf("service arguments (-want +got):\n%s", diff)
	}
	if len(run.CallLog()) != 0 {
		t.Errorf("systemctl used without systemd: %v", run.CallLog())
	}
	if err := m.Uninstall(ctx, false); err != nil {
		t.Fatal(err)
	}
	if fs.installed {
		t.Error("still installed")
	}
	if err := (&Manager{}).Install(ctx, InstallOptions{}); !errors.Is(err, ErrNoInit) {
		t.Errorf("Install with no init system = %v; want ErrNoInit", err)
	}
}
