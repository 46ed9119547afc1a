//go:build unix

package platform

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"syscall"
)

// readRegular is ReadListed for a file the listing called regular, in raw
// system calls: open (O_NOFOLLOW|O_NONBLOCK, as openNoFollow), fstat, one
// read, close. An os.File would add an epoll_ctl per file (os.OpenFile
// offers every descriptor to the network poller, which refuses regular
// files with EPERM): a tenth of a scan's system calls. done is false when
// the caller should take the general path.
func (d *DirFS) readRegular(name string, limit int64, buf []byte) (b []byte, done bool, err error) {
	p := filepath.Join(d.dir, filepath.FromSlash(name))
	var fd int
	for {
		fd, err = syscall.Open(p, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return buf[:0], true, linkRefused(name, &fs.PathError{Op: "open", Path: name, Err: err})
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return buf[:0], true, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	switch {
	case uint32(st.Mode)&syscall.S_IFMT == syscall.S_IFLNK:
		return buf[:0], true, &fs.PathError{Op: "open", Path: name, Err: ErrSymlink}
	case uint32(st.Mode)&syscall.S_IFMT != syscall.S_IFREG:
		return buf[:0], true, &fs.PathError{Op: "open", Path: name, Err: ErrNotRegular}
	case st.Size > limit:
		return buf[:0], true, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%w (%d bytes > %d)", ErrTooLarge, st.Size, limit)}
	}
	want := int(st.Size) + 1
	if cap(buf) < want {
		buf = make([]byte, want)
	}
	buf = buf[:want]
	var n int
	for {
		n, err = syscall.Read(fd, buf)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return buf[:0], true, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	b, err = readResult(name, buf, n, limit, nil)
	return b, true, err
}
