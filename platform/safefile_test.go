//go:build unix

package platform

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestReadFileRefusesHostileFiles(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "home/alice/.config"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "home/alice/ok"), []byte("fine"), 0o644))
	must(os.Symlink("/etc/shadow", filepath.Join(dir, "home/alice/shadow")))
	must(syscall.Mkfifo(filepath.Join(dir, "home/alice/fifo"), 0o644))
	big := filepath.Join(dir, "home/alice/big")
	f, err := os.Create(big)
	must(err)
	must(f.Truncate(2 << 30)) // sparse 2 GiB
	f.Close()
	must(os.Symlink("/etc", filepath.Join(dir, "home/alice/linkdir")))

	fsys := NewDirFS(dir)
	if b, err := ReadFile(fsys, "home/alice/ok", 100); err != nil || string(b) != "fine" {
		t.Errorf("ReadFile(ok) = %q, %v", b, err)
	}
	cases := map[string]error{
		"home/alice/shadow": ErrSymlink,
		"home/alice/fifo":   ErrNotRegular,
		"home/alice/big":    ErrTooLarge,
	}
	for name, want := range cases {
		start := time.Now()
		_, err := ReadFile(fsys, name, MaxConfigSize)
		if !errors.Is(err, want) {
			t.Errorf("ReadFile(%s) = %v; want %v", name, err, want)
		}
		if time.Since(start) > time.Second {
			t.Errorf("ReadFile(%s) took %v", name, time.Since(start))
		}
		if f, _, err := OpenFile(fsys, name, MaxConfigSize); !errors.Is(err, want) {
			if err == nil {
				f.Close()
			}
			t.Errorf("OpenFile(%s) = %v; want %v", name, err, want)
		}
	}
	if f, st, err := OpenFile(fsys, "home/alice/ok", 100); err != nil || st.Size() != 4 {
		t.Errorf("OpenFile(ok) = %v, %v", st, err)
	} else {
		f.Close()
	}
	if _, err := ReadUserFile(fsys, "home/alice", "home/alice/linkdir/passwd", MaxConfigSize); !errors.Is(err, ErrSymlink) {
		t.Errorf("ReadUserFile through a linked directory = %v; want ErrSymlink", err)
	}
	// The open itself must not follow a final link or block on a FIFO, even
	// when the Lstat check is skipped (a file swapped after the check).
	if _, err := fsys.Open("home/alice/shadow"); err == nil {
		t.Error("DirFS.Open followed a symlink")
	}
	done := make(chan error, 1)
	go func() {
		f, err := fsys.Open("home/alice/fifo")
		if err == nil {
			f.Close()
		}
		done <- err
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("DirFS.Open blocked on a FIFO")
	}
}

func TestRelPath(t *testing.T) {
	for in, want := range map[string]string{"/home/alice": "home/alice", "/": ".", `C:\Users\bob`: "C:/Users/bob", "/a/../../b": "b"} {
		if got := RelPath(in); got != want {
			t.Errorf("RelPath(%q) = %q; want %q", in, got, want)
		}
	}
}
