package darwin

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// Managed preferences: what an MDM profile forces. The device-scope file
// applies to every user; a per-user file (delivered by a user-channel
// profile) overrides it for that user. osquery's managed_policies table reads
// the same directory (osquery/tables/system/darwin/managed_policies.cpp).
const managedPrefsDir = "Library/Managed Preferences"

const screensaverDomain = "com.apple.screensaver"

// managedScreensaver holds the keys of com.apple.screensaver that matter:
// askForPassword (bool, older profiles use 0/1), askForPasswordDelay and
// idleTime (seconds).
type managedScreensaver struct {
	AskForPassword      *plistBool `plist:"askForPassword"`
	AskForPasswordDelay *plistInt  `plist:"askForPasswordDelay"`
	IdleTime            *plistInt  `plist:"idleTime"`
}

func (m managedScreensaver) empty() bool {
	return m.AskForPassword == nil && m.AskForPasswordDelay == nil && m.IdleTime == nil
}

// merge lays a per-user file over the device-scope one, key by key.
func (m managedScreensaver) merge(over managedScreensaver) managedScreensaver {
	if over.AskForPassword != nil {
		m.AskForPassword = over.AskForPassword
	}
	if over.AskForPasswordDelay != nil {
		m.AskForPasswordDelay = over.AskForPasswordDelay
	}
	if over.IdleTime != nil {
		m.IdleTime = over.IdleTime
	}
	return m
}

// String renders the enforced values for ScreenLock.Policy.
func (m managedScreensaver) String() string {
	var parts []string
	if m.AskForPassword != nil {
		parts = append(parts, fmt.Sprintf("askForPassword=%t", bool(*m.AskForPassword)))
	}
	if m.AskForPasswordDelay != nil {
		parts = append(parts, fmt.Sprintf("askForPasswordDelay=%ds", int64(*m.AskForPasswordDelay)))
	}
	if m.IdleTime != nil {
		parts = append(parts, fmt.Sprintf("idleTime=%ds", int64(*m.IdleTime)))
	}
	return strings.Join(parts, " ")
}

// parseManagedScreensaver decodes a managed com.apple.screensaver plist.
func parseManagedScreensaver(b []byte) (managedScreensaver, error) {
	var m managedScreensaver
	err := decodePlist(b, &m)
	return m, err
}

// byHostScreensaver is the user's "current host" screensaver domain.
type byHostScreensaver struct {
	IdleTime *plistInt `plist:"idleTime"`
}

// screenLockAnswer is the effective per-user setting sysadminctl reports.
type screenLockAnswer struct {
	Enabled policy.Tri
	Grace   *int
	Reason  string
}

var screenLockDelayRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`screenLock delay is (-?\d+)(?:\.\d+)? seconds?`) })

// parseScreenLockStatus interprets `sysadminctl -screenLock status`, which
// writes one log line to standard error, e.g.
//
//	2026-09-21 20:50:02.423 sysadminctl[22746:23830390] screenLock delay is 5 seconds
//
// "screenLock is off", "screenLock delay is immediate" and "... N seconds"
// are the known answers (testdata/README.md lists the captures). Anything
// else, including a negative delay, is Unknown with the reason.
func parseScreenLockStatus(b []byte) screenLockAnswer {
	text := string(b)
	switch {
	case strings.Contains(text, "screenLock is off"):
		return screenLockAnswer{Enabled: policy.No}
	case strings.Contains(text, "screenLock delay is immediate"):
		zero := 0
		return screenLockAnswer{Enabled: policy.Yes, Grace: &zero}
	}
	if m := screenLockDelayRe().FindStringSubmatch(text); m != nil {
		n, err := strconv.Atoi(m[1])
		if err == nil && n >= 0 {
			return screenLockAnswer{Enabled: policy.Yes, Grace: &n}
		}
		return screenLockAnswer{Reason: fmt.Sprintf("sysadminctl reported an unrecognised delay %q", m[1])}
	}
	if strings.TrimSpace(text) == "" {
		return screenLockAnswer{Reason: "sysadminctl printed no answer"}
	}
	return screenLockAnswer{Reason: "sysadminctl's answer was not recognised"}
}

// parseWho returns the users with a GUI login: `who` lists one utmpx entry
// per session, and loginwindow records each logged-in GUI user (including
// fast-user-switched ones) on the line "console".
func parseWho(b []byte) map[string]bool {
	users := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[1] == "console" {
			users[f[0]] = true
		}
	}
	return users
}

// pmsetCustom is display sleep per power source, in minutes (0 = never).
type pmsetCustom map[string]int

// parsePmsetCustom reads `pmset -g custom`: a "<Source> Power:" header
// followed by " key<spaces>value" lines for each power source.
func parsePmsetCustom(b []byte) (pmsetCustom, error) {
	out := pmsetCustom{}
	source := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasSuffix(line, "Power:") && !strings.HasPrefix(line, " ") {
			source = strings.TrimSuffix(line, ":")
			continue
		}
		f := strings.Fields(line)
		if source == "" || len(f) < 2 || f[0] != "displaysleep" {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil || n < 0 {
			return nil, fmt.Errorf("pmset: bad displaysleep value for %s", source)
		}
		out[source] = n
	}
	if len(out) == 0 {
		return nil, errors.New("pmset: no displaysleep setting found")
	}
	return out, nil
}

// worst returns the longest display-sleep timer in seconds across power
// sources, 0 when any source never sleeps the display.
func (p pmsetCustom) worst() int {
	worst := 0
	for _, m := range p {
		if m == 0 {
			return 0
		}
		if m*60 > worst {
			worst = m * 60
		}
	}
	return worst
}

// sources lists the power sources for a Source string.
func (p pmsetCustom) String() string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %dmin", k, p[k])
	}
	return strings.Join(parts, ", ")
}

// screenLockInputs are the device-wide inputs shared by every user.
type screenLockInputs struct {
	device    managedScreensaver
	deviceSrc string
	loggedIn  map[string]bool // nil when who failed
	whoErr    error
	pmset     pmsetCustom
	hwUUID    string
}

// scanScreenLock reports screen lock per user: the MDM policy beside the
// effective setting. The effective setting lives in the user's keybag and is
// only answered inside that user's GUI session, so it is asked for with
// `launchctl asuser <uid> sysadminctl -screenLock status` and only for users
// who are logged in; for the others it is Unknown with that reason (Kolide
// launcher's exec_osquery_launchctl.go documents the same limitation).
func scanScreenLock(s *scan, users []policy.User, hwUUID string) []policy.ScreenLock {
	in := screenLockInputs{hwUUID: hwUUID}
	in.device, in.deviceSrc = readManaged(s, path.Join(managedPrefsDir, screensaverDomain+".plist"))
	if out, err := s.h.Output(s.ctx, "who"); err != nil {
		in.whoErr = err
	} else {
		in.loggedIn = parseWho(out)
	}
	if out, err := s.h.Output(s.ctx, "pmset", "-g", "custom"); err == nil {
		if p, err := parsePmsetCustom(out); err == nil {
			in.pmset = p
		} else {
			s.problem("screen-lock", "", err.Error())
		}
	} else {
		s.problem("screen-lock", "", "pmset -g custom failed: "+err.Error())
	}
	locks := make([]policy.ScreenLock, 0, len(users))
	for _, u := range users {
		locks = append(locks, userScreenLock(s, u, in))
	}
	return locks
}

func userScreenLock(s *scan, u policy.User, in screenLockInputs) policy.ScreenLock {
	sl := policy.ScreenLock{User: u.Name, Applicable: policy.Yes}
	var managed managedScreensaver
	var userSrc string
	if safeName(u.Name) {
		managed, userSrc = readManaged(s, path.Join(managedPrefsDir, u.Name, screensaverDomain+".plist"))
	}
	eff := in.device.merge(managed)
	if !eff.empty() {
		srcs := strings.TrimSpace(strings.Join([]string{in.deviceSrc, userSrc}, " "))
		sl.Policy = eff.String() + " (" + srcs + ")"
	}
	switch {
	case in.loggedIn == nil:
		sl.Reason = "cannot tell whether the user is logged in: who failed: " + in.whoErr.Error()
		return sl
	case !in.loggedIn[u.Name]:
		sl.Reason = "user is not logged in; macOS answers the screen-lock setting only inside the user's session"
		return sl
	}
	ans, src := askScreenLock(s, u)
	sl.Enabled, sl.GraceSeconds, sl.Reason = ans.Enabled, ans.Grace, ans.Reason
	// "Require password after screen saver begins or display is turned off"
	// is one setting; waking from sleep asks for the password under it too.
	sl.LockOnSuspend = ans.Enabled
	sources := []string{src}
	if idle, isrc := idleSeconds(s, u, in, eff); idle != nil {
		sl.IdleSeconds = idle
		sources = append(sources, isrc)
	}
	sl.Source = strings.Join(sources, "; ")
	return sl
}

// CombinedRunner is implemented by runners that can return a command's
// standard output and standard error together. sysadminctl answers on
// standard error and exits 0, so a runner with only Output (which keeps
// standard error only inside a *platform.CommandError on failure) loses the
// answer; with a CombinedRunner the answer is read in every case.
type CombinedRunner interface {
	CombinedOutput(ctx context.Context, name string, args ...string) ([]byte, error)
}

// askScreenLock runs sysadminctl in the user's GUI session and parses its
// answer from whatever streams the runner returns.
func askScreenLock(s *scan, u policy.User) (screenLockAnswer, string) {
	src := fmt.Sprintf("launchctl asuser %s sysadminctl -screenLock status", u.UID)
	// A plain name keeps the command line replayable from recordings
	// (platform.ReplayRunner refuses "/"); launchctl resolves it with the
	// system-only PATH that platform.ExecRunner sets.
	args := []string{"asuser", u.UID, "sysadminctl", "-screenLock", "status"}
	var out []byte
	var err error
	combined := false
	if cr, ok := s.h.Run.(CombinedRunner); ok {
		out, err = cr.CombinedOutput(s.ctx, "launchctl", args...)
		combined = true
	} else {
		out, err = s.h.Output(s.ctx, "launchctl", args...)
	}
	text := append([]byte(nil), out...)
	var ce *platform.CommandError
	if errors.As(err, &ce) {
		text = append(append(text, '\n'), ce.Stderr...)
	}
	ans := parseScreenLockStatus(text)
	switch {
	case ans.Enabled != policy.Unknown:
	case err != nil:
		ans.Reason = "sysadminctl failed: " + err.Error()
	case !combined && len(bytes.TrimSpace(out)) == 0:
		ans.Reason = "sysadminctl printed nothing on standard output; it answers on standard error, which this command runner does not return on success"
	}
	return ans, src
}

// idleSeconds is the time without input before the screen locks (before the
// grace period): the shorter of the screensaver idle time (managed value,
// else the user's ByHost preference) and the display-sleep timer of the
// worst power source. 0 means never. nil when neither is known.
func idleSeconds(s *scan, u policy.User, in screenLockInputs, managed managedScreensaver) (*int, string) {
	saver, saverSrc, known := -1, "", false
	if managed.IdleTime != nil {
		saver, saverSrc, known = int(*managed.IdleTime), "managed preferences", true
	} else if v, p := byHostIdle(s, u, in.hwUUID); v != nil {
		saver, saverSrc, known = *v, "/"+p, true
	}
	display, hasDisplay := 0, in.pmset != nil
	if hasDisplay {
		display = in.pmset.worst()
	}
	var idle int
	var srcs []string
	switch {
	case known && hasDisplay:
		idle = minPositive(saver, display)
		srcs = []string{"idleTime from " + saverSrc, "displaysleep from pmset (" + in.pmset.String() + ")"}
	case known:
		idle, srcs = max(saver, 0), []string{"idleTime from " + saverSrc}
	case hasDisplay:
		idle, srcs = display, []string{"displaysleep from pmset (" + in.pmset.String() + ")"}
	default:
		return nil, ""
	}
	return &idle, strings.Join(srcs, ", ")
}

// minPositive returns the smaller positive value; 0 (never) only if both are.
func minPositive(a, b int) int {
	switch {
	case a <= 0:
		return max(b, 0)
	case b <= 0:
		return a
	}
	return min(a, b)
}

// byHostIdle reads idleTime from the user's current-host screensaver
// preferences, named after the hardware UUID. A missing file is not a
// problem: the user never changed the default.
func byHostIdle(s *scan, u policy.User, hwUUID string) (*int, string) {
	home := realHome(s, u)
	if home == "" || hwUUID == "" {
		return nil, ""
	}
	p := path.Join(home, "Library/Preferences/ByHost", screensaverDomain+"."+hwUUID+".plist")
	b, err := platform.ReadUserFile(s.h.Root, home, p, platform.MaxConfigSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ""
	}
	var v byHostScreensaver
	if err == nil {
		err = decodePlist(b, &v)
	}
	if err != nil {
		s.problem("screen-lock", "/"+p, "cannot read idle time: "+err.Error())
		return nil, ""
	}
	if v.IdleTime == nil {
		return nil, ""
	}
	n := int(*v.IdleTime)
	return &n, p
}

// readManaged reads one managed screensaver file; a missing file means no
// policy, an unreadable one is a problem.
func readManaged(s *scan, p string) (managedScreensaver, string) {
	b, err := platform.ReadFile(s.h.Root, p, platform.MaxConfigSize)
	if errors.Is(err, fs.ErrNotExist) {
		return managedScreensaver{}, ""
	}
	var m managedScreensaver
	if err == nil {
		m, err = parseManagedScreensaver(b)
	}
	if err != nil {
		s.problem("screen-lock", "/"+p, "cannot read managed preferences: "+err.Error())
		return managedScreensaver{}, ""
	}
	if m.empty() {
		return m, ""
	}
	return m, "/" + p
}

// safeName reports whether a user name can be used as one path element.
func safeName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\\\x00")
}
