//go:build unix

package platform

import (
	"os"
	"syscall"
)

// openNoFollow opens read-only with O_NOFOLLOW (a final symlink fails with
// ELOOP) and O_NONBLOCK (opening a FIFO returns at once instead of waiting
// for a writer; ReadFile then refuses it as not regular).
func openNoFollow(p string) (*os.File, error) {
	return os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
}
