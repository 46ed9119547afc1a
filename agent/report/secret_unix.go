//go:build unix

package report

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkSecretMode refuses secret files that are not regular, that group
// or others may access, or that belong to someone other than root or the
// agent's own user (who could then swap the token).
func checkSecretMode(fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	if !modeSecretOK(fi.Mode()) {
		return ErrSecretExposed
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("owned by uid %d, not root: %w", st.Uid, ErrSecretExposed)
	}
	return nil
}

// modeSecretOK reports whether perm leaves group and others out.
func modeSecretOK(m fs.FileMode) bool { return m.Perm()&0o077 == 0 }
