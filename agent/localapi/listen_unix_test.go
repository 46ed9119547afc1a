//go:build linux || darwin

package localapi

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestListenReplacesStaleSocket(t *testing.T) {
	sock := filepath.Join(shortDir(t), "agent.sock")
	old, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	old.SetUnlinkOnClose(false)
	old.Close() // leaves the socket file behind, like a killed agent
	l, err := Listen(sock)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	defer l.Close()
	st, err := os.Lstat(sock)
	if err != nil || st.Mode().Type() != os.ModeSocket || st.Mode().Perm() != 0o666 {
		t.Errorf("socket mode = %v, %v; want a 0666 socket", st.Mode(), err)
	}
}

func TestListenRefusesLiveSocket(t *testing.T) {
	sock := filepath.Join(shortDir(t), "agent.sock")
	l, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if l2, err := Listen(sock); !errors.Is(err, ErrInUse) {
		if l2 != nil {
			l2.Close()
		}
		t.Fatalf("second Listen = %v; want ErrInUse", err)
	}
}

func TestListenRefusesNonSockets(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, sock, victim string)
	}{
		{"symlink to a file", func(t *testing.T, sock, victim string) {
			if err := os.Symlink(victim, sock); err != nil {
				t.Fatal(err)
			}
		}},
		{"dangling symlink", func(t *testing.T, sock, victim string) {
			if err := os.Symlink(victim+".missing", sock); err != nil {
				t.Fatal(err)
			}
		}},
		{"regular file", func(t *testing.T, sock, victim string) {
			if err := os.WriteFile(sock, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"directory", func(t *testing.T, sock, victim string) {
			if err := os.Mkdir(sock, 0o700); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := shortDir(t)
			victim := filepath.Join(dir, "victim")
			if err := os.WriteFile(victim, []byte("keep"), 0o600); err != nil {
				t.Fatal(err)
			}
			sock := filepath.Join(dir, "run", "agent.sock")
			if err := os.Mkdir(filepath.Dir(sock), 0o755); err != nil {
				t.Fatal(err)
			}
			tt.setup(t, sock, victim)
			before, _ := os.Lstat(sock)
			l, err := Listen(sock)
			if !errors.Is(err, ErrNotSocket) {
				if l != nil {
					l.Close()
				}
				t.Fatalf("Listen = %v; want ErrNotSocket", err)
			}
			after, err := os.Lstat(sock)
			if err != nil || after.Mode() != before.Mode() {
				t.Errorf("the path was changed: %v -> %v (%v)", before.Mode(), after.Mode(), err)
			}
			st, err := os.Stat(victim)
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("symlink target mode = %v, %v; want untouched 0600", st.Mode(), err)
			}
		})
	}
}

// TestListenDirModes: a directory Listen creates is 0755 whatever the
// umask; one that exists is never chmod'ed, and one that others may write
// to (/tmp, a 0777 directory) is refused with a message saying why.
func TestListenDirModes(t *testing.T) {
	base := shortDir(t)
	created := filepath.Join(base, "new")
	old := syscall.Umask(0o077)
	l, err := Listen(filepath.Join(created, "agent.sock"))
	syscall.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if st, _ := os.Stat(created); st.Mode().Perm() != 0o755 {
		t.Errorf("created dir mode = %v; want 0755", st.Mode().Perm())
	}

	private := filepath.Join(base, "private")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	l, err = Listen(filepath.Join(private, "agent.sock"))
	if err != nil {
		t.Fatalf("Listen in an existing 0700 dir: %v", err)
	}
	l.Close()
	if st, _ := os.Stat(private); st.Mode().Perm() != 0o700 {
		t.Errorf("existing dir mode = %v; want it left at 0700", st.Mode().Perm())
	}

	for _, mode := range []fs.FileMode{0o777, 0o775, 0o777 | fs.ModeSticky} {
		shared := filepath.Join(base, fmt.Sprintf("shared%o", mode))
		if err := os.Mkdir(shared, 0o700); err != nil {
			t.Fatal(err)
		}
		os.Chmod(shared, mode)
		before, _ := os.Stat(shared)
		l, err := Listen(filepath.Join(shared, "agent.sock"))
		if l != nil {
			l.Close()
		}
		if !errors.Is(err, ErrUnsafeDir) || !strings.Contains(err.Error(), "writable by other users") || !strings.Contains(err.Error(), shared) {
			t.Errorf("Listen in a %v dir = %v; want ErrUnsafeDir naming the dir and why", mode, err)
		}
		if after, _ := os.Stat(shared); after.Mode() != before.Mode() {
			t.Errorf("shared dir mode changed %v -> %v", before.Mode(), after.Mode())
		}
		if _, err := os.Lstat(filepath.Join(shared, "agent.sock")); err == nil {
			t.Errorf("a socket was created in the unsafe %v dir", mode)
		}
	}
}

func TestListenRefusesForeignDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a directory owned by another user")
	}
	run := filepath.Join(shortDir(t), "run")
	if err := os.Mkdir(run, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(run, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if l, err := Listen(filepath.Join(run, "agent.sock")); !errors.Is(err, ErrUnsafeDir) {
		if l != nil {
			l.Close()
		}
		t.Errorf("Listen in a directory owned by nobody = %v; want ErrUnsafeDir", err)
	}
	link := filepath.Join(filepath.Dir(run), "linkdir")
	if err := os.Symlink(run, link); err != nil {
		t.Fatal(err)
	}
	if l, err := Listen(filepath.Join(link, "agent.sock")); !errors.Is(err, ErrUnsafeDir) {
		if l != nil {
			l.Close()
		}
		t.Errorf("Listen in a symlinked directory = %v; want ErrUnsafeDir", err)
	}
}
