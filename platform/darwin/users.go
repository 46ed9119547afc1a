package darwin

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// dslocalUsers is the local directory node's user store: one binary plist
// per account, every attribute an array of strings (Open Directory
// records are multi-valued). Readable by root only.
const dslocalUsers = "var/db/dslocal/nodes/Default/users"

// firstHumanUID is where macOS starts numbering accounts made in System
// Settings; lower ids are system and service accounts.
const firstHumanUID = 500

// maxUsers bounds the number of account records read.
const maxUsers = 1000

// dsRecord holds the attributes we read from a dslocal user record. Other
// attributes (ShadowHashData, authentication_authority, realname) are never
// decoded into our types.
type dsRecord struct {
	Name  []string `plist:"name"`
	UID   []string `plist:"uid"`
	Home  []string `plist:"home"`
	Shell []string `plist:"shell"`
}

// parseUserRecord decodes one dslocal user plist.
func parseUserRecord(b []byte) (policy.User, string, error) {
	var r dsRecord
	if err := decodePlist(b, &r); err != nil {
		return policy.User{}, "", err
	}
	if len(r.Name) == 0 || len(r.UID) == 0 || r.Name[0] == "" || r.UID[0] == "" {
		return policy.User{}, "", fmt.Errorf("user record lacks name or uid")
	}
	u := policy.User{Name: r.Name[0], UID: r.UID[0]}
	if len(r.Home) > 0 {
		u.Home = r.Home[0]
	}
	shell := ""
	if len(r.Shell) > 0 {
		shell = r.Shell[0]
	}
	return u, shell, nil
}

// isHuman reports whether an account is a person's: uid >= 500, a name not
// starting with "_" (Apple's service accounts), a login shell, and a home
// that exists as a path (not /var/empty).
func isHuman(u policy.User, shell string) bool {
	uid, err := strconv.Atoi(u.UID)
	if err != nil || uid < firstHumanUID || strings.HasPrefix(u.Name, "_") || u.Name == "" {
		return false
	}
	switch path.Base(shell) {
	case "false", "nologin":
		return false
	}
	return u.Home != "" && u.Home != "/var/empty" && u.Home != "/dev/null"
}

// scanUsers lists the human local accounts from the dslocal records, or
// from dscl when the records cannot be read.
func scanUsers(s *scan) []policy.User {
	users, err := usersFromDSLocal(s)
	if err != nil {
		var dsclErr error
		users, dsclErr = usersFromDscl(s.ctx, s.h)
		if dsclErr != nil {
			// Core: without the accounts no home is inspected, so no
			// per-user messenger can be shown absent; the verdict is
			// "could not check" rather than a clean pass.
			s.probs.AddCore("users", "/"+dslocalUsers, "local accounts not read, per-user sources are skipped: directory records: "+
				describeErr(err)+"; `dscl . -list /Users`: "+describeErr(dsclErr))
			return nil
		}
	}
	sort.Slice(users, func(i, j int) bool { return users[i].Name < users[j].Name })
	return users
}

func usersFromDSLocal(s *scan) ([]policy.User, error) {
	entries, truncated, err := readDirCapped(s.h.Root, dslocalUsers, maxUsers)
	if err != nil {
		return nil, err
	}
	if truncated {
		s.problem("users", "/"+dslocalUsers, fmt.Sprintf("more than %d account records; the rest were skipped", maxUsers))
	}
	var users []policy.User
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".plist") || strings.HasPrefix(e.Name(), "_") {
			continue
		}
		name := path.Join(dslocalUsers, e.Name())
		b, err := platform.ReadFile(s.h.Root, name, maxRecordPlistSize)
		var u policy.User
		var shell string
		if err == nil {
			u, shell, err = parseUserRecord(b)
		}
		if err != nil {
			s.problem("users", "/"+name, "skipped account record: "+err.Error())
			continue
		}
		if isHuman(u, shell) {
			users = append(users, u)
		}
	}
	return users, nil
}

// usersFromDscl runs `dscl . -list /Users <attr>` for the uid, home and
// shell: each prints "name<spaces>value" lines.
func usersFromDscl(ctx context.Context, h *platform.Host) ([]policy.User, error) {
	cols := map[string]map[string]string{}
	for _, attr := range []string{"UniqueID", "NFSHomeDirectory", "UserShell"} {
		out, err := h.Output(ctx, "dscl", ".", "-list", "/Users", attr)
		if err != nil {
			if attr == "UniqueID" {
				return nil, err // scanUsers names the command
			}
			continue
		}
		cols[attr] = parseDsclList(out)
	}
	var users []policy.User
	for name, uid := range cols["UniqueID"] {
		u := policy.User{Name: name, UID: uid, Home: cols["NFSHomeDirectory"][name]}
		shell, ok := cols["UserShell"][name]
		if !ok {
			shell = "/bin/zsh" // unknown shell: do not exclude the account for it
		}
		if isHuman(u, shell) {
			users = append(users, u)
		}
	}
	return users, nil
}

// parseDsclList parses `dscl . -list /Users <attr>` output: a record name,
// spaces, then the value (which may itself contain spaces, e.g. a home
// under "/Users/Shared Stuff"). Records without a value are skipped.
func parseDsclList(b []byte) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(strings.TrimRight(sc.Text(), " \t\r"), " ")
		value = strings.TrimSpace(value)
		if !ok || name == "" || value == "" {
			continue
		}
		m[name] = value
	}
	return m
}

// readDirCapped lists up to max entries of dir without following a final
// symlink on dir itself, sorted by name; truncated reports more entries.
func readDirCapped(fsys fs.FS, dir string, max int) ([]fs.DirEntry, bool, error) {
	st, err := platform.Lstat(fsys, dir)
	if err != nil {
		return nil, false, err
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		return nil, false, &fs.PathError{Op: "readdir", Path: dir, Err: platform.ErrSymlink}
	}
	if !st.IsDir() {
		return nil, false, &fs.PathError{Op: "readdir", Path: dir, Err: platform.ErrNotRegular}
	}
	entries, truncated, err := platform.ReadDir(fsys, dir, max)
	if err != nil {
		return nil, false, err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	return entries, truncated, nil
}

// describeErr shortens a read error for a problem message: the reason
// without repeating the path the problem already names. Errors never carry
// file content (platform.ReadFile and the runner return none).
func describeErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case err == nil:
		return "unknown error"
	case errors.Is(err, fs.ErrNotExist):
		return "does not exist"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	return err.Error()
}
