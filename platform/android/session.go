package android

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/phone"
)

// session runs the shell commands of one scan of one phone (see
// phone.Session: per-command timeout, early stop, phone-level failures end
// the scan).
type session struct {
	*phone.Session
	serial string
}

func newSession(run platform.Runner, serial string, timeout time.Duration) *session {
	return &session{Session: phone.NewSession(run, timeout, classify), serial: serial}
}

// shell runs `adb -s SERIAL shell args...` and returns its standard output.
// A locksettings command is refused before anything runs (checkAllowed).
func (s *session) shell(ctx context.Context, args ...string) ([]byte, error) {
	if err := checkAllowed(args); err != nil {
		return nil, err
	}
	full := append([]string{"-s", s.serial, "shell"}, args...)
	return s.Output(ctx, Command, full...)
}

// checkAllowed refuses any locksettings command before it reaches the phone:
// /system/bin/locksettings is a wrapper around `cmd lock_settings`, and its
// get-disabled subcommand registers a failed unlock attempt on a phone with a
// PIN (AOSP LockSettingsShellCommand.runGetDisabled → checkCredential →
// reportFailedPasswordAttempt). No probe needs it; `dumpsys lock_settings`
// is read-only.
func checkAllowed(args []string) error {
	for i, a := range args {
		low := strings.ToLower(a)
		if strings.Contains(low, "locksettings") {
			return fmt.Errorf("%q: %w", strings.Join(args, " "), ErrForbiddenCommand)
		}
		if low == "cmd" && i+1 < len(args) && strings.EqualFold(args[i+1], "lock_settings") {
			return fmt.Errorf("%q: %w", strings.Join(args, " "), ErrForbiddenCommand)
		}
	}
	return nil
}

// classify maps adb's own error messages (printed on stderr by the adb
// client, adb client/commandline.cpp and transport.cpp) to the phone-level
// errors; it returns nil for a command that merely failed on the phone.
// Messages seen: "error: device 'X' not found", "error: no devices/emulators
// found", "error: device offline", "error: device unauthorized.",
// "error: device still authorizing", "error: closed" (link dropped
// mid-command), "error: insufficient permissions for device".
func classify(err error, stdout []byte) error {
	var ce *platform.CommandError
	if !errors.As(err, &ce) {
		return nil
	}
	msg := strings.ToLower(string(ce.Stderr) + "\n" + string(stdout))
	switch {
	case strings.Contains(msg, "error: device unauthorized"), strings.Contains(msg, "still authorizing"):
		return ErrNotAuthorized
	case strings.Contains(msg, "error: device offline"):
		return ErrOffline
	case strings.Contains(msg, "insufficient permissions for device"):
		return ErrNoPermission
	case strings.Contains(msg, "error: device '") && strings.Contains(msg, "' not found"),
		strings.Contains(msg, "error: no devices/emulators found"),
		strings.Contains(msg, "error: closed"),
		strings.Contains(msg, "error: protocol fault"):
		return ErrDisconnected
	}
	return nil
}
