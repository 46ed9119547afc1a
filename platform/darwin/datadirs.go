package darwin

import (
	"errors"
	"io/fs"
	"path"
	"strings"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// scanMessengers gathers all messenger evidence: bundles, per-user data
// folders and (on the live system) running processes.
func scanMessengers(s *scan, users []policy.User) {
	scanApps(s, users, bundleIndex(s.cat))
	for _, u := range users {
		scanDataDirs(s, u)
	}
	if s.h.Live {
		scanProcesses(s)
	}
}

// scanDataDirs looks for the catalog's per-user folders (Homebrew cask
// "zap" paths such as Library/Containers/net.whatsapp.WhatsApp) under one
// user's home, so that an app used from a second account is attributed to
// that account even though the bundle in /Applications is shared. Presence
// is checked with Lstat; no symbolic link below the home is followed, and a
// link as the folder itself does not count. One piece of evidence is
// recorded per messenger and user: the first matching folder in catalog order.
func scanDataDirs(s *scan, u policy.User) {
	home := realHome(s, u)
	if home == "" {
		return
	}
	lister := &dirCache{s: s, home: home, parents: map[string]bool{}, entries: map[string][]fs.DirEntry{}}
	for i := range s.cat.Messengers {
		e := &s.cat.Messengers[i]
		for _, rel := range e.Darwin.DataDirs {
			if p := lister.find(rel); p != "" {
				s.inv.Messengers = append(s.inv.Messengers, policy.Messenger{
					ID: e.ID, Name: e.Name, Variant: e.Variant, Source: sourceDataDir,
					User: u.Name, Location: "/" + p,
				})
				scanServiceDirs(s, lister, e, u)
				break
			}
		}
	}
}

// scanServiceDirs reports which services an aggregator (Ferdium, Franz) has
// set up for the user, from the names of the folders in its recipes folder
// (see platform.ServiceNames); it runs only where the aggregator's data
// folder was found.
func scanServiceDirs(s *scan, c *dirCache, e *policy.CatalogEntry, u policy.User) {
	for _, rel := range e.Darwin.ServiceDirs {
		rel = strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(rel, "~/")), "/")
		if rel == "" || rel == "." {
			continue
		}
		dir := path.Join(c.home, rel)
		if !c.parentOK(dir) {
			continue
		}
		entries := c.list(dir)
		names, more := platform.ServiceNames(entries)
		if more {
			s.problem("data-dirs", "/"+dir, "more services than are listed; only the first were reported")
		}
		s.inv.Messengers = append(s.inv.Messengers, policy.Messenger{
			ID: e.ID, Name: e.Name, Variant: e.Variant, Source: sourceDataDir,
			User: u.Name, Location: "/" + dir, Services: strings.Join(names, ", "),
		})
	}
}

// dirCache checks each parent folder once per user, since many catalog
// paths share Library/Containers or Library/Application Support.
type dirCache struct {
	s       *scan
	home    string
	parents map[string]bool // parent has no symlink below the home
	entries map[string][]fs.DirEntry
}

// find returns the root-relative path of the first entry matching rel
// (relative to the home; its last element may be a path.Match pattern such
// as "*.ru.keepcoder.Telegram"), or "". A literal name is checked with one
// Lstat; only a pattern lists its folder. A path that cannot be looked at
// is a problem, not an absent folder: without Full Disk Access, macOS
// privacy protection (TCC) answers "operation not permitted" for other
// apps' containers.
func (c *dirCache) find(rel string) string {
	rel = strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(rel, "~/")), "/")
	if rel == "" || rel == "." {
		return ""
	}
	dir, pattern := path.Split(rel)
	parent := path.Join(c.home, dir)
	if !c.parentOK(parent) {
		return ""
	}
	if !strings.ContainsAny(pattern, `*?[\`) {
		p := path.Join(parent, pattern)
		st, err := platform.Lstat(c.s.h.Root, p)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			c.s.problem("data-dirs", "/"+p, "cannot look at folder: "+err.Error())
		}
		if err != nil || st.Mode()&fs.ModeSymlink != 0 {
			return ""
		}
		return p
	}
	for _, e := range c.list(parent) {
		if m, err := path.Match(pattern, e.Name()); err != nil || !m || e.Type()&fs.ModeSymlink != 0 {
			continue
		}
		return path.Join(parent, e.Name())
	}
	return ""
}

// parentOK reports whether dir exists with no symbolic link between the
// home and it; a link is a problem, recorded once at the offending path.
func (c *dirCache) parentOK(dir string) bool {
	if ok, seen := c.parents[dir]; seen {
		return ok
	}
	err := platform.NoLinksBelow(c.s.h.Root, c.home, dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		at := dir
		var pe *fs.PathError
		if errors.As(err, &pe) {
			at = pe.Path
		}
		c.s.problem("data-dirs", "/"+at, "skipped user folders below: "+err.Error())
	}
	c.parents[dir] = err == nil
	return err == nil
}

func (c *dirCache) list(dir string) []fs.DirEntry {
	if entries, ok := c.entries[dir]; ok {
		return entries
	}
	entries, truncated, err := readDirCapped(c.s.h.Root, dir, maxDirEntries)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.s.problem("data-dirs", "/"+dir, "cannot list folder: "+err.Error())
	}
	if truncated {
		c.s.problem("data-dirs", "/"+dir, "folder has too many entries; only part was searched")
	}
	c.entries[dir] = entries
	return entries
}
