package windows

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/msgguard/msgguard/policy"
)

// Screen-lock settings (docs/posture-detection.md).
const (
	// Group Policy "Interactive logon: Machine inactivity limit" (CIS
	// 2.3.7.3, STIG WN11-SO-000070): REG_DWORD seconds, 0 or absent = off;
	// past the limit "the user's session locks by invoking the screen saver".
	keyMachinePolicy = `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System`
	// MDM Policy CSP DeviceLock as stored by the PolicyManager.
	// MaxInactivityTimeDeviceLock is in MINUTES (0 = none) and applies only
	// while DevicePasswordEnabled is 0, its default (MicrosoftDocs
	// windows-itpro-docs windows/client-management/mdm/policy-csp-devicelock.md).
	keyMDMDeviceLock = `HKLM\SOFTWARE\Microsoft\PolicyManager\current\device\DeviceLock`
	// ScreenSaverGracePeriod: seconds between screen saver start and the
	// password prompt; 5 when absent (TechNet cc785331; MSS baseline
	// writes it as REG_SZ).
	keyWinlogon         = `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon`
	defaultGraceSeconds = 5
	// Per-user screen saver (REG_SZ values) and its Group Policy twin, which
	// wins value by value (ADMX ControlPanelDisplay; CIS 19.1.3.1-19.1.3.3).
	userKeyDesktop       = `Control Panel\Desktop`
	userKeyDesktopPolicy = `Software\Policies\Microsoft\Windows\Control Panel\Desktop`
)

// lockSource is one mechanism that can lock an idle session.
type lockSource struct {
	state  policy.Tri // Yes: locks after idle seconds; No: off; Unknown: cannot tell
	idle   int
	source string
	policy string // enforced setting, reported beside the effective value
	reason string // why Unknown, or why off
	grace  bool   // lock happens through the screen saver, so the grace period applies
}

// machineLock holds the machine-wide settings every user shares.
type machineLock struct {
	inactivity, mdm lockSource
	grace           int
	graceSource     string
	wake            wakeLock
}

func (s *scanner) machineLock() machineLock {
	ml := machineLock{inactivity: s.inactivityLock(), mdm: s.mdmLock(), wake: s.wakeLock()}
	ml.grace, ml.graceSource = defaultGraceSeconds, keyWinlogon+` (ScreenSaverGracePeriod absent: default 5 s)`
	vals, err := s.reg.Values(keyWinlogon)
	if err != nil && !isNotExist(err) {
		s.probs.add("screen-lock", keyWinlogon, err)
	}
	if n, ok, err := numberValue(vals, "ScreenSaverGracePeriod"); err != nil {
		s.probs.add("screen-lock", keyWinlogon, err)
	} else if ok {
		ml.grace, ml.graceSource = int(n), keyWinlogon+`\ScreenSaverGracePeriod`
	}
	return ml
}

func (s *scanner) inactivityLock() lockSource {
	src := keyMachinePolicy + `\InactivityTimeoutSecs`
	vals, err := s.reg.Values(keyMachinePolicy)
	if err != nil && !isNotExist(err) {
		s.probs.add("screen-lock", keyMachinePolicy, err)
		return lockSource{reason: "machine inactivity policy unreadable: " + err.Error()}
	}
	n, ok, err := intValue(vals, "InactivityTimeoutSecs")
	switch {
	case err != nil:
		s.probs.add("screen-lock", keyMachinePolicy, err)
		return lockSource{reason: "machine inactivity policy has an unexpected type"}
	case !ok || n == 0:
		return lockSource{state: policy.No, source: src, reason: "machine inactivity limit not set"}
	}
	return lockSource{state: policy.Yes, idle: int(n), source: src, grace: true,
		policy: fmt.Sprintf("InactivityTimeoutSecs=%d (Group Policy)", n)}
}

func (s *scanner) mdmLock() lockSource {
	src := keyMDMDeviceLock + `\MaxInactivityTimeDeviceLock`
	vals, err := s.reg.Values(keyMDMDeviceLock)
	if err != nil && !isNotExist(err) {
		s.probs.add("screen-lock", keyMDMDeviceLock, err)
		return lockSource{reason: "MDM DeviceLock policy unreadable: " + err.Error()}
	}
	mins, ok, err := numberValue(vals, "MaxInactivityTimeDeviceLock")
	if err != nil {
		s.probs.add("screen-lock", keyMDMDeviceLock, err)
		return lockSource{reason: "MDM MaxInactivityTimeDeviceLock has an unexpected type"}
	}
	if !ok || mins == 0 {
		return lockSource{state: policy.No, source: src, reason: "MDM inactivity lock not set"}
	}
	if off, ok, err := numberValue(vals, "DevicePasswordEnabled"); err == nil && ok && off == 1 {
		return lockSource{state: policy.No, source: keyMDMDeviceLock + `\DevicePasswordEnabled`,
			reason: "MDM DevicePasswordEnabled=1 disables MaxInactivityTimeDeviceLock"}
	}
	return lockSource{state: policy.Yes, idle: int(mins) * 60, source: src,
		policy: fmt.Sprintf("MaxInactivityTimeDeviceLock=%d min (MDM)", mins)}
}

// screenSaverLock decides whether the user's screen saver locks the
// session. It must be active (ScreenSaveActive "1"), password-protected
// (ScreenSaverIsSecure "1"), have a non-zero timeout and a screen saver
// executable: CIS 19.1.3.1 notes the screen saver only runs when a valid
// executable is set and the timeout is non-zero, so ScreenSaveActive alone
// proves nothing. Each value comes from the policy key when set there.
func (s *scanner) screenSaverLock(p profile, h hive) lockSource {
	if h.root == "" {
		return lockSource{reason: "user hive could not be read: " + h.err.Error()}
	}
	userKey, polKey := `HKU\`+p.sid+`\`+userKeyDesktop, `HKU\`+p.sid+`\`+userKeyDesktopPolicy
	user, err1 := s.reg.Values(h.root + `\` + userKeyDesktop)
	pol, err2 := s.reg.Values(h.root + `\` + userKeyDesktopPolicy)
	for _, e := range []struct {
		key string
		err error
	}{{userKey, err1}, {polKey, err2}} {
		if e.err != nil && !isNotExist(e.err) {
			s.probs.add("screen-lock", e.key, e.err)
			return lockSource{reason: "screen saver settings unreadable: " + e.err.Error()}
		}
	}
	ss := screenSaver{user: user, pol: pol, userKey: userKey, polKey: polKey}
	return ss.decide(func(err error, key string) { s.probs.add("screen-lock", key, err) })
}

// screenSaver evaluates the effective screen saver values of one user.
type screenSaver struct {
	user, pol       map[string]Value
	userKey, polKey string
	fromPolicy      []string
	sources         map[string]bool
}

// get returns the effective string value and the key it came from.
func (ss *screenSaver) get(name string, bad func(error, string)) (string, bool, bool) {
	for _, src := range []struct {
		vals   map[string]Value
		key    string
		policy bool
	}{{ss.pol, ss.polKey, true}, {ss.user, ss.userKey, false}} {
		v, ok, err := stringValue(src.vals, name)
		if err != nil {
			bad(err, src.key)
			return "", false, false
		}
		if ok {
			if ss.sources == nil {
				ss.sources = map[string]bool{}
			}
			ss.sources[src.key] = true
			if src.policy {
				ss.fromPolicy = append(ss.fromPolicy, name+"="+v)
			}
			return strings.TrimSpace(v), true, true
		}
	}
	return "", false, true
}

func (ss *screenSaver) decide(bad func(error, string)) lockSource {
	var unknown []string
	var off []string
	check := func(name string, want func(string) (bool, error)) {
		v, set, valid := ss.get(name, bad)
		switch {
		case !valid:
			unknown = append(unknown, name+" has an unexpected type")
		case !set:
			unknown = append(unknown, name+" not set")
		default:
			ok, err := want(v)
			if err != nil {
				unknown = append(unknown, name+" is not a number")
			} else if !ok {
				off = append(off, name+"="+v)
			}
		}
	}
	is1 := func(v string) (bool, error) { return v == "1", nil }
	check("ScreenSaveActive", is1)
	timeout := 0
	check("ScreenSaveTimeOut", func(v string) (bool, error) {
		n, err := strconv.Atoi(v)
		timeout = n
		return n > 0, err
	})
	// An absent ScreenSaverIsSecure or SCRNSAVE.EXE is a definite "no":
	// both are unset on a fresh profile ("(None)", no password on resume).
	if v, set, valid := ss.get("ScreenSaverIsSecure", bad); !valid {
		unknown = append(unknown, "ScreenSaverIsSecure has an unexpected type")
	} else if !set || v != "1" {
		off = append(off, "ScreenSaverIsSecure="+orNotSet(v, set))
	}
	if v, set, valid := ss.get("SCRNSAVE.EXE", bad); !valid {
		unknown = append(unknown, "SCRNSAVE.EXE has an unexpected type")
	} else if !set || v == "" {
		off = append(off, "no screen saver selected (SCRNSAVE.EXE "+orNotSet(v, set)+")")
	}
	ls := lockSource{source: ss.sourceKeys(), grace: true}
	if len(ss.fromPolicy) > 0 {
		ls.policy = "screen saver policy: " + strings.Join(ss.fromPolicy, ", ")
	}
	switch {
	case len(off) > 0:
		ls.state, ls.reason = policy.No, "screen saver does not lock: "+strings.Join(off, ", ")
	case len(unknown) > 0:
		ls.state, ls.reason = policy.Unknown, "screen saver: "+strings.Join(unknown, ", ")
	default:
		ls.state, ls.idle = policy.Yes, timeout
	}
	return ls
}

func orNotSet(v string, set bool) string {
	if !set {
		return "not set"
	}
	if v == "" {
		return "empty"
	}
	return v
}

func (ss *screenSaver) sourceKeys() string {
	var keys []string
	for _, k := range []string{ss.polKey, ss.userKey} {
		if ss.sources[k] {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ss.userKey
	}
	return strings.Join(keys, " + ")
}

// userLock combines the machine and user settings into the user's
// effective screen lock: the shortest idle time of any mechanism that
// locks; Unknown when none locks for sure and one could not be read.
func (s *scanner) userLock(p profile, h hive, ml machineLock) policy.ScreenLock {
	wake := s.userWake(p, h, ml.wake)
	sl := policy.ScreenLock{User: p.user.Name, Applicable: policy.Yes, LockOnSuspend: wake.state}
	srcs := []lockSource{ml.inactivity, ml.mdm, s.screenSaverLock(p, h)}
	var best *lockSource
	var pols, unknown, off []string
	for i := range srcs {
		l := &srcs[i]
		if l.policy != "" {
			pols = append(pols, l.policy)
		}
		switch l.state {
		case policy.Yes:
			if best == nil || l.idle < best.idle {
				best = l
			}
		case policy.Unknown:
			unknown = append(unknown, l.reason)
		default:
			off = append(off, l.reason)
		}
	}
	sl.Policy = strings.Join(pols, "; ")
	switch {
	case best != nil:
		idle := best.idle
		sl.Enabled, sl.IdleSeconds, sl.Source = policy.Yes, &idle, best.source
		if best.grace {
			g := ml.grace
			sl.GraceSeconds = &g
			sl.Source += "; grace from " + ml.graceSource
		}
	case len(unknown) > 0:
		sl.Enabled, sl.Reason = policy.Unknown, strings.Join(unknown, "; ")
	default:
		sl.Enabled, sl.Source = policy.No, strings.Join(off, "; ")
	}
	if wake.source != "" {
		sl.Source = joinReason(sl.Source, "lock on wake from "+wake.source)
	}
	if wake.state == policy.Unknown && wake.reason != "" {
		sl.Reason = joinReason(sl.Reason, "lock on wake: "+wake.reason)
	}
	return sl
}

// Password on wake (CONSOLELOCK, "Require a password on wakeup"): the
// Group Policy values win ("Require a password when a computer wakes",
// STIG WN10-CC-000145/000150); otherwise the active power scheme's value,
// which is the scheme's override when the user changed it and Windows'
// default for the scheme otherwise (the layout powercfg and PowerReadACValueIndex
// read: ...\Power\User\PowerSchemes\<scheme>\<subgroup>\<setting> and
// ...\Power\PowerSettings\<subgroup>\<setting>\DefaultPowerSchemeValues\<scheme>).
const (
	guidNoSubgroup  = "fea3413e-7e05-4911-9a71-700331f1c294"
	guidConsoleLock = "0e796bdb-100d-47d6-a2d5-f7d2daa51f51"
	keyPowerPolicy  = `HKLM\SOFTWARE\Policies\Microsoft\Power\PowerSettings`
	keyPowerSchemes = `HKLM\SYSTEM\CurrentControlSet\Control\Power\User\PowerSchemes`
	keyPowerDefault = `HKLM\SYSTEM\CurrentControlSet\Control\Power\PowerSettings`
)

type wakeLock struct {
	state  policy.Tri
	source string
	reason string
	// byPolicy is true when Group Policy set both AC and DC, which no user
	// setting overrides.
	byPolicy bool
}

// On Modern Standby (S0) devices "Require sign-in: when PC wakes up / Never"
// is stored per user as HKCU\Control Panel\Desktop\DelayLockInterval
// (REG_DWORD seconds; 0xFFFFFFFF = never), not in the power scheme (several
// independent tweak and audit scripts read and write it; not in Microsoft
// documentation). A user's "never" therefore wins over the scheme, and a
// user whose hive is unreadable has an unknown lock on wake unless Group
// Policy decides it.
const delayLockNever = 0xFFFFFFFF

// userWake returns the lock-on-wake state for one user.
func (s *scanner) userWake(p profile, h hive, w wakeLock) wakeLock {
	if w.byPolicy {
		return w
	}
	if h.root == "" {
		return wakeLock{state: policy.Unknown, source: w.source,
			reason: "the user's own sign-in-on-wake setting (DelayLockInterval) is in the unreadable hive"}
	}
	key := `HKU\` + p.sid + `\` + userKeyDesktop
	vals, err := s.reg.Values(h.root + `\` + userKeyDesktop)
	if err != nil && !isNotExist(err) {
		s.probs.add("screen-lock", key, err)
		return wakeLock{state: policy.Unknown, source: w.source, reason: "DelayLockInterval unreadable: " + err.Error()}
	}
	n, ok, err := intValue(vals, "DelayLockInterval")
	switch {
	case err != nil:
		s.probs.add("screen-lock", key, err)
		return wakeLock{state: policy.Unknown, source: w.source, reason: "DelayLockInterval has an unexpected type"}
	case ok && n == delayLockNever:
		return wakeLock{state: policy.No, source: key + `\DelayLockInterval=never`}
	}
	return w
}

// wakeLock resolves AC and DC separately; a laptop runs on both, so only
// both requiring a password is Yes.
func (s *scanner) wakeLock() wakeLock {
	scheme, schemeErr := s.activeScheme()
	var srcs []string
	state := policy.Yes
	var reasons []string
	for _, idx := range []string{"ACSettingIndex", "DCSettingIndex"} {
		v, src, err := s.consoleLock(idx, scheme, schemeErr)
		switch {
		case err != nil:
			if state == policy.Yes {
				state = policy.Unknown
			}
			reasons = append(reasons, idx+": "+err.Error())
		case v == 0:
			state = policy.No
			srcs = append(srcs, src+`\`+idx+"=0")
		default:
			srcs = append(srcs, src+`\`+idx+"="+strconv.FormatUint(v, 10))
		}
	}
	byPolicy := len(srcs) == 2
	for _, src := range srcs {
		byPolicy = byPolicy && strings.HasPrefix(src, keyPowerPolicy+`\`)
	}
	return wakeLock{state: state, source: strings.Join(srcs, "; "), reason: strings.Join(reasons, "; "), byPolicy: byPolicy}
}

func (s *scanner) activeScheme() (string, error) {
	for _, k := range []string{keyPowerPolicy, keyPowerSchemes} {
		vals, err := s.reg.Values(k)
		if err != nil {
			if !isNotExist(err) {
				s.probs.add("screen-lock", k, err)
			}
			continue
		}
		v, ok, err := stringValue(vals, "ActivePowerScheme")
		if err != nil {
			s.probs.add("screen-lock", k, err)
			continue
		}
		if ok && v != "" {
			return strings.ToLower(strings.Trim(v, "{}")), nil
		}
	}
	return "", errors.New("no active power scheme found")
}

func (s *scanner) consoleLock(idx, scheme string, schemeErr error) (uint64, string, error) {
	keys := []string{keyPowerPolicy + `\` + guidConsoleLock}
	if schemeErr == nil {
		keys = append(keys,
			joinKey(keyPowerSchemes, scheme, guidNoSubgroup, guidConsoleLock),
			joinKey(keyPowerDefault, guidNoSubgroup, guidConsoleLock, "DefaultPowerSchemeValues", scheme))
	}
	for _, k := range keys {
		vals, err := s.reg.Values(k)
		if err != nil {
			if !isNotExist(err) {
				s.probs.add("screen-lock", k, err)
				return 0, "", err
			}
			continue
		}
		v, ok, err := intValue(vals, idx)
		if err != nil {
			s.probs.add("screen-lock", k, err)
			return 0, "", err
		}
		if ok {
			return v, k, nil
		}
	}
	if schemeErr != nil {
		return 0, "", schemeErr
	}
	return 0, "", fmt.Errorf("CONSOLELOCK not found for power scheme %s", scheme)
}
