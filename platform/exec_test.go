//go:build unix

package platform

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// shRunner runs /bin/sh from the table; Stat is overridden so the test does
// not depend on who owns /bin/sh on the test machine.
func shRunner() *ExecRunner {
	return &ExecRunner{Paths: map[string][]string{"sh": {"/nonexistent/sh", "/bin/sh"}},
		Stat: func(p string) bool { return p == "/bin/sh" }}
}

func TestExecRunner(t *testing.T) {
	r := shRunner()
	ctx := context.Background()
	out, err := r.Output(ctx, "sh", "-c", "echo out; echo err >&2")
	if err != nil || string(out) != "out\n" {
		t.Errorf("Output = %q, %v; want stdout only", out, err)
	}
	out, err = r.CombinedOutput(ctx, "sh", "-c", "echo out; echo err >&2")
	if err != nil || !strings.Contains(string(out), "err") || !strings.Contains(string(out), "out") {
		t.Errorf("CombinedOutput = %q, %v; want both streams", out, err)
	}
	_, err = r.Output(ctx, "sh", "-c", "echo bad >&2; exit 3")
	var ce *CommandError
	if !errors.As(err, &ce) || strings.TrimSpace(string(ce.Stderr)) != "bad" {
		t.Errorf("failing command error = %v; want CommandError with stderr", err)
	}
	if _, err := r.Output(ctx, "rm", "-rf", "/"); !errors.Is(err, ErrCommandNotAllowed) {
		t.Errorf("command outside the table: %v; want ErrCommandNotAllowed", err)
	}
	r.Paths["ghost"] = []string{"/nonexistent/ghost"}
	if _, err := r.Output(ctx, "ghost"); !errors.Is(err, ErrCommandNotFound) {
		t.Errorf("missing command: %v; want ErrCommandNotFound", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := r.Output(ctx, "sh", "-c", "sleep 30"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hung command: %v; want deadline exceeded", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("hung command took %v", time.Since(start))
	}
}

func TestTrustedExecutableRefusesUserWritable(t *testing.T) {
	dir := t.TempDir()
	r := &ExecRunner{Paths: map[string][]string{"x": {dir + "/x"}}}
	if _, err := r.Resolve("x"); !errors.Is(err, ErrCommandNotFound) {
		t.Errorf("Resolve of a missing file = %v", err)
	}
}

// TestTrustedExecutable: a binary counts only when it and every directory
// above it (and above the link that leads to it) are root's alone.
func TestTrustedExecutable(t *testing.T) {
	sh, err := filepath.EvalSymlinks("/bin/sh")
	if err != nil {
		t.Skipf("no /bin/sh: %v", err)
	}
	if !trustedExecutable("/bin/sh") {
		t.Skipf("/bin/sh (%s) is not root's alone on this machine", sh)
	}
	// The temporary directory sits below the world-writable /tmp: neither a
	// binary in it nor a link in it to /bin/sh is trusted, even when the
	// binary itself is root's (as it is when the test runs as root).
	dir := t.TempDir()
	bin := filepath.Join(dir, "adb")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(sh, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{bin, link} {
		if trustedExecutable(p) {
			t.Errorf("trustedExecutable(%s) = true; want false below a world-writable directory", p)
		}
	}
}
