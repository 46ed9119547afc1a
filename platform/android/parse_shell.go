package android

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/msgguard/msgguard/platform"
)

// Limits on what a phone's output may make us keep.
const (
	maxUsers    = 64
	maxPackages = 20000
)

// props are the system properties a scan uses; everything else getprop
// prints (serial numbers, SIM operator, timezone, ...) is dropped while
// parsing.
type props struct {
	Manufacturer string // ro.product.manufacturer
	Model        string // ro.product.model
	Release      string // ro.build.version.release
	SDK          string // ro.build.version.sdk
	CryptoState  string // ro.crypto.state: "encrypted", "unencrypted" or ""
	CryptoType   string // ro.crypto.type: "file", "block" or ""
}

// parseGetprop parses the output of a bare `getprop`: one
// "[name]: [value]" line per property (system/core/toolbox getprop.cpp). It
// keeps only the properties in props and fails if none of them is present
// (the output is not getprop's).
func parseGetprop(b []byte) (props, error) {
	var p props
	found := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		name, val, ok := propLine(sc.Text())
		if !ok {
			continue
		}
		dst := p.field(name)
		if dst == nil {
			continue
		}
		*dst = platform.Printable(val, 96)
		found = true
	}
	if err := sc.Err(); err != nil {
		return props{}, err
	}
	if !found {
		return props{}, errors.New("unexpected getprop output: no known property")
	}
	return p, nil
}

func (p *props) field(name string) *string {
	switch name {
	case "ro.product.manufacturer":
		return &p.Manufacturer
	case "ro.product.model":
		return &p.Model
	case "ro.build.version.release":
		return &p.Release
	case "ro.build.version.sdk":
		return &p.SDK
	case "ro.crypto.state":
		return &p.CryptoState
	case "ro.crypto.type":
		return &p.CryptoType
	}
	return nil
}

func propLine(line string) (name, val string, ok bool) {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "[") || !strings.HasSuffix(line, "]") {
		return "", "", false
	}
	name, val, ok = strings.Cut(line[1:len(line)-1], "]: [")
	return name, val, ok
}

// UserInfo flags (AOSP core/java/android/content/pm/UserInfo.java). Samsung
// adds FLAG_SECURE_FOLDER (0x20000) for the Knox Secure Folder, which also
// carries the managed-profile bit (bayton.org: "UserInfo{150:Secure
// Folder:10061030}").
const (
	flagGuest          = 0x00000004
	flagManagedProfile = 0x00000020
	flagProfile        = 0x00001000
	flagSamsungSecure  = 0x00020000
)

// androidUser is one line of `pm list users`. The user's name is not kept:
// on many phones it is the owner's real name.
type androidUser struct {
	ID      int
	Flags   uint32
	Running bool
}

// Profile values of policy.User.Profile.
const (
	profilePersonal  = "personal"
	profileWork      = "work"
	profileSecondary = "secondary"
)

// profile classifies the user: the work profile is a managed profile; user
// 0 and the profiles that belong to its owner (Samsung Secure Folder and Dual
// Messenger, clone profiles, Android 15 private space) are personal; other
// full users and guests are secondary users.
func (u androidUser) profile() string {
	switch {
	case u.Flags&flagSamsungSecure != 0:
		return profilePersonal
	case u.Flags&flagManagedProfile != 0:
		return profileWork
	case u.ID == 0:
		return profilePersonal
	case u.Flags&flagProfile != 0 && u.Flags&flagGuest == 0:
		return profilePersonal
	}
	return profileSecondary
}

// isProfile reports whether the user shares a parent's screen and settings
// (a profile rather than a full user).
func (u androidUser) isProfile() bool {
	return u.Flags&(flagProfile|flagManagedProfile) != 0 || u.Flags&flagSamsungSecure != 0
}

func userName(id int) string { return "user " + strconv.Itoa(id) }

// parseUsers parses `pm list users`: a "Users:" header, then per user
// "\tUserInfo{<id>:<name>:<flags hex>} running" (UserInfo.toString, whose
// AOSP comment says the string is parsed by tools and must not change;
// PackageManagerShellCommand.runListUsers adds " running"). The name may
// contain ":", so id is the text before the first ":" and flags the text
// after the last.
func parseUsers(b []byte) ([]androidUser, error) {
	var users []androidUser
	seen := map[int]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		u, ok := userLine(sc.Text())
		if !ok || seen[u.ID] || len(users) >= maxUsers {
			continue
		}
		seen[u.ID] = true
		users = append(users, u)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, errors.New("unexpected pm list users output: no UserInfo line")
	}
	return users, nil
}

func userLine(line string) (androidUser, bool) {
	start := strings.Index(line, "UserInfo{")
	if start < 0 {
		return androidUser{}, false
	}
	body := line[start+len("UserInfo{"):]
	end := strings.LastIndex(body, "}")
	if end < 0 {
		return androidUser{}, false
	}
	tail := body[end+1:]
	body = body[:end]
	first, last := strings.Index(body, ":"), strings.LastIndex(body, ":")
	if first <= 0 || last == first {
		return androidUser{}, false
	}
	id, err := strconv.Atoi(body[:first])
	if err != nil || id < 0 || id > 1<<20 {
		return androidUser{}, false
	}
	flags, err := strconv.ParseUint(body[last+1:], 16, 32)
	if err != nil {
		return androidUser{}, false
	}
	return androidUser{ID: id, Flags: uint32(flags), Running: strings.Contains(tail, "running")}, true
}

// parsePackageList parses `pm list packages`: one "package:<name>" line per
// package (PackageManagerShellCommand.runListPackages; options we do not
// pass would add " installer=..." or " uid:..." after the name). Names that
// are not valid Android package names are dropped.
func parsePackageList(b []byte) ([]string, error) {
	var pkgs []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "package:")
		if !ok {
			continue
		}
		if i := strings.IndexAny(rest, " \t"); i >= 0 {
			rest = rest[:i]
		}
		if validPackage(rest) && len(pkgs) < maxPackages {
			pkgs = append(pkgs, rest)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("unexpected pm list packages output: no package line")
	}
	return pkgs, nil
}

// validPackage reports whether s looks like an Android package name: ASCII
// letters, digits, "_" and ".", at most 255 characters.
func validPackage(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}
