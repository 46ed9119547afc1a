package android

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// session runs the shell commands of one scan of one phone and collects
// what went wrong. Once the phone is gone (unplugged, unauthorised) every
// further command fails at once with that error; after a few timeouts in a
// row the rest are skipped.
type session struct {
	run      platform.Runner
	serial   string
	timeout  time.Duration
	problems []policy.Problem
	// fatal ends the scan: the phone left, or the caller's context ended.
	fatal error
	// timeouts counts consecutive timed-out commands.
	timeouts int
}

// errTimeout marks a command that did not finish within its timeout.
var errTimeout = errors.New("timed out")

// errSkipped marks a command not run because the phone stopped answering.
var errSkipped = errors.New("skipped: the phone stopped answering")

// shell runs `adb -s SERIAL shell args...` with the per-command timeout and
// returns its standard output. Errors are classified: phone-level failures
// (gone, unauthorised, offline) become s.fatal; a timeout or a failing
// command is returned for the caller to report as a Problem.
func (s *session) shell(ctx context.Context, args ...string) ([]byte, error) {
	if err := checkAllowed(args); err != nil {
		return nil, err
	}
	if s.fatal != nil {
		return nil, s.fatal
	}
	if s.timeouts >= maxConsecutiveTimeouts {
		return nil, errSkipped
	}
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	full := append([]string{"-s", s.serial, "shell"}, args...)
	out, err := s.run.Output(cctx, Command, full...)
	if err == nil {
		s.timeouts = 0
		return out, nil
	}
	if ctx.Err() != nil { // the caller gave up: stop the whole scan
		s.fatal = ctx.Err()
		return nil, s.fatal
	}
	if errors.Is(err, context.DeadlineExceeded) || cctx.Err() != nil {
		s.timeouts++
		return nil, fmt.Errorf("%w after %s", errTimeout, s.timeout)
	}
	s.timeouts = 0
	if phoneErr := classify(err, out); phoneErr != nil {
		s.fatal = phoneErr
		return nil, phoneErr
	}
	return out, err
}

// problem records that probe could not read what it needed.
func (s *session) problem(probe, command string, err error) {
	s.problems = append(s.problems, policy.Problem{
		Probe:   probe,
		Path:    command,
		Message: describe(err),
	})
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
	if errors.Is(err, platform.ErrCommandNotAllowed) || errors.Is(err, platform.ErrCommandNotFound) {
		// The runner cannot start adb at all (not installed, not in the
		// allowed table): nothing further can work either.
		return err
	}
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

// describe turns a command error into a Problem message: the error and, for a
// command that failed on the phone, the first line of what it printed on
// stderr (capped). Standard output is never included.
func describe(err error) string {
	var ce *platform.CommandError
	if errors.As(err, &ce) {
		line := firstLine(ce.Stderr)
		if line != "" {
			return fmt.Sprintf("%v: %s", ce.Err, line)
		}
		return ce.Err.Error()
	}
	return err.Error()
}

func firstLine(b []byte) string {
	b = bytes.TrimSpace(b)
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = bytes.TrimSpace(b[:i])
	}
	const max = 160
	if len(b) > max {
		b = append(b[:max:max], "..."...)
	}
	return strings.ToValidUTF8(string(b), "?")
}
