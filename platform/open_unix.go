//go:build unix

package platform

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// openRefusesLinks: openNoFollow itself refuses a final symbolic link, so
// a caller that knows the type from a listing may skip the Lstat.
const openRefusesLinks = true

// openNoFollow opens read-only with O_NOFOLLOW (a final symlink fails with
// ELOOP) and O_NONBLOCK (opening a FIFO returns at once instead of waiting
// for a writer; ReadFile then refuses it as not regular).
func openNoFollow(p string) (*os.File, error) {
	return os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
}

// linkRefused turns openNoFollow's ELOOP into the ErrSymlink the Lstat
// check would have given.
func linkRefused(name string, err error) error {
	if errors.Is(err, syscall.ELOOP) {
		return &fs.PathError{Op: "open", Path: name, Err: ErrSymlink}
	}
	return err
}
