package platform

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
)

// Read limits. Every read of a file that a user could have written is capped:
// the agent runs as root and must not be made to allocate gigabytes.
const (
	// MaxConfigSize caps small configuration files (passwd, .desktop, INI).
	MaxConfigSize = 1 << 20
	// MaxDatabaseSize caps package databases (dpkg status) and dconf/GVDB files.
	MaxDatabaseSize = 64 << 20
)

// Errors returned by the safe readers. Messages never contain file content.
var (
	ErrSymlink    = errors.New("refusing to follow a symbolic link")
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = errors.New("file exceeds the read limit")
)

// ReadFile reads name from fsys, refusing symbolic links (in the final
// component), anything that is not a regular file (FIFOs, devices, sockets,
// directories) and files larger than limit. It is the only way probes read
// files, so that a hostile file in a user's home is refused instead of
// followed, blocked on or slurped.
func ReadFile(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, _, err := openChecked(fsys, name, limit, "read")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	if int64(len(b)) > limit {
		return nil, &fs.PathError{Op: "read", Path: name, Err: ErrTooLarge}
	}
	return b, nil
}

// Lstat returns file info for name without following a final symbolic link,
// where fsys supports it (os.DirFS and our DirFS do); otherwise fs.Stat.
func Lstat(fsys fs.FS, name string) (fs.FileInfo, error) {
	if l, ok := fsys.(fs.ReadLinkFS); ok {
		return l.Lstat(name)
	}
	return fs.Stat(fsys, name)
}

// OpenFile opens name for streaming with ReadFile's checks, for a file too
// big to read whole (a multi-megabyte package database) or read into a
// reused buffer. It returns the open file's info; the caller closes the
// file and must still read at most limit bytes (it may have grown).
func OpenFile(fsys fs.FS, name string, limit int64) (fs.File, fs.FileInfo, error) {
	return openChecked(fsys, name, limit, "open")
}

// openListed is OpenFile for a file whose type the caller has just read
// from its directory listing (fs.DirEntry.Type, the d_type of getdents(2)):
// a regular file is opened without the Lstat before the open, since the
// listing already said what the Lstat would. Every check after the open is
// the same, so a file swapped for a FIFO, device or link since the listing
// is refused as OpenFile refuses it (DirFS on Unix opens with O_NOFOLLOW;
// another fs.FS, or another OS, whose open would follow a link keeps the
// Lstat); the
// window is the one between OpenFile's own Lstat and open. Any other type
// takes OpenFile's path.
func openListed(fsys fs.FS, name string, typ fs.FileMode, limit int64) (fs.File, fs.FileInfo, error) {
	if _, ours := fsys.(*DirFS); !ours || typ.Type() != 0 || !openRefusesLinks {
		return openChecked(fsys, name, limit, "open")
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, nil, linkRefused(name, err)
	}
	st, err := f.Stat()
	if err == nil {
		err = checkRegular("open", name, st, limit)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

// openChecked opens name after checking it with Lstat, and checks the open
// file again: the path may have been swapped between the Lstat and the
// open (DirFS opens with O_NOFOLLOW|O_NONBLOCK, so a swapped-in FIFO or
// link does not block or redirect us). op names the operation in errors.
func openChecked(fsys fs.FS, name string, limit int64, op string) (fs.File, fs.FileInfo, error) {
	st, err := Lstat(fsys, name)
	if err != nil {
		return nil, nil, err
	}
	if err := checkRegular(op, name, st, limit); err != nil {
		return nil, nil, err
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, nil, err
	}
	st, err = f.Stat()
	if err == nil {
		err = checkRegular(op, name, st, limit)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

// checkRegular refuses a symbolic link, anything that is not a regular file
// and a file larger than limit.
func checkRegular(op, name string, st fs.FileInfo, limit int64) error {
	switch {
	case st.Mode()&fs.ModeSymlink != 0:
		return &fs.PathError{Op: op, Path: name, Err: ErrSymlink}
	case !st.Mode().IsRegular():
		return &fs.PathError{Op: op, Path: name, Err: ErrNotRegular}
	case st.Size() > limit:
		return &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("%w (%d bytes > %d)", ErrTooLarge, st.Size(), limit)}
	}
	return nil
}

// NoLinksBelow reports an error if any component of name below the
// directory base is a symbolic link, or a junction or other reparse point
// (which Go reports on Windows as an irregular file). Use it for paths
// inside users' homes, where a user could point ~/.config at another user's
// directory.
func NoLinksBelow(fsys fs.FS, base, name string) error {
	rel, ok := strings.CutPrefix(name, base+"/")
	switch {
	case base == "":
		rel, ok = name, true
	case name == base:
		rel, ok = "", true
	}
	if !ok {
		return fmt.Errorf("%s is not below %s", name, base)
	}
	cur := base
	for _, part := range strings.Split(rel, "/") {
		if part == "" {
			continue
		}
		cur = path.Join(cur, part)
		st, err := Lstat(fsys, cur)
		if err != nil {
			return err
		}
		if st.Mode()&(fs.ModeSymlink|fs.ModeIrregular) != 0 {
			return &fs.PathError{Op: "read", Path: cur, Err: ErrSymlink}
		}
	}
	return nil
}

// ReadUserFile reads a file inside a user's home (home and name are
// root-relative, e.g. "home/alice" and "home/alice/.config/dconf/user"). No
// component below home may be a symbolic link; the file is read with
// ReadFile's checks.
func ReadUserFile(fsys fs.FS, home, name string, limit int64) ([]byte, error) {
	if err := NoLinksBelow(fsys, home, name); err != nil {
		return nil, err
	}
	return ReadFile(fsys, name, limit)
}

// RelPath turns an absolute OS-style path ("/home/alice") into the
// root-relative form fs.FS wants ("home/alice").
func RelPath(p string) string {
	p = path.Clean("/" + strings.ReplaceAll(p, "\\", "/"))
	if p == "/" {
		return "."
	}
	return strings.TrimPrefix(p, "/")
}

// ReadPath is ReadFile for a file named by an OS path (a policy, config or
// token file the agent was pointed at) rather than one under the inspected
// root: the same refusals of links, FIFOs and oversize files.
func ReadPath(path string, limit int64) ([]byte, error) {
	return ReadFile(NewDirFS(filepath.Dir(path)), filepath.Base(path), limit)
}
