package linux

import (
	"errors"
	"io"
	"io/fs"

	"github.com/msgguard/msgguard/platform"
)

// readInto reads name, with platform.ReadFile's checks (platform.OpenFile),
// into buf (grown when needed) and returns the filled slice, which aliases
// buf. The .desktop
// probe reads hundreds of small files per scan through one reused buffer:
// one read sized from fstat instead of io.ReadAll's growing buffer saves
// most of a scan's allocations and read calls. The content must be copied
// out before the next call.
func readInto(fsys fs.FS, name string, limit int64, buf []byte) ([]byte, error) {
	f, st, err := platform.OpenFile(fsys, name, limit)
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
