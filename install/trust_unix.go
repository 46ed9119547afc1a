//go:build unix

package install

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrUntrusted is returned for a file or directory that a non-root user
// could have written or swapped.
var ErrUntrusted = errors.New("not trusted")

// ReadTrusted reads an install source named by an administrator (--policy,
// --config). It must be a regular file — not a symbolic link, FIFO or
// device — owned by root and not writable by group or others. The checks
// are made on the opened descriptor (opened with O_NOFOLLOW|O_NONBLOCK), so
// the file cannot be swapped between check and read; a file in a
// user-writable directory can be replaced, but only by one the user owns,
// which is then refused.
func ReadTrusted(path string, limit int64) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ELOOP) {
		return nil, fmt.Errorf("%s: is a symbolic link: %w", path, ErrUntrusted)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := trustedInfo(path, st, false); err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return b, nil
}

// trustedInfo checks owner and mode: root-owned, no group/other write.
func trustedInfo(path string, st os.FileInfo, dir bool) error {
	switch {
	case dir && !st.IsDir():
		return fmt.Errorf("%s: not a directory: %w", path, ErrUntrusted)
	case !dir && !st.Mode().IsRegular():
		return fmt.Errorf("%s: not a regular file: %w", path, ErrUntrusted)
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: no owner information: %w", path, ErrUntrusted)
	}
	if sys.Uid != 0 {
		return fmt.Errorf("%s: owned by uid %d, not root: %w", path, sys.Uid, ErrUntrusted)
	}
	if st.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s: writable by group or others (mode %v): %w", path, st.Mode().Perm(), ErrUntrusted)
	}
	return nil
}

// CheckExecutable reports an error unless the binary the service would run,
// and every directory above it, is owned by root and not writable by group
// or others. A service running as root from ~/Downloads or /tmp would hand
// root to whoever can replace the file.
func CheckExecutable(path string) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("resolving %s: %w", path, err)
	}
	st, err := os.Stat(real)
	if err != nil {
		return err
	}
	if err := trustedInfo(real, st, false); err != nil {
		return fmt.Errorf("the agent binary must be installed by root (e.g. in /usr/local/sbin): %w", err)
	}
	for d := filepath.Dir(real); ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return err
		}
		if err := trustedInfo(d, st, true); err != nil {
			return fmt.Errorf("the agent binary must be installed by root (e.g. in /usr/local/sbin): %w", err)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}
