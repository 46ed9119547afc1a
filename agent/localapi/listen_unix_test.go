//go:build linux || darwin

package localapi

import (
	"errors"
	"net"
	"os"
	"path/filepath"
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

func TestListenFixesDirMode(t *testing.T) {
	run := filepath.Join(shortDir(t), "run")
	if err := os.Mkdir(run, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(run, 0o777) // umask may have removed bits
	l, err := Listen(filepath.Join(run, "agent.sock"))
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	st, _ := os.Stat(run)
	if st.Mode().Perm() != 0o755 {
		t.Errorf("run dir mode = %v; want 0755", st.Mode().Perm())
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
