package linux

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"strconv"
	"strings"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// KDE Plasma's screen locker reads kscreenlockerrc group [Daemon] through
// KConfig (KDE/kscreenlocker settings/kscreenlockersettings.kcfg): Autolock
// (default true), Timeout (minutes, Double, default 5), Lock (true),
// LockGrace (seconds, default 5), RequirePassword (true), LockOnResume
// (true). The KConfig cascade reads $XDG_CONFIG_DIRS (/etc/xdg, and the
// ~/.config/kdedefaults that plasma's startup prepends) before the user's
// ~/.config file; an entry, group or file marked [$i] (KDE Kiosk) is
// immutable: later files cannot change it.

const (
	kdeRC         = "kscreenlockerrc"
	kdeSystemFile = "etc/xdg/" + kdeRC
	kdeGroup      = "Daemon"
)

// kconfigEntry is one key's value and whether it is immutable.
type kconfigEntry struct {
	value     string
	immutable bool
	source    string
}

// kconfigFile is a parsed KConfig file.
type kconfigFile struct {
	immutable bool // "[$i]" before the first group
	groups    map[string]*kconfigGroup
}

type kconfigGroup struct {
	immutable bool
	entries   map[string]kconfigEntry
}

// parseKConfig parses KConfig INI syntax: "[Group]" or "[Group][$i]"
// headers (nested groups "[A][B]" are kept as "A/B"), "Key=Value",
// "Key[$i]=Value", localised "Key[de]=" (skipped), "Key[$d]" (deleted).
func parseKConfig(b []byte, source string) kconfigFile {
	f := kconfigFile{groups: map[string]*kconfigGroup{}}
	var cur *kconfigGroup
	seenGroup := false
	for _, raw := range strings.Split(string(b), "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			name, imm := parseKConfigHeader(line)
			if name == "" {
				if !seenGroup && imm {
					f.immutable = true
				}
				continue
			}
			seenGroup = true
			cur = f.groups[name]
			if cur == nil {
				cur = &kconfigGroup{entries: map[string]kconfigEntry{}}
				f.groups[name] = cur
			}
			cur.immutable = cur.immutable || imm
			continue
		}
		if cur == nil {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		key, opts, _ := strings.Cut(strings.TrimSpace(k), "[")
		imm := false
		if opts != "" {
			if !strings.HasPrefix(opts, "$") {
				continue // localised value
			}
			if strings.Contains(opts, "d") {
				delete(cur.entries, key)
				continue
			}
			imm = strings.Contains(opts, "i")
		}
		cur.entries[key] = kconfigEntry{value: strings.TrimSpace(v), immutable: imm, source: source}
	}
	return f
}

// parseKConfigHeader splits "[A][B][$i]" into "A/B" and the immutable flag.
func parseKConfigHeader(line string) (string, bool) {
	var parts []string
	imm := false
	for strings.HasPrefix(line, "[") {
		end := strings.IndexByte(line, ']')
		if end < 0 {
			break
		}
		part := line[1:end]
		line = line[end+1:]
		if strings.HasPrefix(part, "$") {
			imm = imm || strings.Contains(part, "i")
			continue
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "/"), imm
}

// kconfigCascade merges files from lowest to highest precedence, honouring
// immutability.
type kconfigCascade struct {
	entries         map[string]kconfigEntry
	frozen          bool   // a whole file was immutable
	frozenGroup     bool   // the Daemon group was immutable
	immutableSource string // where the group/file was frozen
}

func (c *kconfigCascade) add(f kconfigFile, source string) {
	if c.entries == nil {
		c.entries = map[string]kconfigEntry{}
	}
	if c.frozen || c.frozenGroup {
		return
	}
	g := f.groups[kdeGroup]
	if g != nil {
		for k, e := range g.entries {
			if old, ok := c.entries[k]; ok && old.immutable {
				continue
			}
			if g.immutable || f.immutable {
				e.immutable = true
			}
			c.entries[k] = e
		}
		if g.immutable {
			c.frozenGroup, c.immutableSource = true, source
		}
	}
	if f.immutable {
		c.frozen, c.immutableSource = true, source
	}
}

// kdeSystem is /etc/xdg/kscreenlockerrc, read once per scan.
type kdeSystem struct {
	file    kconfigFile
	present bool
	err     error
}

func readKDESystem(h *platform.Host) kdeSystem {
	b, err := platform.ReadFile(h.Root, kdeSystemFile, platform.MaxConfigSize)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return kdeSystem{}
	case err != nil:
		return kdeSystem{err: fmt.Errorf("reading /%s: %w", kdeSystemFile, err)}
	}
	return kdeSystem{file: parseKConfig(b, "/"+kdeSystemFile), present: true}
}

// verdict evaluates KDE for the user with root-relative home.
func (s kdeSystem) verdict(h *platform.Host, home string) lockVerdict {
	if s.err != nil {
		return unknownVerdict(desktopKDE, s.err.Error())
	}
	var c kconfigCascade
	if s.present {
		c.add(s.file, "/"+kdeSystemFile)
	}
	if home != "" && home != "." {
		for _, f := range []struct{ rel, label string }{
			{".config/kdedefaults/" + kdeRC, "~/.config/kdedefaults/" + kdeRC},
			{".config/" + kdeRC, "~/.config/" + kdeRC},
		} {
			b, err := platform.ReadUserFile(h.Root, home, path.Join(home, f.rel), platform.MaxConfigSize)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return unknownVerdict(desktopKDE, fmt.Sprintf("%s not read: %v", f.label, err))
			}
			c.add(parseKConfig(b, f.label), f.label)
		}
	}
	return kdeVerdictFrom(c)
}

// kdeSetting is one resolved [Daemon] key for Source strings.
type kdeSetting struct {
	name, value, source string
	immutable           bool
}

func (c kconfigCascade) boolKey(name string, def bool) (bool, kdeSetting) {
	e, ok := c.entries[name]
	if !ok {
		return def, kdeSetting{name: name, value: strconv.FormatBool(def), source: "default"}
	}
	v, ok := parseKeyfileBool(e.value)
	if !ok {
		// KConfig returns the default for a value it cannot convert.
		return def, kdeSetting{name: name, value: strconv.FormatBool(def), source: "default; unparsable value in " + e.source + " ignored"}
	}
	return v, kdeSetting{name: name, value: strconv.FormatBool(v), source: e.source, immutable: e.immutable}
}

func (c kconfigCascade) numKey(name string, def float64, unit string) (float64, kdeSetting) {
	e, ok := c.entries[name]
	if ok {
		if v, err := strconv.ParseFloat(e.value, 64); err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) && math.Abs(v) < 1e7 {
			return v, kdeSetting{name: name, value: strconv.FormatFloat(v, 'f', -1, 64) + " " + unit, source: e.source, immutable: e.immutable}
		}
		return def, kdeSetting{name: name, value: strconv.FormatFloat(def, 'f', -1, 64) + " " + unit, source: "default; unparsable value in " + e.source + " ignored"}
	}
	return def, kdeSetting{name: name, value: strconv.FormatFloat(def, 'f', -1, 64) + " " + unit, source: "default"}
}

func kdeVerdictFrom(c kconfigCascade) lockVerdict {
	autolock, sAuto := c.boolKey("Autolock", true)
	timeout, sTimeout := c.numKey("Timeout", 5, "min")
	lock, sLock := c.boolKey("Lock", true)
	grace, sGrace := c.numKey("LockGrace", 5, "s")
	requirePw, sPw := c.boolKey("RequirePassword", true)
	onResume, sResume := c.boolKey("LockOnResume", true)
	settings := []kdeSetting{sAuto, sTimeout, sGrace, sResume}
	password := lock && requirePw
	if !lock {
		settings = append(settings, sLock)
	}
	if !requirePw {
		settings = append(settings, sPw)
	}
	idle := int(math.Round(timeout * 60))
	v := lockVerdict{
		desktop:   desktopKDE,
		enabled:   policy.TriOf(autolock && timeout > 0 && password),
		idle:      intPtr(idle),
		grace:     intPtr(int(math.Round(grace))),
		onSuspend: policy.TriOf(onResume && password),
	}
	var src, pol []string
	for _, s := range settings {
		src = append(src, s.name+"="+s.value+" ("+s.source+")")
		if s.immutable {
			pol = append(pol, s.name+"="+s.value)
		}
	}
	v.source = strings.Join(src, "; ")
	if !password {
		v.source += "; the locker does not ask for a password"
	}
	if len(pol) > 0 {
		v.policy = "immutable (KDE Kiosk [$i]): " + strings.Join(pol, ", ")
	}
	return v
}
