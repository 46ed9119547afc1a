//go:build unix

package platform

import (
	"os"
	"syscall"
)

// trustedExecutable reports whether p is a regular file owned by root and not
// writable by group or others: a binary a non-root user cannot have planted.
func trustedExecutable(p string) bool {
	st, err := os.Stat(p)
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	if st.Mode().Perm()&0o022 != 0 {
		return false
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid != 0 {
		return false
	}
	return true
}
