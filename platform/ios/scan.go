package ios

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/phone"
	"github.com/msgguard/msgguard/policy"
)

// SourcePackage is Messenger.Source for an app found in the installed-app
// list (the same value the Android probe uses).
const SourcePackage = "package"

// iOS has one user account for apps, "mobile" (uid 501).
const (
	userName = "mobile"
	userUID  = "501"
)

// Probe names used in Problems.
const (
	probeIdentify   = "ios.identify"
	probeApps       = "ios.apps"
	probeScreenLock = "ios.screen_lock"
	probeRemoteWipe = "ios.remote_wipe"
)

// Scan inspects the device with the given UDID. It returns ErrNotPaired
// when this computer has no pairing record for it (checked first, so a scan
// never starts pairing and never pops up the trust dialog by itself) or the
// device refuses the pairing, and ErrDisconnected when it is unplugged, also
// part-way through. Anything else that cannot be read is a Problem and
// leaves its values Unknown.
func Scan(ctx context.Context, run platform.Runner, udid string, cat *policy.Catalog, opts Options) (*policy.Inventory, error) {
	if !ValidUDID(udid) {
		return nil, fmt.Errorf("ios scan: %w", ErrInvalidUDID) // not the UDID itself: errors may be logged
	}
	if cat == nil {
		cat = &policy.Catalog{}
	}
	s := newSession(run, udid, opts.Timeout(DefaultCommandTimeout))
	if err := checkPaired(ctx, s); err != nil {
		return nil, err
	}
	inv := &policy.Inventory{
		Device: policy.Device{
			ID:       DeviceID(udid, opts.ClearSerial),
			Kind:     policy.DevicePhone,
			Platform: "ios",
			Label:    opts.Label,
		},
		Users: []policy.User{{Name: userName, UID: userUID, Profile: "personal"}},
	}
	identify(ctx, s, inv)
	scanApps(ctx, s, cat, inv)
	inv.Posture = scanPosture(ctx, s)
	if s.Fatal() != nil {
		return nil, fmt.Errorf("ios scan: %w", s.Fatal()) // the caller knows the UDID; errors may be logged
	}
	inv.Problems = s.Problems()
	return inv, nil
}

// checkPaired reads this computer's pairing records (`idevicepair list`,
// which does not contact the device). Without a record for udid the scan
// stops with ErrNotPaired; if the records cannot be read the scan goes on
// and lockdown decides.
func checkPaired(ctx context.Context, s *session) error {
	out, err := s.Output(ctx, CmdPair, "list")
	if err != nil {
		if s.Fatal() != nil {
			return s.Fatal()
		}
		s.Problem(probeIdentify, "idevicepair list", err)
		return nil
	}
	for _, u := range parseUDIDs(out) {
		if strings.EqualFold(u, s.udid) {
			return nil
		}
	}
	return fmt.Errorf("no pairing record: %w", ErrNotPaired)
}

// info runs `ideviceinfo -u UDID [-q DOMAIN] -k KEY`.
func (s *session) info(ctx context.Context, domain, key string) ([]byte, string, error) {
	args := []string{"-u", s.udid}
	if domain != "" {
		args = append(args, "-q", domain)
	}
	args = append(args, "-k", key)
	out, err := s.Output(ctx, CmdInfo, args...)
	return out, "ideviceinfo " + strings.Join(args[2:], " "), err
}

// identify reads the OS version and the model identifier ("iPhone14,5").
func identify(ctx context.Context, s *session, inv *policy.Inventory) {
	if out, cmd, err := s.info(ctx, "", "ProductVersion"); err != nil {
		s.Problem(probeIdentify, cmd, err)
	} else if v, ok := parseValue(out); ok {
		inv.Device.OSVersion = "iOS " + platform.Printable(v, 32)
	}
	if out, cmd, err := s.info(ctx, "", "ProductType"); err != nil {
		s.Problem(probeIdentify, cmd, err)
	} else if v, ok := parseValue(out); ok {
		inv.Device.Model = platform.Printable(v, 64)
	}
}

// scanApps lists all installed apps and matches their bundle identifiers
// against the catalog. ideviceinstaller 1.2 replaced the 1.1 options with
// subcommands; when the old syntax is rejected the new one is tried.
func scanApps(ctx context.Context, s *session, cat *policy.Catalog, inv *policy.Inventory) {
	cmd := []string{"-u", s.udid, "-l", "-o", "list_all"}
	out, err := s.Output(ctx, CmdInstaller, cmd...)
	if err != nil && s.Fatal() == nil && !errors.Is(err, phone.ErrTimeout) && !errors.Is(err, phone.ErrSkipped) {
		cmd = []string{"-u", s.udid, "list", "--all"}
		out, err = s.Output(ctx, CmdInstaller, cmd...)
	}
	var apps []app
	if err == nil {
		apps, err = parseAppList(out)
	}
	if err != nil {
		s.Problem(probeApps, "ideviceinstaller "+strings.Join(cmd[2:], " "), err)
		return
	}
	index := bundleIndex(cat)
	for _, a := range apps {
		e, ok := index[a.ID]
		if !ok {
			if e = prefixMatch(cat, a.ID); e == nil {
				continue
			}
		}
		inv.Messengers = append(inv.Messengers, policy.Messenger{
			ID:       e.ID,
			Name:     e.Name,
			Variant:  e.Variant,
			Source:   SourcePackage,
			User:     userName,
			Version:  a.Version,
			Location: a.ID,
			Profile:  "personal",
			// Contacts stays Unknown: the grant lives in the device's TCC
			// database, which lockdown does not expose.
		})
	}
}

func bundleIndex(cat *policy.Catalog) map[string]*policy.CatalogEntry {
	idx := map[string]*policy.CatalogEntry{}
	for i := range cat.Messengers {
		e := &cat.Messengers[i]
		for _, id := range e.IOS.BundleIDs {
			if _, dup := idx[id]; !dup {
				idx[id] = e
			}
		}
	}
	return idx
}

// prefixMatch returns the first catalog entry with a bundle prefix of id
// (Threema OnPrem apps are built per customer as ch.threema.onprem.<name>).
func prefixMatch(cat *policy.Catalog, id string) *policy.CatalogEntry {
	for i := range cat.Messengers {
		for _, pre := range cat.Messengers[i].IOS.BundlePrefixes {
			if len(id) > len(pre) && strings.HasPrefix(id, pre) {
				return &cat.Messengers[i]
			}
		}
	}
	return nil
}

// scanPosture reads the passcode, supervision and the Find My association.
func scanPosture(ctx context.Context, s *session) policy.Posture {
	lock := policy.ScreenLock{User: userName, Applicable: policy.Yes, Source: "ideviceinfo PasswordProtected"}
	out, cmd, err := s.info(ctx, "", "PasswordProtected")
	if err != nil {
		s.Problem(probeScreenLock, cmd, err)
		lock.Reason = "passcode state could not be read: " + phone.Describe(err)
	} else if lock.Enabled = parseBool(out); lock.Enabled == policy.Unknown {
		lock.Reason = "ideviceinfo returned no PasswordProtected value"
	}
	return policy.Posture{
		ScreenLock: []policy.ScreenLock{lock},
		RemoteWipe: remoteWipe(ctx, s),
		Encryption: encryption(lock.Enabled),
		Inspected:  true,
	}
}

// remoteWipe: lockdown shows supervision (com.apple.mobile.chaperone
// DeviceIsChaperoned) and whether Find My is on (com.apple.fmip
// IsAssociated, a consumer lock and erase the company does not control),
// but not MDM enrolment, which is what lets a company erase the device. So
// Capable stays Unknown, with the supervision state in the reason.
func remoteWipe(ctx context.Context, s *session) policy.RemoteWipe {
	w := policy.RemoteWipe{Source: "ideviceinfo com.apple.mobile.chaperone DeviceIsChaperoned"}
	supervised := policy.Unknown
	if out, cmd, err := s.info(ctx, "com.apple.mobile.chaperone", "DeviceIsChaperoned"); err != nil {
		s.Problem(probeRemoteWipe, cmd, err)
	} else {
		supervised = parseBool(out)
	}
	if out, cmd, err := s.info(ctx, "com.apple.fmip", "IsAssociated"); err != nil {
		s.Problem(probeRemoteWipe, cmd, err)
	} else {
		w.ConsumerLock = parseBool(out)
	}
	switch supervised {
	case policy.Yes:
		w.Reason = "supervised (organisation-owned) device; whether an MDM, which could erase it, is enrolled is not visible over USB — check the MDM console"
	case policy.No:
		w.Reason = "not supervised; an MDM enrolment (which could erase it) is not visible over USB — check the MDM console"
	default:
		w.Reason = "supervision and MDM enrolment could not be read over USB"
	}
	return w
}

// encryption: every iOS device encrypts its flash with a hardware key, but
// Data Protection — file keys wrapped with a key derived from the passcode
// — is turned on only when a passcode is set (Apple Platform Security,
// "Data Protection overview"). Without a passcode the data is readable by
// anyone holding the unlocked-by-default device, so it counts as not
// encrypted.
func encryption(passcode policy.Tri) policy.DiskEncryption {
	v := policy.Volume{Mount: "data", Method: "Data Protection", Source: "ideviceinfo PasswordProtected"}
	switch passcode {
	case policy.Yes:
		v.Encrypted, v.Protected = policy.Yes, policy.Yes
	case policy.No:
		v.Encrypted, v.Protected = policy.No, policy.No
		v.Reason = "no passcode: iOS enables Data Protection only when a passcode is set"
	default:
		v.Reason = "passcode state unknown, so Data Protection is unknown"
	}
	return policy.DiskEncryption{Volumes: []policy.Volume{v}}
}
