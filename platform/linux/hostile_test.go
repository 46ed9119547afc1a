package linux

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// secret is written into the fake /etc/shadow; it must never appear in a
// scan result.
const secret = "root:$y$j9T$SECRETHASHSECRETHASH:19000:0:99999:7:::"

// hostileRoot builds a small root in a temp dir: one human user, a real
// .desktop file so that "the other sources still scan" can be checked, and
// a shadow file for links to point at.
func hostileRoot(t *testing.T) (root string, home string) {
	t.Helper()
	root = t.TempDir()
	home = filepath.Join(root, "home", "alice")
	writeFile(t, filepath.Join(root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n")
	writeFile(t, filepath.Join(root, "etc", "shadow"), secret+"\n")
	writeFile(t, filepath.Join(root, "usr", "share", "applications", "slack.desktop"), "[Desktop Entry]\nName=Slack\nExec=/usr/bin/slack %U\nType=Application\n")
	mkdir(t, filepath.Join(home, ".local", "share", "applications"))
	mkdir(t, filepath.Join(home, ".config"))
	mkdir(t, filepath.Join(home, "Applications"))
	return root, home
}

func writeFile(t testing.TB, p, content string) {
	t.Helper()
	mkdir(t, filepath.Dir(p))
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t testing.TB, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func symlink(t testing.TB, target, link string) {
	t.Helper()
	mkdir(t, filepath.Dir(link))
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// scanWithin scans root and fails if the scan takes longer than limit (a
// blocked FIFO open would hang forever).
func scanWithin(t *testing.T, root string, limit time.Duration) *policy.Inventory {
	t.Helper()
	h := &platform.Host{GOOS: "linux", Root: platform.NewDirFS(root), RootDir: root}
	type result struct {
		inv *policy.Inventory
		err error
	}
	done := make(chan result, 1)
	go func() {
		inv, err := Scan(context.Background(), h, testCatalog())
		done <- result{inv, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("Scan: %v", r.err)
		}
		return r.inv
	case <-time.After(limit):
		t.Fatalf("Scan did not finish within %v", limit)
		return nil
	}
}

func hasMessenger(inv *policy.Inventory, id, source, loc string) bool {
	for _, m := range inv.Messengers {
		if m.ID == id && m.Source == source && (loc == "" || m.Location == loc) {
			return true
		}
	}
	return false
}

func problemFor(inv *policy.Inventory, path string) (policy.Problem, bool) {
	for _, p := range inv.Problems {
		if p.Path == path {
			return p, true
		}
	}
	return policy.Problem{}, false
}

// assertNoLeak fails if the shadow file's content shows up anywhere in the
// inventory.
func assertNoLeak(t *testing.T, inv *policy.Inventory) {
	t.Helper()
	b, err := json.Marshal(inv)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "SECRETHASH") {
		t.Errorf("inventory leaks file content: %s", b)
	}
}

func TestHostileDpkgStatus(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(t *testing.T, root string)
		wantProblem string // substring of the Problem message; "" means no Problem
	}{
		{"no dpkg at all", func(t *testing.T, root string) {}, ""},
		{"admin dir without status", func(t *testing.T, root string) {
			mkdir(t, filepath.Join(root, dpkgAdminDir))
		}, "does not exist"},
		{"binary garbage", func(t *testing.T, root string) {
			writeFile(t, filepath.Join(root, dpkgStatus), "\x7fELF\x02\x01\x01\x00\x00SECRETHASH\x00\x00")
		}, "line 1: NUL byte"},
		{"text garbage", func(t *testing.T, root string) {
			writeFile(t, filepath.Join(root, dpkgStatus), "Package: signal-desktop\nStatus: install ok installed\nVersion: 7.0\n\nthis is SECRETHASH not a field\n")
		}, "line 5: field line without a colon"},
		{"stanza without package", func(t *testing.T, root string) {
			writeFile(t, filepath.Join(root, dpkgStatus), "Status: install ok installed\nVersion: 1\n")
		}, "stanza without a Package field"},
		{"symlink to shadow", func(t *testing.T, root string) {
			symlink(t, filepath.Join(root, "etc", "shadow"), filepath.Join(root, dpkgStatus))
		}, "symbolic link"},
		{"fifo", func(t *testing.T, root string) {
			mkfifo(t, filepath.Join(root, dpkgStatus))
		}, "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, _ := hostileRoot(t)
			tt.setup(t, root)
			inv := scanWithin(t, root, 10*time.Second)
			assertNoLeak(t, inv)
			if !hasMessenger(inv, "slack", "desktop", "/usr/share/applications/slack.desktop") {
				t.Errorf("the other sources did not scan: %+v", inv.Messengers)
			}
			p, ok := problemFor(inv, "/"+dpkgStatus)
			switch {
			case tt.wantProblem == "" && ok:
				t.Errorf("unexpected Problem %+v", p)
			case tt.wantProblem != "" && !ok:
				t.Errorf("no Problem for %s; problems %+v", dpkgStatus, inv.Problems)
			case tt.wantProblem != "" && !strings.Contains(p.Message, tt.wantProblem):
				t.Errorf("Problem = %q; want it to contain %q", p.Message, tt.wantProblem)
			}
		})
	}
}

func TestHostileGarbageKeepsPackagesBeforeError(t *testing.T) {
	root, _ := hostileRoot(t)
	writeFile(t, filepath.Join(root, dpkgStatus), "Package: signal-desktop\nStatus: install ok installed\nVersion: 7.0\n\n\x00\x01garbage")
	inv := scanWithin(t, root, 10*time.Second)
	if !hasMessenger(inv, "signal", "deb", "signal-desktop") {
		t.Errorf("package before the garbage was lost: %+v", inv.Messengers)
	}
}

func TestHostileSymlinksInHome(t *testing.T) {
	root, home := hostileRoot(t)
	shadow := filepath.Join(root, "etc", "shadow")
	// A .desktop file and an AppImage that are links to /etc/shadow.
	symlink(t, shadow, filepath.Join(home, ".local", "share", "applications", "signal-desktop.desktop"))
	symlink(t, shadow, filepath.Join(home, "Applications", "simplex-desktop-x86_64.AppImage"))
	// A link in a system directory is packaging: skipped without a note.
	symlink(t, shadow, filepath.Join(root, "usr", "share", "applications", "skypeforlinux.desktop"))
	// A data "file" that is a link to /etc/shadow: presence only, never read.
	symlink(t, shadow, filepath.Join(home, ".config", "teamwire.cfg"))
	// A data directory that is a link elsewhere counts, but is not followed.
	symlink(t, filepath.Join(root, "etc"), filepath.Join(home, ".config", "Signal"))
	// ~/.var → /root-owned place: children must not be attributed to alice.
	mkdir(t, filepath.Join(root, "srv", "other", "app", "org.telegram.desktop"))
	symlink(t, filepath.Join(root, "srv", "other"), filepath.Join(home, ".var"))

	inv := scanWithin(t, root, 10*time.Second)
	assertNoLeak(t, inv)

	if hasMessenger(inv, "signal", "desktop", "") {
		t.Errorf("a linked .desktop file counted as evidence: %+v", inv.Messengers)
	}
	if p, ok := problemFor(inv, "/home/alice/.local/share/applications/signal-desktop.desktop"); !ok || !strings.Contains(p.Message, "symbolic link") {
		t.Errorf("linked .desktop file: Problem %+v, %v; want a symbolic-link Problem", p, ok)
	}
	if hasMessenger(inv, "simplex", "appimage", "") {
		t.Errorf("a linked AppImage counted: %+v", inv.Messengers)
	}
	if p, ok := problemFor(inv, "/usr/share/applications/skypeforlinux.desktop"); ok || hasMessenger(inv, "skype", "desktop", "") {
		t.Errorf("system link: Problem %+v or evidence %+v; want neither", p, inv.Messengers)
	}
	if !hasMessenger(inv, "teamwire", "data-dir", "/home/alice/.config/teamwire.cfg") {
		t.Errorf("a linked data file should count as presence: %+v", inv.Messengers)
	}
	if !hasMessenger(inv, "signal", "data-dir", "/home/alice/.config/Signal") {
		t.Errorf("a linked data dir should count as presence: %+v", inv.Messengers)
	}
	if hasMessenger(inv, "telegram", "data-dir", "") {
		t.Errorf("data below a linked ~/.var was attributed to alice: %+v", inv.Messengers)
	}
}

func TestHostileLinkedApplicationsDir(t *testing.T) {
	root, home := hostileRoot(t)
	// ~/.local points at another place holding a messenger's .desktop file;
	// it must not be attributed to alice.
	writeFile(t, filepath.Join(root, "srv", "bob", "share", "applications", "signal-desktop.desktop"), "[Desktop Entry]\nName=Signal\nExec=signal-desktop\n")
	if err := os.RemoveAll(filepath.Join(home, ".local")); err != nil {
		t.Fatal(err)
	}
	symlink(t, filepath.Join(root, "srv", "bob"), filepath.Join(home, ".local"))
	inv := scanWithin(t, root, 10*time.Second)
	if hasMessenger(inv, "signal", "desktop", "") {
		t.Errorf("followed a linked ~/.local: %+v", inv.Messengers)
	}
	if _, ok := problemFor(inv, "/home/alice/.local/share/applications"); !ok {
		t.Errorf("no Problem for the linked application directory: %+v", inv.Problems)
	}
}

func TestHostileFIFOs(t *testing.T) {
	root, home := hostileRoot(t)
	mkfifo(t, filepath.Join(home, ".local", "share", "applications", "whatsapp.desktop"))
	mkfifo(t, filepath.Join(root, "usr", "share", "applications", "signal-desktop.desktop"))
	mkfifo(t, filepath.Join(home, "Applications", "simplex-desktop-x86_64.AppImage"))
	mkfifo(t, filepath.Join(home, ".config", "teamwire.cfg"))
	inv := scanWithin(t, root, 10*time.Second)
	for _, p := range []string{"/home/alice/.local/share/applications/whatsapp.desktop", "/usr/share/applications/signal-desktop.desktop"} {
		if pr, ok := problemFor(inv, p); !ok || !strings.Contains(pr.Message, "not a regular file") {
			t.Errorf("FIFO %s: Problem %+v, %v; want not-a-regular-file", p, pr, ok)
		}
	}
	if hasMessenger(inv, "simplex", "appimage", "") || hasMessenger(inv, "signal", "desktop", "") || hasMessenger(inv, "teamwire", "data-dir", "") {
		t.Errorf("a FIFO counted as evidence: %+v", inv.Messengers)
	}
	if !hasMessenger(inv, "slack", "desktop", "") {
		t.Errorf("the other sources did not scan: %+v", inv.Messengers)
	}
}

func TestHostileDirectoryLoops(t *testing.T) {
	root, home := hostileRoot(t)
	symlink(t, "..", filepath.Join(home, "loop"))
	symlink(t, ".", filepath.Join(home, "Applications", "again"))
	symlink(t, "../applications", filepath.Join(home, ".local", "share", "applications", "self.desktop"))
	symlink(t, home, filepath.Join(home, "Downloads"))
	symlink(t, "../..", filepath.Join(home, ".config", "Slack"))
	inv := scanWithin(t, root, 10*time.Second)
	if !hasMessenger(inv, "slack", "desktop", "/usr/share/applications/slack.desktop") {
		t.Errorf("the other sources did not scan: %+v", inv.Messengers)
	}
	// The looping ~/.config/Slack is a link: presence, not followed.
	if !hasMessenger(inv, "slack", "data-dir", "/home/alice/.config/Slack") {
		t.Errorf("linked data dir not reported: %+v", inv.Messengers)
	}
}

func TestHostileHugeSparseFiles(t *testing.T) {
	root, home := hostileRoot(t)
	const size = 2 << 30
	for _, p := range []string{
		filepath.Join(home, ".local", "share", "applications", "signal-desktop.desktop"),
		filepath.Join(root, "usr", "share", "applications", "org.telegram.desktop.desktop"),
		filepath.Join(home, "Applications", "simplex-desktop-x86_64.AppImage"),
		filepath.Join(root, dpkgStatus),
	} {
		mkdir(t, filepath.Dir(p))
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(size); err != nil {
			t.Skipf("sparse file: %v", err)
		}
		f.Close()
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	inv := scanWithin(t, root, 10*time.Second)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("scan with 2 GB files allocated %d bytes; want < 4 MiB", alloc)
	}
	if elapsed > 2*time.Second {
		t.Errorf("scan with 2 GB files took %v", elapsed)
	}
	for _, p := range []string{"/home/alice/.local/share/applications/signal-desktop.desktop", "/usr/share/applications/org.telegram.desktop.desktop", "/" + dpkgStatus} {
		if pr, ok := problemFor(inv, p); !ok || !strings.Contains(pr.Message, "exceeds the read limit") {
			t.Errorf("%s: Problem %+v, %v; want a read-limit Problem", p, pr, ok)
		}
	}
	// The AppImage is matched by name alone, never read.
	if !hasMessenger(inv, "simplex", "appimage", "/home/alice/Applications/simplex-desktop-x86_64.AppImage") {
		t.Errorf("AppImage not matched by name: %+v", inv.Messengers)
	}
	if hasMessenger(inv, "signal", "desktop", "") || hasMessenger(inv, "telegram", "desktop", "") {
		t.Errorf("an unreadable .desktop file counted: %+v", inv.Messengers)
	}
}

func TestHostileManyEntries(t *testing.T) {
	root, home := hostileRoot(t)
	dir := filepath.Join(home, "Downloads")
	for i := range 30 {
		writeFile(t, filepath.Join(dir, "file"+strconv.Itoa(i)), "")
	}
	// A real scan caps listings at maxDirEntries; a collector with a small
	// cap shows the behaviour without creating 10,000 files.
	c := &collector{idx: newCatalogIndex(testCatalog()), fsys: platform.NewDirFS(root), maxEntries: 20}
	c.scanUserAppImages(context.Background(), c.homeView(homeDir{user: "alice", rel: "home/alice", abs: "/home/alice"}))
	found := false
	for _, p := range c.probs.List() {
		found = found || (p.Path == "/home/alice/Downloads" && strings.Contains(p.Message, "more than 20 entries"))
	}
	if !found {
		t.Errorf("no truncation Problem: %+v", c.probs.List())
	}
	entries, truncated, err := platform.ReadDir(platform.NewDirFS(root), "home/alice/Downloads", 30)
	if err != nil || truncated || len(entries) != 30 {
		t.Errorf("ReadDir(exactly max) = %d entries, truncated %v, %v; want 30, false, nil", len(entries), truncated, err)
	}
}

func TestScanCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	inv, err := Scan(ctx, fixtureHost(t, "debian-desktop"), testCatalog())
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	found := false
	for _, p := range inv.Problems {
		found = found || strings.Contains(p.Message, "cancelled")
	}
	if !found {
		t.Errorf("cancelled scan reported no Problem: %+v", inv.Problems)
	}
}

// deniedFS is a root on which one directory can be stat'ed but neither
// listed nor looked into: root on a mode-0700 home exported over NFS with
// root_squash gets "permission denied" there.
type deniedFS struct {
	*platform.DirFS
	dir string
}

func (d deniedFS) denied(name string, self bool) error {
	if (self && name == d.dir) || strings.HasPrefix(name, d.dir+"/") {
		return &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return nil
}

func (d deniedFS) Open(name string) (fs.File, error) {
	if err := d.denied(name, true); err != nil {
		return nil, err
	}
	return d.DirFS.Open(name)
}

func (d deniedFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := d.denied(name, true); err != nil {
		return nil, err
	}
	return d.DirFS.ReadDir(name)
}

func (d deniedFS) Lstat(name string) (fs.FileInfo, error) {
	if err := d.denied(name, false); err != nil {
		return nil, err
	}
	return d.DirFS.Lstat(name)
}

func (d deniedFS) Stat(name string) (fs.FileInfo, error) {
	if err := d.denied(name, false); err != nil {
		return nil, err
	}
	return d.DirFS.Stat(name)
}

// TestUnreadableSnapDirIsAProblem: /snap that exists but cannot be listed
// hides the installed snaps; it is reported.
func TestUnreadableSnapDirIsAProblem(t *testing.T) {
	root, _ := hostileRoot(t)
	mkdir(t, filepath.Join(root, "snap", "signal-desktop"))
	h := &platform.Host{GOOS: "linux", Root: deniedFS{DirFS: platform.NewDirFS(root), dir: "snap"}, RootDir: root}
	inv, err := Scan(context.Background(), h, testCatalog())
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := problemFor(inv, "/snap"); !ok || p.Probe != "snap" || !strings.Contains(p.Message, "permission denied") {
		t.Errorf("problem for /snap = %+v, %v; want a snap problem saying permission denied", p, ok)
	}
}

// TestUnreadableDirInHomeIsAProblem: a directory below a readable home
// that cannot be looked into is reported by the probe that needed it.
func TestUnreadableDirInHomeIsAProblem(t *testing.T) {
	root, home := hostileRoot(t)
	mkdir(t, filepath.Join(home, ".config", "Signal"))
	mkdir(t, filepath.Join(home, ".local", "share", "TelegramDesktop"))
	h := &platform.Host{GOOS: "linux", Root: deniedFS{DirFS: platform.NewDirFS(root), dir: "home/alice/.config"}, RootDir: root}
	inv, err := Scan(context.Background(), h, testCatalog())
	if err != nil {
		t.Fatal(err)
	}
	p, ok := problemFor(inv, "/home/alice/.config")
	if !ok || p.Probe != "data-dir" || !strings.Contains(p.Message, "permission denied") {
		t.Errorf("problem for ~/.config = %+v, %v; want a data-dir problem saying permission denied", p, ok)
	}
	if hasMessenger(inv, "signal", sourceDataDir, "") {
		t.Errorf("Signal found behind an unreadable ~/.config: %+v", inv.Messengers)
	}
	if !hasMessenger(inv, "telegram", sourceDataDir, "/home/alice/.local/share/TelegramDesktop") {
		t.Errorf("Telegram's readable data directory not found: %+v", inv.Messengers)
	}
}

// TestUnreadableHomeIsAProblem: a home that cannot be looked into hides
// the messengers in it; it is reported once instead of every directory in
// it being taken for absent.
func TestUnreadableHomeIsAProblem(t *testing.T) {
	root, home := hostileRoot(t)
	mkdir(t, filepath.Join(home, ".config", "Signal"))
	h := &platform.Host{GOOS: "linux", Root: deniedFS{DirFS: platform.NewDirFS(root), dir: "home/alice"}, RootDir: root}
	inv, err := Scan(context.Background(), h, testCatalog())
	if err != nil {
		t.Fatal(err)
	}
	var homeProblems []policy.Problem
	for _, p := range inv.Problems {
		if strings.HasPrefix(p.Path, "/home/alice") {
			homeProblems = append(homeProblems, p)
		}
	}
	want := []policy.Problem{{Probe: "home", Path: "/home/alice", Message: "home not read, the messengers in it are unknown: permission denied"}}
	if diff := cmp.Diff(want, homeProblems); diff != "" {
		t.Errorf("problems for the unreadable home (-want +got):\n%s", diff)
	}
	if hasMessenger(inv, "signal", sourceDataDir, "") {
		t.Errorf("messenger found behind an unreadable home: %+v", inv.Messengers)
	}
	// The other sources still scan.
	if !hasMessenger(inv, "slack", sourceDesktop, "") {
		t.Errorf("system .desktop files not scanned: %+v", inv.Messengers)
	}
}

// TestUnstatableHomeIsAProblem: a home whose very directory cannot be looked
// at (its parent is closed to root) is reported, while a missing home is
// skipped silently.
func TestUnstatableHomeIsAProblem(t *testing.T) {
	root, _ := hostileRoot(t)
	writeFile(t, filepath.Join(root, "etc", "passwd"), "alice:x:1000:1000::/home/alice:/bin/bash\nsvc:x:1001:1001::/nonexistent:/bin/sh\n")
	h := &platform.Host{GOOS: "linux", Root: deniedFS{DirFS: platform.NewDirFS(root), dir: "home"}, RootDir: root}
	inv, err := Scan(context.Background(), h, testCatalog())
	if err != nil {
		t.Fatal(err)
	}
	p, ok := problemFor(inv, "/home/alice")
	if !ok || p.Probe != "home" || !strings.Contains(p.Message, "permission denied") {
		t.Errorf("problem for /home/alice = %+v, %v; want a home problem saying permission denied", p, ok)
	}
	if p, ok := problemFor(inv, "/nonexistent"); ok {
		t.Errorf("missing home reported: %+v", p)
	}
}

// TestHostileProblemFlood: forty FIFOs named like .desktop files give a
// bounded problem list with a count, not forty problems.
func TestHostileProblemFlood(t *testing.T) {
	root, home := hostileRoot(t)
	for i := range 40 {
		mkfifo(t, filepath.Join(home, ".local", "share", "applications", "x"+strconv.Itoa(i)+".desktop"))
	}
	inv := scanWithin(t, root, 10*time.Second)
	var desktop []policy.Problem
	for _, p := range inv.Problems {
		if p.Probe == "desktop" {
			desktop = append(desktop, p)
		}
	}
	if len(desktop) != maxProblemsPerProbe+1 || desktop[maxProblemsPerProbe].Message != "15 more problems not listed" {
		t.Errorf("desktop problems = %d (last %+v); want %d and a count of 15 more", len(desktop), desktop[len(desktop)-1], maxProblemsPerProbe+1)
	}
	if !hasMessenger(inv, "slack", sourceDesktop, "") {
		t.Errorf("system .desktop files not scanned: %+v", inv.Messengers)
	}
}
