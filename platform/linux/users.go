package linux

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"syscall"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// maxPasswdSize caps /etc/passwd (a few hundred bytes per account).
const maxPasswdSize = 8 << 20

// defaultUIDMin is used when login.defs has no UID_MIN: the shadow-utils
// and Debian default (login.defs(5)).
const defaultUIDMin = 1000

// overflowUID is "nobody" (65534); it and everything above it (e.g.
// nfsnobody 4294967294) is never a human account.
const overflowUID = 65534

// passwdEntry is one line of /etc/passwd (passwd(5)). The GECOS field is
// deliberately not kept: it holds people's real names.
type passwdEntry struct {
	Name  string
	UID   uint64
	Home  string
	Shell string
}

// scanUsers reads the human accounts from etc/passwd, sets inv.Users and
// returns them.
func scanUsers(h *platform.Host, inv *policy.Inventory) []policy.User {
	b, err := platform.ReadFile(h.Root, "etc/passwd", maxPasswdSize)
	if err != nil {
		// Core: without the accounts no home is inspected, so no messenger
		// can be shown absent.
		inv.Problems = append(inv.Problems, policy.Problem{Probe: "users", Path: "/etc/passwd", Core: true, Message: "accounts not read, per-user sources are skipped: " + describeErr(err)})
		return nil
	}
	entries, perr := parsePasswd(b)
	if perr != nil {
		inv.Problems = append(inv.Problems, policy.Problem{Probe: "users", Path: "/etc/passwd", Message: perr.Error()})
	}
	uidMin := uint64(defaultUIDMin)
	if ld, err := platform.ReadFile(h.Root, "etc/login.defs", platform.MaxConfigSize); err == nil {
		if v, ok := parseLoginDefs(ld)["UID_MIN"]; ok {
			if n, err := strconv.ParseUint(v, 0, 32); err == nil {
				uidMin = n
			}
		}
	}
	users := humanUsers(entries, uidMin)
	inv.Users = users
	return users
}

// humanUsers keeps the accounts a person logs in with: UID_MIN ≤ uid <
// 65534, a login shell, and not "nobody". Duplicate names keep the first
// line, as getpwnam(3) does.
func humanUsers(entries []passwdEntry, uidMin uint64) []policy.User {
	var users []policy.User
	seen := map[string]bool{}
	for _, e := range entries {
		if e.UID < uidMin || e.UID >= overflowUID || e.Name == "nobody" || !loginShell(e.Shell) || seen[e.Name] {
			continue
		}
		seen[e.Name] = true
		home := e.Home
		if strings.HasPrefix(home, "/") {
			home = path.Clean(home)
		}
		users = append(users, policy.User{Name: e.Name, UID: strconv.FormatUint(e.UID, 10), Home: home})
	}
	return users
}

// loginShell reports whether shell lets the account log in. An empty shell
// means /bin/sh (passwd(5)).
func loginShell(shell string) bool {
	switch path.Base(shell) {
	case "nologin", "false", "sync", "shutdown", "halt":
		return false
	}
	return true
}

// parsePasswd parses passwd(5) lines "name:password:UID:GID:GECOS:home:shell".
// NIS compat lines ("+", "-") and blank lines are skipped. Malformed lines
// are skipped too; the error counts them and names the first line number
// (never its content).
func parsePasswd(b []byte) ([]passwdEntry, error) {
	var (
		out       []passwdEntry
		bad       int
		firstBad  int
		lineNo    int
		fieldsBuf [7][]byte
	)
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		lineNo++
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(bytes.TrimSpace(line)) == 0 || line[0] == '+' || line[0] == '-' || line[0] == '#' {
			continue
		}
		e, ok := parsePasswdLine(line, &fieldsBuf)
		if !ok {
			bad++
			if firstBad == 0 {
				firstBad = lineNo
			}
			continue
		}
		out = append(out, e)
	}
	if bad > 0 {
		return out, fmt.Errorf("%d malformed line(s) skipped, first at line %d", bad, firstBad)
	}
	return out, nil
}

func parsePasswdLine(line []byte, f *[7][]byte) (passwdEntry, bool) {
	n := 0
	for n < 6 {
		i := bytes.IndexByte(line, ':')
		if i < 0 {
			return passwdEntry{}, false
		}
		f[n], line = line[:i], line[i+1:]
		n++
	}
	f[6] = line
	if bytes.IndexByte(f[6], ':') >= 0 || len(f[0]) == 0 {
		return passwdEntry{}, false
	}
	uid, err := strconv.ParseUint(string(f[2]), 10, 32)
	if err != nil {
		return passwdEntry{}, false
	}
	return passwdEntry{Name: string(f[0]), UID: uid, Home: string(f[5]), Shell: string(f[6])}, true
}

// parseLoginDefs parses login.defs(5): "NAME value" lines, '#' comments.
func parseLoginDefs(b []byte) map[string]string {
	kv := map[string]string{}
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) >= 2 {
			kv[f[0]] = f[1]
		}
	}
	return kv
}

// homeDir is a user's home as a root-relative path, for the per-user
// sources.
type homeDir struct {
	user string
	rel  string // "home/alice"
	abs  string // "/home/alice"
}

// homeCandidates returns the homes worth scanning: absolute, not "/". Two
// accounts sharing a home are scanned once, for the first. It does not look
// at the file system; homeExists does.
func homeCandidates(users []policy.User) []homeDir {
	var out []homeDir
	seen := map[string]bool{}
	for _, u := range users {
		if !strings.HasPrefix(u.Home, "/") {
			continue
		}
		rel := platform.RelPath(u.Home)
		if rel == "." || seen[rel] {
			continue
		}
		seen[rel] = true
		out = append(out, homeDir{user: u.Name, rel: rel, abs: "/" + rel})
	}
	return out
}

// homeExists reports whether h is an existing directory. A missing home (a
// service account's /nonexistent) is skipped silently; one that cannot be
// looked at is a Problem, since its messengers are unknown.
func (c *collector) homeExists(h homeDir) bool {
	st, err := fs.Stat(c.fsys, h.rel)
	if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
		c.problem("home", h.rel, "home not read, the messengers in it are unknown: "+describeErr(err))
	}
	return err == nil && st.IsDir()
}
