package platform

import (
	"sync"
	"time"
)

// DirMemo remembers, from one scan to the next, a small result computed
// from a directory's listing (e.g. which catalog origins a browser
// profile's site-storage folder holds) or from a file (the catalog's
// packages in the dpkg database), keyed by the path and its identity:
// device, inode, size, modification and change time. A file's content
// changes its modification and change time the same way. Adding,
// removing or renaming an entry changes the directory's times, and the
// change time cannot be set by the directory's owner (touch sets only the
// modification time), so an unchanged identity means an unchanged listing.
// A directory changed less than memoSlack before it was listed is not
// remembered: a change in the same clock tick as the listing would not
// show in its times. Platforms whose file info has no change time
// (Windows) remember nothing.
//
// The agent's service keeps one DirMemo for its lifetime, so that scheduled
// scans list only what changed; a zero Host.Memo (the CLI's one-shot scan)
// lists everything. Only results are kept, never the listing itself.
type DirMemo struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	mu  sync.Mutex
	m   map[memoKey]memoEntry
}

type memoEntry struct {
	id  fileID
	val []string
}

// memoSlack is how long before a listing a directory must have last
// changed for the listing to be remembered (coarse file-system clocks).
const memoSlack = 2 * time.Second

// maxMemoEntries bounds the directories remembered; the memo starts over
// when it is full.
const maxMemoEntries = 100_000

// Begin returns the time to pass to Put for a listing about to start.
func (d *DirMemo) Begin() time.Time {
	if d == nil {
		return time.Time{}
	}
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// memoKey is a remembered result: a path below a base (a user's home,
// relative to the root; or a name for what else the result depends on,
// such as the set of package names a dpkg read keeps), kept apart so that
// a lookup joins nothing.
type memoKey struct{ base, rel string }

// Get returns the result remembered for base/rel, when the folder (id,
// from LstatBelow) has not changed since.
func (d *DirMemo) Get(base, rel string, id Ident) ([]string, bool) {
	if d == nil || !id.hasID {
		return nil, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.m[memoKey{base, rel}]
	if !ok || e.id != id.id {
		return nil, false
	}
	return e.val, true
}

// Put remembers val for base/rel (id from the LstatBelow before the
// listing, began from Begin before the listing).
func (d *DirMemo) Put(base, rel string, id Ident, began time.Time, val []string) {
	if d == nil || !id.hasID || !id.id.changedBefore(began.Add(-memoSlack)) {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil || len(d.m) >= maxMemoEntries {
		d.m = map[memoKey]memoEntry{}
	}
	d.m[memoKey{base, rel}] = memoEntry{id: id.id, val: val}
}
