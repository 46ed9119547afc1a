//go:build unix

package platform

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestScanDir: ScanDir names every entry os.ReadDir names, with the same
// types, for each kind of entry a user can make (odd names included), cuts
// at max exactly as ReadDir does, and refuses a link or a file in place of
// the folder.
func TestScanDir(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "d")
	names := []string{"sub", "file", "link", "fifo", "new\nline", "bad\xffutf8", ".hidden", strings.Repeat("x", 255)}
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch n {
		case "sub":
			err = os.Mkdir(p, 0o755)
		case "link":
			err = os.Symlink("/etc/shadow", p)
		case "fifo":
			err = syscall.Mkfifo(p, 0o644)
		default:
			err = os.WriteFile(p, nil, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fsys := NewDirFS(root)
	type entry struct {
		name string
		typ  fs.FileMode
	}
	list := func(max int) ([]entry, bool, error) {
		var got []entry
		truncated, err := ScanDir(fsys, "d", max, func(name string, typ fs.FileMode) {
			got = append(got, entry{strings.Clone(name), typ})
		})
		return got, truncated, err
	}
	got, truncated, err := list(100)
	if err != nil || truncated || len(got) != len(want) {
		t.Fatalf("ScanDir = %d entries, truncated %v, %v; os.ReadDir has %d", len(got), truncated, err, len(want))
	}
	for _, w := range want {
		if !slices.Contains(got, entry{w.Name(), w.Type()}) {
			t.Errorf("%q (%v) missing from %+v", w.Name(), w.Type(), got)
		}
	}
	for _, max := range []int{1, len(want) - 1, len(want)} {
		got, truncated, err := list(max)
		if err != nil || len(got) != max || truncated != (max < len(want)) {
			t.Errorf("max %d: %d entries, truncated %v, %v", max, len(got), truncated, err)
		}
	}
	if _, err := ScanDir(fsys, "d/link", 10, func(string, fs.FileMode) { t.Error("listed through a link") }); !errors.Is(err, ErrSymlink) {
		t.Errorf("a link in place of the folder: %v; want ErrSymlink", err)
	}
	if _, err := ScanDir(fsys, "d/file", 10, func(string, fs.FileMode) {}); err == nil {
		t.Errorf("a file in place of the folder was listed")
	}
	if _, err := ScanDir(fsys, "d/missing", 10, func(string, fs.FileMode) {}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an absent folder: %v; want not-exist", err)
	}
}

func TestScanDirAllocatesNothing(t *testing.T) {
	if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		t.Skip("the allocation-free path is built for linux/amd64 and linux/arm64")
	}
	root := t.TempDir()
	for i := range 40 {
		if err := os.MkdirAll(filepath.Join(root, "IndexedDB", "https_site"+strings.Repeat("x", i)+"_0.indexeddb.leveldb"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fsys := NewDirFS(root)
	n := 0
	ScanDir(fsys, "IndexedDB", 4096, func(string, fs.FileMode) {}) // fill the buffer pool
	allocs := testing.AllocsPerRun(50, func() {
		if _, err := ScanDir(fsys, "IndexedDB", 4096, func(string, fs.FileMode) { n++ }); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("ScanDir of 40 entries allocates %v times; want 0", allocs)
	}
}
