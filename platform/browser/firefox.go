package browser

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/msgguard/msgguard/platform"
)

// ffProfile is one [ProfileN] section of profiles.ini.
type ffProfile struct {
	Name       string
	Path       string
	IsRelative bool
}

// maxINISections bounds the sections kept from profiles.ini.
const maxINISections = 256

// errINI reports a profiles.ini that is not an INI file. It names a line,
// never its content.
type errINI struct{ line int }

func (e errINI) Error() string {
	return fmt.Sprintf("line %d is not an INI section, key=value pair or comment", e.line)
}

// parseProfilesINI reads the profile sections of Firefox's profiles.ini
// (toolkit/profile/nsToolkitProfileService.cpp writes [ProfileN] sections
// with Name=, IsRelative= and Path=; [General], [InstallXXXX] and
// [BackgroundTasksProfiles] are other sections). A relative Path uses '/'
// on every OS. A line that is not INI makes the whole file suspect: the
// error names its number, and the caller falls back to listing folders.
func parseProfilesINI(b []byte) ([]ffProfile, error) {
	var out []ffProfile
	var cur *ffProfile
	lineNo := 0
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		lineNo++
		line = bytes.TrimSpace(line)
		switch {
		case len(line) == 0 || line[0] == ';' || line[0] == '#':
		case line[0] == '[':
			if line[len(line)-1] != ']' {
				return nil, errINI{lineNo}
			}
			cur = nil
			sec := string(line[1 : len(line)-1])
			if strings.HasPrefix(sec, "Profile") && len(out) < maxINISections {
				out = append(out, ffProfile{IsRelative: true})
				cur = &out[len(out)-1]
			}
		default:
			k, v, ok := bytes.Cut(line, []byte("="))
			if !ok {
				return nil, errINI{lineNo}
			}
			if cur == nil {
				continue
			}
			switch string(bytes.TrimSpace(k)) {
			case "Name":
				cur.Name = string(bytes.TrimSpace(v))
			case "Path":
				cur.Path = string(bytes.TrimSpace(v))
			case "IsRelative":
				cur.IsRelative = string(bytes.TrimSpace(v)) != "0"
			}
		}
	}
	return out, nil
}

// firefox inspects a Firefox folder: the profiles profiles.ini names, or,
// when it is missing or not understood, the folders that look like
// profiles ("<salt>.<name>", in the folder itself on Linux and in
// Profiles/ on macOS and Windows).
func (w *walk) firefox(inst Install, dir, ini string) {
	// An unchanged profiles.ini (same inode, size and times) is not read
	// again by the service: its profiles are remembered.
	st, stOK := w.identOf(ini) // from rememberedInstall
	if v, ok := w.in.Memo.Get(w.home, ini, st); ok {
		w.ffProfiles(inst, ini, dir, decodeProfiles(v))
		return
	}
	if !w.checked(dir, inst.Name+" data folder") {
		return
	}
	began := w.in.Memo.Begin()
	b, err := platform.ReadFile(w.in.FS, w.home+"/"+ini, maxINISize)
	var profiles []ffProfile
	switch {
	case errors.Is(err, fs.ErrNotExist):
		profiles = w.ffListed(dir)
	case err != nil:
		w.problem(ini, "profile list not read, profile folders were searched instead: "+describe(err))
		profiles = w.ffListed(dir)
	default:
		profiles, err = parseProfilesINI(b)
		if err != nil {
			w.problem(ini, "profile list not understood, profile folders were searched instead: "+err.Error())
			profiles = w.ffListed(dir)
		} else if stOK && st.Mode.IsRegular() {
			w.in.Memo.Put(w.home, ini, st, began, encodeProfiles(profiles))
		}
	}
	w.ffProfiles(inst, ini, dir, profiles)
}

// encodeProfiles and decodeProfiles keep parsed profiles in a DirMemo.
func encodeProfiles(ps []ffProfile) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		rel := "0"
		if p.IsRelative {
			rel = "1"
		}
		out[i] = rel + p.Name + "\x00" + p.Path
	}
	return out
}

func decodeProfiles(v []string) []ffProfile {
	out := make([]ffProfile, 0, len(v))
	for _, s := range v {
		if s == "" {
			continue
		}
		name, p, _ := strings.Cut(s[1:], "\x00")
		out = append(out, ffProfile{Name: name, Path: p, IsRelative: s[0] == '1'})
	}
	return out
}

// ffProfiles inspects the listed profiles of one Firefox folder.
func (w *walk) ffProfiles(inst Install, ini, dir string, profiles []ffProfile) {
	if len(profiles) > maxProfiles {
		w.problem(ini, fmt.Sprintf("more than %d profiles; the rest were not inspected", maxProfiles))
		profiles = profiles[:maxProfiles]
	}
	var done []string // at most maxProfiles
	for _, p := range profiles {
		rel, ok := w.ffProfileDir(ini, dir, p)
		if !ok || slices.Contains(done, rel) {
			continue
		}
		done = append(done, rel)
		label := platform.Printable(p.Name, maxLabel)
		if label == "" {
			label = platform.Printable(path.Base(rel), maxLabel)
		}
		st := rel + "/storage/default"
		// An unchanged site-storage folder answers from the memo with one
		// Lstat (remembered); otherwise the path is checked from the home.
		if id, ok := w.remembered(st); ok {
			w.kinds[st] = id
		} else if !w.plainDir(rel, inst.Name+" profile") || !w.plainDir(st, "site storage folder") {
			continue
		}
		w.match(inst, st, label, w.in.Index.firefox, w.in.Index.firefoxNames, firefoxOrigin)
	}
}

// ffProfileDir resolves a profile's folder to a path below the home. A
// relative path that climbs out of the Firefox folder and an absolute path
// outside the user's home are refused and reported: a user could point
// them at another user's profile or at /etc.
func (w *walk) ffProfileDir(ini, dir string, p ffProfile) (string, bool) {
	if p.Path == "" {
		return "", false
	}
	if p.IsRelative {
		rel := path.Join(dir, p.Path)
		if !strings.HasPrefix(rel, dir+"/") {
			w.problem(ini, "a relative profile path leaves the Firefox folder; that profile is not inspected")
			return "", false
		}
		return rel, true
	}
	var rel string
	ok := w.in.Abs != nil
	if ok {
		rel, ok = w.in.Abs(p.Path)
	}
	rel, below := strings.CutPrefix(rel, w.home+"/")
	if !ok || !below || rel == "" {
		w.problem(ini, "a profile path outside the user's home is not inspected")
		return "", false
	}
	return rel, true
}

// ffListed lists the folders that look like Firefox profiles, for a
// missing or unreadable profiles.ini: profiles made by Firefox are named
// "<8 random characters>.<profile name>".
func (w *walk) ffListed(dir string) []ffProfile {
	var out []ffProfile
	for _, d := range []string{dir, dir + "/Profiles"} {
		if d != dir && !w.plainDir(d, "Firefox profiles folder") {
			continue
		}
		entries, truncated := w.list(d, "Firefox folder")
		if truncated {
			w.problem(d, fmt.Sprintf("more than %d entries; only the first were searched for profiles", w.max()))
		}
		for _, e := range entries {
			name := e.Name()
			if i := strings.IndexByte(name, '.'); i <= 0 || i == len(name)-1 || !e.IsDir() {
				continue
			}
			rel, _ := strings.CutPrefix(d+"/"+name, dir+"/")
			out = append(out, ffProfile{Name: name[strings.IndexByte(name, '.')+1:], Path: rel, IsRelative: true})
		}
	}
	return out
}
