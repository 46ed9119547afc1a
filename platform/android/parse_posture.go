package android

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// lockState is one user's entry in `dumpsys lock_settings`.
type lockState struct {
	// Credential is the normalised credential type: "none", "pattern",
	// "PIN", "password", "smartcard", or "" when the dump has no
	// CredentialType line for the user.
	Credential string
	// Raw is the printed value when it is not one we know ("Unknown 7").
	Raw       string
	Secure    policy.Tri
	Separate  policy.Tri // SeparateChallenge (profiles: own lock vs the parent's)
	HasFields bool       // the user's block had any key: value line
}

var lockUserRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^User (\d+)$`) })

// lockSectionEnds are the top-level sections LockSettingsService.dump prints
// after the per-user state ("Keys in namespace:", "Storage:", ...): their
// lines are not user state.
var lockSectionEnds = []string{"Keys in namespace:", "Storage:", "StrongAuth:", "RebootEscrow:", "PasswordHandleCount:"}

// parseLockSettings parses the per-user part of `dumpsys lock_settings`.
// Android 11 and later (LockSettingsService.dump, AOSP and OEM builds) print
//
//	User State:
//	  User 0
//	    ...
//	    CredentialType: None|Pattern|Pin|Password|Unknown <n>
//	    SeparateChallenge: false
//
// Some builds (Samsung One UI, decompiled) use LockPatternUtils'
// credentialTypeToString instead: NONE, PATTERN, PIN, PASSWORD,
// SMARTCARDNUMERIC, UNKNOWN_<n>, and may add "IsLockScreenDisabled:".
// Android 10 and older print only "User 0" with "SP Handle = …" and
// "SID = …" lines: no credential type, so those users come back with an
// empty Credential (the caller reports Unknown). The user's name is never
// printed here.
func parseLockSettings(b []byte) (map[int]lockState, error) {
	users := map[int]lockState{}
	cur := -1
	header := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		raw := sc.Text()
		line := strings.TrimSpace(raw)
		if strings.HasPrefix(line, "Current lock settings service state") {
			header = true
			continue
		}
		if line == "" {
			continue
		}
		if isLockSectionEnd(raw, line) {
			break
		}
		if m := lockUserRe().FindStringSubmatch(line); m != nil {
			id, err := strconv.Atoi(m[1])
			if err == nil && len(users) < maxUsers {
				cur = id
				users[cur] = lockState{}
			}
			continue
		}
		if cur < 0 {
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			// Android 10 prints "SP Handle = 1a2b"; note the block exists.
			continue
		}
		st := users[cur]
		st.HasFields = true
		val = strings.TrimSpace(val)
		switch key {
		case "CredentialType":
			st.Credential, st.Secure = credentialType(val)
			if st.Credential == "" {
				st.Raw = platform.Printable(val, 32)
			}
		case "SeparateChallenge":
			st.Separate = boolTri(val)
		}
		users[cur] = st
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !header || len(users) == 0 {
		return nil, errors.New("unexpected dumpsys lock_settings output: no user state")
	}
	return users, nil
}

func isLockSectionEnd(raw, line string) bool {
	if raw[0] == ' ' || raw[0] == '\t' { // indented: inside a user block
		return false
	}
	for _, s := range lockSectionEnds {
		if strings.HasPrefix(line, s) {
			return true
		}
	}
	return false
}

// credentialType normalises a CredentialType value. The numeric forms are
// LockPatternUtils' CREDENTIAL_TYPE_* constants (NONE -1, PATTERN 1,
// PASSWORD_OR_PIN 2 — PASSWORD on Android 10 —, PIN 3, PASSWORD 4); 6 is
// Samsung's SMARTCARDNUMERIC.
func credentialType(v string) (string, policy.Tri) {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "NONE", "-1":
		return "none", policy.No
	case "PATTERN", "1":
		return "pattern", policy.Yes
	case "PIN", "3":
		return "PIN", policy.Yes
	case "PASSWORD", "PASSWORD_OR_PIN", "2", "4":
		return "password", policy.Yes
	case "SMARTCARDNUMERIC", "6":
		return "smartcard", policy.Yes
	}
	return "", policy.Unknown
}

// parseSetting parses `settings get ...`: the value on one line, or "null"
// when the key has never been written (SettingsService prints "null").
func parseSetting(b []byte) (ms int64, set bool, err error) {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		return 0, false, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, false, fmt.Errorf("unexpected settings output (%d bytes, not a number)", len(b))
	}
	return v, true, nil
}

// owner is a device or profile owner (the DPC an MDM installs).
type owner struct {
	User    int
	Package string
	Device  bool // device owner: fully managed device
	// Managed is a profile owner of a managed (work) profile; Parent is its
	// parent user.
	Managed bool
	Parent  int
	// OrgOwned is isOrganizationOwnedDevice=true (Android 11+ dumpsys):
	// a work profile on a company-owned device (COPE).
	OrgOwned bool
}

// errOwnersUnsupported means `dpm list-owners` does not exist on this
// release (it arrived with Android 12's DevicePolicyManagerServiceShellCommand;
// Android 11's dpm prints its usage).
var errOwnersUnsupported = errors.New("dpm list-owners not supported")

// parseListOwners parses `dpm list-owners` (Android 12+,
// DevicePolicyManagerServiceShellCommand.runListOwners): "no owners", or
// "N owner(s):" followed by
// "User %2d: admin=<pkg>/<cls>[,DeviceOwner][,ProfileOwner]
// [,ManagedProfileOwner(parentUserId=%d)][,Affiliated]".
func parseListOwners(b []byte) ([]owner, error) {
	var owners []owner
	header := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "no owners":
			header = true
		case strings.HasSuffix(line, " owner:") || strings.HasSuffix(line, " owners:"):
			header = true
		case header && strings.HasPrefix(line, "User "):
			if o, ok := ownerLine(line); ok && len(owners) < maxUsers {
				owners = append(owners, o)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !header {
		return nil, errOwnersUnsupported
	}
	return owners, nil
}

var parentRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`ManagedProfileOwner\(parentUserId=(\d+)\)`) })

func ownerLine(line string) (owner, bool) {
	rest := strings.TrimSpace(strings.TrimPrefix(line, "User "))
	idStr, attrs, ok := strings.Cut(rest, ":")
	if !ok {
		return owner{}, false
	}
	id, err := strconv.Atoi(strings.TrimSpace(idStr))
	if err != nil || id < 0 {
		return owner{}, false
	}
	attrs = strings.TrimSpace(attrs)
	admin, ok := strings.CutPrefix(attrs, "admin=")
	if !ok {
		return owner{}, false
	}
	comp, flags, _ := strings.Cut(admin, ",")
	pkg, _, _ := strings.Cut(comp, "/")
	if !validPackage(pkg) {
		return owner{}, false
	}
	o := owner{User: id, Package: pkg, Parent: -1}
	for _, f := range strings.Split(flags, ",") {
		switch {
		case f == "DeviceOwner":
			o.Device = true
		case strings.HasPrefix(f, "ManagedProfileOwner"):
			o.Managed = true
			if m := parentRe().FindStringSubmatch(f); m != nil {
				o.Parent, _ = strconv.Atoi(m[1])
			}
		}
	}
	return o, true
}

var profileOwnerRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^Profile Owner \(User (\d+)\):`) })

// parseDevicePolicy extracts the owners from `dumpsys device_policy`
// (DevicePolicyManagerService.dump → Owners.dump / OwnersData.dump):
//
//	Current Device Policy Manager state:
//	  Device Owner:
//	    admin=ComponentInfo{<pkg>/<cls>}
//	    name=<label>
//	    package=<pkg>
//	    isOrganizationOwnedDevice=true      (Android 11+)
//	    User ID: 0
//	  Profile Owner (User 10):
//	    admin=ComponentInfo{<pkg>/<cls>}
//	    ...
//
// Only those blocks are read; the rest of the dump (policies, admins'
// settings) is skipped. Managed is not known from this dump: the caller
// matches owners against the work profiles from `pm list users`.
func parseDevicePolicy(b []byte) ([]owner, error) {
	var owners []owner
	header := false
	cur, curIndent := -1, 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		raw := sc.Text()
		line := strings.TrimSpace(raw)
		if line == "" {
			continue
		}
		indent := len(raw) - len(strings.TrimLeft(raw, " \t"))
		if strings.HasPrefix(line, "Current Device Policy Manager state") {
			header = true
			continue
		}
		if cur >= 0 && indent <= curIndent {
			cur = -1
		}
		switch {
		case strings.HasPrefix(line, "Device Owner:") && len(owners) < maxUsers:
			owners = append(owners, owner{Device: true, Parent: -1})
			cur, curIndent = len(owners)-1, indent
		case profileOwnerRe().MatchString(line) && len(owners) < maxUsers:
			id, _ := strconv.Atoi(profileOwnerRe().FindStringSubmatch(line)[1])
			owners = append(owners, owner{User: id, Parent: -1})
			cur, curIndent = len(owners)-1, indent
		case cur >= 0:
			ownerAttr(&owners[cur], line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !header {
		return nil, errors.New("unexpected dumpsys device_policy output: no state header")
	}
	kept := owners[:0]
	for _, o := range owners {
		if validPackage(o.Package) {
			kept = append(kept, o)
		}
	}
	return kept, nil
}

func ownerAttr(o *owner, line string) {
	switch {
	case strings.HasPrefix(line, "package="):
		o.Package = strings.TrimPrefix(line, "package=")
	case strings.HasPrefix(line, "admin=ComponentInfo{") && o.Package == "":
		comp := strings.TrimSuffix(strings.TrimPrefix(line, "admin=ComponentInfo{"), "}")
		o.Package, _, _ = strings.Cut(comp, "/")
	case strings.HasPrefix(line, "isOrganizationOwnedDevice="):
		o.OrgOwned = strings.TrimPrefix(line, "isOrganizationOwnedDevice=") == "true"
	case strings.HasPrefix(line, "User ID:") && o.Device:
		o.User, _ = strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "User ID:")))
	}
}
