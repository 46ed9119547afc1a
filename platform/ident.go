package platform

import (
	"io/fs"
)

// Ident is what one Lstat says that a walk through users' folders needs:
// the entry's type, and the identity DirMemo compares (device, inode,
// size, modification and change time), where the platform has one. It is a
// value: looking a path up costs no allocation (LstatBelow).
type Ident struct {
	// Mode holds the type bits only (fs.FileMode.Type).
	Mode fs.FileMode
	id   fileID
	// hasID is false where file info carries no change time (Windows, an
	// fs.FS other than DirFS) and for a type learnt from a listing.
	hasID bool
}

// IdentOf is the Ident of an Lstat result.
func IdentOf(fi fs.FileInfo) Ident {
	id, ok := identity(fi)
	return Ident{Mode: fi.Mode().Type(), id: id, hasID: ok}
}

// LstatBelow is Lstat of base/name (name "" is base itself), both
// slash-separated and relative to fsys's root. On DirFS on Linux it makes
// the one system call with the path in a stack buffer and allocates
// nothing: a browser walk looks up hundreds of unchanged folders per scan.
// Errors are Lstat's (a *fs.PathError naming base/name; fs.ErrNotExist
// for an absent path).
func LstatBelow(fsys fs.FS, base, name string) (Ident, error) {
	if d, ok := fsys.(*DirFS); ok {
		if id, done, err := d.lstatBelow(base, name); done {
			return id, err
		}
	}
	p := base
	if name != "" {
		p = base + "/" + name
	}
	fi, err := Lstat(fsys, p)
	if err != nil {
		return Ident{}, err
	}
	return IdentOf(fi), nil
}

// Identified reports whether i carries an identity DirMemo can compare.
func (i Ident) Identified() bool { return i.hasID }
