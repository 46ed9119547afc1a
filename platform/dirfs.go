package platform

import (
	"io/fs"
	"os"
	"path/filepath"
)

// DirFS is the production root filesystem. It behaves like os.DirFS but opens
// files without following a final symbolic link and without blocking on
// FIFOs (see openNoFollow), so a file swapped for a FIFO or a link between
// our Lstat and Open cannot hang or redirect a root-owned read.
type DirFS struct {
	dir  string
	base fs.FS
}

// NewDirFS returns a DirFS rooted at dir.
func NewDirFS(dir string) *DirFS {
	return &DirFS{dir: dir, base: os.DirFS(dir)}
}

// Dir returns the OS path of the root.
func (d *DirFS) Dir() string { return d.dir }

// Open implements fs.FS.
func (d *DirFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	f, err := openNoFollow(filepath.Join(d.dir, filepath.FromSlash(name)))
	if err != nil {
		return nil, err
	}
	return f, nil
}

// ReadDir implements fs.ReadDirFS.
func (d *DirFS) ReadDir(name string) ([]fs.DirEntry, error) {
	return fs.ReadDir(d.base, name)
}

// Stat implements fs.StatFS.
func (d *DirFS) Stat(name string) (fs.FileInfo, error) { return fs.Stat(d.base, name) }

// Lstat implements fs.ReadLinkFS.
func (d *DirFS) Lstat(name string) (fs.FileInfo, error) { return fs.Lstat(d.base, name) }

// ReadLink implements fs.ReadLinkFS.
func (d *DirFS) ReadLink(name string) (string, error) { return fs.ReadLink(d.base, name) }
