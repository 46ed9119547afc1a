package linux

import (
	"fmt"
	"io/fs"

	"github.com/msgguard/msgguard/platform"
)

// openRegular opens name for streaming with the checks of platform.ReadFile:
// no symbolic link in the final component, a regular file (never a FIFO or
// device), at most limit bytes, checked before and again after the open
// (platform.DirFS opens with O_NOFOLLOW|O_NONBLOCK). The dpkg status file
// of a big system is several megabytes; streaming it instead of reading it
// whole keeps a scan's allocations within budget. The caller closes the
// file and must still read at most limit bytes.
func openRegular(fsys fs.FS, name string, limit int64) (fs.File, error) {
	st, err := platform.Lstat(fsys, name)
	if err != nil {
		return nil, err
	}
	if err := checkRegularInfo(name, st, limit); err != nil {
		return nil, err
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	st, err = f.Stat()
	if err == nil {
		err = checkRegularInfo(name, st, limit)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func checkRegularInfo(name string, st fs.FileInfo, limit int64) error {
	switch {
	case st.Mode()&fs.ModeSymlink != 0:
		return &fs.PathError{Op: "open", Path: name, Err: platform.ErrSymlink}
	case !st.Mode().IsRegular():
		return &fs.PathError{Op: "open", Path: name, Err: platform.ErrNotRegular}
	case st.Size() > limit:
		return &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%w (%d bytes > %d)", platform.ErrTooLarge, st.Size(), limit)}
	}
	return nil
}
