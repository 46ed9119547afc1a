package platform

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// ReplayRunner answers commands from recorded output files instead of
// running anything: the file for `name a b` is "<Dir>/name_a_b.txt" (spaces
// become underscores). `agent scan --commands DIR` uses it to inspect a
// fixture root of another OS (a macOS or Windows tree on Linux) with the
// command output captured on that machine. A command without a recording
// fails with ErrNotRecorded, which probes report as unknown.
type ReplayRunner struct {
	Dir string
}

// ErrNotRecorded is returned for a command that has no recorded output.
var ErrNotRecorded = errors.New("no recorded output for command")

// Output implements Runner.
func (r ReplayRunner) Output(ctx context.Context, name string, args ...string) ([]byte, error) {
	line := strings.TrimSpace(name + " " + strings.Join(args, " "))
	file := strings.ReplaceAll(line, " ", "_") + ".txt"
	if strings.ContainsAny(file, "/\\") || strings.HasPrefix(file, ".") {
		return nil, fmt.Errorf("%q: %w", line, ErrNotRecorded)
	}
	b, err := ReadFile(NewDirFS(filepath.Clean(r.Dir)), file, MaxCommandOutput)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", line, ErrNotRecorded)
	}
	return b, nil
}
