//go:build unix

package platform

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// trustedExecutable reports whether p is a binary no user but root can have
// planted or swapped: after following links it is a regular file owned by
// root and not writable by group or others, and so is every directory above
// it and above p itself. The directories matter as much as the file: a user
// who owns /opt/platform-tools could replace adb with a link to any
// root-owned program and have the agent run that with our arguments.
func trustedExecutable(p string) bool {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return false
	}
	st, err := os.Stat(real)
	if err != nil || !st.Mode().IsRegular() || !rootOnly(st) {
		return false
	}
	return rootOnlyDirs(p) && rootOnlyDirs(real)
}

// rootOnly reports whether st is owned by root and not writable by group
// or others.
func rootOnly(st fs.FileInfo) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && sys.Uid == 0 && st.Mode().Perm()&0o022 == 0
}

// rootOnlyDirs reports whether every directory above p, up to "/", is
// rootOnly (a directory reached through a link is checked where it leads).
func rootOnlyDirs(p string) bool {
	for dir := filepath.Dir(p); ; dir = filepath.Dir(dir) {
		st, err := os.Stat(dir)
		if err != nil || !st.IsDir() || !rootOnly(st) {
			return false
		}
		if dir == filepath.Dir(dir) {
			return true
		}
	}
}
