package linux

import (
	"errors"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// Desktop families whose screen-lock settings this package reads.
const (
	desktopGNOME    = "gnome"
	desktopCinnamon = "cinnamon"
	desktopMATE     = "mate"
	desktopKDE      = "kde"
	desktopXFCE     = "xfce"
)

// Where a session's desktop is recorded (freedesktop conventions):
const (
	// AccountsService keeps each user's last chosen session as a keyfile
	// "[User] XSession=" / "Session=" (accountsservice src/user.c); GDM and
	// LightDM write it.
	accountsServiceDir = "var/lib/AccountsService/users"
	// systemd-logind writes one env-style file per session with USER=,
	// UID=, TYPE= (x11, wayland, tty), CLASS= (user, greeter) and DESKTOP=
	// ($XDG_SESSION_DESKTOP) (systemd src/login/logind-session.c
	// session_save).
	logindSessionsDir = "run/systemd/sessions"
)

// sessionDirs hold the display manager's session .desktop files; their
// DesktopNames= key names the desktop ("ubuntu:GNOME", "KDE", "XFCE").
var sessionDirs = [...]string{"usr/share/xsessions", "usr/share/wayland-sessions"}

// desktopFamily maps a session or desktop name (XDG_CURRENT_DESKTOP,
// DesktopNames=, a session file name) to a family this package can
// inspect, or returns known=false with the name cleaned up for the reason.
func desktopFamily(name string) (family string, known bool) {
	lower := strings.ToLower(name)
	parts := strings.FieldsFunc(lower, func(r rune) bool { return r == ':' || r == ';' })
	has := func(prefixes ...string) bool {
		for _, p := range parts {
			for _, want := range prefixes {
				if strings.HasPrefix(p, want) {
					return true
				}
			}
		}
		return false
	}
	switch {
	case len(parts) == 0:
		return "", false
	// Budgie lists GNOME in DesktopNames but locks with its own daemon.
	case has("budgie"):
		return "budgie", false
	case has("x-cinnamon", "cinnamon"):
		return desktopCinnamon, true
	case has("mate"):
		return desktopMATE, true
	case has("kde", "plasma"):
		return desktopKDE, true
	case has("xfce"):
		return desktopXFCE, true
	// GNOME sessions: gnome, gnome-xorg, gnome-classic, ubuntu, ubuntu-xorg,
	// pop (DesktopNames "ubuntu:GNOME", "pop:GNOME", "GNOME-Classic:GNOME").
	case has("gnome", "ubuntu", "pop"):
		return desktopGNOME, true
	}
	return parts[0], false
}

// loginSession is one graphical session from run/systemd/sessions.
type loginSession struct {
	id, user, uid, desktop, typ string
}

// parseLoginSession parses a run/systemd/sessions/<id> file. ok is false
// for sessions that are not a user's graphical session (greeters, ttys).
func parseLoginSession(id string, b []byte) (loginSession, bool) {
	kv := parseIniFile(b)[""]
	s := loginSession{id: id, user: kv["USER"], uid: kv["UID"], desktop: kv["DESKTOP"], typ: kv["TYPE"]}
	switch s.typ {
	case "x11", "wayland", "mir":
	default:
		return s, false
	}
	if c := kv["CLASS"]; c != "" && c != "user" {
		return s, false
	}
	return s, true
}

// installedSession is one display-manager session file.
type installedSession struct {
	name, desktop, file string
}

// desktopEnv is what the probes know about desktops on the device, read
// once per scan.
type desktopEnv struct {
	sessions  []loginSession
	installed []installedSession
	// procs are the running processes (live hosts only), read once for
	// the desktop shells and the remote-wipe agents.
	procs []postureProc
	// shells maps a uid to desktop families of its running shells.
	shells map[string][]string
	probs  []policy.Problem
	// unread lists the session records and files that could not be read:
	// without them "no graphical desktop" cannot be told.
	unread []string
}

// problem records a read error (the platform readers' errors carry only the
// path and the reason, never file content) and notes rel as unread.
func (d *desktopEnv) problem(rel string, err error) {
	d.probs = append(d.probs, policy.Problem{Probe: "screen_lock", Path: rel, Message: err.Error()})
	d.unread = append(d.unread, "/"+rel)
}

func readDesktopEnv(h *platform.Host) *desktopEnv {
	d := &desktopEnv{shells: map[string][]string{}}
	d.readSessions(h)
	d.readInstalled(h)
	if h.Live {
		d.procs = readPostureProcs(h)
		d.readShells()
	}
	return d
}

func (d *desktopEnv) readSessions(h *platform.Host) {
	entries, err := fs.ReadDir(h.Root, logindSessionsDir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			d.problem(logindSessionsDir, err)
		}
		return
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		rel := path.Join(logindSessionsDir, e.Name())
		b, err := platform.ReadFile(h.Root, rel, platform.MaxConfigSize)
		if err != nil {
			d.problem(rel, err)
			continue
		}
		if s, ok := parseLoginSession(e.Name(), b); ok {
			d.sessions = append(d.sessions, s)
		}
	}
}

func (d *desktopEnv) readInstalled(h *platform.Host) {
	for _, dir := range sessionDirs {
		entries, err := fs.ReadDir(h.Root, dir)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				d.problem(dir, err)
			}
			continue
		}
		for _, e := range entries {
			name, ok := strings.CutSuffix(e.Name(), ".desktop")
			if !ok || !e.Type().IsRegular() {
				continue
			}
			rel := path.Join(dir, e.Name())
			b, err := platform.ReadFile(h.Root, rel, platform.MaxConfigSize)
			if err != nil {
				d.problem(rel, err)
				continue
			}
			kf := parseIniFile(b)
			if hidden, _ := parseKeyfileBool(kf["Desktop Entry"]["Hidden"]); hidden {
				continue
			}
			desk := kf["Desktop Entry"]["DesktopNames"]
			if desk == "" {
				desk = name
			}
			d.installed = append(d.installed, installedSession{name: name, desktop: desk, file: rel})
		}
	}
}

// shellProcesses maps the kernel's (15-byte) comm of desktop shells to
// their family. Unknown window managers are listed so that they give a
// reason instead of falling back to an installed desktop.
var shellProcesses = map[string]string{
	"gnome-shell":     desktopGNOME,
	"plasmashell":     desktopKDE,
	"ksmserver":       desktopKDE,
	"xfce4-session":   desktopXFCE,
	"cinnamon":        desktopCinnamon,
	"cinnamon-sessio": desktopCinnamon,
	"mate-session":    desktopMATE,
	"sway":            "sway",
	"i3":              "i3",
	"Hyprland":        "hyprland",
}

// readShells picks the desktop shells out of the running processes.
func (d *desktopEnv) readShells() {
	for _, p := range d.procs {
		if fam, ok := shellProcesses[p.comm]; ok && !containsString(d.shells[p.uid], fam) {
			d.shells[p.uid] = append(d.shells[p.uid], fam)
		}
	}
}

// postureProc is a running process's name and real uid.
type postureProc struct {
	comm, uid string
}

// readPostureProcs lists processes from the root's proc/ (live hosts only).
// Processes that exit while being read are skipped.
func readPostureProcs(h *platform.Host) []postureProc {
	entries, err := fs.ReadDir(h.Root, "proc")
	if err != nil {
		return nil
	}
	var out []postureProc
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		comm, err := platform.ReadFile(h.Root, "proc/"+e.Name()+"/comm", 4096)
		if err != nil {
			continue
		}
		status, err := platform.ReadFile(h.Root, "proc/"+e.Name()+"/status", 64<<10)
		if err != nil {
			continue
		}
		out = append(out, postureProc{comm: strings.TrimSpace(string(comm)), uid: procStatusUID(status)})
	}
	return out
}

// procStatusUID returns the real uid from a proc/<pid>/status "Uid:" line
// ("Uid:\t1000\t1000\t1000\t1000", proc(5)).
func procStatusUID(b []byte) string {
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				return f[0]
			}
		}
	}
	return ""
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// userDesktops is the answer to "which desktop(s) does this user use".
type userDesktops struct {
	// names are desktop names as recorded (families for known desktops).
	names []string
	// from says where they came from, for the Source field.
	from string
	// guessed is true when the user has no recorded session and names are
	// all installed desktops.
	guessed bool
	// unread lists what could not be read; with no names it means the
	// user's desktop is unknown rather than absent.
	unread []string
}

// desktopsFor decides which desktop a user uses: a live graphical session
// first, then a running shell, then the AccountsService record, then every
// installed session. No names means no graphical desktop at all.
func (d *desktopEnv) desktopsFor(h *platform.Host, u policy.User) userDesktops {
	var live []string
	var ids []string
	for _, s := range d.sessions {
		if (s.user != "" && s.user == u.Name) || (s.uid != "" && s.uid == u.UID) {
			name := s.desktop
			if name == "" {
				name = "unknown (" + s.typ + " session without DESKTOP=)"
			}
			live = appendFamily(live, name)
			ids = append(ids, s.id)
		}
	}
	if len(live) > 0 {
		return userDesktops{names: live, from: "live session " + strings.Join(ids, ",") + " in /" + logindSessionsDir}
	}
	if shells := d.shells[u.UID]; u.UID != "" && len(shells) > 0 {
		return userDesktops{names: shells, from: "running desktop shell"}
	}
	unread := d.unread
	name, rel, err := d.accountsServiceSession(h, u.Name)
	switch {
	case err != nil:
		unread = append(slices.Clip(unread), "/"+rel)
	case name != "":
		return userDesktops{names: appendFamily(nil, d.resolveSessionName(name)), from: "/" + rel}
	}
	var all []string
	for _, s := range d.installed {
		all = appendFamily(all, s.desktop)
	}
	sort.Strings(all)
	return userDesktops{names: all, from: "installed sessions", guessed: true, unread: unread}
}

func appendFamily(list []string, name string) []string {
	fam, known := desktopFamily(name)
	if !known {
		fam = name
	}
	if fam == "" || containsString(list, fam) {
		return list
	}
	return append(list, fam)
}

// accountsServiceSession returns the user's chosen session name, "" when
// there is none, and an error (also recorded as a Problem) when the
// record exists but cannot be read.
func (d *desktopEnv) accountsServiceSession(h *platform.Host, user string) (name, rel string, err error) {
	if user == "" || strings.ContainsAny(user, "/\x00") || user == "." || user == ".." {
		return "", "", nil
	}
	rel = path.Join(accountsServiceDir, user)
	b, err := platform.ReadFile(h.Root, rel, platform.MaxConfigSize)
	if errors.Is(err, fs.ErrNotExist) {
		return "", rel, nil
	}
	if err != nil {
		d.probs = append(d.probs, policy.Problem{Probe: "screen_lock", Path: rel, Message: err.Error()})
		return "", rel, err
	}
	kf := parseIniFile(b)
	for _, key := range []string{"Session", "XSession"} {
		if v, _ := kf.get("User", key); v != "" {
			return v, rel, nil
		}
	}
	return "", rel, nil
}

// resolveSessionName maps a session name to its session file's
// DesktopNames, falling back to the name itself.
func (d *desktopEnv) resolveSessionName(name string) string {
	for _, s := range d.installed {
		if s.name == name {
			return s.desktop
		}
	}
	return name
}
