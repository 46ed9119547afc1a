package linux

import (
	"context"
	"io/fs"
	"path"

	"github.com/msgguard/msgguard/platform"
)

// scanDataDirs looks for each catalog messenger's per-user data directory
// (e.g. ~/.config/Signal): its presence shows the messenger was set up for
// that user even when the app itself is gone. Presence is decided by
// Lstat alone: nothing inside is opened or read, and a data directory that
// is a symbolic link counts as present but is not followed. A parent that
// is a link (~/.config → elsewhere) is not looked through, so another
// user's files cannot be attributed to this one.
func (c *collector) scanDataDirs(ctx context.Context, hs []homeDir) {
	for _, h := range hs {
		if ctx.Err() != nil {
			return
		}
		for _, parent := range c.idx.dataParents {
			if !c.plainUserDir(h, parent) {
				continue
			}
			for _, ref := range c.idx.dataDirs[parent] {
				p := h.rel + "/" + ref.rel
				st, err := platform.Lstat(c.fsys, p)
				if err != nil || !evidenceMode(st.Mode()) {
					continue
				}
				c.add(ref.entry, sourceDataDir, h.user, "", "/"+p)
			}
		}
	}
}

// plainUserDir reports whether home/rel is a directory reached without
// passing a symbolic link. "." is the home itself.
func (c *collector) plainUserDir(h homeDir, rel string) bool {
	if rel == "." {
		return true
	}
	ok, err := c.userDir(h, path.Join(h.rel, rel))
	return err == nil && ok
}

// evidenceMode reports whether a data path's type counts as evidence: a
// directory, a regular file (some apps keep one config file) or a link.
func evidenceMode(m fs.FileMode) bool {
	return m.IsDir() || m.IsRegular() || m&fs.ModeSymlink != 0
}
