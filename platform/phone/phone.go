// Package phone holds what the android and ios probes share about scanning
// a phone attached to this computer: the command session of one scan (a
// timeout per command, a stop once the phone has stopped answering, a
// device-level failure ending the scan), the Options of a scan, and how a
// phone's serial becomes its Device.ID.
package phone

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// Options tune the scan of one phone.
type Options struct {
	// ClearSerial stores the serial (Android) or UDID (iOS) itself as
	// Device.ID instead of its SHA-256 (a policy may ask for it to match
	// the asset register).
	ClearSerial bool
	// Label is the owner label an admin gave this phone (Device.Label).
	Label string
	// CommandTimeout bounds each command; zero means the probe's
	// DefaultCommandTimeout.
	CommandTimeout time.Duration
}

// Timeout returns CommandTimeout, or def when it is not set.
func (o Options) Timeout(def time.Duration) time.Duration {
	if o.CommandTimeout > 0 {
		return o.CommandTimeout
	}
	return def
}

// DeviceID is the stable Device.ID of a phone: the hex SHA-256 of its serial,
// or the serial itself when clear is true. The agent can use it to find a
// phone's stored record without scanning it.
func DeviceID(serial string, clear bool) string {
	if clear {
		return serial
	}
	sum := sha256.Sum256([]byte(serial))
	return hex.EncodeToString(sum[:])
}

// MaxConsecutiveTimeouts stops a scan early when the phone has stopped
// answering: after this many timeouts in a row the remaining commands are
// skipped (and reported), so a scan of a hung phone takes a few timeouts
// instead of one per command.
const MaxConsecutiveTimeouts = 2

// Errors a Session returns for a command it did not get an answer to.
var (
	// ErrTimeout marks a command that did not finish within its timeout.
	ErrTimeout = errors.New("timed out")
	// ErrSkipped marks a command not run because the phone stopped
	// answering.
	ErrSkipped = errors.New("skipped: the device stopped answering")
)

// Classifier maps a failed command's error (and its standard output) to a
// device-level error that ends the scan (unplugged, not authorised), or
// returns nil for a command that merely failed.
type Classifier func(err error, stdout []byte) error

// Session runs the commands of one scan of one phone and collects what
// went wrong. Once the phone is gone every further command fails at once
// with that error (Fatal); after MaxConsecutiveTimeouts timeouts in a row
// the rest are skipped. A Session is used by one goroutine.
type Session struct {
	run      platform.Runner
	timeout  time.Duration
	classify Classifier
	problems []policy.Problem
	// fatal ends the scan: the phone left, the runner cannot start the
	// tool, or the caller's context ended.
	fatal error
	// timeouts counts consecutive timed-out commands.
	timeouts int
}

// NewSession returns a Session running commands through run, each bounded
// by timeout; classify recognises the tool's device-level failures.
func NewSession(run platform.Runner, timeout time.Duration, classify Classifier) *Session {
	return &Session{run: run, timeout: timeout, classify: classify}
}

// Output runs name with args under the per-command timeout and returns its
// standard output. Device-level failures (the classifier's, and a tool the
// runner cannot start) become Fatal; a timeout or a failing command is
// returned for the caller to report as a Problem.
func (s *Session) Output(ctx context.Context, name string, args ...string) ([]byte, error) {
	if s.fatal != nil {
		return nil, s.fatal
	}
	if s.timeouts >= MaxConsecutiveTimeouts {
		return nil, ErrSkipped
	}
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	out, err := s.run.Output(cctx, name, args...)
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
		return nil, fmt.Errorf("%w after %s", ErrTimeout, s.timeout)
	}
	s.timeouts = 0
	if errors.Is(err, platform.ErrCommandNotAllowed) || errors.Is(err, platform.ErrCommandNotFound) {
		// The runner cannot start the tool at all (not installed, not in
		// the allowed table): nothing further can work either.
		s.fatal = err
		return nil, err
	}
	if devErr := s.classify(err, out); devErr != nil {
		s.fatal = devErr
		return nil, devErr
	}
	return out, err
}

// Fatal returns the error that ended the scan, or nil.
func (s *Session) Fatal() error { return s.fatal }

// Problem records that probe could not read what it needed from command.
func (s *Session) Problem(probe, command string, err error) {
	s.problems = append(s.problems, policy.Problem{Probe: probe, Path: command, Message: Describe(err)})
}

// Problems returns the problems recorded so far.
func (s *Session) Problems() []policy.Problem { return s.problems }

// Describe turns a command error into a Problem message: the error and, for
// a command that failed, the first line of what it printed on standard
// error (capped). Standard output, which can carry personal data, is never
// included.
func Describe(err error) string {
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
