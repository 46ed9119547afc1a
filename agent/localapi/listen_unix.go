//go:build unix

package localapi

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Errors from Listen.
var (
	// ErrInUse means a live agent already serves the socket.
	ErrInUse = errors.New("another agent is already listening")
	// ErrNotSocket means something other than a socket sits at the path;
	// it is never removed or followed.
	ErrNotSocket = errors.New("refusing to replace a file that is not a socket")
	// ErrUnsafeDir means the socket's directory is not a directory owned
	// by the agent's user and writable by it alone.
	ErrUnsafeDir = errors.New("unsafe socket directory")
)

// Listen creates the API socket at path.
//
// The directory is created 0755 if missing. A directory that already exists
// is never changed (it may be shared: chmod'ing /tmp would break it for
// everyone); it must be a real directory (not a symbolic link) owned by the
// agent's user and writable by nobody else, so that no one else can add,
// rename or remove entries in it; otherwise Listen refuses with
// ErrUnsafeDir and says why. Only then is the path examined (Lstat, never
// following a link): nothing there is fine; a socket nobody answers on is a
// stale leftover and removed; a live socket means another agent runs
// (ErrInUse); anything else — a symbolic link, a file, a directory — is
// refused (ErrNotSocket), so that no user can point the agent at another
// file. bind(2) itself never follows a link (it fails with EADDRINUSE), and
// the final chmod is safe because the directory is ours alone.
//
// The socket is 0666: every local user may connect, and each request is
// authorized by the caller's peer credentials (Tailscale's safesocket does
// the same where peer credentials exist).
func Listen(path string) (net.Listener, error) {
	dir := filepath.Dir(path)
	if err := prepareDir(dir); err != nil {
		return nil, err
	}
	if err := removeStale(path); err != nil {
		return nil, err
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		l.Close()
		return nil, fmt.Errorf("setting the mode of %s: %w", path, err)
	}
	return l, nil
}

func prepareDir(dir string) error {
	err := os.Mkdir(dir, 0o755)
	created := err == nil
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("creating socket directory %s: %w", dir, err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("socket directory %s: %w", dir, err)
	}
	if created {
		// Ours: undo the umask so that every user can reach the socket.
		if err := os.Chmod(dir, 0o755); err != nil {
			return fmt.Errorf("setting the mode of %s: %w", dir, err)
		}
		return nil
	}
	return checkDir(dir, st, os.Geteuid())
}

// checkDir says why an existing socket directory is unsafe, or nil. Pure
// but for st.
func checkDir(dir string, st fs.FileInfo, euid int) error {
	if st.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("socket directory %s is a symbolic link; name the real directory: %w", dir, ErrUnsafeDir)
	}
	if !st.IsDir() {
		return fmt.Errorf("socket directory %s is %s, not a directory: %w", dir, describeMode(st.Mode()), ErrUnsafeDir)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != euid {
		return fmt.Errorf("socket directory %s is owned by uid %d, not by the agent's user (uid %d); use a directory of the agent's own such as /run/msgguard: %w",
			dir, sys.Uid, euid, ErrUnsafeDir)
	}
	if st.Mode().Perm()&0o022 != 0 {
		mode := uint32(st.Mode().Perm())
		if st.Mode()&fs.ModeSticky != 0 {
			mode |= 0o1000
		}
		return fmt.Errorf("socket directory %s is writable by other users (mode %04o); the agent does not change a directory it did not create: use a directory of its own such as /run/msgguard, or remove group and other write permission: %w",
			dir, mode, ErrUnsafeDir)
	}
	return nil
}

func removeStale(path string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking %s: %w", path, err)
	}
	if st.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%s (%s): %w", path, describeMode(st.Mode()), ErrNotSocket)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("%s: %w", path, ErrInUse)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing stale socket %s: %w", path, err)
	}
	return nil
}

func describeMode(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	case m.IsRegular():
		return "a regular file"
	}
	return "a special file"
}
