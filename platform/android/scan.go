package android

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// SourcePackage is Messenger.Source for an app found by `pm list packages`.
const SourcePackage = "package"

// Probe names used in Problems.
const (
	probeIdentify   = "android.identify"
	probeUsers      = "android.users"
	probePackages   = "android.packages"
	probeApp        = "android.app"
	probeScreenLock = "android.screen_lock"
	probeRemoteWipe = "android.remote_wipe"
	probeEncryption = "android.encryption"
)

// Scan inspects the phone with the given serial and returns its inventory.
// It returns ErrNotAuthorized, ErrOffline, ErrNoPermission or
// ErrDisconnected (see NotReady) when the phone cannot be inspected — also
// when it is unplugged part-way through, so that a half-read phone is never
// stored as if it had been read fully. Anything else that could not be read
// (a command that failed, timed out or printed something unexpected) is a
// Problem, and the values it would have decided stay Unknown.
func Scan(ctx context.Context, run platform.Runner, serial string, cat *policy.Catalog, opts Options) (*policy.Inventory, error) {
	if !ValidSerial(serial) {
		return nil, fmt.Errorf("android scan: %w", ErrInvalidSerial) // not the serial itself: errors may be logged
	}
	if cat == nil {
		cat = &policy.Catalog{}
	}
	s := newSession(run, serial, opts.Timeout(DefaultCommandTimeout))
	inv := &policy.Inventory{Device: policy.Device{
		ID:       DeviceID(serial, opts.ClearSerial),
		Kind:     policy.DevicePhone,
		Platform: "android",
		Label:    opts.Label,
	}}
	pr := identify(ctx, s, inv)
	users := scanUsers(ctx, s, inv)
	scanMessengers(ctx, s, cat, users, inv)
	inv.Posture = scanPosture(ctx, s, cat, users, pr)
	if s.Fatal() != nil {
		return nil, fmt.Errorf("android scan: %w", s.Fatal()) // the caller knows the serial; errors may be logged
	}
	inv.Problems = s.Problems()
	return inv, nil
}

// identify reads model and OS version from getprop; the properties are
// also what the encryption probe needs.
func identify(ctx context.Context, s *session, inv *policy.Inventory) *props {
	out, err := s.shell(ctx, "getprop")
	if err != nil {
		s.Problem(probeIdentify, "getprop", err)
		return nil
	}
	p, err := parseGetprop(out)
	if err != nil {
		s.Problem(probeIdentify, "getprop", err)
		return nil
	}
	inv.Device.Model = deviceModel(p.Manufacturer, p.Model)
	if p.Release != "" {
		inv.Device.OSVersion = "Android " + p.Release
	}
	return &p
}

// deviceModel joins manufacturer and model ("Google Pixel 7",
// "samsung SM-S911B") unless the model already names the maker.
func deviceModel(maker, model string) string {
	switch {
	case model == "":
		return maker
	case maker == "" || strings.HasPrefix(strings.ToLower(model), strings.ToLower(maker)):
		return model
	}
	return maker + " " + model
}

// scanUsers lists the phone's users and profiles. When `pm list users`
// fails, user 0 (which always exists) is assumed so that the personal
// profile is still inspected, and the failure is reported.
func scanUsers(ctx context.Context, s *session, inv *policy.Inventory) []androidUser {
	out, err := s.shell(ctx, "pm", "list", "users")
	var users []androidUser
	if err == nil {
		users, err = parseUsers(out)
	}
	if err != nil {
		s.Problem(probeUsers, "pm list users", err)
		users = []androidUser{{ID: 0}}
	}
	for _, u := range users {
		inv.Users = append(inv.Users, policy.User{
			Name:    userName(u.ID),
			UID:     strconv.Itoa(u.ID),
			Profile: u.profile(),
		})
	}
	return users
}

// scanMessengers lists each user's packages, matches them against the
// catalog and reads version and contacts permission of the matches with one
// `dumpsys package` per matched package (covering all users).
func scanMessengers(ctx context.Context, s *session, cat *policy.Catalog, users []androidUser, inv *policy.Inventory) {
	index := packageIndex(cat)
	type hit struct {
		user androidUser
		pkg  string
	}
	var hits []hit
	for _, u := range users {
		cmd := []string{"pm", "list", "packages", "--user", strconv.Itoa(u.ID)}
		out, err := s.shell(ctx, cmd...)
		var pkgs []string
		if err == nil {
			pkgs, err = parsePackageList(out)
		}
		if err != nil {
			if refusedProfile(out, err) {
				err = notInspectable(u)
			}
			s.Problem(probePackages, strings.Join(cmd, " "), err)
			continue
		}
		for _, p := range pkgs {
			if _, ok := index[p]; ok {
				hits = append(hits, hit{u, p})
			}
		}
	}
	dumps := map[string]pkgInfo{}
	for _, h := range hits {
		info, ok := dumps[h.pkg]
		if !ok {
			info = dumpPackage(ctx, s, h.pkg)
			dumps[h.pkg] = info
		}
		e := index[h.pkg]
		m := policy.Messenger{
			ID:       e.ID,
			Name:     e.Name,
			Variant:  e.Variant,
			Source:   SourcePackage,
			User:     userName(h.user.ID),
			Version:  info.Version,
			Location: h.pkg,
			Profile:  h.user.profile(),
			Contacts: contactsGrant(info, h.user.ID),
		}
		inv.Messengers = append(inv.Messengers, m)
	}
}

// refusedProfile reports whether `pm list packages --user N` failed because
// the phone does not let the shell see that user: Samsung's Secure Folder
// answers "Error: java.lang.SecurityException: Shell does not have
// permission to access user 150" (and exit status 255).
func refusedProfile(out []byte, err error) bool {
	const marker = "SecurityException"
	if bytes.Contains(out, []byte(marker)) {
		return true
	}
	var ce *platform.CommandError
	return errors.As(err, &ce) && bytes.Contains(ce.Stderr, []byte(marker))
}

// notInspectable is the one problem reported for a profile the phone
// refuses to show: its apps are unknown, which is said once, plainly,
// without the exception text.
func notInspectable(u androidUser) error {
	what := "this profile"
	if u.Flags&flagSamsungSecure != 0 {
		// Lower case: the test for personal data treats the user name
		// Samsung gives the profile ("Secure Folder") as personal.
		what = "Samsung Knox secure folder"
	}
	return fmt.Errorf("%s (%s) is not inspectable: the phone refuses shell access to it, so the messengers in it are unknown", userName(u.ID), what)
}

func dumpPackage(ctx context.Context, s *session, pkg string) pkgInfo {
	out, err := s.shell(ctx, "dumpsys", "package", pkg)
	if err != nil {
		s.Problem(probeApp, "dumpsys package "+pkg, err)
		return pkgInfo{}
	}
	info, err := parsePackageDump(out, pkg)
	if err != nil {
		s.Problem(probeApp, "dumpsys package "+pkg, err)
		return pkgInfo{}
	}
	if !info.Found {
		s.Problem(probeApp, "dumpsys package "+pkg, fmt.Errorf("no entry for %s in the dump", pkg))
	}
	return info
}

// contactsGrant decides Messenger.Contacts for one user: the runtime grant
// when the dump shows it; on Android < 6 the install-time grant
// (grantedPermissions); No when the dump has permission lists this parser
// understands and READ_CONTACTS is neither requested nor granted; Unknown
// otherwise — in particular when no permission list was recognised, so an
// unfamiliar format never reads as "no access to the contacts".
func contactsGrant(info pkgInfo, user int) policy.Tri {
	if !info.Found {
		return policy.Unknown
	}
	if u, ok := info.Users[user]; ok && u.Contacts != policy.Unknown {
		return u.Contacts
	}
	if info.Granted != policy.Unknown {
		return info.Granted
	}
	if !info.PermsSeen {
		return policy.Unknown
	}
	if !info.RequestsContacts {
		return policy.No
	}
	return policy.Unknown
}

// packageIndex maps each Android package name of the catalog to its entry.
func packageIndex(cat *policy.Catalog) map[string]*policy.CatalogEntry {
	idx := map[string]*policy.CatalogEntry{}
	for i := range cat.Messengers {
		e := &cat.Messengers[i]
		for _, p := range e.Android.Packages {
			if _, dup := idx[p]; !dup {
				idx[p] = e
			}
		}
	}
	return idx
}
