package platform

import (
	"io/fs"
)

// ScanDir calls fn with the name and type of each of dir's first max
// entries, in directory order, without "." and "..". It is ReadDir for a
// caller that keeps only a few names of a large listing (a browser's
// site-storage folder holds one entry per site visited): on DirFS on Linux
// it reads the directory with getdents64 into a stack buffer and hands fn
// each name as a view of that buffer, so a listing costs no allocation per
// entry. name is valid only during the call: fn copies what it keeps
// (strings.Clone). A type the file system does not report in the listing
// is looked up with an lstat. truncated reports whether more entries were
// left unread; a listing cut short by an error returns the error after the
// entries read before it.
func ScanDir(fsys fs.FS, dir string, max int, fn func(name string, typ fs.FileMode)) (truncated bool, err error) {
	if d, ok := fsys.(*DirFS); ok {
		if truncated, done, err := d.scanDir(dir, max, fn); done {
			return truncated, err
		}
	}
	entries, truncated, err := ReadDir(fsys, dir, max)
	for _, e := range entries {
		fn(e.Name(), e.Type())
	}
	return truncated, linkRefused(dir, err)
}
