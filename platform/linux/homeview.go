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
	// failed records paths whose Lstat failed otherwise (permission
	// denied on a root-squashed NFS home, an I/O error): not absent, but
	// unreadable. Allocated on first use.
	failed map[string]error
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
// following a final link. The error is fs.ErrNotExist itself when rel does
// not exist (no PathError: absent paths are the common case and callers
// skip them silently); any other error means it could not be looked at.
func (v *homeView) stat(rel string) (fs.FileMode, error) {
	if m, ok := v.kinds[rel]; ok {
		return m, nil
	}
	if v.absent[rel] {
		return 0, fs.ErrNotExist
	}
	if err, ok := v.failed[rel]; ok {
		return 0, err
	}
	// A complete listing of the parent answers without a system call.
	if l, ok := v.lists[path.Dir(rel)]; ok && l.err == nil && !l.truncated {
		v.absent[rel] = true
		return 0, fs.ErrNotExist
	}
	st, err := platform.Lstat(v.fsys, rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		v.absent[rel] = true
		return 0, err
	case err != nil:
		if v.failed == nil {
			v.failed = map[string]error{}
		}
		v.failed[rel] = err
		return 0, err
	}
	v.kinds[rel] = st.Mode().Type()
	return st.Mode().Type(), nil
}

// unreadable reports whether err, from plainDir, stat or list, means a
// path could not be read (permission denied, an I/O error), rather than
// that it is absent, a link that is not followed, or a file where a
// directory was expected. Such a path hides what it holds: the probes
// report it instead of treating it as empty.
func unreadable(err error) bool {
	return err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, platform.ErrSymlink) && !errors.Is(err, errNotDir)
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
		m, err := v.stat(cur)
		switch {
		case err != nil:
			return err
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
	entries, truncated, err := platform.ReadDir(v.fsys, rel, v.max)
	for _, de := range entries {
		v.kinds[rel+"/"+de.Name()] = de.Type()
	}
	v.lists[rel] = listing{entries: entries, truncated: truncated, err: err}
	return entries, truncated, err
}
