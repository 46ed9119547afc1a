package android

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/msgguard/msgguard/platform/phone"
	"github.com/msgguard/msgguard/policy"
)

// defaultLockAfterMs is Settings.Secure.LOCK_SCREEN_LOCK_AFTER_TIMEOUT's
// default when the key has never been written: 5000 ms
// (KeyguardViewMediator KEYGUARD_LOCK_AFTER_DELAY_DEFAULT; see
// posture-detection.md §4).
const defaultLockAfterMs = 5000

// scanPosture reads screen lock per user, remote-wipe capability and
// encryption.
func scanPosture(ctx context.Context, s *session, cat *policy.Catalog, users []androidUser, p *props) policy.Posture {
	locks := screenLocks(ctx, s, users)
	return policy.Posture{
		ScreenLock: locks,
		RemoteWipe: remoteWipe(ctx, s, cat, users),
		Encryption: encryption(p, personalLock(locks)),
		Inspected:  true,
	}
}

// timeouts are the screen-off and lock-after delays of one full user.
type timeouts struct {
	idle, grace *int
}

// screenLocks returns one ScreenLock per user and profile. A profile
// without its own challenge (SeparateChallenge false) is unlocked with its
// parent's credential, so its effective lock is the parent's; timeouts are
// per full user (profiles follow their parent's screen).
func screenLocks(ctx context.Context, s *session, users []androidUser) []policy.ScreenLock {
	const cmd = "dumpsys lock_settings"
	out, err := s.shell(ctx, "dumpsys", "lock_settings")
	var states map[int]lockState
	if err == nil {
		states, err = parseLockSettings(out)
	}
	if err != nil {
		s.Problem(probeScreenLock, cmd, err)
	}
	times := map[int]timeouts{}
	for _, u := range users {
		if !u.isProfile() {
			times[u.ID] = userTimeouts(ctx, s, u.ID)
		}
	}
	locks := make([]policy.ScreenLock, 0, len(users))
	for _, u := range users {
		parent := 0
		if !u.isProfile() {
			parent = u.ID
		}
		l := lockFor(u, parent, states, err)
		t := times[parent]
		l.IdleSeconds, l.GraceSeconds = t.idle, t.grace
		locks = append(locks, l)
	}
	return locks
}

// lockFor decides one user's screen lock from the lock_settings states.
// Source names the credential type found ("dumpsys lock_settings: PIN").
func lockFor(u androidUser, parent int, states map[int]lockState, readErr error) policy.ScreenLock {
	l := policy.ScreenLock{User: userName(u.ID), Applicable: policy.Yes, Source: "dumpsys lock_settings"}
	if readErr != nil {
		l.Reason = "dumpsys lock_settings could not be read: " + phone.Describe(readErr)
		return l
	}
	st, ok := states[u.ID]
	unified := ""
	if u.isProfile() && u.ID != parent && ok && st.Separate == policy.No {
		if ps, pok := states[parent]; pok {
			st, unified = ps, " (unified with "+userName(parent)+")"
		}
	}
	switch {
	case !ok:
		l.Reason = "dumpsys lock_settings lists no state for this user"
	case st.Credential != "":
		l.Enabled = st.Secure
		l.Source = "dumpsys lock_settings: " + st.Credential + unified
	case st.Raw != "":
		l.Reason = "unrecognised credential type " + strconv.Quote(st.Raw)
	default:
		// Android 10 and older: the dump has no CredentialType line. We do
		// not fall back to `locksettings get-disabled` (see the package doc).
		l.Reason = "this Android release does not report the credential type in dumpsys lock_settings (Android 10 and older)"
	}
	return l
}

// userTimeouts reads the screen-off timeout and the delay before the
// keyguard locks for one full user. A missing lock-after value means the
// platform default (5 s).
func userTimeouts(ctx context.Context, s *session, user int) timeouts {
	var t timeouts
	id := strconv.Itoa(user)
	if ms, set, ok := setting(ctx, s, id, "system", "screen_off_timeout"); ok && set {
		t.idle = seconds(ms)
	}
	if ms, set, ok := setting(ctx, s, id, "secure", "lock_screen_lock_after_timeout"); ok {
		if !set {
			ms = defaultLockAfterMs
		}
		t.grace = seconds(ms)
	}
	return t
}

func setting(ctx context.Context, s *session, user, ns, key string) (ms int64, set, ok bool) {
	cmd := []string{"settings", "get", "--user", user, ns, key}
	out, err := s.shell(ctx, cmd...)
	if err == nil {
		ms, set, err = parseSetting(out)
	}
	if err != nil {
		s.Problem(probeScreenLock, fmt.Sprintf("settings get --user %s %s %s", user, ns, key), err)
		return 0, false, false
	}
	return ms, set, true
}

func seconds(ms int64) *int {
	v := ms / 1000
	if v > 1<<31-1 {
		v = 1<<31 - 1
	}
	n := int(v)
	return &n
}

// personalLock returns user 0's screen lock state, which protects the
// credential-encrypted storage of the personal profile.
func personalLock(locks []policy.ScreenLock) policy.Tri {
	for _, l := range locks {
		if l.User == userName(0) {
			return l.Enabled
		}
	}
	return policy.Unknown
}

// encryption reports /data from ro.crypto.state and ro.crypto.type. On a
// file-based-encrypted phone without a screen lock the credential-encrypted
// keys are not protected by any user secret, so Protected is No then.
func encryption(p *props, secure policy.Tri) policy.DiskEncryption {
	v := policy.Volume{Mount: "data", Source: "getprop ro.crypto.state, ro.crypto.type"}
	if p == nil {
		v.Reason = "getprop could not be read"
		return policy.DiskEncryption{Volumes: []policy.Volume{v}}
	}
	switch p.CryptoState {
	case "encrypted":
		v.Encrypted = policy.Yes
	case "unencrypted", "unsupported":
		v.Encrypted = policy.No
	default:
		v.Reason = "ro.crypto.state is not set"
	}
	switch p.CryptoType {
	case "file":
		v.Method = "file-based"
	case "block":
		v.Method = "full-disk"
	}
	if v.Encrypted == policy.Yes {
		v.Protected = secure
		switch secure {
		case policy.No:
			v.Reason = "no screen lock: the encryption keys are not protected by a user credential"
		case policy.Unknown:
			v.Reason = "screen lock unknown, so whether a credential protects the keys is unknown"
		}
	}
	return policy.DiskEncryption{Volumes: []policy.Volume{v}}
}

// remoteWipe decides whether the company can wipe the phone from its device
// and profile owners (the MDM's device policy controller). `dpm list-owners`
// exists from Android 12; older releases, and Android 12+ with a work
// profile (to learn whether it is company-owned), are read from
// `dumpsys device_policy`.
func remoteWipe(ctx context.Context, s *session, cat *policy.Catalog, users []androidUser) policy.RemoteWipe {
	source := "dpm list-owners"
	owners, err := listOwners(ctx, s)
	if errors.Is(err, errOwnersUnsupported) || err == nil && needsOrgOwned(owners) {
		var dumped []owner
		dumped, err = dumpOwners(ctx, s)
		if err == nil {
			if owners != nil {
				source += ", dumpsys device_policy"
			} else {
				source = "dumpsys device_policy"
			}
			owners = mergeOwners(owners, dumped)
		}
	}
	if err != nil {
		s.Problem(probeRemoteWipe, source, err)
		return policy.RemoteWipe{Source: source, Reason: "device and profile owners could not be read: " + phone.Describe(err)}
	}
	return wipeFromOwners(owners, users, cat, source)
}

func listOwners(ctx context.Context, s *session) ([]owner, error) {
	out, err := s.shell(ctx, "dpm", "list-owners")
	if err != nil {
		if s.Fatal() != nil || errors.Is(err, phone.ErrTimeout) || errors.Is(err, phone.ErrSkipped) {
			return nil, err
		}
		// Android 11's dpm rejects the subcommand (usage, non-zero exit).
		return nil, errOwnersUnsupported
	}
	return parseListOwners(out)
}

func dumpOwners(ctx context.Context, s *session) ([]owner, error) {
	out, err := s.shell(ctx, "dumpsys", "device_policy")
	if err != nil {
		return nil, err
	}
	return parseDevicePolicy(out)
}

// needsOrgOwned reports whether a work-profile owner is present without a
// device owner: only the dump tells whether that profile is on a
// company-owned device.
func needsOrgOwned(owners []owner) bool {
	managed := false
	for _, o := range owners {
		if o.Device {
			return false
		}
		managed = managed || o.Managed
	}
	return managed
}

// mergeOwners keeps list-owners' view (it knows which owner is a managed
// profile's) and adds the dump's organisation-owned flag; without a list
// the dump's owners are used.
func mergeOwners(listed, dumped []owner) []owner {
	if listed == nil {
		return dumped
	}
	for i := range listed {
		for _, d := range dumped {
			if d.User == listed[i].User && d.Package == listed[i].Package {
				listed[i].OrgOwned = d.OrgOwned
			}
		}
	}
	return listed
}

// wipeFromOwners: a device owner can wipe the whole phone
// (DevicePolicyManager.wipeData). A work profile's owner can wipe the work
// profile only — unless the phone is company-owned (COPE,
// isOrganizationOwnedDevice), where DevicePolicyManager allows it to
// factory-reset the device through its parent instance (Android 11+). A
// profile owner of a personal container (Samsung Secure Folder) is the
// vendor's, not the company's, and does not count; neither does one of a
// secondary user (it can wipe that user only).
//
// A profile owner that is parental supervision (Google Family Link sets
// com.google.android.gms.supervision as profile owner of user 0) is a
// parent's control over a child's phone, not a company's remote wipe.
func wipeFromOwners(owners []owner, users []androidUser, cat *policy.Catalog, source string) policy.RemoteWipe {
	profiles := map[int]string{}
	for _, u := range users {
		profiles[u.ID] = u.profile()
	}
	var work *owner
	supervision := ""
	for i := range owners {
		o := &owners[i]
		switch {
		case parentalSupervision[o.Package] != "":
			supervision = parentalSupervision[o.Package] + " (" + o.Package + ")"
		case o.Device:
			return policy.RemoteWipe{Capable: policy.Yes, Scope: "device", Provider: provider(cat, o.Package), Source: source}
		case o.User == 0 && !o.Managed:
			// A profile owner of the system user factory-resets the phone
			// when it wipes its user (DevicePolicyManager.wipeData).
			return policy.RemoteWipe{Capable: policy.Yes, Scope: "device", Provider: provider(cat, o.Package), Source: source,
				Reason: "profile owner of user 0"}
		case profiles[o.User] == profilePersonal:
			// Secure Folder and similar containers: the vendor's owner.
		case (o.Managed || profiles[o.User] == profileWork) && work == nil:
			work = o
		}
	}
	if work == nil {
		if supervision != "" {
			return policy.RemoteWipe{Capable: policy.No, Source: source,
				Reason: "the only owner is parental supervision, " + supervision + ": a parent's control, not a company's remote wipe; no MDM manages this phone"}
		}
		return policy.RemoteWipe{Capable: policy.No, Source: source, Reason: "no device owner and no work-profile owner: no MDM manages this phone"}
	}
	if work.OrgOwned {
		return policy.RemoteWipe{Capable: policy.Yes, Scope: "device", Provider: provider(cat, work.Package), Source: source,
			Reason: "company-owned phone with a work profile (COPE): the profile owner can factory-reset the device"}
	}
	return policy.RemoteWipe{Capable: policy.Yes, Scope: "work-profile", Provider: provider(cat, work.Package), Source: source,
		Reason: "only the work profile can be wiped (" + userName(work.User) + "); the personal profile is out of the company's reach"}
}

// parentalSupervision names the device-policy packages of parental-control
// services. Google Family Link's supervision lives in Play services: its
// profile owner is com.google.android.gms.supervision/
// com.google.android.gms.kids.account.receiver.ProfileOwnerReceiver (as
// `dpm list-owners` prints it on a supervised phone, quoted in
// github.com/rifting/Zygotroller README.md).
var parentalSupervision = map[string]string{
	"com.google.android.gms.supervision": "Google Family Link",
}

// provider names the management agent behind a DPC package: the catalog
// agent that lists it, else the package name itself.
func provider(cat *policy.Catalog, pkg string) string {
	for _, a := range cat.Agents {
		for _, p := range a.Packages {
			if p == pkg {
				if a.Provider != "" {
					return a.Provider
				}
				return a.Name
			}
		}
	}
	return pkg
}
