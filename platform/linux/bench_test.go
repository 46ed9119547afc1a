package linux

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// Sizes of the generated benchmark root.
const (
	genPackages = 5000
	genUsers    = 50
	genDesktop  = 300 // 200 system-wide, 2 per user
	genFlatpaks = 100
)

// genRoot writes a root shaped like a busy Debian desktop into dir, from
// the real artefacts in testdata/debian-desktop: the dpkg database repeats
// its dpkg-written stanzas (renamed) up to genPackages, so stanza sizes and
// field mix are those of a real Debian status file; .desktop files are the
// fixture's real ones (vim.desktop carries 5 kB of translations). It returns
// the number of messenger items a scan must find.
func genRoot(tb testing.TB, dir string) int {
	tb.Helper()
	fix := filepath.Join("testdata", "debian-desktop")
	read := func(rel string) []byte {
		b, err := os.ReadFile(filepath.Join(fix, filepath.FromSlash(rel)))
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	put := func(rel string, b []byte) {
		writeFile(tb, filepath.Join(dir, filepath.FromSlash(rel)), string(b))
	}
	for _, rel := range []string{"etc/login.defs", "etc/hostname", "etc/machine-id", "usr/lib/os-release"} {
		put(rel, read(rel))
	}

	// Users.
	var passwd bytes.Buffer
	for line := range strings.Lines(string(read("etc/passwd"))) {
		if !strings.HasPrefix(line, "alice:") && !strings.HasPrefix(line, "bob:") && !strings.HasPrefix(line, "carol:") {
			passwd.WriteString(line) // the fixture's system accounts
		}
	}
	for i := range genUsers {
		fmt.Fprintf(&passwd, "user%02d:x:%d:%d:User %d,,,:/home/user%02d:/bin/bash\n", i, 2000+i, 2000+i, i, i)
	}
	put("etc/passwd", passwd.Bytes())

	// dpkg: the fixture's stanzas, each non-messenger one renamed per copy.
	stanzas := bytes.Split(bytes.TrimSpace(read(dpkgStatus)), []byte("\n\n"))
	var status bytes.Buffer
	for i := 0; status.Len() == 0 || i < genPackages; i++ {
		s := stanzas[i%len(stanzas)]
		if i >= len(stanzas) {
			name := bytes.TrimPrefix(bytes.SplitN(s, []byte("\n"), 2)[0], []byte("Package: "))
			s = bytes.Replace(s, []byte("Package: "+string(name)), []byte(fmt.Sprintf("Package: %s-gen%d", name, i)), 1)
		}
		status.Write(s)
		status.WriteString("\n\n")
	}
	put(dpkgStatus, status.Bytes())
	for _, d := range []string{"info", "updates", "triggers"} {
		mkdir(tb, filepath.Join(dir, dpkgAdminDir, d))
	}

	// .desktop files: 200 system-wide (the real messenger ones among them),
	// 2 per user (a WhatsApp Web PWA for every fifth user).
	vim := read("usr/share/applications/vim.desktop")
	for _, f := range []string{"signal-desktop.desktop", "org.telegram.desktop.desktop", "slack.desktop"} {
		put("usr/share/applications/"+f, read("usr/share/applications/"+f))
	}
	for i := 3; i < 200; i++ {
		put(fmt.Sprintf("usr/share/applications/app%03d.desktop", i), vim)
	}
	pwa := read("home/alice/.local/share/applications/chrome-hnpfjngllnobngcgfapefoaidbinmjnm-Default.desktop")
	items := 3 + 3 // signal, telegram, slack: deb and desktop
	items += 2     // element, teams-for-linux: deb
	for i := range genUsers {
		home := fmt.Sprintf("home/user%02d", i)
		put(home+"/.local/share/applications/app-a.desktop", vim)
		if i%5 == 0 {
			put(home+"/.local/share/applications/chrome-hnpfjngllnobngcgfapefoaidbinmjnm-Default.desktop", pwa)
			items++
		} else {
			put(home+"/.local/share/applications/app-b.desktop", vim)
		}
		for _, d := range []string{".config/pulse", ".config/dconf", ".config/gtk-3.0", ".cache", ".local/share/recently-used"} {
			mkdir(tb, filepath.Join(dir, home, d))
		}
		if i%3 == 0 {
			mkdir(tb, filepath.Join(dir, home, ".config/Signal"))
			items++
		}
		for j := range 20 {
			put(fmt.Sprintf("%s/Downloads/document-%02d.pdf", home, j), nil)
		}
		if i%10 == 0 {
			put(home+"/Applications/simplex-desktop-x86_64.AppImage", nil)
			items++
		}
	}

	// Flatpaks: 99 others plus Element, each deployed with its links.
	meta := read("var/lib/flatpak/app/im.riot.Riot/x86_64/stable/2d5b7c0e3f1a9b8c4d6e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e/files/share/metainfo/im.riot.Riot.metainfo.xml")
	for i := range genFlatpaks {
		id := fmt.Sprintf("org.example.App%03d", i)
		if i == 0 {
			id = "im.riot.Riot"
			items++
		}
		app := filepath.Join(dir, "var/lib/flatpak/app", id)
		commit := fmt.Sprintf("%064x", i+1)
		put(fmt.Sprintf("var/lib/flatpak/app/%s/x86_64/stable/%s/files/share/metainfo/%s.metainfo.xml", id, commit, id),
			bytes.ReplaceAll(meta, []byte("im.riot.Riot"), []byte(id)))
		symlink(tb, "x86_64/stable", filepath.Join(app, "current"))
		symlink(tb, commit, filepath.Join(app, "x86_64", "stable", "active"))
	}
	return items
}

func benchHost(b *testing.B) (*platform.Host, *policy.Catalog, int) {
	b.Helper()
	dir := b.TempDir()
	want := genRoot(b, dir)
	cat, err := policy.DefaultCatalog()
	if err != nil {
		b.Fatal(err)
	}
	return &platform.Host{GOOS: "linux", Root: platform.NewDirFS(dir), RootDir: dir}, cat, want
}

// BenchmarkScan measures a whole Linux scan (inventory and posture) of the
// generated root. Target: ≤ 50 ms and ≤ 8 MB allocated per scan.
func BenchmarkScan(b *testing.B) {
	h, cat, want := benchHost(b)
	inv, err := Scan(context.Background(), h, cat)
	if err != nil {
		b.Fatal(err)
	}
	if len(inv.Messengers) != want || len(inv.Users) != genUsers {
		b.Fatalf("generated root: %d messengers, %d users; want %d, %d\n%+v", len(inv.Messengers), len(inv.Users), want, genUsers, inv.Messengers)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Scan(context.Background(), h, cat); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInventory measures the inventory part alone (identify, users,
// messengers), without the posture probes.
func BenchmarkInventory(b *testing.B) {
	h, cat, _ := benchHost(b)
	b.ReportAllocs()
	for b.Loop() {
		inv := &policy.Inventory{}
		if err := identify(h, inv); err != nil {
			b.Fatal(err)
		}
		scanMessengers(context.Background(), h, cat, scanUsers(h, inv), inv)
	}
}

// BenchmarkDpkgStatus measures reading the generated 5,000-package status
// file alone, the part comparable with dpkg-query.
func BenchmarkDpkgStatus(b *testing.B) {
	h, cat, _ := benchHost(b)
	idx := newCatalogIndex(cat)
	b.ReportAllocs()
	for b.Loop() {
		c := &collector{idx: idx, fsys: h.Root, maxEntries: maxDirEntries}
		c.scanDpkg()
		if probs := c.probs.List(); len(c.items) != 5 || len(probs) != 0 {
			b.Fatalf("dpkg: %d items, problems %v", len(c.items), probs)
		}
	}
}

// BenchmarkDpkgQuery runs dpkg-query -W on the same generated database, for
// comparison: our scan must be at least twice as fast.
func BenchmarkDpkgQuery(b *testing.B) {
	dpkgQuery, err := exec.LookPath("dpkg-query")
	if err != nil {
		b.Skip("dpkg-query not installed (Debian package dpkg)")
	}
	h, _, _ := benchHost(b)
	admin := filepath.Join(h.RootDir, dpkgAdminDir)
	out, err := exec.Command(dpkgQuery, "--admindir="+admin, "-W").Output()
	if err != nil {
		b.Fatalf("dpkg-query: %v", err)
	}
	if n := strings.Count(string(out), "\n"); n != genPackages {
		b.Fatalf("dpkg-query listed %d packages; want %d", n, genPackages)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := exec.Command(dpkgQuery, "--admindir="+admin, "-W").Run(); err != nil {
			b.Fatal(err)
		}
	}
}
