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
	lister := &dirCache{s: s, home: home, entries: map[string][]fs.DirEntry{}}
	for i := range s.cat.Messengers {
		e := &s.cat.Messengers[i]
		for _, rel := range e.Darwin.DataDirs {
			if p := lister.find(rel); p != "" {
				s.inv.Messengers = append(s.inv.Messengers, policy.Messenger{
					ID: e.ID, Name: e.Name, Variant: e.Variant, Source: sourceDataDir,
					User: u.Name, Location: "/" + p,
				})
				break
			}
		}
	}
}

// dirCache lists each parent folder once per user, since many catalog
// paths share Library/Containers or Library/Application Support.
type dirCache struct {
	s       *scan
	home    string
	entries map[string][]fs.DirEntry
}

// find returns the root-relative path of the first entry matching rel
// (relative to the home; its last element may be a path.Match pattern such
// as "*.ru.keepcoder.Telegram"), or "".
func (c *dirCache) find(rel string) string {
	rel = strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(rel, "~/")), "/")
	if rel == "" || rel == "." {
		return ""
	}
	parent, pattern := path.Split(rel)
	parent = path.Join(c.home, parent)
	entries, ok := c.entries[parent]
	if !ok {
		entries = c.list(parent)
		c.entries[parent] = entries
	}
	for _, e := range entries {
		if m, err := path.Match(pattern, e.Name()); err != nil || !m {
			continue
		}
		if e.Type()&fs.ModeSymlink != 0 {
			continue
		}
		return path.Join(parent, e.Name())
	}
	return ""
}

func (c *dirCache) list(dir string) []fs.DirEntry {
	if err := platform.NoLinksBelow(c.s.h.Root, c.home, dir); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			at := dir
			var pe *fs.PathError
			if errors.As(err, &pe) {
				at = pe.Path // the offending component, reported once
			}
			c.s.problem("data-dirs", "/"+at, "skipped user folders below: "+err.Error())
		}
		return nil
	}
	entries, truncated, err := readDirCapped(c.s.h.Root, dir, maxDirEntries)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.s.problem("data-dirs", "/"+dir, "cannot list folder: "+err.Error())
		}
		return nil
	}
	if truncated {
		c.s.problem("data-dirs", "/"+dir, "folder has too many entries; only part was searched")
	}
	return entries
}
