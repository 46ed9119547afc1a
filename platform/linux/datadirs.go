package linux

import (
	"context"
	"io/fs"
)

// scanDataDirs looks for each catalog messenger's per-user data directory
// (e.g. ~/.config/Signal): its presence shows the messenger was set up for
// that user even when the app itself is gone. Presence is decided by the
// entry's type in a listing of its parent (or Lstat): nothing inside is
// opened or read, and a data directory that is a symbolic link counts as
// present but is not followed. A parent that
// is a link (~/.config → elsewhere) is not looked through, so another
// user's files cannot be attributed to this one.
func (c *collector) scanDataDirs(ctx context.Context, hs []*homeView) {
	for _, v := range hs {
		if ctx.Err() != nil {
			return
		}
		for _, parent := range c.idx.dataParents {
			dir := v.rel
			if parent != "." {
				dir += "/" + parent
			}
			if v.plainDir(dir) != nil {
				continue
			}
			// One listing of the parent answers for all its children.
			v.list(dir)
			for _, ref := range c.idx.dataDirs[parent] {
				p := v.rel + "/" + ref.rel
				if m, ok := v.stat(p); ok && evidenceMode(m) {
					c.add(ref.entry, sourceDataDir, v.user, "", "/"+p)
				}
			}
		}
	}
}

// evidenceMode reports whether a data path's type counts as evidence: a
// directory, a regular file (some apps keep one config file) or a link.
func evidenceMode(m fs.FileMode) bool {
	return m.IsDir() || m.IsRegular() || m&fs.ModeSymlink != 0
}
