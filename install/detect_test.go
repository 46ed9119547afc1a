//go:build linux

package install

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kardianos/service"
)

// fakeRoot builds a root file system with the given files ("dir/" makes a
// directory, "fifo:" a named pipe).
func fakeRoot(t *testing.T, entries map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range entries {
		full := filepath.Join(root, strings.TrimPrefix(p, "fifo:"))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasSuffix(p, "/"):
			err := os.MkdirAll(full, 0o755)
			if err != nil {
				t.Fatal(err)
			}
		case strings.HasPrefix(p, "fifo:"):
			if err := syscall.Mkfifo(full, 0o600); err != nil {
				t.Fatal(err)
			}
		default:
			if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

func TestDetectInitAt(t *testing.T) {
	tests := []struct {
		name    string
		entries map[string]string
		want    string
		found   []string
	}{
		{"systemd", map[string]string{"/run/systemd/system/": "", "/proc/1/comm": "systemd\n"}, InitSystemd, nil},
		{"openrc", map[string]string{"/run/openrc/softlevel": "default", "/sbin/openrc-run": "", "/etc/init.d/": ""}, InitOpenRC, nil},
		{"sysv", map[string]string{"fifo:/run/initctl": "", "/etc/init.d/": "", "/usr/sbin/update-rc.d": "", "/proc/1/comm": "init\n"}, InitSysV, nil},
		// The container of the issue: systemd's and sysvinit's files are
		// installed, neither runs.
		{"container", map[string]string{"/etc/init.d/": "", "/usr/sbin/update-rc.d": "", "/lib/systemd/systemd": "",
			"/proc/1/comm": "process_api\n"}, "", []string{`PID 1 is "process_api"`, "/run/systemd/system"}},
		{"openrc installed, not booted", map[string]string{"/sbin/openrc-run": "", "/proc/1/comm": "tini\n"}, "", []string{`"tini"`, "/run/openrc/softlevel"}},
		{"initctl not a fifo", map[string]string{"/run/initctl": "", "/etc/init.d/": "", "/sbin/chkconfig": ""}, "", []string{`PID 1 is "unknown"`}},
		{"systemd dir is a file", map[string]string{"/run/systemd/system": ""}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := DetectInitAt(fakeRoot(t, tt.entries), "linux")
			if d.Init != tt.want {
				t.Errorf("Init = %q; want %q (found %q)", d.Init, tt.want, d.Found)
			}
			for _, f := range tt.found {
				if !strings.Contains(d.Found, f) {
					t.Errorf("Found = %q; want it to mention %q", d.Found, f)
				}
			}
		})
	}
	if d := DetectInitAt(t.TempDir(), "darwin"); d.Init != InitLaunchd {
		t.Errorf("darwin: %q", d.Init)
	}
	if d := DetectInitAt(t.TempDir(), "windows"); d.Init != InitWindows {
		t.Errorf("windows: %q", d.Init)
	}
}

// TestInstallWithoutInitSystem: on a host without a running service manager,
// install refuses before writing anything and says how to run the agent.
func TestInstallWithoutInitSystem(t *testing.T) {
	m, run, out := newTestManager(t, "")
	m.InitFound = DetectInitAt(fakeRoot(t, map[string]string{"/proc/1/comm": "process_api\n"}), "linux").Found
	err := m.Install(context.Background(), InstallOptions{})
	var ni *NoInitError
	if !errors.As(err, &ni) || !errors.Is(err, ErrNoInit) {
		t.Fatalf("Install = %v; want a NoInitError", err)
	}
	for _, want := range []string{`PID 1 is "process_api"`, "Nothing was changed",
		"/usr/local/sbin/agent run --config " + m.Paths.Config, "supervisor"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	assertNothingInstalled(t, m)
	if len(run.CallLog()) != 0 || out.Len() != 0 {
		t.Errorf("a refused install ran %v and said %q", run.CallLog(), out)
	}
}

func assertNothingInstalled(t *testing.T, m *Manager) {
	t.Helper()
	for _, p := range []string{m.Paths.ConfigDir, m.Paths.DataDir, m.Paths.LogDir, m.Paths.RunDir, m.Paths.Unit} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s exists after a failed install", p)
		}
	}
}

func TestCheckLocation(t *testing.T) {
	base := t.TempDir()
	cache := filepath.Join(base, "root", ".cache", "go-build")
	tmp := filepath.Join(base, "tmp")
	good := filepath.Join(base, "usr", "local", "sbin")
	for _, d := range []string{filepath.Join(cache, "ab"), tmp, good} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(good, "agent-link")
	if err := os.Symlink(filepath.Join(cache, "ab", "agent"), link); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{filepath.Join(cache, "ab", "agent"), filepath.Join(tmp, "agent"), filepath.Join(good, "agent")} {
		if err := os.WriteFile(f, nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	temps, caches := []string{tmp}, []string{cache}
	tests := []struct {
		exe  string
		want string // "" = accepted
	}{
		{filepath.Join(cache, "ab", "agent"), "inside the Go build cache"},
		{link, "inside the Go build cache"}, // resolved
		{filepath.Join(tmp, "agent"), "inside the temporary directory"},
		{"/var/cache/other/go-build/12/agent", "inside a Go build directory"},   // a GOCACHE we were not told
		{"/tmp2/go-build3383941/b001/exe/agent", "inside a Go build directory"}, // go run before Go 1.24
		{filepath.Join(good, "agent"), ""},
		{"/usr/bin/agent", ""},
		{"/opt/go-builder/agent", ""},
		{tmp + "x/agent", ""}, // a sibling of the temp dir, not inside it
	}
	for _, tt := range tests {
		err := CheckLocation(tt.exe, temps, caches)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("CheckLocation(%s) = %v; want nil", tt.exe, err)
		case tt.want != "" && (!errors.Is(err, ErrBadLocation) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("CheckLocation(%s) = %v; want ErrBadLocation saying %q", tt.exe, err, tt.want)
		case tt.want != "" && !strings.Contains(err.Error(), "install -o root -g root -m 0755 agent /usr/local/sbin/agent"):
			t.Errorf("CheckLocation(%s) does not say how to install: %v", tt.exe, err)
		}
	}
}

func TestInstallRefusesBuildCacheBinary(t *testing.T) {
	m, run, _ := newTestManager(t, InitSystemd)
	cache := t.TempDir()
	m.Executable = filepath.Join(cache, "3f", "agent")
	m.unsafeDirs = func() ([]string, []string) { return nil, []string{cache} }
	err := m.Install(context.Background(), InstallOptions{})
	if !errors.Is(err, ErrBadLocation) {
		t.Fatalf("Install from the build cache = %v; want ErrBadLocation", err)
	}
	assertNothingInstalled(t, m)
	if len(run.CallLog()) != 0 {
		t.Errorf("ran %v", run.CallLog())
	}
}

// TestInstallRollsBack: the service does not start; everything the install
// created goes, the unit is disabled again and systemd reloaded after the
// unit file is gone.
func TestInstallRollsBack(t *testing.T) {
	requireRoot(t)
	m, run, _ := newTestManager(t, InitSystemd)
	run.SetErr("systemctl restart msgguard.service", "", errors.New("exit status 1"))
	// Parents of the config dir do not exist yet: they go too.
	m.Paths.ConfigDir = filepath.Join(filepath.Dir(m.Paths.ConfigDir), "new", "msgguard")
	m.Paths.Config = filepath.Join(m.Paths.ConfigDir, "agent.yaml")
	m.Paths.Policy = filepath.Join(m.Paths.ConfigDir, "policy.yaml")
	pol := source(t, "policy.yaml", "name: test\n")
	err := m.Install(context.Background(), InstallOptions{Policy: pol})
	if err == nil || !strings.Contains(err.Error(), "systemctl restart msgguard.service") || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("Install = %v; want the restart failure and a rollback", err)
	}
	assertNothingInstalled(t, m)
	if _, err := os.Lstat(filepath.Dir(m.Paths.ConfigDir)); err == nil {
		t.Error("a parent directory install created is left")
	}
	if _, err := os.Lstat(filepath.Dir(m.Paths.Unit)); err != nil {
		t.Error("rollback removed a directory that existed before")
	}
	want := []string{"systemctl daemon-reload", "systemctl enable msgguard.service", "systemctl restart msgguard.service",
		"systemctl disable --now msgguard.service", "systemctl daemon-reload"}
	if diff := cmp.Diff(want, run.CallLog()); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
}

// TestUpdateRollsBack: a failing update restores the files it replaced and
// leaves the existing service enabled.
func TestUpdateRollsBack(t *testing.T) {
	requireRoot(t)
	m, run, _ := newTestManager(t, InitSystemd)
	ctx := context.Background()
	if err := m.Install(ctx, InstallOptions{Config: source(t, "a.yaml", "# first\n")}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(m.Paths.DB, []byte("db"), 0o600); err != nil {
		t.Fatal(err)
	}
	unitBefore, _ := os.ReadFile(m.Paths.Unit)
	run.Calls = nil
	run.SetErr("systemctl restart msgguard.service", "", errors.New("exit status 1"))
	m.Executable = "/usr/local/sbin/agent-new"
	if err := m.Install(ctx, InstallOptions{Config: source(t, "b.yaml", "# second\n")}); err == nil {
		t.Fatal("Install succeeded with a failing restart")
	}
	if b, _ := os.ReadFile(m.Paths.Config); string(b) != "# first\n" {
		t.Errorf("config after a failed update = %q; want the previous one", b)
	}
	if b, _ := os.ReadFile(m.Paths.Unit); string(b) != string(unitBefore) {
		t.Error("unit not restored")
	}
	if b, _ := os.ReadFile(m.Paths.DB); string(b) != "db" {
		t.Error("the database was touched")
	}
	for _, c := range run.CallLog() {
		if strings.HasPrefix(c, "systemctl disable") {
			t.Errorf("a failed update disabled the existing service: %v", run.CallLog())
		}
	}
}

// TestPurgeWithoutService: --purge removes what install created even when
// no service was registered (the issue: "remove /etc/init.d/msgguard: no
// such file or directory").
func TestPurgeWithoutService(t *testing.T) {
	requireRoot(t)
	for _, init := range []string{"", InitSysV} {
		t.Run("init="+init, func(t *testing.T) {
			m, _, _ := newTestManager(t, init)
			fs := &fakeService{}
			statusErr := errors.New("exit status 1") // kardianos' SysV Status without a script
			m.kardianos = func(*Manager) (service.Service, error) { return &oddStatus{fs, statusErr}, nil }
			for _, d := range []string{m.Paths.ConfigDir, m.Paths.DataDir, m.Paths.LogDir} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			os.WriteFile(m.Paths.Config, []byte("x"), 0o644)
			if init == "" {
				if err := m.Uninstall(context.Background(), false); !errors.Is(err, ErrNoInit) {
					t.Errorf("Uninstall without --purge and without an init system = %v; want ErrNoInit", err)
				}
			}
			if err := m.Uninstall(context.Background(), true); err != nil {
				t.Fatalf("Uninstall --purge = %v", err)
			}
			for _, d := range []string{m.Paths.ConfigDir, m.Paths.DataDir, m.Paths.LogDir} {
				if _, err := os.Lstat(d); err == nil {
					t.Errorf("%s left", d)
				}
			}
			if len(fs.calls) != 0 {
				t.Errorf("kardianos calls %v for a service that is not there", fs.calls)
			}
		})
	}
}

// TestKardianosStatusError: a Status error other than ErrNotInstalled is
// not "already installed"; a start failure removes the service again.
func TestKardianosStatusError(t *testing.T) {
	requireRoot(t)
	m, _, _ := newTestManager(t, InitSysV)
	fs := &fakeService{}
	failing := &failStart{oddStatus{fs, errors.New("exit status 1")}}
	m.kardianos = func(*Manager) (service.Service, error) { return failing, nil }
	err := m.Install(context.Background(), InstallOptions{})
	if err == nil || !strings.Contains(err.Error(), "starting the service") {
		t.Fatalf("Install = %v; want the start failure", err)
	}
	if diff := cmp.Diff([]string{"install", "stop", "uninstall"}, fs.calls); diff != "" {
		t.Errorf("kardianos calls (-want +got):\n%s", diff)
	}
	assertNothingInstalled(t, m)
}

// oddStatus fails Status with err while the wrapped service is not
// installed, as kardianos' SysV backend does.
type oddStatus struct {
	*fakeService
	err error
}

func (o *oddStatus) Status() (service.Status, error) {
	if !o.installed {
		return service.StatusUnknown, o.err
	}
	return o.fakeService.Status()
}

type failStart struct{ oddStatus }

func (f *failStart) Start() error { return errors.New("exit status 1") }
