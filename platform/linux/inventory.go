package linux

import (
	"cmp"
	"context"
	"io/fs"
	"slices"
	"sync"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// Evidence sources, as documented on policy.Messenger.Source.
const (
	sourceDeb      = "deb"
	sourceRPM      = "rpm"
	sourceSnap     = "snap"
	sourceFlatpak  = "flatpak"
	sourceDesktop  = "desktop"
	sourceAppImage = "appimage"
	sourceDataDir  = "data-dir"
	sourceProcess  = policy.SourceProcess
)

// maxDirEntries bounds how many entries one directory listing reads, so a
// home with millions of files cannot stall the scan.
const maxDirEntries = 10000

// maxProblemsPerProbe bounds the problems one inventory probe lists (see
// platform.Problems): a home with ten thousand FIFOs named like .desktop
// files gives a readable list and a count.
const maxProblemsPerProbe = 25

// scanMessengers appends every catalog messenger found under the host to
// inv.Messengers, deduplicated (one item per id, source, user and
// location) and sorted. Each source that fails adds a Problem; the others
// still run. It returns its read of the dpkg database, which also picked
// out the catalog's management-agent packages for the posture probes.
func scanMessengers(ctx context.Context, h *platform.Host, cat *policy.Catalog, users []policy.User, inv *policy.Inventory) debFacts {
	if cat == nil {
		inv.Problems = append(inv.Problems, policy.Problem{Probe: "messengers", Message: "no messenger catalog; nothing matched"})
		return debFacts{err: errDebNotRead}
	}
	c := &collector{idx: newCatalogIndex(cat), fsys: h.Root, maxEntries: maxDirEntries, probs: platform.Problems{Max: maxProblemsPerProbe}}
	hs := c.homeViews(c.homes(users))
	// The package databases (one big sequential read) and the per-user file
	// probes (many small reads) are independent: on two cores running them
	// side by side takes the wall time of the longer. Each half has its own
	// collector; the catalog index and the root filesystem are only read.
	pkgs := c.fork()
	debs := debFacts{err: errDebNotRead}
	var wg sync.WaitGroup
	wg.Go(func() {
		pkgs.run(ctx, func() { debs = pkgs.scanDpkg() }, func() { pkgs.scanRPM(ctx, h) }, pkgs.scanSnaps)
	})
	c.run(ctx,
		func() { c.scanFlatpaks(ctx, hs) },
		func() { c.scanDesktopFiles(ctx, hs) },
		func() { c.scanAppImages(ctx, hs) },
		func() { c.scanDataDirs(ctx, hs) },
		func() { c.scanServiceDirs(ctx, hs) },
	)
	wg.Wait()
	if h.Live {
		c.run(ctx, func() { c.scanProcesses(ctx, h, users) })
	}
	items := append(inv.Messengers, pkgs.items...)
	inv.Messengers = dedupMessengers(append(items, c.items...))
	inv.Problems = append(inv.Problems, pkgs.probs.List()...)
	if ctx.Err() == nil && !packagesRead(debs, pkgs.rpmRead) {
		// Core: without a package database, a messenger installed as a
		// package cannot be shown absent.
		inv.Problems = append(inv.Problems, policy.Problem{Probe: "packages", Core: true,
			Message: "no package database could be read (dpkg status or RPM database), installed packages are not inventoried"})
	}
	inv.Problems = append(inv.Problems, c.probs.List()...)
	if ctx.Err() != nil {
		inv.Problems = append(inv.Problems, policy.Problem{Probe: "messengers", Message: "scan cancelled, the inventory is incomplete: " + ctx.Err().Error()})
	}
	return debs
}

// packagesRead reports whether a package database was read: the dpkg
// status file (a malformed one was read up to its error) or the RPM
// database.
func packagesRead(debs debFacts, rpmRead bool) bool {
	return rpmRead || debs.err == nil || isDpkgSyntaxError(debs.err)
}

// run runs steps in order, stopping when ctx is done.
func (c *collector) run(ctx context.Context, steps ...func()) {
	for _, step := range steps {
		if ctx.Err() != nil {
			return
		}
		step()
	}
}

// fork returns an empty collector over the same catalog and root, for
// probes run on another goroutine.
func (c *collector) fork() *collector {
	return &collector{idx: c.idx, fsys: c.fsys, maxEntries: c.maxEntries, probs: platform.Problems{Max: c.probs.Max}}
}

// collector gathers evidence and problems of one scan.
type collector struct {
	idx   *catalogIndex
	fsys  fs.FS
	items []policy.Messenger
	// probs holds the problems, bounded per probe in production.
	probs platform.Problems
	// maxEntries bounds each directory listing (maxDirEntries in
	// production).
	maxEntries int
	// buf is reused for reading .desktop files.
	buf []byte
	// rpmRead is set when the RPM database was queried.
	rpmRead bool
}

// list reads at most c.maxEntries entries of dir.
func (c *collector) list(dir string) ([]fs.DirEntry, bool, error) {
	return platform.ReadDir(c.fsys, dir, c.maxEntries)
}

// add records one piece of evidence. The version is capped and cleaned:
// a per-user Flatpak's metainfo is the user's to write.
func (c *collector) add(e *policy.CatalogEntry, source, user, version, location string) {
	c.items = append(c.items, policy.Messenger{
		ID: e.ID, Name: e.Name, Variant: e.Variant, Source: source,
		User: user, Version: platform.Printable(version, platform.MaxVersionLen), Location: location,
	})
}

// problem records a Problem; rel is root-relative ("var/lib/dpkg/status")
// and shown absolute.
func (c *collector) problem(probe, rel, msg string) {
	if rel != "" {
		rel = "/" + rel
	}
	c.probs.Add(probe, rel, msg)
}

// dedupMessengers sorts items and drops repeats of the same id, source,
// user and location (e.g. the many helper processes of one Electron app).
func dedupMessengers(items []policy.Messenger) []policy.Messenger {
	slices.SortFunc(items, func(a, b policy.Messenger) int {
		return cmp.Or(
			cmp.Compare(a.ID, b.ID), cmp.Compare(a.Source, b.Source),
			cmp.Compare(a.User, b.User), cmp.Compare(a.Location, b.Location),
			cmp.Compare(b.Version, a.Version), // a known version sorts first
		)
	})
	return slices.CompactFunc(items, func(a, b policy.Messenger) bool {
		return a.ID == b.ID && a.Source == b.Source && a.User == b.User && a.Location == b.Location
	})
}

// homeViews wraps each home for the per-user probes. A home that cannot be
// listed (root on a mode-0700 NFS home exported with root_squash gets
// "permission denied") is one Problem, and its per-user sources are
// skipped, instead of every directory in it reading as absent. The
// listing is kept: the AppImage and data-directory probes use it.
func (c *collector) homeViews(hs []homeDir) []*homeView {
	out := make([]*homeView, 0, len(hs))
	for _, h := range hs {
		v := newHomeView(c.fsys, h, c.maxEntries)
		if _, _, err := v.list(v.rel); unreadable(err) {
			c.problem("home", v.rel, "home not read, the messengers in it are unknown: "+describeErr(err))
			continue
		}
		out = append(out, v)
	}
	return out
}
