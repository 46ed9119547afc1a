package linux

import (
	"errors"

	"github.com/msgguard/msgguard/policy"
)

// Screen-lock keys of the dconf desktops, from the schema XML they ship
// (copied into testdata/posture/root-gnome/usr/share/glib-2.0/schemas with
// their Debian package noted in the README):
//
//   - GNOME (gsettings-desktop-schemas): org.gnome.desktop.screensaver
//     lock-enabled (b), lock-delay (u, seconds); org.gnome.desktop.session
//     idle-delay (u, seconds, 0 = never idle); org.gnome.desktop.lockdown
//     disable-lock-screen (b). gnome-shell js/ui/screenShield.js locks on
//     suspend when lock-enabled; Ubuntu patches that to read
//     ubuntu-lock-on-suspend, used when the schema has it.
//   - Cinnamon (cinnamon-desktop-data, cinnamon-settings-daemon):
//     org.cinnamon.desktop.screensaver lock-enabled, idle-activation-enabled,
//     lock-delay (u, seconds); org.cinnamon.desktop.session idle-delay (u,
//     seconds); org.cinnamon.desktop.lockdown disable-lock-screen;
//     org.cinnamon.settings-daemon.plugins.power lock-on-suspend.
//   - MATE (mate-screensaver-common, mate-session-manager,
//     mate-power-manager-common): org.mate.screensaver lock-enabled,
//     idle-activation-enabled, lock-delay (i, MINUTES); org.mate.session
//     idle-delay (i, MINUTES); org.mate.power-manager lock-use-screensaver,
//     lock-suspend.
//
// Each dconf path comes from the compiled schema's ".path" (MATE's session
// schema lives at /org/mate/desktop/session/, not where its id suggests).

type gsKey struct{ schema, key string }

// dconfVerdict evaluates a GNOME-family desktop for one user.
func dconfVerdict(desktop string, g *gsettings) lockVerdict {
	var v lockVerdict
	var err error
	switch desktop {
	case desktopGNOME:
		v, err = gnomeVerdict(g)
	case desktopCinnamon:
		v, err = cinnamonVerdict(g)
	case desktopMATE:
		v, err = mateVerdict(g)
	}
	if err != nil {
		return unknownVerdict(desktop, "cannot read "+desktop+" settings: "+err.Error())
	}
	v.desktop = desktop
	return v
}

// getAll reads keys in order, stopping at the first error.
func (g *gsettings) getAll(keys ...gsKey) ([]gsValue, error) {
	out := make([]gsValue, len(keys))
	for i, k := range keys {
		v, err := g.get(k.schema, k.key)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// optional reads a key that may legitimately be absent (a schema from
// another package, a distro-only key); ok is false when it is.
func (g *gsettings) optional(schema, key string) (gsValue, bool, error) {
	v, err := g.get(schema, key)
	if errors.Is(err, errNoSchema) || errors.Is(err, errNoKey) {
		return gsValue{}, false, nil
	}
	return v, err == nil, err
}

// optionalBool reads a boolean key that may legitimately be absent (see
// optional); ok is false when it is.
func (g *gsettings) optionalBool(schema, key string) (b bool, v gsValue, ok bool, err error) {
	v, ok, err = g.optional(schema, key)
	if !ok {
		return false, v, false, err
	}
	b, err = v.bool()
	return b, v, err == nil, err
}

func gnomeVerdict(g *gsettings) (lockVerdict, error) {
	vals, err := g.getAll(
		gsKey{"org.gnome.desktop.screensaver", "lock-enabled"},
		gsKey{"org.gnome.desktop.session", "idle-delay"},
		gsKey{"org.gnome.desktop.screensaver", "lock-delay"},
	)
	if err != nil {
		return lockVerdict{}, err
	}
	lockEnabled, err := vals[0].bool()
	if err != nil {
		return lockVerdict{}, err
	}
	idle, err1 := vals[1].int()
	grace, err2 := vals[2].int()
	if err := errors.Join(err1, err2); err != nil {
		return lockVerdict{}, err
	}
	decided := vals
	disabled, d, _, err := g.optionalBool("org.gnome.desktop.lockdown", "disable-lock-screen")
	if err != nil {
		return lockVerdict{}, err
	}
	if disabled {
		decided = append(decided, d)
	}
	onSuspend := lockEnabled
	ubuntu, u, hasUbuntu, err := g.optionalBool("org.gnome.desktop.screensaver", "ubuntu-lock-on-suspend")
	if err != nil {
		return lockVerdict{}, err
	}
	if hasUbuntu {
		onSuspend = ubuntu
		decided = append(decided, u)
	}
	return lockVerdict{
		enabled:      policy.TriOf(lockEnabled && idle > 0 && !disabled),
		idle:         intPtr(idle),
		grace:        intPtr(grace),
		onSuspend:    policy.TriOf(onSuspend && !disabled),
		source:       describeValues(decided...),
		policy:       lockedValues(decided...),
		idleReported: idle > 0 && !disabled,
	}, nil
}

func cinnamonVerdict(g *gsettings) (lockVerdict, error) {
	vals, err := g.getAll(
		gsKey{"org.cinnamon.desktop.screensaver", "lock-enabled"},
		gsKey{"org.cinnamon.desktop.screensaver", "idle-activation-enabled"},
		gsKey{"org.cinnamon.desktop.session", "idle-delay"},
		gsKey{"org.cinnamon.desktop.screensaver", "lock-delay"},
	)
	if err != nil {
		return lockVerdict{}, err
	}
	lockEnabled, err1 := vals[0].bool()
	activation, err2 := vals[1].bool()
	idle, err3 := vals[2].int()
	grace, err4 := vals[3].int()
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return lockVerdict{}, err
	}
	decided := vals
	disabled, d, _, err := g.optionalBool("org.cinnamon.desktop.lockdown", "disable-lock-screen")
	if err != nil {
		return lockVerdict{}, err
	}
	if disabled {
		decided = append(decided, d)
	}
	onSuspend := policy.Unknown
	suspend, s, ok, err := g.optionalBool("org.cinnamon.settings-daemon.plugins.power", "lock-on-suspend")
	if err != nil {
		return lockVerdict{}, err
	}
	if ok {
		onSuspend = policy.TriOf(suspend && !disabled)
		decided = append(decided, s)
	}
	return lockVerdict{
		enabled:      policy.TriOf(lockEnabled && activation && idle > 0 && !disabled),
		idle:         intPtr(idle),
		grace:        intPtr(grace),
		onSuspend:    onSuspend,
		source:       describeValues(decided...),
		policy:       lockedValues(decided...),
		idleReported: idle > 0 && !disabled,
	}, nil
}

func mateVerdict(g *gsettings) (lockVerdict, error) {
	vals, err := g.getAll(
		gsKey{"org.mate.screensaver", "lock-enabled"},
		gsKey{"org.mate.screensaver", "idle-activation-enabled"},
		gsKey{"org.mate.session", "idle-delay"},
		gsKey{"org.mate.screensaver", "lock-delay"},
	)
	if err != nil {
		return lockVerdict{}, err
	}
	lockEnabled, err1 := vals[0].bool()
	activation, err2 := vals[1].bool()
	idleMin, err3 := vals[2].int()
	graceMin, err4 := vals[3].int()
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return lockVerdict{}, err
	}
	decided := vals
	// mate-power-manager: with lock-use-screensaver (default) the
	// screensaver's lock-enabled decides locking on suspend; otherwise
	// lock-suspend does.
	onSuspend := policy.Unknown
	useSaver, use, ok, err := g.optionalBool("org.mate.power-manager", "lock-use-screensaver")
	if err != nil {
		return lockVerdict{}, err
	}
	switch {
	case ok && useSaver:
		decided = append(decided, use)
		onSuspend = policy.TriOf(lockEnabled)
	case ok:
		ls, err := g.get("org.mate.power-manager", "lock-suspend")
		if err != nil {
			return lockVerdict{}, err
		}
		lb, err := ls.bool()
		if err != nil {
			return lockVerdict{}, err
		}
		onSuspend = policy.TriOf(lb)
		decided = append(decided, use, ls)
	}
	return lockVerdict{
		enabled:      policy.TriOf(lockEnabled && activation && idleMin > 0),
		idle:         intPtr(idleMin * 60),
		grace:        intPtr(graceMin * 60),
		onSuspend:    onSuspend,
		source:       describeValues(decided...) + " (MATE delays are minutes)",
		policy:       lockedValues(decided...),
		idleReported: idleMin > 0,
	}, nil
}
