package darwin

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/msgguard/msgguard/policy"
)

// enrollmentStatus is `profiles status -type enrollment`:
//
//	Enrolled via DEP: Yes
//	MDM enrollment: Yes (User Approved)
//	MDM server: https://mdm.example.com/mdm/apple/mdm
//
// The third line appears only when enrolled, on recent macOS (fleetdm/fleet
// orbit/pkg/profiles/profiles_darwin.go documents and parses it).
type enrollmentStatus struct {
	DEP          policy.Tri
	MDM          policy.Tri
	UserApproved bool
	Server       string // host only
}

// parseEnrollmentStatus parses `profiles status -type enrollment`. Both the
// DEP and the MDM line must be present; a missing line is an error, never a
// "No".
func parseEnrollmentStatus(b []byte) (enrollmentStatus, error) {
	var st enrollmentStatus
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.TrimSpace(key) {
		case "Enrolled via DEP":
			st.DEP = yesNo(value)
		case "MDM enrollment":
			st.MDM = yesNo(value)
			st.UserApproved = strings.Contains(value, "User Approved")
		case "MDM server":
			st.Server = urlHost(value)
		}
	}
	if st.DEP == policy.Unknown || st.MDM == policy.Unknown {
		return st, errors.New("profiles status output lacks the DEP or MDM enrollment line")
	}
	return st, nil
}

// yesNo reads "Yes", "Yes (User Approved)" or "No".
func yesNo(v string) policy.Tri {
	switch {
	case v == "No":
		return policy.No
	case v == "Yes" || strings.HasPrefix(v, "Yes "):
		return policy.Yes
	}
	return policy.Unknown
}

// urlHost returns only the host of an MDM URL: the path and query of a
// server URL can carry enrollment tokens, which never enter the inventory.
func urlHost(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Hostname()
}

// profilesList is the part of `profiles -L -o stdout-xml` we need: device
// profiles under "_computerlevel" with their payloads (macadmins
// osquery-extension tables/mdm/mdm.go reads the same structure).
type profilesList struct {
	ComputerLevel []struct {
		ProfileItems []struct {
			PayloadType    plistString `plist:"PayloadType"`
			PayloadContent struct {
				ServerURL plistString `plist:"ServerURL"`
			} `plist:"PayloadContent"`
		} `plist:"ProfileItems"`
	} `plist:"_computerlevel"`
}

// parseProfilesList returns whether a com.apple.mdm payload is installed and
// its server's host.
func parseProfilesList(b []byte) (found bool, host string, err error) {
	var l profilesList
	if err := decodePlist(b, &l); err != nil {
		return false, "", err
	}
	for _, p := range l.ComputerLevel {
		for _, item := range p.ProfileItems {
			if item.PayloadType == "com.apple.mdm" {
				return true, urlHost(string(item.PayloadContent.ServerURL)), nil
			}
		}
	}
	return false, "", nil
}

// nvramVars holds only the presence of the Find My token. Its value is a
// plist with the owner's Apple ID and name, which are never decoded.
type nvramVars struct {
	FindMy plistPresent `plist:"fmm-mobileme-token-FMM"`
}

// parseNvram reports whether `nvram -x -p` lists fmm-mobileme-token-FMM,
// which macOS writes when Find My Mac is turned on.
func parseNvram(b []byte) (bool, error) {
	var v nvramVars
	if err := decodePlist(b, &v); err != nil {
		return false, err
	}
	return bool(v.FindMy), nil
}

// scanRemoteWipe decides whether the company can erase the Mac: only an MDM
// enrollment gives it that power. Find My Mac is the owner's Apple ID lock
// and erase, reported as ConsumerLock and never counted as capable.
// `profiles show -type enrollment` is never run: it asks Apple's servers and
// is rate-limited ("Request too soon").
func scanRemoteWipe(s *scan) policy.RemoteWipe {
	var rw policy.RemoteWipe
	out, err := s.h.Output(s.ctx, "profiles", "status", "-type", "enrollment")
	var st enrollmentStatus
	if err == nil {
		st, err = parseEnrollmentStatus(out)
	}
	statusErr := err
	found, host, listErr := false, "", error(nil)
	if out, err := s.h.Output(s.ctx, "profiles", "-L", "-o", "stdout-xml"); err == nil {
		found, host, listErr = parseProfilesList(out)
	} else {
		listErr = err
	}
	if host == "" {
		host = st.Server
	}
	switch {
	case statusErr == nil && st.MDM == policy.Yes:
		rw.Capable, rw.Scope, rw.Provider = policy.Yes, "device", host
		rw.Source = "profiles status -type enrollment: " + enrollmentDetail(st)
	case statusErr == nil && st.MDM == policy.No:
		rw.Capable = policy.No
		rw.Source = "profiles status -type enrollment: not enrolled in MDM"
		if found {
			// The two answers disagree: say so instead of picking one.
			rw.Capable = policy.Unknown
			rw.Reason = "profiles status says not enrolled but an MDM payload is installed"
			rw.Source = ""
		}
	case found:
		rw.Capable, rw.Scope, rw.Provider = policy.Yes, "device", host
		rw.Source = "profiles -L: com.apple.mdm payload installed"
	default:
		rw.Reason = "cannot tell MDM enrollment: " + statusErr.Error()
		if listErr != nil {
			rw.Reason += "; profiles -L: " + listErr.Error()
		}
	}
	if listErr != nil && statusErr == nil {
		s.problem("remote-wipe", "", "profiles -L failed: "+listErr.Error())
	}
	rw.ConsumerLock = findMy(s)
	return rw
}

func enrollmentDetail(st enrollmentStatus) string {
	parts := []string{"MDM enrolled"}
	if st.UserApproved {
		parts = append(parts, "user approved")
	}
	if st.DEP == policy.Yes {
		parts = append(parts, "via DEP")
	}
	return strings.Join(parts, ", ")
}

// findMy reads nvram for the Find My token; a failing command is Unknown.
func findMy(s *scan) policy.Tri {
	out, err := s.h.Output(s.ctx, "nvram", "-x", "-p")
	if err != nil {
		s.problem("remote-wipe", "", "nvram -x -p failed; Find My state unknown: "+err.Error())
		return policy.Unknown
	}
	on, err := parseNvram(out)
	if err != nil {
		s.problem("remote-wipe", "", fmt.Sprintf("cannot parse nvram output; Find My state unknown: %v", err))
		return policy.Unknown
	}
	return policy.TriOf(on)
}
