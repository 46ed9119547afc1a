package install

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/kardianos/service"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"
)

// Windows recovery settings, as Kolide launcher sets them
// (cmd/launcher/svc_config_windows.go): restart after 5 s, three times,
// failure count reset after a day, and also on non-crash failures (the
// service stopping itself with a non-zero exit code), which the SCM does not
// count as failures by default.
const (
	recoveryDelay       = 5 * time.Second
	recoveryResetPeriod = 24 * 60 * 60 // seconds
)

// RecoveryActions returns the SCM recovery actions we configure.
func RecoveryActions() []mgr.RecoveryAction {
	a := mgr.RecoveryAction{Type: mgr.ServiceRestart, Delay: recoveryDelay}
	return []mgr.RecoveryAction{a, a, a}
}

func (m *Manager) installWindows(noStart bool) error {
	s, err := m.kardianosService()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoInit, err)
	}
	st, err := s.Status()
	if errors.Is(err, service.ErrNotInstalled) {
		if err := s.Install(); err != nil {
			return fmt.Errorf("creating the service: %w", err)
		}
		m.onUndo("removed the service", func() error {
			_ = s.Stop()
			return s.Uninstall()
		})
		m.say("service created")
	}
	if err := m.configureWindows(); err != nil {
		return err
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

// configureWindows (re)applies everything kardianos does not: the binary
// path and arguments of an existing service, delayed automatic start,
// recovery actions, and the event log source. It runs on every install, so
// a service changed by hand is put right.
func (m *Manager) configureWindows() error {
	sm, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connecting to the service manager: %w", err)
	}
	defer sm.Disconnect()
	s, err := sm.OpenService(ServiceName)
	if err != nil {
		return fmt.Errorf("opening service %s: %w", ServiceName, err)
	}
	defer s.Close()
	c, err := s.Config()
	if err != nil {
		return fmt.Errorf("reading the service configuration: %w", err)
	}
	c.BinaryPathName = commandLine(m.Executable, m.ServiceArgs())
	c.StartType = mgr.StartAutomatic
	// Delayed start: the agent has nothing to do in the first minutes of
	// boot and should not compete with logon.
	c.DelayedAutoStart = true
	if err := s.UpdateConfig(c); err != nil {
		return fmt.Errorf("updating the service configuration: %w", err)
	}
	if err := s.SetRecoveryActions(RecoveryActions(), recoveryResetPeriod); err != nil {
		return fmt.Errorf("setting recovery actions: %w", err)
	}
	if err := s.SetRecoveryActionsOnNonCrashFailures(true); err != nil {
		return fmt.Errorf("setting recovery on non-crash failures: %w", err)
	}
	m.say("recovery: restart after %v (3 times), reset after a day; delayed automatic start", recoveryDelay)
	err = eventlog.InstallAsEventCreate(ServiceName, eventlog.Error|eventlog.Warning|eventlog.Info)
	if err != nil && !strings.Contains(err.Error(), "exists") {
		return fmt.Errorf("registering the event log source: %w", err)
	}
	return nil
}

// commandLine quotes the executable and arguments for the SCM's
// BinaryPathName (CommandLineToArgvW rules).
func commandLine(exe string, args []string) string {
	parts := []string{syscall.EscapeArg(exe)}
	for _, a := range args {
		parts = append(parts, syscall.EscapeArg(a))
	}
	return strings.Join(parts, " ")
}
