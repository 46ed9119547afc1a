package platform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"time"
)

// MaxCommandOutput caps what a command may print before it is cut off.
const MaxCommandOutput = 16 << 20

// DefaultCommandTimeout bounds a command run without a context deadline.
const DefaultCommandTimeout = 30 * time.Second

// ExecRunner runs commands by absolute path from a fixed table, never from
// $PATH and never from a user-writable location (kolide/launcher's allowedcmd
// idea). A name missing from the table is refused.
type ExecRunner struct {
	// Paths maps a command name ("dpkg-query") to candidate absolute paths;
	// the first that exists is used.
	Paths map[string][]string
	// Stat reports whether a path exists and is a root-owned regular file;
	// injectable for tests. Nil uses the default (see exec_unix.go).
	Stat func(string) bool
}

// ErrCommandNotAllowed is returned for a command not in the table.
var ErrCommandNotAllowed = errors.New("command not in the allowed table")

// ErrCommandNotFound is returned when none of a command's paths exist.
var ErrCommandNotFound = errors.New("command not installed")

// Resolve returns the absolute path used for name.
func (r *ExecRunner) Resolve(name string) (string, error) {
	cands, ok := r.Paths[name]
	if !ok {
		return "", fmt.Errorf("%s: %w", name, ErrCommandNotAllowed)
	}
	stat := r.Stat
	if stat == nil {
		stat = trustedExecutable
	}
	for _, p := range cands {
		if stat(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", name, ErrCommandNotFound)
}

// Output implements Runner. Standard error is kept (capped) in the error.
func (r *ExecRunner) Output(ctx context.Context, name string, args ...string) ([]byte, error) {
	return r.run(ctx, false, name, args)
}

// CombinedOutput is Output with standard error merged into the returned
// output, for tools that print their answer on stderr and exit 0
// (sysadminctl -screenLock status).
func (r *ExecRunner) CombinedOutput(ctx context.Context, name string, args ...string) ([]byte, error) {
	return r.run(ctx, true, name, args)
}

func (r *ExecRunner) run(ctx context.Context, combined bool, name string, args []string) ([]byte, error) {
	p, err := r.Resolve(name)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultCommandTimeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, p, args...)
	cmd.Env = []string{"LC_ALL=C", "LANG=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	var stdout, stderr capBuffer
	stdout.max, stderr.max = MaxCommandOutput, 64<<10
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if combined {
		cmd.Stderr = &stdout
	}
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	if ctx.Err() != nil {
		return stdout.Bytes(), fmt.Errorf("%s: %w", name, ctx.Err())
	}
	if stdout.over {
		return nil, fmt.Errorf("%s: output exceeds %d bytes", name, MaxCommandOutput)
	}
	if err != nil {
		return stdout.Bytes(), &CommandError{Name: name, Err: err, Stderr: stderr.Bytes()}
	}
	return stdout.Bytes(), nil
}

// CommandError carries a failed command's exit error and (capped) stderr,
// which some tools (sysadminctl) use for their real answer.
type CommandError struct {
	Name   string
	Err    error
	Stderr []byte
}

func (e *CommandError) Error() string {
	return fmt.Sprintf("%s: %v", e.Name, e.Err)
}

func (e *CommandError) Unwrap() error { return e.Err }

type capBuffer struct {
	bytes.Buffer
	max  int
	over bool
}

func (b *capBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		b.over = true
		room := b.max - b.Len()
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}
