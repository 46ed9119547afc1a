package platform

import (
	"errors"
	"io"
	"io/fs"
)

// ReadDir lists at most max entries of dir, in directory order: os.ReadDir
// would read and sort everything first, and a directory in a user's home
// can hold millions of entries. truncated reports whether more entries were
// left unread. A listing cut short by an error returns the entries read
// before it with the error.
func ReadDir(fsys fs.FS, dir string, max int) (entries []fs.DirEntry, truncated bool, err error) {
	f, err := fsys.Open(dir)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	rd, ok := f.(fs.ReadDirFile)
	if !ok {
		all, err := fs.ReadDir(fsys, dir)
		if len(all) > max {
			return all[:max], true, err
		}
		return all, false, err
	}
	for len(entries) < max {
		n := min(256, max-len(entries))
		batch, err := rd.ReadDir(n)
		entries = append(entries, batch...)
		if errors.Is(err, io.EOF) {
			return entries, false, nil
		}
		if err != nil {
			return entries, false, err
		}
		// os.File fills a batch until the directory ends, so a short
		// batch is the end: no second getdents call just to see EOF.
		if len(batch) < n {
			return entries, false, nil
		}
	}
	// Probe for one more entry to tell "exactly max" from "more".
	extra, _ := rd.ReadDir(1)
	return entries, len(extra) > 0, nil
}
