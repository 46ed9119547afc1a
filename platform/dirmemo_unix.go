//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package platform

import (
	"io/fs"
	"syscall"
	"time"
)

// fileID is what identifies a directory's state on Unix.
type fileID struct {
	dev, ino, size uint64
	mtime, ctime   int64 // nanoseconds
}

func identity(fi fs.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino), size: uint64(st.Size),
		mtime: fi.ModTime().UnixNano(), ctime: ctimeOf(st)}, true
}

func (id fileID) changedBefore(t time.Time) bool {
	n := t.UnixNano()
	return id.ctime < n && id.mtime < n
}
