//go:build unix

package platform

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// TestLstatBelow: the allocation-free lookup says what os.Lstat says (type
// and identity) for every kind of entry a user can put in a home, fails as
// it does for an absent path, and takes the general path for a path too
// long for its buffer.
func TestLstatBelow(t *testing.T) {
	root := t.TempDir()
	home := filepath.Join(root, "home", "alice")
	long := strings.Repeat("d", 200) + "/" + strings.Repeat("e", 200) + "/" + strings.Repeat("f", 200) + "/" +
		strings.Repeat("g", 200) + "/" + strings.Repeat("h", 200)
	for _, d := range []string{"dir", long} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(home, "file"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/shadow", filepath.Join(home, "link")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(home, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	fsys := NewDirFS(root)
	for _, name := range []string{"", "dir", "file", "link", "fifo", long} {
		fi, err := os.Lstat(filepath.Join(home, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := LstatBelow(fsys, "home/alice", name)
		if err != nil {
			t.Errorf("LstatBelow(%.20q): %v", name, err)
			continue
		}
		if want := IdentOf(fi); got != want {
			t.Errorf("LstatBelow(%.20q) = %+v; os.Lstat says %+v", name, got, want)
		}
		if !got.Identified() {
			t.Errorf("LstatBelow(%.20q) carries no identity", name)
		}
	}
	_, err := LstatBelow(fsys, "home/alice", "dir/missing")
	var pe *fs.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || pe.Path != "home/alice/dir/missing" {
		t.Errorf("absent path: %v; want a not-exist PathError naming home/alice/dir/missing", err)
	}
	if _, err := LstatBelow(fsys, "home/alice", "../bob"); err == nil {
		t.Errorf("a path climbing out of the base was looked up")
	}
	// A NUL byte (profiles.ini can write one) must not cut the path short
	// to "dir", which exists.
	if _, err := LstatBelow(fsys, "home/alice", "dir\x00/missing"); err == nil {
		t.Errorf("a path with a NUL byte was looked up as the path before it")
	}
	// Through the general path (another fs.FS) the answer is the same.
	got, err := LstatBelow(os.DirFS(root), "home/alice", "dir")
	if err != nil || got.Mode != fs.ModeDir {
		t.Errorf("general path: %+v, %v", got, err)
	}
}

func TestLstatBelowAllocatesNothing(t *testing.T) {
	if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		t.Skip("the allocation-free path is built for linux/amd64 and linux/arm64")
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "home/alice/.config/google-chrome/Default/IndexedDB"), 0o755); err != nil {
		t.Fatal(err)
	}
	fsys := NewDirFS(root)
	n := testing.AllocsPerRun(100, func() {
		if _, err := LstatBelow(fsys, "home/alice", ".config/google-chrome/Default/IndexedDB"); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Errorf("LstatBelow allocates %v times per call; want 0", n)
	}
}
