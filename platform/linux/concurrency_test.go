package linux

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/msgguard/msgguard/platform"
)

// TestScanSameOnAnyCoreCount: the per-user probes run as parallel tasks,
// yet the inventory, and the problem list with its per-probe bound, must be
// what a one-by-one scan gives: problems by stage, homes in passwd order.
// Each of 40 homes yields two problems (a linked Flatpak installation, an
// oversized .desktop file), more than the 25 listed per probe.
func TestScanSameOnAnyCoreCount(t *testing.T) {
	root := t.TempDir()
	var passwd strings.Builder
	passwd.WriteString("root:x:0:0:root:/root:/bin/bash\n")
	const homes = 40
	for i := range homes {
		name := fmt.Sprintf("u%02d", i)
		fmt.Fprintf(&passwd, "%s:x:%d:%d::/home/%s:/bin/bash\n", name, 2000+i, 2000+i, name)
		home := filepath.Join(root, "home", name)
		symlink(t, "/tmp", filepath.Join(home, ".local", "share", "flatpak"))
		big := filepath.Join(home, ".local", "share", "applications", "big.desktop")
		writeFile(t, big, "")
		if err := os.Truncate(big, maxDesktopFile+1); err != nil {
			t.Fatal(err)
		}
		if i%4 == 0 {
			mkdir(t, filepath.Join(home, ".config", "Signal"))
		}
	}
	writeFile(t, filepath.Join(root, "etc", "passwd"), passwd.String())
	h := &platform.Host{GOOS: "linux", Root: platform.NewDirFS(root), RootDir: root}
	cat := testCatalog()

	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	want, err := Scan(context.Background(), h, cat)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(want.Messengers); n != homes/4 {
		t.Fatalf("%d messengers; want %d Signal data directories: %+v", n, homes/4, want.Messengers)
	}
	var flatpak, desktop, more int
	for _, p := range want.Problems {
		switch {
		case p.Probe == "flatpak" && p.Path != "":
			flatpak++
		case p.Probe == "desktop" && p.Path != "":
			desktop++
		case strings.Contains(p.Message, "more problems not listed"):
			more++
		}
	}
	if flatpak != maxProblemsPerProbe || desktop != maxProblemsPerProbe || more != 2 {
		t.Fatalf("one-by-one scan: %d flatpak, %d desktop problems, %d summaries; want %d, %d, 2\n%+v",
			flatpak, desktop, more, maxProblemsPerProbe, maxProblemsPerProbe, want.Problems)
	}
	var flatpakPaths []string
	for _, p := range want.Problems {
		if p.Probe == "flatpak" && p.Path != "" {
			flatpakPaths = append(flatpakPaths, p.Path)
		}
	}
	if flatpakPaths[0] != "/home/u00/.local/share/flatpak/app" || flatpakPaths[maxProblemsPerProbe-1] != fmt.Sprintf("/home/u%02d/.local/share/flatpak/app", maxProblemsPerProbe-1) {
		t.Errorf("flatpak problems listed for %v; want the first %d homes in passwd order", flatpakPaths, maxProblemsPerProbe)
	}
	// By stage, as a one-by-one scan adds them: every home's Flatpak
	// problem before any home's .desktop problem.
	lastFlatpak, firstDesktop := -1, len(want.Problems)
	for i, p := range want.Problems {
		if p.Probe == "flatpak" && p.Path != "" {
			lastFlatpak = i
		}
		if p.Probe == "desktop" && p.Path != "" && i < firstDesktop {
			firstDesktop = i
		}
	}
	if lastFlatpak > firstDesktop {
		t.Errorf("problems not in stage order: a flatpak problem at %d after a desktop one at %d", lastFlatpak, firstDesktop)
	}
	runtime.GOMAXPROCS(8)
	for range 5 {
		got, err := Scan(context.Background(), h, cat)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("scan on 8 goroutines differs from one-by-one (-one +eight):\n%s", diff)
		}
	}
}
