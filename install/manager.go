package install

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/kardianos/service"

	"github.com/msgguard/msgguard/platform"
)

// Init systems a Manager drives. Anything else is a kardianos/service system
// name ("linux-openrc", "unix-systemv", ...), driven through kardianos.
const (
	InitSystemd = "systemd"
	InitLaunchd = "launchd"
	InitWindows = "windows"
)

// MaxSourceSize caps --policy and --config files.
const MaxSourceSize = platform.MaxConfigSize

// Commands is the absolute-path table for the commands install runs.
func Commands() map[string][]string {
	return map[string][]string{
		"systemctl": {"/usr/bin/systemctl", "/bin/systemctl"},
		"launchctl": {"/bin/launchctl"},
	}
}

// Manager installs and controls the service on one machine.
type Manager struct {
	// GOOS selects paths and service definitions.
	GOOS string
	// Init is the init system (InitSystemd, InitLaunchd, InitWindows or a
	// kardianos system name); see DetectInit.
	Init  string
	Paths Paths
	// Executable is the agent binary the service runs.
	Executable string
	// Run runs systemctl/launchctl.
	Run platform.Runner
	// Out receives one line per step for the person installing.
	Out io.Writer
	// ValidatePolicy and ValidateConfig check a source file's content
	// before it is installed (policy.Load, config.Parse); required.
	ValidatePolicy func(name string, data []byte) error
	ValidateConfig func(name string, data []byte) error
	// DefaultConfig is the text written as the config file on a first
	// install without --config.
	DefaultConfig []byte

	// Seams for tests.
	checkExe    func(string) error
	readTrusted func(string, int64) ([]byte, error)
	kardianos   func(m *Manager) (service.Service, error)
}

// NewManager returns a Manager for the running machine.
func NewManager(out io.Writer) (*Manager, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the agent binary: %w", err)
	}
	return &Manager{
		GOOS:       runtime.GOOS,
		Init:       DetectInit(runtime.GOOS),
		Paths:      DefaultPaths(),
		Executable: exe,
		Run:        &platform.ExecRunner{Paths: Commands()},
		Out:        out,
	}, nil
}

// DetectInit names the init system: systemd when /run/systemd/system exists
// (sd_booted(3)), launchd on macOS, the SCM on Windows, otherwise whatever
// kardianos/service detects (OpenRC, SysV, upstart), or "" if none.
func DetectInit(goos string) string {
	switch goos {
	case "darwin":
		return InitLaunchd
	case "windows":
		return InitWindows
	}
	if st, err := os.Stat("/run/systemd/system"); err == nil && st.IsDir() {
		return InitSystemd
	}
	if s := service.ChosenSystem(); s != nil {
		return s.String()
	}
	return ""
}

// ServiceArgs are the arguments the service manager passes to the agent.
func (m *Manager) ServiceArgs() []string {
	return []string{"run", "--config", m.Paths.Config}
}

// InstallOptions are the flags of `agent install`.
type InstallOptions struct {
	// Policy and Config are source files to install; empty keeps what is
	// installed (or, for Config, writes the default on first install).
	Policy, Config string
	// NoStart installs and enables without starting now.
	NoStart bool
}

// ErrNoInit means no supported service manager was found.
var ErrNoInit = errors.New("no supported service manager found (systemd, launchd, Windows SCM, OpenRC or SysV init)")

func (m *Manager) say(format string, args ...any) {
	if m.Out != nil {
		fmt.Fprintf(m.Out, format+"\n", args...)
	}
}

func (m *Manager) read(path string) ([]byte, error) {
	if m.readTrusted != nil {
		return m.readTrusted(path, MaxSourceSize)
	}
	return ReadTrusted(path, MaxSourceSize)
}

// Install installs (or updates) the service: it checks the binary and the
// source files before touching anything, creates the directories, installs
// the files, writes the service definition and enables and (re)starts the
// service. Running it again with the same inputs changes nothing but the
// restart.
func (m *Manager) Install(ctx context.Context, opt InstallOptions) error {
	if m.Init == "" {
		return ErrNoInit
	}
	check := m.checkExe
	if check == nil {
		check = CheckExecutable
	}
	if err := check(m.Executable); err != nil {
		return err
	}
	var pol, cfg []byte
	var err error
	if opt.Policy != "" {
		if pol, err = m.read(opt.Policy); err != nil {
			return fmt.Errorf("policy source: %w", err)
		}
		if err := m.ValidatePolicy(opt.Policy, pol); err != nil {
			return fmt.Errorf("policy source is invalid, nothing installed:\n%w", err)
		}
	}
	if opt.Config != "" {
		if cfg, err = m.read(opt.Config); err != nil {
			return fmt.Errorf("config source: %w", err)
		}
		if err := m.ValidateConfig(opt.Config, cfg); err != nil {
			return fmt.Errorf("config source is invalid, nothing installed:\n%w", err)
		}
	}
	if err := m.makeDirs(); err != nil {
		return err
	}
	if err := m.installFiles(pol, cfg); err != nil {
		return err
	}
	switch m.Init {
	case InitSystemd:
		return m.installSystemd(ctx, opt.NoStart)
	case InitLaunchd:
		return m.installLaunchd(ctx, opt.NoStart)
	case InitWindows:
		return m.installWindows(opt.NoStart)
	}
	return m.installKardianos(opt.NoStart)
}

func (m *Manager) makeDirs() error {
	dirs := []struct {
		path string
		mode os.FileMode
	}{
		{m.Paths.ConfigDir, 0o755},
		{m.Paths.DataDir, 0o700},
		{m.Paths.LogDir, 0o750},
	}
	// systemd creates the runtime directory itself at each start
	// (RuntimeDirectory=); elsewhere the agent recreates it if a reboot
	// cleared it.
	if m.Init != InitSystemd && m.Paths.RunDir != "" {
		dirs = append(dirs, struct {
			path string
			mode os.FileMode
		}{m.Paths.RunDir, 0o755})
	}
	for _, d := range dirs {
		if err := ensureDir(d.path, d.mode); err != nil {
			return err
		}
		m.say("directory %s ready", d.path)
	}
	return nil
}

// installFiles writes the policy and config. Both are world-readable on
// Unix (0644): they hold no secrets, and `agent policy show` as a user may
// read them. Sink credentials, when they arrive, belong in a separate
// root-only file.
func (m *Manager) installFiles(pol, cfg []byte) error {
	if pol != nil {
		if _, err := writeFile(m.Paths.Policy, pol, 0o644); err != nil {
			return err
		}
		m.say("policy installed at %s", m.Paths.Policy)
	}
	switch {
	case cfg != nil:
		if _, err := writeFile(m.Paths.Config, cfg, 0o644); err != nil {
			return err
		}
		m.say("config installed at %s", m.Paths.Config)
	case m.DefaultConfig != nil:
		if _, err := os.Lstat(m.Paths.Config); err == nil {
			m.say("config %s kept", m.Paths.Config)
			return nil
		}
		if _, err := writeFile(m.Paths.Config, m.DefaultConfig, 0o644); err != nil {
			return err
		}
		m.say("default config written to %s", m.Paths.Config)
	}
	return nil
}

func (m *Manager) systemctl(ctx context.Context, args ...string) error {
	out, err := m.Run.Output(ctx, "systemctl", args...)
	if err != nil {
		return fmt.Errorf("systemctl %s: %w%s", strings.Join(args, " "), err, stderrOf(err, out))
	}
	return nil
}

// stderrOf appends a command's captured diagnostics to an error message.
func stderrOf(err error, out []byte) string {
	var ce *platform.CommandError
	msg := strings.TrimSpace(string(out))
	if errors.As(err, &ce) && len(ce.Stderr) > 0 {
		msg = strings.TrimSpace(string(ce.Stderr))
	}
	if msg == "" {
		return ""
	}
	if len(msg) > 500 {
		msg = msg[:500] + "..."
	}
	return ": " + msg
}

const unitName = ServiceName + ".service"

func (m *Manager) installSystemd(ctx context.Context, noStart bool) error {
	unit, err := SystemdUnit(SystemdUnitParams{Executable: m.Executable, Args: m.ServiceArgs(), Paths: m.Paths})
	if err != nil {
		return err
	}
	changed, err := writeFile(m.Paths.Unit, []byte(unit), 0o644)
	if err != nil {
		return err
	}
	if changed {
		m.say("unit written to %s", m.Paths.Unit)
		if err := m.systemctl(ctx, "daemon-reload"); err != nil {
			return err
		}
	}
	if err := m.systemctl(ctx, "enable", unitName); err != nil {
		return err
	}
	m.say("service enabled (starts at boot)")
	if noStart {
		return nil
	}
	// restart starts a stopped unit and replaces a running one, so that
	// a new binary, unit or config takes effect.
	if err := m.systemctl(ctx, "restart", unitName); err != nil {
		return err
	}
	m.say("service started")
	return nil
}

func (m *Manager) launchctl(ctx context.Context, args []string) error {
	out, err := m.Run.Output(ctx, "launchctl", args...)
	if err != nil {
		return fmt.Errorf("launchctl %s: %w%s", strings.Join(args, " "), err, stderrOf(err, out))
	}
	return nil
}

func (m *Manager) launchdLoaded(ctx context.Context) bool {
	_, err := m.Run.Output(ctx, "launchctl", LaunchctlPrint(LaunchdLabel)...)
	return err == nil
}

func (m *Manager) installLaunchd(ctx context.Context, noStart bool) error {
	plist, err := LaunchdPlist(LaunchdPlistParams{Label: LaunchdLabel, Executable: m.Executable, Args: m.ServiceArgs(), Paths: m.Paths})
	if err != nil {
		return err
	}
	changed, err := writeFile(m.Paths.Unit, []byte(plist), 0o644)
	if err != nil {
		return err
	}
	if changed {
		m.say("launchd job written to %s", m.Paths.Unit)
	}
	if err := m.launchctl(ctx, LaunchctlEnable(LaunchdLabel)); err != nil {
		return err
	}
	if noStart {
		return nil
	}
	loaded := m.launchdLoaded(ctx)
	switch {
	case loaded && changed:
		// A loaded job keeps its old definition until booted out.
		if err := m.launchctl(ctx, LaunchctlBootout(LaunchdLabel)); err != nil {
			return err
		}
		fallthrough
	case !loaded:
		if err := m.launchctl(ctx, LaunchctlBootstrap(m.Paths.Unit)); err != nil {
			return err
		}
	default:
		if err := m.launchctl(ctx, LaunchctlKickstart(LaunchdLabel)); err != nil {
			return err
		}
	}
	m.say("service started")
	return nil
}

// kardianosService builds the kardianos/service handle used for the SCM and
// for init systems other than systemd and launchd.
func (m *Manager) kardianosService() (service.Service, error) {
	if m.kardianos != nil {
		return m.kardianos(m)
	}
	return service.New(noopProgram{}, m.kardianosConfig())
}

func (m *Manager) kardianosConfig() *service.Config {
	return &service.Config{
		Name:        ServiceName,
		DisplayName: "msgguard device policy agent",
		Description: "Checks this device against the company's messenger and device policy.",
		Executable:  m.Executable,
		Arguments:   m.ServiceArgs(),
		Option: service.KeyValue{
			// Windows: created with delayed auto-start; recovery is
			// set afterwards (configureWindows) because kardianos sets
			// a single action and no non-crash failures (#401, PR #420).
			"StartType":        "automatic",
			"DelayedAutoStart": true,
		},
	}
}

// noopProgram satisfies service.Interface for control operations.
type noopProgram struct{}

func (noopProgram) Start(service.Service) error { return nil }
func (noopProgram) Stop(service.Service) error  { return nil }

func (m *Manager) installKardianos(noStart bool) error {
	s, err := m.kardianosService()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoInit, err)
	}
	st, err := s.Status()
	if errors.Is(err, service.ErrNotInstalled) {
		if err := s.Install(); err != nil {
			return fmt.Errorf("installing the %s service: %w", m.Init, err)
		}
		m.say("service installed (%s)", m.Init)
	} else {
		m.say("service already installed (%s)", m.Init)
	}
	if noStart {
		return nil
	}
	if st == service.StatusRunning {
		err = s.Restart()
	} else {
		err = s.Start()
	}
	if err != nil {
		return fmt.Errorf("starting the service: %w", err)
	}
	m.say("service started")
	return nil
}

// Uninstall stops and removes the service. Configuration, database and
// logs are kept unless purge is set.
func (m *Manager) Uninstall(ctx context.Context, purge bool) error {
	var err error
	switch m.Init {
	case InitSystemd:
		err = m.uninstallSystemd(ctx)
	case InitLaunchd:
		err = m.uninstallLaunchd(ctx)
	case "":
		err = ErrNoInit
	default:
		err = m.uninstallKardianos()
	}
	if err != nil {
		return err
	}
	if !purge {
		m.say("configuration and data kept in %s and %s (use --purge to remove)", m.Paths.ConfigDir, m.Paths.DataDir)
		return nil
	}
	return m.purge()
}

func (m *Manager) uninstallSystemd(ctx context.Context) error {
	if _, err := os.Lstat(m.Paths.Unit); err != nil {
		m.say("no unit at %s; nothing to remove", m.Paths.Unit)
		return nil
	}
	if err := m.systemctl(ctx, "disable", "--now", unitName); err != nil {
		return err
	}
	if err := removeIfExists(m.Paths.Unit); err != nil {
		return err
	}
	if err := m.systemctl(ctx, "daemon-reload"); err != nil {
		return err
	}
	m.say("service stopped and removed")
	return nil
}

func (m *Manager) uninstallLaunchd(ctx context.Context) error {
	if m.launchdLoaded(ctx) {
		if err := m.launchctl(ctx, LaunchctlBootout(LaunchdLabel)); err != nil {
			return err
		}
	}
	if err := removeIfExists(m.Paths.Unit); err != nil {
		return err
	}
	m.say("service stopped and removed")
	return nil
}

func (m *Manager) uninstallKardianos() error {
	s, err := m.kardianosService()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoInit, err)
	}
	if _, err := s.Status(); errors.Is(err, service.ErrNotInstalled) {
		m.say("service not installed; nothing to remove")
		return nil
	}
	_ = s.Stop() // may already be stopped
	if err := s.Uninstall(); err != nil {
		return fmt.Errorf("removing the service: %w", err)
	}
	m.say("service stopped and removed")
	return nil
}

// purge removes the agent's directories. Every path must name msgguard, so
// that a broken Paths can never remove a system directory.
func (m *Manager) purge() error {
	for _, d := range []string{m.Paths.DataDir, m.Paths.RunDir, m.Paths.LogDir, m.Paths.ConfigDir} {
		if d == "" {
			continue
		}
		if !strings.Contains(strings.ToLower(d), ServiceName) {
			return fmt.Errorf("refusing to remove %s: not an msgguard directory", d)
		}
		if err := os.RemoveAll(d); err != nil {
			return fmt.Errorf("removing %s: %w", d, err)
		}
		m.say("removed %s", d)
	}
	return nil
}

// Start starts the installed service.
func (m *Manager) Start(ctx context.Context) error {
	switch m.Init {
	case InitSystemd:
		return m.systemctl(ctx, "start", unitName)
	case InitLaunchd:
		if m.launchdLoaded(ctx) {
			return m.launchctl(ctx, []string{"kickstart", "system/" + LaunchdLabel})
		}
		if err := m.launchctl(ctx, LaunchctlEnable(LaunchdLabel)); err != nil {
			return err
		}
		return m.launchctl(ctx, LaunchctlBootstrap(m.Paths.Unit))
	}
	return m.control(func(s service.Service) error { return s.Start() })
}

// Stop stops the service; it stays installed and starts again at boot.
func (m *Manager) Stop(ctx context.Context) error {
	switch m.Init {
	case InitSystemd:
		return m.systemctl(ctx, "stop", unitName)
	case InitLaunchd:
		// With KeepAlive, killing the process would just restart it;
		// bootout unloads the job until the next start or boot.
		if !m.launchdLoaded(ctx) {
			return nil
		}
		return m.launchctl(ctx, LaunchctlBootout(LaunchdLabel))
	}
	return m.control(func(s service.Service) error { return s.Stop() })
}

// Restart restarts (or starts) the service.
func (m *Manager) Restart(ctx context.Context) error {
	switch m.Init {
	case InitSystemd:
		return m.systemctl(ctx, "restart", unitName)
	case InitLaunchd:
		if m.launchdLoaded(ctx) {
			return m.launchctl(ctx, LaunchctlKickstart(LaunchdLabel))
		}
		return m.Start(ctx)
	}
	return m.control(func(s service.Service) error { return s.Restart() })
}

func (m *Manager) control(fn func(service.Service) error) error {
	if m.Init == "" {
		return ErrNoInit
	}
	s, err := m.kardianosService()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoInit, err)
	}
	return fn(s)
}
