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
// command output captured on that machine. When there is no file for the
// whole line, "<Dir>/name.txt" answers every call of that command (for
// commands whose arguments are a long script, such as the Windows BitLocker
// probe's powershell call). A command without a recording fails with
// ErrNotRecorded, which probes report as unknown.
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
		// Not representable as a file name; only the per-command file can
		// answer it.
		file = "\x00"
	}
	fsys := NewDirFS(filepath.Clean(r.Dir))
	b, err := ReadFile(fsys, file, MaxCommandOutput)
	if err != nil && !strings.ContainsAny(name, "/\\") {
		b, err = ReadFile(fsys, name+".txt", MaxCommandOutput)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, ErrNotRecorded)
	}
	return b, nil
}
