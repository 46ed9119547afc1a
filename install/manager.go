package install

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
	// kardianos system name); see DetectInitAt. "" refuses to install.
	Init string
	// InitFound says what DetectInitAt saw, for the refusal message.
	InitFound string
	Paths     Paths
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
	// unsafeDirs returns the temporary and Go build cache directories
	// a binary must not be installed from (default: unsafeDirs).
	unsafeDirs func() (temp, cache []string)

	// undo holds the steps that take back what the running Install
	// created, newest last; see rollback.
	undo []undoStep
}

// undoStep takes back one change of an install.
type undoStep struct {
	what string
	fn   func() error
}

// NewManager returns a Manager for the running machine.
func NewManager(out io.Writer) (*Manager, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the agent binary: %w", err)
	}
	d := DetectInitAt("/", runtime.GOOS)
	return &Manager{
		GOOS:       runtime.GOOS,
		Init:       d.Init,
		InitFound:  d.Found,
		Paths:      DefaultPaths(),
		Executable: exe,
		Run:        &platform.ExecRunner{Paths: Commands()},
		Out:        out,
	}, nil
}

// DetectInit names the running init system of this machine, or "" if none
// works; see DetectInitAt.
func DetectInit(goos string) string {
	return DetectInitAt("/", goos).Init
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

// Install installs (or updates) the service: it checks the init system, the
// binary and the source files before touching anything, creates the
// directories, installs the files, writes the service definition and
// enables and (re)starts the service. Running it again with the same
// inputs changes nothing but the restart. If any step fails, what this
// install created is taken back (rollback) and the error says so.
func (m *Manager) Install(ctx context.Context, opt InstallOptions) error {
	if m.Init == "" {
		found := m.InitFound
		if found == "" {
			found = "no service manager found"
		}
		return &NoInitError{Found: found, Executable: m.Executable, Config: m.Paths.Config}
	}
	dirs := m.unsafeDirs
	if dirs == nil {
		dirs = func() ([]string, []string) { return unsafeDirs(m.GOOS) }
	}
	temp, cache := dirs()
	if err := CheckLocation(m.Executable, temp, cache); err != nil {
		return err
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
	m.undo = nil
	err = m.makeDirs()
	if err == nil {
		err = m.installFiles(pol, cfg)
	}
	if err == nil {
		switch m.Init {
		case InitSystemd:
			err = m.installSystemd(ctx, opt.NoStart)
		case InitLaunchd:
			err = m.installLaunchd(ctx, opt.NoStart)
		case InitWindows:
			err = m.installWindows(opt.NoStart)
		default:
			err = m.installKardianos(opt.NoStart)
		}
	}
	if err != nil {
		return m.rollback(err)
	}
	m.undo = nil
	return nil
}

// onUndo registers how to take back a change just made.
func (m *Manager) onUndo(what string, fn func() error) {
	m.undo = append(m.undo, undoStep{what, fn})
}

// rollback takes back this install's changes, newest first, and returns
// cause with what was (or could not be) taken back.
func (m *Manager) rollback(cause error) error {
	if len(m.undo) == 0 {
		return cause
	}
	var failed []string
	for i := len(m.undo) - 1; i >= 0; i-- {
		u := m.undo[i]
		if err := u.fn(); err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", u.what, err))
		} else {
			m.say("rolled back: %s", u.what)
		}
	}
	m.undo = nil
	if len(failed) > 0 {
		return fmt.Errorf("%w\nthe install was rolled back, except: %s", cause, strings.Join(failed, "; "))
	}
	return fmt.Errorf("%w\nthe install was rolled back; nothing it created is left", cause)
}

// ensureDirUndo is ensureDir, registering the removal of each directory
// it creates (parents too). Removal is os.Remove: a directory that
// something else filled in the meantime stays.
func (m *Manager) ensureDirUndo(dir string, mode os.FileMode) error {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || d == filepath.Dir(d) {
			break
		}
		missing = append(missing, d)
	}
	err := ensureDir(dir, mode)
	// Register even after an error: ensureDir may have created parents.
	for i := len(missing) - 1; i >= 0; i-- {
		d := missing[i]
		if _, serr := os.Lstat(d); serr == nil {
			m.onUndo("created directory "+d, func() error { return removeIfExists(d) })
		}
	}
	return err
}

// writeFileUndo is writeFile, registering the removal of a file it
// created or the restoring of the content and mode it replaced.
func (m *Manager) writeFileUndo(path string, data []byte, mode os.FileMode) (bool, error) {
	old, rerr := os.ReadFile(path)
	st, serr := os.Lstat(path)
	existed := serr == nil
	changed, err := writeFile(path, data, mode)
	if err != nil || !changed {
		return changed, err
	}
	switch {
	case !existed:
		m.onUndo("wrote "+path, func() error { return removeIfExists(path) })
	case rerr == nil && st.Mode().IsRegular():
		m.onUndo("restored "+path, func() error {
			_, err := writeFile(path, old, st.Mode().Perm())
			return err
		})
	}
	return true, nil
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
		if err := m.ensureDirUndo(d.path, d.mode); err != nil {
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
		if _, err := m.writeFileUndo(m.Paths.Policy, pol, 0o644); err != nil {
			return err
		}
		m.say("policy installed at %s", m.Paths.Policy)
	}
	switch {
	case cfg != nil:
		if _, err := m.writeFileUndo(m.Paths.Config, cfg, 0o644); err != nil {
			return err
		}
		m.say("config installed at %s", m.Paths.Config)
	case m.DefaultConfig != nil:
		if _, err := os.Lstat(m.Paths.Config); err == nil {
			m.say("config %s kept", m.Paths.Config)
			return nil
		}
		if _, err := m.writeFileUndo(m.Paths.Config, m.DefaultConfig, 0o644); err != nil {
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
	_, statErr := os.Lstat(m.Paths.Unit)
	fresh := statErr != nil
	// Registered first so that it runs last: systemd rereads the unit
	// directory after the unit file is gone or restored.
	m.onUndo("systemctl daemon-reload", func() error { return m.systemctl(context.WithoutCancel(ctx), "daemon-reload") })
	changed, err := m.writeFileUndo(m.Paths.Unit, []byte(unit), 0o644)
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
	if fresh {
		// --now: a unit that failed to start keeps being restarted
		// (Restart=always) until stopped.
		m.onUndo("systemctl disable --now "+unitName, func() error {
			return m.systemctl(context.WithoutCancel(ctx), "disable", "--now", unitName)
		})
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
	changed, err := m.writeFileUndo(m.Paths.Unit, []byte(plist), 0o644)
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
	// Use the system we detected, not kardianos' own first guess: its
	// SysV detection accepts any host with /etc/init.d.
	for _, sys := range service.AvailableSystems() {
		if sys.String() == m.Init {
			return sys.New(noopProgram{}, m.kardianosConfig())
		}
	}
	return service.New(noopProgram{}, m.kardianosConfig())
}

// initScript is where kardianos writes the OpenRC and SysV scripts.
func initScript() string { return "/etc/init.d/" + ServiceName }

// kardianosInstalled asks kardianos whether the service exists. Its Status
// fails in ways other than ErrNotInstalled when the script is missing (a
// SysV "service" command that exits 1), so any error is settled by
// whether the script file is there.
func (m *Manager) kardianosInstalled(s service.Service) (installed bool, st service.Status) {
	st, err := s.Status()
	switch {
	case err == nil:
		return true, st
	case errors.Is(err, service.ErrNotInstalled):
		return false, st
	}
	if m.kardianos != nil { // tests: no script file to look at
		return false, st
	}
	_, serr := os.Lstat(initScript())
	return serr == nil, service.StatusUnknown
}

func (m *Manager) kardianosConfig() *service.Config {
	return &service.Config{
		Name:        ServiceName,
		DisplayName: ServiceDisplayName,
		Description: ServiceDescription,
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
	installed, st := m.kardianosInstalled(s)
	if !installed {
		if err := s.Install(); err != nil {
			return fmt.Errorf("installing the %s service: %w", m.Init, err)
		}
		m.onUndo("removed the "+m.Init+" service", func() error {
			_ = s.Stop()
			return s.Uninstall()
		})
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
// logs are kept unless purge is set. Purge also works where no service was
// ever registered (no init system, or an install that failed half-way):
// it removes what install creates.
func (m *Manager) Uninstall(ctx context.Context, purge bool) error {
	var err error
	switch m.Init {
	case InitSystemd:
		err = m.uninstallSystemd(ctx)
	case InitLaunchd:
		err = m.uninstallLaunchd(ctx)
	case "":
		if !purge {
			found := m.InitFound
			if found == "" {
				found = "no service manager found"
			}
			return fmt.Errorf("%w: %s; no service can be registered here, so there is none to remove (--purge removes msgguard's files)", ErrNoInit, found)
		}
		m.say("no service manager here (%s); removing msgguard's files only", m.InitFound)
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
	if installed, _ := m.kardianosInstalled(s); !installed {
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
		if _, err := os.Lstat(d); err != nil {
			continue
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
