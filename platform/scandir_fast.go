//go:build linux && (amd64 || arm64)

package platform

import (
	"encoding/binary"
	"io/fs"
	"sync"
	"syscall"
	"unsafe"
)

// direntBufs holds getdents64 buffers, so that a listing allocates none.
var direntBufs = sync.Pool{New: func() any { return new([8 << 10]byte) }}

// scanDir is ScanDir for DirFS in raw system calls: openat with
// O_DIRECTORY|O_NOFOLLOW (a link or non-folder swapped in since the caller
// checked the path is refused, as DirFS.Open refuses it), getdents64,
// close. os.File would add an epoll_ctl per folder and two allocations per
// entry. done is false for a path the general path must take.
func (d *DirFS) scanDir(dir string, max int, fn func(string, fs.FileMode)) (truncated, done bool, err error) {
	var p pathBuf
	if !d.cpath(&p, dir, "") {
		return false, false, nil
	}
	var fd int
	for {
		r, _, e := syscall.Syscall6(syscall.SYS_OPENAT, atFDCWD, uintptr(unsafe.Pointer(&p[0])),
			syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e == syscall.ENOTDIR {
			// O_DIRECTORY answers ENOTDIR for a final link too; say which.
			var st syscall.Stat_t
			if _, _, e2 := syscall.Syscall6(sysFstatat, atFDCWD, uintptr(unsafe.Pointer(&p[0])),
				uintptr(unsafe.Pointer(&st)), atSymlinkNofollow, 0, 0); e2 == 0 && st.Mode&syscall.S_IFMT == syscall.S_IFLNK {
				e = syscall.ELOOP
			}
		}
		if e != 0 {
			return false, true, linkRefused(dir, &fs.PathError{Op: "open", Path: dir, Err: e})
		}
		fd = int(r)
		break
	}
	defer syscall.Close(fd)
	buf := direntBufs.Get().(*[8 << 10]byte)
	defer direntBufs.Put(buf)
	seen := 0
	for {
		got, err := syscall.Getdents(fd, buf[:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return false, true, &fs.PathError{Op: "readdirent", Path: dir, Err: err}
		}
		if got <= 0 {
			return false, true, nil
		}
		// struct linux_dirent64 (getdents(2)): d_ino u64, d_off s64,
		// d_reclen u16, d_type u8, d_name NUL-terminated.
		for off := 0; off < got; {
			if got-off < 20 {
				return false, true, &fs.PathError{Op: "readdirent", Path: dir, Err: syscall.EIO}
			}
			reclen := int(binary.NativeEndian.Uint16(buf[off+16:]))
			if reclen < 20 || off+reclen > got {
				return false, true, &fs.PathError{Op: "readdirent", Path: dir, Err: syscall.EIO}
			}
			rec := buf[off+19 : off+reclen]
			typ := buf[off+18]
			off += reclen
			n := 0
			for n < len(rec) && rec[n] != 0 {
				n++
			}
			if n == 0 || n == len(rec) || (n == 1 && rec[0] == '.') || (n == 2 && rec[0] == '.' && rec[1] == '.') {
				continue
			}
			if seen == max {
				return true, true, nil
			}
			mode, known := direntType(typ)
			if !known {
				// DT_UNKNOWN (some file systems do not fill d_type): one
				// lstat relative to the folder, with the name's own NUL.
				var st syscall.Stat_t
				_, _, e := syscall.Syscall6(sysFstatat, uintptr(fd), uintptr(unsafe.Pointer(&rec[0])),
					uintptr(unsafe.Pointer(&st)), atSymlinkNofollow, 0, 0)
				if e == syscall.ENOENT {
					continue // gone since the listing, as os.ReadDir skips it
				}
				if e != 0 {
					return false, true, &fs.PathError{Op: "lstat", Path: dir + "/" + string(rec[:n]), Err: e}
				}
				mode = modeType(st.Mode)
			}
			seen++
			fn(unsafe.String(&rec[0], n), mode)
		}
	}
}

// direntType is the fs.FileMode type of a d_type, as os.ReadDir gives it
// (os/dir_unix.go, dtToType); known is false for DT_UNKNOWN.
func direntType(t byte) (fs.FileMode, bool) {
	switch t {
	case syscall.DT_BLK:
		return fs.ModeDevice, true
	case syscall.DT_CHR:
		return fs.ModeDevice | fs.ModeCharDevice, true
	case syscall.DT_DIR:
		return fs.ModeDir, true
	case syscall.DT_FIFO:
		return fs.ModeNamedPipe, true
	case syscall.DT_LNK:
		return fs.ModeSymlink, true
	case syscall.DT_REG:
		return 0, true
	case syscall.DT_SOCK:
		return fs.ModeSocket, true
	}
	return 0, false
}
