package linux

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/msgguard/msgguard/bench/benchroot"
	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// Sizes of the generated benchmark root.
const (
	genPackages = benchroot.Packages
	genUsers    = benchroot.Users
)

// genRoot writes the benchmark root (bench/benchroot) into dir from the
// real artefacts in testdata/debian-desktop and returns the number of
// messenger items a scan must find.
func genRoot(tb testing.TB, dir string) int {
	tb.Helper()
	items, err := benchroot.Write(dir, filepath.Join("testdata", "debian-desktop"))
	if err != nil {
		tb.Fatal(err)
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
	defer reportCPU(b)()
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
		c.scanDpkg(nil)
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

// BenchmarkParseDpkgStatus measures the parser alone on the generated
// 5,000-package status file held in memory (no file system, less noise).
func BenchmarkParseDpkgStatus(b *testing.B) {
	benchParseDpkg(b, parseDpkgStatus)
}

// benchParseDpkg times parse on the generated status file.
func benchParseDpkg(b *testing.B, parse func(io.Reader, func([]byte) bool) ([]debPackage, error)) {
	h, cat, _ := benchHost(b)
	data, err := os.ReadFile(filepath.Join(h.RootDir, dpkgStatus))
	if err != nil {
		b.Fatal(err)
	}
	idx := newCatalogIndex(cat)
	want := func(name []byte) bool { return idx.deb[string(name)] != nil || idx.agentDeb[string(name)] }
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		pkgs, err := parse(bytes.NewReader(data), want)
		if err != nil || len(pkgs) != 5 {
			b.Fatalf("%d packages, %v", len(pkgs), err)
		}
	}
}
