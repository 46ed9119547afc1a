package linux

import (
	"fmt"
	"strings"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// lockVerdict is one desktop's effective screen-lock setting for a user.
type lockVerdict struct {
	desktop   string
	enabled   policy.Tri
	idle      *int // seconds idle before locking
	grace     *int // seconds after blanking before a password is needed
	onSuspend policy.Tri
	source    string
	policy    string
	reason    string
	// idleReported is true when the session still reports idleness to
	// logind (so logind's IdleAction=lock can act) although the desktop's
	// own lock is off.
	idleReported bool
}

func unknownVerdict(desktop, reason string) lockVerdict {
	return lockVerdict{desktop: desktop, reason: reason}
}

func intPtr(n int) *int { return &n }

// screenLockProbe holds what all users' screen-lock checks share.
type screenLockProbe struct {
	h       *platform.Host
	desk    *desktopEnv
	dconf   *dconfCache
	schemas *schemaCache
	logind  logindIdle
	kde     kdeSystem
	xfce    xfceSystem
}

func newScreenLockProbe(h *platform.Host) *screenLockProbe {
	p := &screenLockProbe{
		h:       h,
		desk:    readDesktopEnv(h),
		dconf:   newDconfCache(h),
		schemas: readSchemaCache(h),
		logind:  readLogind(h),
		kde:     readKDESystem(h),
		xfce:    readXfceSystem(h),
	}
	if p.logind.err != nil {
		// Without logind's settings its IdleAction=lock cannot rescue a
		// desktop whose own lock is off: say why it was not counted.
		p.desk.probs = append(p.desk.probs, policy.Problem{Probe: "screen_lock",
			Message: "logind idle settings not read, IdleAction=lock is not counted: " + p.logind.err.Error()})
	}
	return p
}

// forUser returns the user's effective screen lock.
func (p *screenLockProbe) forUser(u policy.User) policy.ScreenLock {
	out := policy.ScreenLock{User: u.Name}
	ds := p.desk.desktopsFor(p.h, u)
	if len(ds.names) == 0 && len(ds.unread) > 0 {
		out.Applicable = policy.Unknown
		out.Reason = "no graphical desktop found, but " + strings.Join(ds.unread, ", ") + " could not be read"
		return out
	}
	if len(ds.names) == 0 {
		out.Applicable = policy.No
		out.Reason = "no graphical desktop: no live graphical session, no recorded session and no session files in /usr/share/xsessions or /usr/share/wayland-sessions"
		return out
	}
	out.Applicable = policy.Yes
	home := ""
	if u.Home != "" {
		home = platform.RelPath(u.Home)
	}
	var verdicts []lockVerdict
	for _, d := range ds.names {
		v := p.evaluate(d, u, home)
		verdicts = append(verdicts, p.withLogind(v))
	}
	v := worstVerdict(verdicts)
	out.Desktop = v.desktop
	out.Enabled, out.IdleSeconds, out.GraceSeconds, out.LockOnSuspend = v.enabled, v.idle, v.grace, v.onSuspend
	out.Policy = v.policy
	from := "desktop from " + ds.from
	if ds.guessed && len(ds.names) > 1 {
		from = fmt.Sprintf("user has no recorded session; weakest of installed desktops %s", strings.Join(ds.names, ", "))
	}
	if v.source != "" {
		out.Source = from + "; " + v.source
	} else {
		out.Source = from
	}
	if out.Enabled == policy.Unknown {
		out.Reason = v.reason
	}
	return out
}

// evaluate dispatches to the desktop's settings reader.
func (p *screenLockProbe) evaluate(desktop string, u policy.User, home string) lockVerdict {
	switch desktop {
	case desktopGNOME, desktopCinnamon, desktopMATE:
		g := newGSettings(p.h, p.dconf, p.schemas, u.UID, home)
		return dconfVerdict(desktop, g)
	case desktopKDE:
		return p.kde.verdict(p.h, home)
	case desktopXFCE:
		return p.xfce.verdict(p.h, home)
	}
	reason := desktop + ": its screen locker is configured in the user's own scripts or compositor config (swayidle, xss-lock, xautolock, ...), which this agent does not inspect"
	if p.logind.locks() {
		reason += fmt.Sprintf("; logind IdleAction=lock after %d s (%s) locks only sessions that report idle", p.logind.seconds, p.logind.actionSource)
	}
	return unknownVerdict(desktop, reason)
}

// withLogind applies systemd-logind's IdleAction=lock as a device-wide
// fallback: it locks a session that reports idle (logind.conf(5): "requires
// that user sessions correctly report the idle status"), so it rescues a
// desktop whose own lock is off only where that desktop still reports idle.
func (p *screenLockProbe) withLogind(v lockVerdict) lockVerdict {
	if !p.logind.locks() {
		return v
	}
	note := fmt.Sprintf("logind IdleAction=lock after %d s (%s)", p.logind.seconds, p.logind.actionSource)
	if v.policy == "" {
		v.policy = note
	} else {
		v.policy += "; " + note
	}
	if v.enabled == policy.No && v.idleReported {
		v.enabled = policy.Yes
		v.idle = intPtr(p.logind.seconds)
		v.grace = intPtr(0)
		v.source = note + "; desktop's own lock is off: " + v.source
	}
	return v
}

// worstVerdict picks the least safe: No, then Unknown, then Yes.
func worstVerdict(vs []lockVerdict) lockVerdict {
	rank := func(t policy.Tri) int {
		switch t {
		case policy.No:
			return 0
		case policy.Unknown:
			return 1
		}
		return 2
	}
	best := vs[0]
	for _, v := range vs[1:] {
		if rank(v.enabled) < rank(best.enabled) {
			best = v
		}
	}
	return best
}
