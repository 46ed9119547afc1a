package linux

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/msgguard/msgguard/platform"
)

// openRegular opens name for streaming with the checks of platform.ReadFile:
// no symbolic link in the final component, a regular file (never a FIFO or
// device), at most limit bytes, checked before and again after the open
// (platform.DirFS opens with O_NOFOLLOW|O_NONBLOCK). The dpkg status file
// of a big system is several megabytes; streaming it instead of reading it
// whole keeps a scan's allocations within budget. It returns the open
// file's info; the caller closes the file and must still read at most
// limit bytes.
func openRegular(fsys fs.FS, name string, limit int64) (fs.File, fs.FileInfo, error) {
	st, err := platform.Lstat(fsys, name)
	if err != nil {
		return nil, nil, err
	}
	if err := checkRegularInfo(name, st, limit); err != nil {
		return nil, nil, err
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, nil, err
	}
	st, err = f.Stat()
	if err == nil {
		err = checkRegularInfo(name, st, limit)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
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

// readInto reads name, with openRegular's checks, into buf (grown when
// needed) and returns the filled slice, which aliases buf. The .desktop
// probe reads hundreds of small files per scan through one reused buffer:
// one read sized from fstat instead of io.ReadAll's growing buffer saves
// most of a scan's allocations and read calls. The content must be copied
// out before the next call.
func readInto(fsys fs.FS, name string, limit int64, buf []byte) ([]byte, error) {
	f, st, err := openRegular(fsys, name, limit)
	if err != nil {
		return buf[:0], err
	}
	defer f.Close()
	// One byte more than the size tells a file that grew since fstat.
	want := int(st.Size()) + 1
	if cap(buf) < want {
		buf = make([]byte, want)
	}
	buf = buf[:want]
	n, err := io.ReadFull(f, buf)
	switch {
	case err == nil && int64(n) > limit:
		return buf[:0], &fs.PathError{Op: "read", Path: name, Err: platform.ErrTooLarge}
	case err == nil:
		// The file grew; the first size+1 bytes are all we take.
		return buf[:n], nil
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return buf[:n], nil
	}
	return buf[:0], &fs.PathError{Op: "read", Path: name, Err: err}
}
