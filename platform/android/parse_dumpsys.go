package android

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

const permReadContacts = "android.permission.READ_CONTACTS"

// pkgInfo is what we keep of `dumpsys package <pkg>`.
type pkgInfo struct {
	Found   bool
	Version string
	// RequestsContacts is true when READ_CONTACTS is among the requested
	// permissions.
	RequestsContacts bool
	// Granted is READ_CONTACTS in the package's install-time grants
	// (Android 4.2 to 5.1 print them as "grantedPermissions:"): Yes or No
	// when that list was seen, Unknown otherwise.
	Granted policy.Tri
	// PermsSeen is set when the dump had any permission list this parser
	// knows (requested, install, runtime or granted permissions). Without
	// one the format is not understood, and no grant may read as "no
	// access".
	PermsSeen bool
	Users     map[int]pkgUser
}

// pkgUser is the per-user state of the package.
type pkgUser struct {
	Installed policy.Tri
	// Contacts is the READ_CONTACTS runtime grant for this user; Unknown
	// when the user's block lists no state for it.
	Contacts policy.Tri
}

// parsePackageDump extracts versionName, the requested READ_CONTACTS
// permission and each user's installed flag and READ_CONTACTS grant for pkg
// from `dumpsys package <pkg>`. The layout is PackageManagerService's
// Settings.dumpPackageLPr (Android 6+):
//
//	Packages:
//	  Package [com.whatsapp] (1a2b3c4):
//	    versionName=2.24.6.77
//	    requested permissions:
//	      android.permission.READ_CONTACTS
//	    User 0: ceDataInode=... installed=true hidden=false ...
//	      runtime permissions:
//	        android.permission.READ_CONTACTS: granted=true, flags=[ USER_SET|...]
//
// Android 4.2 to 5.1 have no runtime permissions; they list the install-time
// grants of the package under the user line instead (the same indentation):
//
//	User 0:  installed=true blocked=false stopped=false ...
//	grantedPermissions:
//	  android.permission.READ_CONTACTS
//
// Only the "Packages:" section is read: the dump also has "Hidden system
// packages:" (the factory version of an updated system app), and "Queries:"
// and "Package Changes:" with their own "User 0:" lines. Everything else
// (activities, providers, signatures, install paths) is skipped unread. A
// dump that cannot be read to its end (a line over 1 MiB) is an error: the
// permission lines may be in the part not read, and their absence would
// read as "does not request READ_CONTACTS".
func parsePackageDump(b []byte, pkg string) (pkgInfo, error) {
	info := pkgInfo{Users: map[int]pkgUser{}}
	var (
		inPackages, inPkg, inRequested, inRuntime, inGranted bool
		user                                                 = -1
		// listIndent is the indentation of the current permission list's
		// header; its entries are indented deeper.
		listIndent int
	)
	header := "Package [" + pkg + "]"
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		raw := sc.Text()
		line := strings.TrimSpace(raw)
		if line == "" {
			continue
		}
		indent := len(raw) - len(strings.TrimLeft(raw, " \t"))
		if indent == 0 { // a top-level section starts
			inPackages = line == "Packages:"
			inPkg, inRequested, inRuntime, inGranted, user = false, false, false, false, -1
			continue
		}
		if !inPackages {
			continue
		}
		if strings.HasPrefix(line, "Package [") {
			inPkg = strings.HasPrefix(line, header) && !info.Found
			info.Found = info.Found || inPkg
			inRequested, inRuntime, inGranted, user = false, false, false, -1
			continue
		}
		if !inPkg {
			continue
		}
		if (inRequested || inRuntime || inGranted) && indent <= listIndent {
			inRequested, inRuntime, inGranted = false, false, false
		}
		if user >= 0 && indent <= 4 && !strings.HasPrefix(line, "User ") {
			user = -1 // a package-level line after the user blocks
		}
		switch {
		case strings.HasPrefix(line, "versionName=") && info.Version == "":
			info.Version = platform.Printable(strings.TrimPrefix(line, "versionName="), 64)
		case line == "requested permissions:":
			inRequested, inRuntime, user, listIndent = true, false, -1, indent
			info.PermsSeen = true
		case line == "grantedPermissions:":
			// Package-level install-time grants (Android < 6).
			inGranted, inRequested, inRuntime, user, listIndent = true, false, false, -1, indent
			info.PermsSeen = true
			if info.Granted == policy.Unknown {
				info.Granted = policy.No
			}
		case line == "install permissions:":
			info.PermsSeen = true
		case line == "runtime permissions:" && user >= 0:
			inRuntime, listIndent = true, indent
			info.PermsSeen = true
		case strings.HasPrefix(line, "User "):
			if id, u, ok := userBlock(line); ok {
				user, inRequested, inRuntime = id, false, false
				info.Users[id] = u
			}
		case inGranted:
			if line == permReadContacts {
				info.Granted = policy.Yes
			}
		case inRequested:
			// "android.permission.READ_CONTACTS" or, on Android 10+, the
			// name followed by ": restricted=true".
			name, _, _ := strings.Cut(line, ":")
			if name == permReadContacts {
				info.RequestsContacts = true
			}
		case inRuntime:
			if name, rest, ok := strings.Cut(line, ":"); ok && name == permReadContacts {
				u := info.Users[user]
				u.Contacts = grantState(rest)
				info.Users[user] = u
			}
		}
	}
	if err := sc.Err(); err != nil {
		return pkgInfo{}, fmt.Errorf("reading dumpsys package output: %w", err)
	}
	return info, nil
}

// userBlock parses "User 10: ceDataInode=0 installed=true hidden=false ...".
func userBlock(line string) (int, pkgUser, bool) {
	rest := strings.TrimPrefix(line, "User ")
	idStr, attrs, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, pkgUser{}, false
	}
	id, err := strconv.Atoi(idStr)
	if err != nil || id < 0 {
		return 0, pkgUser{}, false
	}
	u := pkgUser{}
	for _, f := range strings.Fields(attrs) {
		if v, ok := strings.CutPrefix(f, "installed="); ok {
			u.Installed = boolTri(v)
		}
	}
	return id, u, true
}

// grantState reads " granted=true, flags=[ USER_SET|...]".
func grantState(rest string) policy.Tri {
	for _, f := range strings.FieldsFunc(rest, func(r rune) bool { return r == ',' || r == ' ' }) {
		if v, ok := strings.CutPrefix(f, "granted="); ok {
			return boolTri(v)
		}
	}
	return policy.Unknown
}

func boolTri(s string) policy.Tri {
	switch s {
	case "true":
		return policy.Yes
	case "false":
		return policy.No
	}
	return policy.Unknown
}
