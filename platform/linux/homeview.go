package linux

import (
	"errors"
	"io/fs"
	"path"
	"strings"

	"github.com/msgguard/msgguard/platform"
)

// errNotDir is returned when a path component below a home is a file.
var errNotDir = errors.New("not a directory")

// homeView is one home seen by the per-user probes. It remembers the type
// of every path below the home it has looked at (from directory listings,
// whose entries carry their type, or from Lstat), so that the desktop,
// Flatpak, AppImage and data-directory probes check each path component
// for links once per scan instead of once per file: on a machine with 50
// users this is most of the scan's system calls.
//
// Like platform.NoLinksBelow, it never follows a symbolic link below the
// home: a user could point ~/.local at another user's files.
type homeView struct {
	homeDir
	fsys fs.FS
	max  int // listing cap, maxDirEntries in production
	// kinds maps root-relative paths to their type bits (fs.FileMode.Type)
	// and absent records paths known not to exist.
	kinds  map[string]fs.FileMode
	absent map[string]bool
	lists  map[string]listing
}

type listing struct {
	entries   []fs.DirEntry
	truncated bool
	err       error
}

func newHomeView(fsys fs.FS, h homeDir, max int) *homeView {
	return &homeView{
		homeDir: h, fsys: fsys, max: max,
		kinds: map[string]fs.FileMode{}, absent: map[string]bool{}, lists: map[string]listing{},
	}
}

// stat returns the type of rel (root-relative, below the home) without
// following a final link; ok is false when it does not exist.
func (v *homeView) stat(rel string) (mode fs.FileMode, ok bool) {
	if m, ok := v.kinds[rel]; ok {
		return m, true
	}
	if v.absent[rel] {
		return 0, false
	}
	// A complete listing of the parent answers without a system call.
	if l, ok := v.lists[path.Dir(rel)]; ok && l.err == nil && !l.truncated {
		v.absent[rel] = true
		return 0, false
	}
	st, err := platform.Lstat(v.fsys, rel)
	if err != nil {
		v.absent[rel] = true
		return 0, false
	}
	v.kinds[rel] = st.Mode().Type()
	return st.Mode().Type(), true
}

// plainDir reports, as an error, why rel is not a directory reached from
// the home without passing a symbolic link (nil when it is).
func (v *homeView) plainDir(rel string) error {
	if rel == v.rel {
		return nil
	}
	below, ok := strings.CutPrefix(rel, v.rel+"/")
	if !ok {
		return &fs.PathError{Op: "read", Path: rel, Err: fs.ErrInvalid}
	}
	cur := v.rel
	for part := range strings.SplitSeq(below, "/") {
		cur += "/" + part
		m, ok := v.stat(cur)
		switch {
		case !ok:
			return &fs.PathError{Op: "read", Path: cur, Err: fs.ErrNotExist}
		case m&fs.ModeSymlink != 0:
			return &fs.PathError{Op: "read", Path: cur, Err: platform.ErrSymlink}
		case !m.IsDir():
			return &fs.PathError{Op: "read", Path: cur, Err: errNotDir}
		}
	}
	return nil
}

// list returns rel's entries (at most v.max), reading the directory once.
// The caller checks rel with plainDir first.
func (v *homeView) list(rel string) ([]fs.DirEntry, bool, error) {
	if l, ok := v.lists[rel]; ok {
		return l.entries, l.truncated, l.err
	}
	entries, truncated, err := listDir(v.fsys, rel, v.max)
	for _, de := range entries {
		v.kinds[rel+"/"+de.Name()] = de.Type()
	}
	v.lists[rel] = listing{entries: entries, truncated: truncated, err: err}
	return entries, truncated, err
}
