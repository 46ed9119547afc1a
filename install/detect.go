package install

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// InitDetection is what DetectInitAt found on a machine.
type InitDetection struct {
	// Init is the init system install drives: InitSystemd, InitLaunchd,
	// InitWindows, InitOpenRC or InitSysV; "" when none works.
	Init string
	// Found says what was seen, for the message that refuses to install.
	Found string
}

// kardianos/service names of the init systems we drive through it.
const (
	InitOpenRC = "linux-openrc"
	InitSysV   = "unix-systemv"
)

// DetectInitAt finds the init system of the machine whose root file system
// is at root ("/" for this one). On Linux only a service manager that is
// actually running counts — a host with systemd or sysvinit installed but
// not as PID 1 (a container, a chroot, WSL without systemd) would accept a
// service definition and then never start it:
//
//   - systemd: /run/systemd/system is a directory (sd_booted(3));
//   - OpenRC: /run/openrc/softlevel exists (OpenRC writes it at boot;
//     openrc-run refuses to work without it) and openrc-run is installed;
//   - SysV init: /run/initctl, sysvinit's control FIFO (initctl(5)), exists,
//     /etc/init.d is a directory and update-rc.d or chkconfig is there to
//     enable the script.
func DetectInitAt(root, goos string) InitDetection {
	switch goos {
	case "darwin":
		return InitDetection{Init: InitLaunchd, Found: "launchd"}
	case "windows":
		return InitDetection{Init: InitWindows, Found: "the Windows service control manager"}
	}
	at := func(p string) string { return filepath.Join(root, p) }
	isDir := func(p string) bool {
		st, err := os.Stat(at(p))
		return err == nil && st.IsDir()
	}
	exists := func(p string) bool {
		_, err := os.Lstat(at(p))
		return err == nil
	}
	anyExists := func(ps ...string) bool {
		for _, p := range ps {
			if exists(p) {
				return true
			}
		}
		return false
	}
	if isDir("/run/systemd/system") {
		return InitDetection{Init: InitSystemd, Found: "systemd"}
	}
	if exists("/run/openrc/softlevel") && anyExists("/sbin/openrc-run", "/usr/sbin/openrc-run") {
		return InitDetection{Init: InitOpenRC, Found: "OpenRC"}
	}
	if st, err := os.Lstat(at("/run/initctl")); err == nil && st.Mode()&fs.ModeNamedPipe != 0 && isDir("/etc/init.d") &&
		anyExists("/usr/sbin/update-rc.d", "/sbin/update-rc.d", "/sbin/chkconfig", "/usr/sbin/chkconfig") {
		return InitDetection{Init: InitSysV, Found: "SysV init"}
	}
	pid1 := "unknown"
	if b, err := os.ReadFile(at("/proc/1/comm")); err == nil {
		pid1 = strings.TrimSpace(string(b))
	}
	var seen []string
	for _, p := range []string{"/run/systemd/system", "/run/openrc/softlevel", "/run/initctl"} {
		if !exists(p) {
			seen = append(seen, p)
		}
	}
	found := fmt.Sprintf("PID 1 is %q and no service manager is running", pid1)
	if len(seen) > 0 {
		found += " (" + strings.Join(seen, ", ") + " missing)"
	}
	return InitDetection{Found: found}
}

// NoInitError refuses an install on a host without a working service
// manager. It is ErrNoInit, with what was found and the alternative.
type NoInitError struct {
	Found              string
	Executable, Config string
}

func (e *NoInitError) Error() string {
	return fmt.Sprintf(`cannot install the service here: %s. Nothing was changed.
Run the agent in the foreground under this host's own supervisor instead
(runit, s6, supervisord, a container entrypoint, ...), as root:
    %s run --config %s
It stops cleanly on SIGTERM; see docs/deploy.md.`, e.Found, e.Executable, e.Config)
}

// Is makes errors.Is(err, ErrNoInit) true.
func (e *NoInitError) Is(target error) bool { return target == ErrNoInit }

// ErrBadLocation is returned for an agent binary in a place a service must
// not run it from.
var ErrBadLocation = errors.New("not an installed location")

// CheckLocation refuses a binary inside the Go build cache or a temporary
// directory. `go run ./agent install` runs a binary from the build cache,
// which `go clean -cache` deletes and every build replaces; a binary in
// /tmp disappears at reboot (and /tmp is world-writable). Both pass the
// ownership check when root built them, so they are refused by place.
// tempDirs and cacheDirs name the directories; symbolic links in exe are
// resolved first.
func CheckLocation(exe string, tempDirs, cacheDirs []string) error {
	real, err := filepath.EvalSymlinks(exe)
	if err != nil {
		real = exe
	}
	howto := `install a built binary instead: the msgguard package (apt install ./msgguard_VERSION_ARCH.deb, dnf install ./msgguard-VERSION.rpm; see docs/deploy.md), or
    go build -trimpath -o agent ./agent
    sudo install -o root -g root -m 0755 agent /usr/local/sbin/agent
    sudo /usr/local/sbin/agent install`
	for _, c := range cacheDirs {
		if within(real, c) {
			return fmt.Errorf("%s is inside the Go build cache (%s), from `go run`: %w; %s", real, c, ErrBadLocation, howto)
		}
	}
	for _, t := range tempDirs {
		if within(real, t) {
			return fmt.Errorf("%s is inside the temporary directory %s: %w; %s", real, t, ErrBadLocation, howto)
		}
	}
	// `go run` with a GOCACHE we were not told about, or from before Go
	// 1.24 (a go-build* work directory).
	for _, part := range strings.Split(filepath.ToSlash(filepath.Dir(real)), "/") {
		if part == "go-build" || strings.HasPrefix(part, "go-build") && len(part) > len("go-build") && isDigits(part[len("go-build"):]) {
			return fmt.Errorf("%s is inside a Go build directory, from `go run`: %w; %s", real, ErrBadLocation, howto)
		}
	}
	return nil
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// within reports whether path is dir or inside it (dir resolved through
// symbolic links too, so that /tmp -> /private/tmp on macOS matches).
func within(path, dir string) bool {
	if dir == "" {
		return false
	}
	dirs := []string{filepath.Clean(dir)}
	if r, err := filepath.EvalSymlinks(dir); err == nil && r != dirs[0] {
		dirs = append(dirs, r)
	}
	if runtime.GOOS == "windows" { // NTFS names are case-insensitive
		path = strings.ToLower(path)
		for i := range dirs {
			dirs[i] = strings.ToLower(dirs[i])
		}
	}
	for _, d := range dirs {
		rel, err := filepath.Rel(d, path)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel) {
			return true
		}
	}
	return false
}

// unsafeDirs are this machine's temporary and Go build cache directories.
// The agent does not run `go env GOCACHE` (it never executes tools it did
// not bring); it reads the same settings the go command does: $GOCACHE,
// else the user cache directory's go-build (cmd/go/internal/cache
// DefaultDir).
func unsafeDirs(goos string) (temp, cache []string) {
	temp = []string{os.TempDir()}
	if goos != "windows" {
		temp = append(temp, "/tmp", "/var/tmp", "/dev/shm")
	}
	if d := os.Getenv("GOCACHE"); d != "" && d != "off" {
		cache = append(cache, d)
	}
	if d, err := os.UserCacheDir(); err == nil {
		cache = append(cache, filepath.Join(d, "go-build"))
	}
	return temp, cache
}
