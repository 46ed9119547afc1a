package platform

import (
	"errors"
	"io"
	"io/fs"
	"os"
)

// ReadListed reads name, with ReadFile's checks, into buf (grown when
// needed) and returns the filled slice, which aliases buf: the content must
// be copied out before buf is used again. typ is the file's type from the
// directory listing it came from (fs.DirEntry.Type), which spares the Lstat
// before the open (see openListed). Probes that read hundreds of small
// files per scan (.desktop entries) pass one reused buffer: one read sized
// from fstat instead of io.ReadAll's growing buffer saves most of the
// allocations and read calls.
func ReadListed(fsys fs.FS, name string, typ fs.FileMode, limit int64, buf []byte) ([]byte, error) {
	if d, ok := fsys.(*DirFS); ok && typ.Type() == 0 && fs.ValidPath(name) {
		if b, done, err := d.readRegular(name, limit, buf); done {
			return b, err
		}
	}
	f, st, err := openListed(fsys, name, typ, limit)
	if err != nil {
		return buf[:0], err
	}
	defer f.Close()
	want := int(st.Size()) + 1 // one byte more tells a file that grew since fstat
	if cap(buf) < want {
		buf = make([]byte, want)
	}
	buf = buf[:want]
	var n int
	if _, ok := f.(*os.File); ok {
		// read(2) of a regular file returns less than asked only at its
		// end: one call answers, no second read just to see EOF (os.File
		// retries EINTR).
		n, err = f.Read(buf)
		if err == nil && n < want {
			return buf[:n], nil
		}
	} else {
		n, err = io.ReadFull(f, buf)
	}
	return readResult(name, buf, n, limit, err)
}

// readResult turns a read of size+1 bytes into ReadListed's answer.
func readResult(name string, buf []byte, n int, limit int64, err error) ([]byte, error) {
	switch {
	case err == nil && int64(n) > limit:
		return buf[:0], &fs.PathError{Op: "read", Path: name, Err: ErrTooLarge}
	case err == nil:
		// The file grew; the first size+1 bytes are all we take.
		return buf[:n], nil
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return buf[:n], nil
	}
	return buf[:0], &fs.PathError{Op: "read", Path: name, Err: err}
}
