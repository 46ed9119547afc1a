//go:build unix

package linux

import (
	"path/filepath"
	"syscall"
	"testing"
)

func mkfifo(t testing.TB, p string) {
	t.Helper()
	mkdir(t, filepath.Dir(p))
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}
