//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package platform

import (
	"io/fs"
	"time"
)

// fileID is empty where file info has no change time: nothing is
// remembered.
type fileID struct{}

func identity(fs.FileInfo) (fileID, bool) { return fileID{}, false }

func (fileID) changedBefore(time.Time) bool { return false }
