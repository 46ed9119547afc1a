package linux

import (
	"io/fs"
)

// scanUserDataDirs looks in one home for each catalog messenger's per-user data directory
// (e.g. ~/.config/Signal): its presence shows the messenger was set up for
// that user even when the app itself is gone. Presence is decided by the
// entry's type in a listing of its parent (or Lstat): nothing inside is
// opened or read, and a data directory that is a symbolic link counts as
// present but is not followed. A parent that
// is a link (~/.config → elsewhere) is not looked through, so another
// user's files cannot be attributed to this one. A parent or data path that
// cannot be read at all (permission denied, an I/O error) is a Problem: its
// messengers are not known to be absent.
func (c *collector) scanUserDataDirs(v *homeView) {
	for _, parent := range c.idx.dataParents {
		dir := v.rel
		if parent != "." {
			dir += "/" + parent
		}
		err := v.plainDir(dir)
		if err == nil {
			// One listing of the parent answers for all its children.
			_, _, err = v.list(dir)
		}
		if unreadable(err) {
			c.problem("data-dir", dir, "directory not read, its messengers' data directories are unknown: "+describeErr(err))
			continue
		}
		if err != nil {
			continue // missing, or a linked ~/.config: not followed
		}
		for _, ref := range c.idx.dataDirs[parent] {
			p := v.rel + "/" + ref.rel
			m, err := v.stat(p)
			if unreadable(err) {
				c.problem("data-dir", p, "not looked at: "+describeErr(err))
			} else if err == nil && evidenceMode(m) {
				c.add(ref.entry, sourceDataDir, v.user, "", "/"+p)
			}
		}
	}
}

// evidenceMode reports whether a data path's type counts as evidence: a
// directory, a regular file (some apps keep one config file) or a link.
func evidenceMode(m fs.FileMode) bool {
	return m.IsDir() || m.IsRegular() || m&fs.ModeSymlink != 0
}
