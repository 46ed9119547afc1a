// Package platformtest provides test doubles for the platform seam.
package platformtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Response is what a FakeRunner returns for one command line.
type Response struct {
	Stdout []byte
	Err    error
	// Hang makes the call block until the context is done (a hung command).
	Hang bool
}

// FakeRunner serves recorded output keyed by the full command line
// ("name arg1 arg2"). Unknown command lines fail with ErrNotRecorded, so a
// probe that runs something unexpected is caught by its test.
type FakeRunner struct {
	mu        sync.Mutex
	Responses map[string]Response
	// Calls records every command line in order.
	Calls []string
}

// ErrNotRecorded is returned for a command line with no recorded response.
var ErrNotRecorded = errors.New("command not recorded")

// NewFakeRunner returns an empty FakeRunner.
func NewFakeRunner() *FakeRunner {
	return &FakeRunner{Responses: map[string]Response{}}
}

// Set records stdout for a command line.
func (r *FakeRunner) Set(cmdline string, stdout string) *FakeRunner {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Responses[cmdline] = Response{Stdout: []byte(stdout)}
	return r
}

// SetFile records the content of a fixture file for a command line.
func (r *FakeRunner) SetFile(cmdline, file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Responses[cmdline] = Response{Stdout: b}
	return nil
}

// SetErr records a failure for a command line.
func (r *FakeRunner) SetErr(cmdline string, stdout string, err error) *FakeRunner {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Responses[cmdline] = Response{Stdout: []byte(stdout), Err: err}
	return r
}

// SetHang makes a command line block until its context ends.
func (r *FakeRunner) SetHang(cmdline string) *FakeRunner {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Responses[cmdline] = Response{Hang: true}
	return r
}

// Output implements platform.Runner.
func (r *FakeRunner) Output(ctx context.Context, name string, args ...string) ([]byte, error) {
	line := strings.TrimSpace(name + " " + strings.Join(args, " "))
	r.mu.Lock()
	r.Calls = append(r.Calls, line)
	resp, ok := r.Responses[line]
	r.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%q: %w", line, ErrNotRecorded)
	}
	if resp.Hang {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return resp.Stdout, resp.Err
}

// CallLog returns a copy of the recorded calls.
func (r *FakeRunner) CallLog() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.Calls...)
}

// LoadDir records every file in dir: the file name, with "_" for spaces and
// without its ".txt" extension, is the command line. Use it for directories
// of captured outputs.
func (r *FakeRunner) LoadDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".txt") {
			continue
		}
		line := strings.ReplaceAll(strings.TrimSuffix(e.Name(), ".txt"), "_", " ")
		if err := r.SetFile(line, filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// CombinedOutput serves the same recordings as Output (recordings of tools
// that answer on stderr hold the merged text).
func (r *FakeRunner) CombinedOutput(ctx context.Context, name string, args ...string) ([]byte, error) {
	return r.Output(ctx, name, args...)
}
