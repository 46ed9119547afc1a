package linux

import (
	"context"
	"io/fs"
	"strings"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
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

// scanUserServiceDirs reports which services an aggregator (Ferdium,
// Franz) has set up for one home's user, from the names of the directories
// in its recipes folder: nothing inside them is opened. The names are
// bounded, sorted and filtered to service-id shape; the folder, like every
// path below a home, is not reached through a symbolic link. It runs after
// scanUserDataDirs on the same collector.
func (c *collector) scanUserServiceDirs(ctx context.Context, v *homeView) {
	if len(c.idx.serviceDirs) == 0 || ctx.Err() != nil {
		return
	}
	// Only where scanUserDataDirs found the aggregator's data directory
	// for the user: the recipes folder lies inside it, and a scan without
	// aggregators costs nothing here.
	var present map[string]bool
	for _, m := range c.items {
		if m.Source == sourceDataDir {
			if present == nil {
				present = map[string]bool{}
			}
			present[m.ID+"\x00"+m.User] = true
		}
	}
	for _, ref := range c.idx.serviceDirs {
		if !present[ref.entry.ID+"\x00"+v.user] {
			continue
		}
		dir := v.rel + "/" + ref.rel
		err := v.plainDir(dir)
		var entries []fs.DirEntry
		truncated := false
		if err == nil {
			entries, truncated, err = v.list(dir)
		}
		if unreadable(err) {
			c.problem("data-dir", dir, "aggregator's service folder not read: "+describeErr(err))
			continue
		}
		if err != nil {
			continue
		}
		names, more := platform.ServiceNames(entries)
		if more || truncated {
			c.problem("data-dir", dir, "more services than are listed; only the first were reported")
		}
		c.items = append(c.items, policyMessenger(ref, v.user, "/"+dir, strings.Join(names, ", ")))
	}
}

func policyMessenger(ref dataDirRef, user, location, services string) policy.Messenger {
	e := ref.entry
	return policy.Messenger{ID: e.ID, Name: e.Name, Variant: e.Variant, Source: sourceDataDir, User: user, Location: location, Services: services}
}
