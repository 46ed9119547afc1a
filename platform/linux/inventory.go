package linux

import (
	"cmp"
	"context"
	"io/fs"
	"slices"
	"sync"
	"sync/atomic"

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
	// The package databases (one big sequential read), the system-wide
	// application directories and each home (many small reads) are
	// independent tasks, run side by side on as many goroutines as the
	// machine has cores (Host.Parallel; fewer in the service): more would
	// only queue for the same cores and the disk. Each task has its own collector; the
	// catalog index and the root filesystem are only read. The package
	// task goes first, as the longest.
	pkgs := c.fork()
	debs := debFacts{err: errDebNotRead}
	sys := c.forkLogged()
	homes := homeCandidates(users)
	perHome := make([]*collector, len(homes))
	tasks := []func(){
		func() {
			pkgs.run(ctx, func() { debs = pkgs.scanDpkg(h.Memo) }, func() { pkgs.scanRPM(ctx, h) }, pkgs.scanSnaps)
		},
		func() {
			sys.stage = stageFlatpak
			sys.scanFlatpakDir(flatpakSystemApps, homeDir{})
			sys.stage = stageDesktop
			sys.scanSystemDesktopFiles(ctx)
		},
	}
	for i, home := range homes {
		hc := c.forkLogged()
		perHome[i] = hc
		tasks = append(tasks, func() { hc.scanHome(ctx, home) })
	}
	runTasks(tasks, h.Parallel())
	if h.Live {
		c.run(ctx, func() { c.scanProcesses(ctx, h, users) })
	}
	// The problems in the order a one-by-one scan adds them: by stage,
	// system-wide before the homes, homes in passwd order; so the list and
	// its per-probe bound do not depend on which task finished first.
	logged := append([]*collector{sys}, perHome...)
	for stage := range numStages {
		for _, lc := range logged {
			for _, p := range lc.logged {
				if p.stage == stage {
					c.probs.Add(p.probe, p.path, p.msg)
				}
			}
		}
	}
	items := append(inv.Messengers, pkgs.items...)
	for _, lc := range logged {
		items = append(items, lc.items...)
	}
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

// Stages of the per-user scan, in the order a one-by-one scan runs them
// (scanHome); problems are listed in this order.
const (
	stageHomeStat = iota
	stageHomeList
	stageFlatpak
	stageDesktop
	stageAppImage
	stageDataDir
	stageServiceDir
	numStages
)

// scanHome runs every per-user probe on one home. Its collector must come
// from forkLogged.
func (c *collector) scanHome(ctx context.Context, home homeDir) {
	c.stage = stageHomeStat
	if ctx.Err() != nil || !c.homeExists(home) {
		return
	}
	c.stage = stageHomeList
	v := c.homeView(home)
	if v == nil {
		return
	}
	c.stage = stageFlatpak
	c.scanUserFlatpaks(v)
	c.stage = stageDesktop
	c.scanUserDesktopFiles(ctx, v)
	c.stage = stageAppImage
	c.scanUserAppImages(ctx, v)
	c.stage = stageDataDir
	if ctx.Err() == nil {
		c.scanUserDataDirs(v)
	}
	c.stage = stageServiceDir
	c.scanUserServiceDirs(ctx, v)
}

// runTasks runs tasks on at most workers goroutines, taking them in order;
// with one worker, on the calling goroutine (the service's scan runs on a
// thread of lowered priority, and its tasks should too).
func runTasks(tasks []func(), workers int) {
	if workers <= 1 {
		for _, t := range tasks {
			t()
		}
		return
	}
	workers = min(workers, len(tasks))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(tasks) {
					return
				}
				tasks[i]()
			}
		})
	}
	wg.Wait()
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

// forkLogged is fork for a task whose problems are replayed into c's list
// afterwards, in stage order (see scanMessengers).
func (c *collector) forkLogged() *collector {
	f := c.fork()
	f.logging = true
	return f
}

// stagedProblem is a problem recorded by a logging collector.
type stagedProblem struct {
	stage            int
	probe, path, msg string
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
	// logging collectors record problems in logged, with the stage that
	// found them, instead of in probs.
	logging bool
	stage   int
	logged  []stagedProblem
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
	if c.logging {
		c.logged = append(c.logged, stagedProblem{c.stage, probe, rel, msg})
		return
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

// homeView wraps one home for the per-user probes. A home that cannot be
// listed (root on a mode-0700 NFS home exported with root_squash gets
// "permission denied") is one Problem, and nil: its per-user sources are
// skipped, instead of every directory in it reading as absent. The
// listing is kept: the AppImage and data-directory probes use it.
func (c *collector) homeView(h homeDir) *homeView {
	v := newHomeView(c.fsys, h, c.maxEntries)
	if _, _, err := v.list(v.rel); unreadable(err) {
		c.problem("home", v.rel, "home not read, the messengers in it are unknown: "+describeErr(err))
		return nil
	}
	return v
}
