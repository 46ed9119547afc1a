package windows

import (
	"net/url"
	"sort"
	"strings"

	"github.com/msgguard/msgguard/policy"
)

// Remote-wipe evidence (docs/posture-detection.md).
const (
	keyEnrollments = `HKLM\SOFTWARE\Microsoft\Enrollments`
	// Entra ID join (dsregcmd's AzureAdJoined) leaves one subkey per join
	// certificate here; it is identity, not management.
	keyEntraJoin = `HKLM\SYSTEM\CurrentControlSet\Control\CloudDomainJoin\JoinInfo`
	// Exchange ActiveSync policies land in the EAS policy engine; an EAS
	// remote wipe only clears the mail app's data on Windows, so it never
	// counts (windowsitpro.com, "Doing an ActiveSync remote wipe on Windows
	// 8 or Windows RT").
	keyEASPolicies = `HKLM\SYSTEM\CurrentControlSet\Control\EAS\Policies`
	// Find my device locates and locks through the user's Microsoft
	// account; it cannot wipe.
	keyFindMyDevice = `HKLM\SOFTWARE\Microsoft\Settings\FindMyDevice`
	keyMdmCommon    = `HKLM\SOFTWARE\Microsoft\MdmCommon\SettingValues`
)

// Enrollment ProviderID values.
const (
	providerIntune = "MS DM Server"
	// mdmlocalmanagement.dll (used by Fleet's mdm_bridge table) registers a
	// local, fake enrollment under this name.
	providerLocal = "Local_Management"
	// The Microsoft Management Platform Cloud (MMPC) channel: a second
	// enrollment Intune adds beside MS DM Server for Endpoint Privilege
	// Management (Intune supportability wiki, "EPM: Troubleshooting client
	// install", MMPC registration under Enrollments\<GUID>\DMClient\Microsoft
	// Device Management). It is not the device's management channel.
	providerMMPC = "Microsoft Device Management"
)

// enrollment is one MDM enrollment key that passed the filter.
type enrollment struct {
	key, provider, url string
}

// remoteWipe reports whether an MDM can wipe the device (RemoteWipe CSP).
// The catalog's management-agent signatures name Linux and macOS packages,
// units and paths only, so they are not checked here.
//
// MDM enrollments are filtered the way Fleet's `mdm_windows` detail query
// does (fleetdm/fleet
// server/service/osquery_utils/queries.go): values grouped per
// Enrollments\<GUID> key, only keys with a UPN, COALESCE(EnrollmentState,
// 0) in 0..3 (Intune enrollmentState: unknown, enrolled, pendingReset,
// failed; 4 notContacted and 5 blocked are dropped), enrolled only with a
// DiscoveryServiceFullURL, preferring the longest URL because stale
// enrollments stay behind without one. We also drop Local_Management and
// the MMPC side channel explicitly. The UPN itself is never recorded.
func (s *scanner) remoteWipe() policy.RemoteWipe {
	rw := policy.RemoteWipe{ConsumerLock: s.findMyDevice()}
	enr, ignored, err := s.enrollments()
	switch {
	case len(enr) > 0:
		best := enr[0]
		rw.Capable, rw.Scope, rw.Provider, rw.Source = policy.Yes, "device", providerName(best), best.key
		return rw
	case err != nil:
		rw.Capable, rw.Reason = policy.Unknown, "MDM enrollments unreadable: "+err.Error()
	default:
		rw.Capable, rw.Source = policy.No, keyEnrollments
		rw.Reason = "no active MDM enrollment"
		if ignored > 0 {
			rw.Reason += " (stale, failed or local enrollment keys ignored)"
		}
	}
	if s.hasSubKeys(keyEntraJoin) {
		rw.Reason += "; Entra ID joined, which is identity, not device management"
	}
	if s.hasValues(keyEASPolicies) {
		rw.Reason += "; Exchange ActiveSync policies present, but an ActiveSync wipe only clears mail"
	}
	return rw
}

// enrollments returns the enrollments that pass the filter, best first,
// and how many keys were ignored. The error reports enrollment keys that
// could not be read (or listed): without an active enrollment among the
// others, one of those might have been it.
func (s *scanner) enrollments() ([]enrollment, int, error) {
	subs, readErr := s.reg.SubKeys(keyEnrollments)
	if isNotExist(readErr) {
		readErr = nil
	}
	if readErr != nil {
		s.probs.add("remote-wipe", keyEnrollments, readErr)
		if len(subs) == 0 {
			return nil, 0, readErr
		}
	}
	var out []enrollment
	ignored := 0
	for _, sub := range subs {
		key := keyEnrollments + `\` + sub
		vals, err := s.reg.Values(key)
		if err != nil {
			s.probs.add("remote-wipe", key, err)
			if isGUID(sub) && readErr == nil { // not Context, Status, Ownership, ...
				readErr = err
			}
			continue
		}
		if e, ok := s.enrollment(key, vals); ok {
			out = append(out, e)
		} else if isGUID(sub) { // not Context, Status, Ownership, ...
			ignored++
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].url) > len(out[j].url) })
	return out, ignored, readErr
}

func (s *scanner) enrollment(key string, vals map[string]Value) (enrollment, bool) {
	str := func(name string) string {
		v, _, err := stringValue(vals, name)
		if err != nil {
			s.probs.add("remote-wipe", key, err)
		}
		return strings.TrimSpace(v)
	}
	upn, provider, discovery := str("UPN"), str("ProviderID"), str("DiscoveryServiceFullURL")
	if upn == "" || discovery == "" || provider == providerLocal || provider == providerMMPC {
		return enrollment{}, false
	}
	state, ok, err := intValue(vals, "EnrollmentState")
	if err != nil {
		s.probs.add("remote-wipe", key, err)
		return enrollment{}, false
	}
	if ok && state > 3 {
		return enrollment{}, false
	}
	return enrollment{key: key, provider: provider, url: discovery}, true
}

// isGUID reports whether s looks like 8-4-4-4-12 hex digits, with or
// without braces.
func isGUID(s string) bool {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !strings.ContainsRune("0123456789abcdefABCDEF", c):
			return false
		}
	}
	return true
}

// providerName names the MDM: "MS DM Server" is Microsoft Intune's
// ProviderID; Fleet writes "Fleet"; others are named by ProviderID, or by
// the discovery host when that is empty.
func providerName(e enrollment) string {
	switch {
	case e.provider == providerIntune:
		return "Microsoft Intune"
	case e.provider != "":
		return e.provider
	}
	if u, err := url.Parse(e.url); err == nil && u.Host != "" {
		return u.Host
	}
	return "unknown MDM"
}

// findMyDevice reads the "Find my device" switch (LocationSyncEnabled, in
// one of two places depending on the build). It can lock, not wipe.
func (s *scanner) findMyDevice() policy.Tri {
	for _, k := range []string{keyFindMyDevice, keyMdmCommon} {
		vals, err := s.reg.Values(k)
		if err != nil {
			if !isNotExist(err) {
				s.probs.add("remote-wipe", k, err)
			}
			continue
		}
		n, ok, err := intValue(vals, "LocationSyncEnabled")
		if err != nil {
			s.probs.add("remote-wipe", k, err)
			continue
		}
		if ok {
			return policy.TriOf(n == 1)
		}
	}
	return policy.Unknown
}

func (s *scanner) hasSubKeys(key string) bool {
	subs, err := s.reg.SubKeys(key)
	return err == nil && len(subs) > 0
}

func (s *scanner) hasValues(key string) bool {
	vals, err := s.reg.Values(key)
	return err == nil && len(vals) > 0
}
