package windows

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

const keyProfileList = `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList`

// profile is one human user of the machine.
type profile struct {
	user policy.User
	sid  string
	// image is ProfileImagePath with variables expanded (`C:\Users\alice`).
	image string
	// home is image relative to the scanned drive ("Users/alice"), or ""
	// when the profile lives elsewhere and its files cannot be checked.
	home string
}

// humanSID reports whether sid belongs to a person: local and domain
// accounts are S-1-5-21-<domain>-<rid>, Microsoft Entra ID (Azure AD)
// accounts S-1-12-1-<4 numbers> (Microsoft, "Security identifiers";
// community profile scripts filter the same two prefixes). Service
// accounts (S-1-5-18/19/20) and ProfileList's "<SID>.bak" leftovers of
// corrupt profiles are not.
func humanSID(sid string) bool {
	var rest string
	switch {
	case strings.HasPrefix(sid, "S-1-5-21-"):
		rest = sid[len("S-1-5-21-"):]
	case strings.HasPrefix(sid, "S-1-12-1-"):
		rest = sid[len("S-1-12-1-"):]
	default:
		return false
	}
	for _, part := range strings.Split(rest, "-") {
		if part == "" || strings.Trim(part, "0123456789") != "" {
			return false
		}
	}
	return true
}

// profiles lists the human users from ProfileList, sorted by name.
func (s *scanner) profiles() []profile {
	sids, err := s.reg.SubKeys(keyProfileList)
	if err != nil {
		if len(sids) == 0 {
			// Core: ProfileList is where Windows lists every profile
			// (Microsoft, "User profiles in Windows"); without it no user
			// is inspected, so no per-user messenger can be shown absent
			// and the verdict is "could not check" rather than a clean pass.
			s.probs.AddCore("users", keyProfileList, "user profiles not listed, per-user sources are skipped: "+regReason(err))
			return nil
		}
		s.probs.add("users", keyProfileList, err)
	}
	var out []profile
	for _, sid := range sids {
		if !humanSID(sid) {
			continue
		}
		if p, ok := s.profile(sid); ok {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].user.Name < out[j].user.Name })
	return out
}

func (s *scanner) profile(sid string) (profile, bool) {
	key := keyProfileList + `\` + sid
	vals, err := s.reg.Values(key)
	if err != nil {
		s.probs.add("users", key, err)
		return profile{}, false
	}
	img, ok, err := stringValue(vals, "ProfileImagePath")
	if err != nil || !ok || img == "" {
		if err == nil {
			err = errors.New("value ProfileImagePath is missing")
		}
		s.probs.add("users", key, err)
		return profile{}, false
	}
	img = s.expand(img)
	p := profile{sid: sid, image: img}
	p.user = policy.User{Name: winBase(img), UID: sid, Home: img}
	if rel, ok := s.onDrive(img); ok {
		p.home = rel
	} else {
		s.probs.addf("users", key, "profile %s is not on the scanned drive %s; its files are not checked", img, s.drive)
	}
	return p, true
}

// expand replaces the variables ProfileImagePath uses (REG_EXPAND_SZ,
// normally %SystemDrive%\Users\<name>). Only system-wide variables are
// known to a service; anything else stays as written and fails onDrive.
func (s *scanner) expand(p string) string {
	r := strings.NewReplacer("%SystemDrive%", s.drive, "%SYSTEMDRIVE%", s.drive, "%systemdrive%", s.drive,
		"%SystemRoot%", s.systemRoot, "%SYSTEMROOT%", s.systemRoot, "%systemroot%", s.systemRoot)
	return r.Replace(p)
}

// onDrive turns `C:\Users\alice` into "Users/alice" when the path is on
// the drive h.Root holds.
func (s *scanner) onDrive(p string) (string, bool) {
	if len(p) < 3 || !strings.EqualFold(p[:2], s.drive) || (p[2] != '\\' && p[2] != '/') {
		return "", false
	}
	rel := platform.RelPath(p[2:])
	return rel, rel != "."
}

// winPath turns a root-relative path into the Windows form for reports.
func (s *scanner) winPath(rel string) string {
	return s.drive + `\` + strings.ReplaceAll(rel, "/", `\`)
}

// winBase returns the last component of a Windows path.
func winBase(p string) string {
	p = strings.TrimRight(p, `\/`)
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// hive is a user's registry hive as the scan reads it.
type hive struct {
	// root is where the hive is readable now: HKU\<SID> when the user is
	// logged in, HKU\msgguard_<SID> while loaded by us.
	root string
	// classes is HKU\<SID>_Classes (UsrClass.dat) when loaded, else "".
	classes string
	// err says why the hive could not be read; root is "" then.
	err    error
	unload func() error
}

// close unloads a hive loaded by us.
func (h *hive) close(s *scanner, p profile) {
	if h.unload == nil {
		return
	}
	if err := h.unload(); err != nil {
		s.probs.add("users", `HKU\`+p.sid, err)
	}
	h.unload = nil
}

// loadedHives lists the hives mounted under HKEY_USERS (lower-case).
func (s *scanner) loadedHives() map[string]bool {
	names, err := s.reg.SubKeys("HKU")
	switch {
	case err != nil && len(names) == 0:
		// Core: without the list of loaded hives no logged-in user's
		// registry is read (their NTUSER.DAT is locked and cannot be
		// loaded), so their per-user installs cannot be shown absent.
		s.probs.AddCore("users", "HKU", "loaded user hives not listed, per-user registry sources may be skipped: "+regReason(err))
	case err != nil:
		s.probs.add("users", "HKU", err)
	}
	out := make(map[string]bool, len(names))
	for _, n := range names {
		out[strings.ToLower(n)] = true
	}
	return out
}

// openHive finds the user's hive, loading NTUSER.DAT temporarily when the
// user is not logged in and the registry can load hives.
func (s *scanner) openHive(p profile, loaded map[string]bool) hive {
	if loaded[strings.ToLower(p.sid)] {
		h := hive{root: `HKU\` + p.sid}
		if loaded[strings.ToLower(p.sid+"_Classes")] {
			h.classes = `HKU\` + p.sid + "_Classes"
		}
		return h
	}
	loader, ok := s.reg.(HiveLoader)
	if !ok {
		return hive{err: errors.New("user is not logged in and hives cannot be loaded")}
	}
	if p.home == "" {
		return hive{err: errors.New("profile is not on the scanned drive")}
	}
	// NTUSER.DAT sits in a directory the user owns: refuse a link planted
	// there, which would make us load another file as this user's hive.
	rel := path.Join(p.home, "NTUSER.DAT")
	if err := checkPlainFile(s.h.Root, p.home, rel); err != nil {
		return hive{err: fmt.Errorf("hive file: %w", err)}
	}
	root, unload, err := loader.LoadHive(p.sid, p.image+`\NTUSER.DAT`)
	if err != nil {
		return hive{err: err}
	}
	return hive{root: root, unload: unload}
}

// checkPlainFile reports an error unless rel is a regular file below home
// reached without symbolic links (or, on Windows, junctions, which Go
// reports as irregular files).
func checkPlainFile(fsys fs.FS, home, rel string) error {
	if err := platform.NoLinksBelow(fsys, home, path.Dir(rel)); err != nil {
		return err
	}
	st, err := platform.Lstat(fsys, rel)
	if err != nil {
		return err
	}
	if err := linkError(st.Mode()); err != nil {
		return &fs.PathError{Op: "lstat", Path: rel, Err: err}
	}
	if !st.Mode().IsRegular() {
		return &fs.PathError{Op: "lstat", Path: rel, Err: platform.ErrNotRegular}
	}
	return nil
}

// errReparsePoint refuses what Go reports as an irregular file on Windows:
// junctions and other reparse points, which redirect like symbolic links.
var errReparsePoint = errors.New("refusing to follow a junction or reparse point")

// errNotDir is returned for a file where a directory is expected.
var errNotDir = errors.New("not a directory")

func linkError(m fs.FileMode) error {
	switch {
	case m&fs.ModeSymlink != 0:
		return platform.ErrSymlink
	case m&fs.ModeIrregular != 0:
		return errReparsePoint
	}
	return nil
}

// isPlainDir reports whether rel is a directory below home with no
// symbolic link or junction on the way. A missing path is (false, nil).
func isPlainDir(fsys fs.FS, home, rel string) (bool, error) {
	cur := home
	for _, part := range strings.Split(strings.TrimPrefix(strings.TrimPrefix(rel, home), "/"), "/") {
		if part == "" {
			continue
		}
		cur = path.Join(cur, part)
		st, err := platform.Lstat(fsys, cur)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if err := linkError(st.Mode()); err != nil {
			return false, &fs.PathError{Op: "lstat", Path: cur, Err: err}
		}
		if !st.IsDir() {
			return false, &fs.PathError{Op: "lstat", Path: cur, Err: errNotDir}
		}
	}
	return true, nil
}

// regReason shortens a registry read error for a Core problem, whose Path
// already names the key.
func regReason(err error) string {
	if isNotExist(err) {
		return "the key does not exist"
	}
	return err.Error()
}
