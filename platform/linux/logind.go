package linux

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/msgguard/msgguard/platform"
)

// logind.conf and its drop-ins (logind.conf(5), systemd.unit(5) "drop-in"):
// the main file, then *.conf from the drop-in directories sorted by file
// name across all of them, a file in /etc masking one of the same name in
// /run, which masks /usr/lib. Later assignments win.
var (
	logindMainFiles = [...]string{"etc/systemd/logind.conf", "usr/lib/systemd/logind.conf"}
	logindDropIns   = [...]string{"etc/systemd/logind.conf.d", "run/systemd/logind.conf.d", "usr/local/lib/systemd/logind.conf.d", "usr/lib/systemd/logind.conf.d"}
)

// logindIdle is the effective IdleAction= / IdleActionSec= with the file
// that set each.
type logindIdle struct {
	action, actionSource string
	seconds              int
	secondsSource        string
	err                  error
}

// locks reports whether logind locks idle sessions.
func (l logindIdle) locks() bool { return l.err == nil && l.action == "lock" && l.seconds > 0 }

// readLogind reads the effective idle settings. Defaults (logind.conf(5)):
// IdleAction=ignore, IdleActionSec=30min.
func readLogind(h *platform.Host) logindIdle {
	out := logindIdle{action: "ignore", actionSource: "default", seconds: 1800, secondsSource: "default"}
	var files []string
	for _, f := range logindMainFiles {
		if _, err := platform.Lstat(h.Root, f); err == nil {
			files = append(files, f)
			break
		}
	}
	byName := map[string]string{}
	for i := len(logindDropIns) - 1; i >= 0; i-- { // lowest precedence first, overwritten by higher
		entries, err := fs.ReadDir(h.Root, logindDropIns[i])
		if err != nil {
			continue
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".conf") {
				byName[e.Name()] = path.Join(logindDropIns[i], e.Name())
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		files = append(files, byName[n])
	}
	for _, f := range files {
		if masked(h.Root, f) {
			continue // a drop-in linked to /dev/null masks its namesakes; nothing to read
		}
		b, err := platform.ReadFile(h.Root, f, platform.MaxConfigSize)
		if err != nil {
			out.err = fmt.Errorf("reading %s: %w", f, err)
			return out
		}
		if err := out.apply(parseIniFile(b), "/"+f); err != nil {
			out.err = err
			return out
		}
	}
	return out
}

// masked reports whether f is a symbolic link to /dev/null, systemd's way of
// masking a unit file or drop-in (systemd.unit(5)). The link is read, never
// followed.
func masked(fsys fs.FS, f string) bool {
	st, err := platform.Lstat(fsys, f)
	if err != nil || st.Mode()&fs.ModeSymlink == 0 {
		return false
	}
	target, err := fs.ReadLink(fsys, f)
	return err == nil && target == "/dev/null"
}

func (l *logindIdle) apply(kf iniFile, src string) error {
	if v, ok := kf.get("Login", "IdleAction"); ok {
		l.action, l.actionSource = v, src
	}
	if v, ok := kf.get("Login", "IdleActionSec"); ok {
		secs, err := parseTimespan(v)
		if errors.Is(err, errInfinity) {
			secs, err = -1, nil // never fires
		}
		if err != nil {
			return fmt.Errorf("%s: IdleActionSec: %w", src, err)
		}
		l.seconds, l.secondsSource = secs, src
	}
	return nil
}

// timespanUnits are systemd.time(7) units in seconds (sub-second units
// round down).
var timespanUnits = map[string]float64{
	"": 1, "s": 1, "sec": 1, "second": 1, "seconds": 1,
	"ms": 0.001, "msec": 0.001, "us": 0.000001, "usec": 0.000001,
	"m": 60, "min": 60, "minute": 60, "minutes": 60,
	"h": 3600, "hr": 3600, "hour": 3600, "hours": 3600,
	"d": 86400, "day": 86400, "days": 86400,
	"w": 604800, "week": 604800, "weeks": 604800,
}

// errInfinity marks "infinity": the action never fires.
var errInfinity = errors.New("infinity")

// parseTimespan parses a systemd time span ("30min", "1h 30min", "600").
func parseTimespan(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "infinity" {
		return 0, errInfinity
	}
	total := 0.0
	rest := s
	if rest == "" {
		return 0, errors.New("empty time span")
	}
	for rest != "" {
		rest = strings.TrimLeft(rest, " ")
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, errors.New("bad time span")
		}
		n, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil {
			return 0, errors.New("bad time span")
		}
		rest = strings.TrimLeft(rest[i:], " ")
		j := 0
		for j < len(rest) && (rest[j] >= 'a' && rest[j] <= 'z') {
			j++
		}
		mult, ok := timespanUnits[rest[:j]]
		if !ok {
			return 0, errors.New("bad time span unit")
		}
		total += n * mult
		rest = rest[j:]
	}
	if total > 1<<31 {
		return 0, errors.New("time span too large")
	}
	return int(total), nil
}
