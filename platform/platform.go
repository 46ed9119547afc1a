// Package platform holds the seam through which every probe touches the
// operating system: a root filesystem, a command runner and the target OS
// name. Probes live in sub-packages (linux, darwin, windows, android, ios);
// each reads only through a Host, so each is tested on Linux against fixture
// trees and recorded command output.
package platform

import (
	"context"
	"errors"
	"io/fs"
	"runtime"
)

// Runner runs a command and returns its standard output. Production runners
// resolve name through a fixed table of absolute paths (see ExecRunner);
// tests serve recorded output (platformtest.FakeRunner).
type Runner interface {
	Output(ctx context.Context, name string, args ...string) ([]byte, error)
}

// Host is everything a probe may use to inspect a device.
type Host struct {
	// GOOS is runtime.GOOS in production; any value in tests.
	GOOS string
	// Root is the device's root filesystem: DirFS("/") in production, a
	// testdata tree in tests. Paths are slash-separated without a leading
	// slash ("etc/passwd").
	Root fs.FS
	// RootDir is the same root as an OS path, for libraries that need one.
	RootDir string
	// Run runs commands; nil means no commands may be run.
	Run Runner
	// Live is true when Root is the running system's own "/", so that
	// process tables and live command output describe the same device.
	Live bool
	// Browsers turns on the inspection of users' browser profiles for
	// messenger web sessions (platform/browser). The agent sets it from
	// its configuration (browsers.enabled, on by default).
	Browsers bool
	// Memo carries directory-listing results from one scan to the next
	// (see DirMemo); nil lists everything every time.
	Memo *DirMemo
	// Workers bounds the goroutines a probe runs its independent tasks on
	// (package databases, homes); 0 means one per core (GOMAXPROCS). The
	// agent's service leaves a core to its local API this way: a scheduled
	// scan may take longer, an administrator's `agent status` should not.
	Workers int
}

// Parallel returns the number of goroutines for independent probe tasks.
func (h *Host) Parallel() int {
	if h.Workers > 0 {
		return h.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// ErrNoRunner is returned by Host.Output when the host has no runner.
var ErrNoRunner = errors.New("no command runner configured")

// Output runs a command through h.Run.
func (h *Host) Output(ctx context.Context, name string, args ...string) ([]byte, error) {
	if h.Run == nil {
		return nil, ErrNoRunner
	}
	return h.Run.Output(ctx, name, args...)
}
