package ios

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// session runs the commands of one scan of one device.
type session struct {
	run      platform.Runner
	udid     string
	timeout  time.Duration
	problems []policy.Problem
	fatal    error
	timeouts int
}

var (
	errTimeout = errors.New("timed out")
	errSkipped = errors.New("skipped: the device stopped answering")
)

// cmd runs name with args under the per-command timeout. Device-level
// failures (unplugged, not paired) become s.fatal and end the scan.
func (s *session) cmd(ctx context.Context, name string, args ...string) ([]byte, error) {
	if s.fatal != nil {
		return nil, s.fatal
	}
	if s.timeouts >= maxConsecutiveTimeouts {
		return nil, errSkipped
	}
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	out, err := s.run.Output(cctx, name, args...)
	if err == nil {
		s.timeouts = 0
		return out, nil
	}
	if ctx.Err() != nil {
		s.fatal = ctx.Err()
		return nil, s.fatal
	}
	if errors.Is(err, context.DeadlineExceeded) || cctx.Err() != nil {
		s.timeouts++
		return nil, fmt.Errorf("%w after %s", errTimeout, s.timeout)
	}
	s.timeouts = 0
	if devErr := classify(err, out); devErr != nil {
		s.fatal = devErr
		return nil, devErr
	}
	return out, err
}

func (s *session) problem(probe, command string, err error) {
	s.problems = append(s.problems, policy.Problem{Probe: probe, Path: command, Message: describe(err)})
}

// lockdownRe matches ideviceinfo's "ERROR: Could not connect to lockdownd:
// <lockdownd_strerror> (<code>)" (libimobiledevice 1.3.0+,
// tools/ideviceinfo.c) and ideviceinstaller 1.2.0's "Could not connect to
// lockdownd: <text>. Exiting.".
var lockdownRe = regexp.MustCompile(`Could not connect to lockdownd(?:: ([^(\n.]+))?`)

// pairingErrors are the lockdownd errors (libimobiledevice lockdown.c
// lockdownd_error_str_map) that mean this computer is not, or no longer,
// trusted by the device, or is waiting for the user to trust it.
var pairingErrors = []string{
	"Password protected", "User denied pairing", "Pairing dialog response pending",
	"Missing HostID", "Invalid HostID", "Missing pair record", "Invalid pair record",
	"Pairing failed", "SSL error", "Invalid configuration",
}

// classify maps the tools' device-level error messages to ErrDisconnected
// or ErrNotPaired (wrapped with lockdownd's reason); nil means the command
// merely failed.
//
//	ideviceinfo 1.3.0:       "ERROR: Device <udid> not found!" (stdout; stderr from 1.4)
//	idevicepair, installer:  "No device found with udid <udid>."
//	idevice_id -l:           "ERROR: Unable to retrieve device list!" (usbmuxd not running)
//	ideviceinstaller 1.1.1:  "Could not connect to lockdownd. Exiting."
func classify(err error, stdout []byte) error {
	if errors.Is(err, platform.ErrCommandNotAllowed) || errors.Is(err, platform.ErrCommandNotFound) {
		return err
	}
	var ce *platform.CommandError
	if !errors.As(err, &ce) {
		return nil
	}
	msg := string(ce.Stderr) + "\n" + string(stdout)
	switch {
	case strings.Contains(msg, "No device found"),
		strings.Contains(msg, "ERROR: Device ") && strings.Contains(msg, " not found!"),
		strings.Contains(msg, "ERROR: No device found!"),
		strings.Contains(msg, "Unable to retrieve device list"):
		return ErrDisconnected
	}
	if m := lockdownRe.FindStringSubmatch(msg); m != nil {
		reason := strings.TrimSpace(m[1])
		if reason == "" {
			return ErrNotPaired
		}
		for _, p := range pairingErrors {
			if strings.HasPrefix(reason, p) {
				return fmt.Errorf("%w: lockdownd: %s", ErrNotPaired, reason)
			}
		}
	}
	return nil
}

func describe(err error) string {
	var ce *platform.CommandError
	if errors.As(err, &ce) {
		if line := firstLine(ce.Stderr); line != "" {
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
