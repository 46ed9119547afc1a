//go:build linux && (amd64 || arm64)

package platform

import (
	"io/fs"
	"strings"
	"syscall"
	"unsafe"
)

// lstatBelow is LstatBelow for DirFS in one raw fstatat(2) with
// AT_SYMLINK_NOFOLLOW: the path is assembled, NUL-terminated, in a stack
// buffer, and the result is copied out of a stack Stat_t, where os.Lstat
// allocates the C string, the joined path and the FileInfo. done is false
// for a path that does not fit the buffer or is not a valid fs path; the
// caller then takes the general path.
func (d *DirFS) lstatBelow(base, name string) (id Ident, done bool, err error) {
	var buf pathBuf
	if !d.cpath(&buf, base, name) {
		return Ident{}, false, nil
	}
	var st syscall.Stat_t
	for {
		_, _, e := syscall.Syscall6(sysFstatat, atFDCWD, uintptr(unsafe.Pointer(&buf[0])),
			uintptr(unsafe.Pointer(&st)), atSymlinkNofollow, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			p := base
			if name != "" {
				p = base + "/" + name
			}
			return Ident{}, true, &fs.PathError{Op: "lstat", Path: p, Err: e}
		}
		break
	}
	return Ident{Mode: modeType(st.Mode), hasID: true, id: fileID{dev: uint64(st.Dev), ino: uint64(st.Ino),
		size: uint64(st.Size), mtime: st.Mtim.Nano(), ctime: ctimeOf(&st)}}, true, nil
}

// atFDCWD is AT_FDCWD (-100, include/uapi/linux/fcntl.h) as the system
// call's unsigned argument.
const atFDCWD = ^uintptr(99)

// pathBuf holds a NUL-terminated path for a raw system call.
type pathBuf [1024]byte

// cpath writes d's root/base/name into b, NUL-terminated. It is false for
// what must take the general path and its error: an empty root (os.DirFS
// refuses it), an invalid fs path, a NUL byte (which would end the C
// string early and name another file; a profiles.ini can write one) or a
// path longer than the buffer.
func (d *DirFS) cpath(b *pathBuf, base, name string) bool {
	if d.dir == "" || !fs.ValidPath(base) || (name != "" && !fs.ValidPath(name)) ||
		strings.IndexByte(base, 0) >= 0 || strings.IndexByte(name, 0) >= 0 {
		return false
	}
	n := copy(b[:len(b)-1], d.dir)
	for _, part := range [2]string{base, name} {
		if part == "" || part == "." {
			continue
		}
		if n > 0 && b[n-1] != '/' {
			b[n] = '/'
			n++
		}
		if n+len(part) >= len(b) {
			return false
		}
		n += copy(b[n:], part)
	}
	if n == 0 || n >= len(b) {
		return false
	}
	b[n] = 0
	return true
}

const (
	atSymlinkNofollow = 0x100 // AT_SYMLINK_NOFOLLOW
)

// modeType is the fs.FileMode type of st_mode, as os.Lstat gives it
// (os/stat_linux.go, fillFileStatFromSys).
func modeType(m uint32) fs.FileMode {
	switch m & syscall.S_IFMT {
	case syscall.S_IFDIR:
		return fs.ModeDir
	case syscall.S_IFLNK:
		return fs.ModeSymlink
	case syscall.S_IFIFO:
		return fs.ModeNamedPipe
	case syscall.S_IFSOCK:
		return fs.ModeSocket
	case syscall.S_IFBLK:
		return fs.ModeDevice
	case syscall.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	}
	return 0
}
