package darwin

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// Source values for darwin evidence.
const (
	sourceAppBundle = "app-bundle"
	sourceDataDir   = "data-dir"
)

// Bundle-walk limits: a folder with more entries than this is read only in
// part (and says so), and the Info.plist bytes read per scan are bounded so
// that thousands of large plists cannot make a scan slow.
const (
	maxDirEntries        = 5000
	maxPlistBytesPerScan = 128 << 20
)

// appStoreSuffix marks a bundle carrying a Mac App Store receipt
// (Contents/_MASReceipt) in Messenger.Location.
const appStoreSuffix = " (Mac App Store)"

// bundleInfo is the part of an app's Info.plist we use. Other keys (URL
// types, usage descriptions, ...) are parsed by the plist library but never
// decoded into our types.
type bundleInfo struct {
	ID          plistString `plist:"CFBundleIdentifier"`
	Name        plistString `plist:"CFBundleName"`
	DisplayName plistString `plist:"CFBundleDisplayName"`
	Version     plistString `plist:"CFBundleShortVersionString"`
	// Category is LSApplicationCategoryType (Apple's Information Property
	// List reference; the App Store's category of the app).
	Category plistString `plist:"LSApplicationCategoryType"`
}

// socialNetworking is the LSApplicationCategoryType messengers declare
// (Apple's list of app categories has no narrower one): WhatsApp, Telegram,
// Skype, WeChat and LINE all ship with it.
const socialNetworking = "public.app-category.social-networking"

// parseInfoPlist decodes an app's Contents/Info.plist (XML or binary).
func parseInfoPlist(b []byte) (bundleInfo, error) {
	var info bundleInfo
	if err := decodePlist(b, &info); err != nil {
		return bundleInfo{}, err
	}
	if info.ID == "" {
		return bundleInfo{}, errors.New("no CFBundleIdentifier in Info.plist")
	}
	return info, nil
}

// appDir is a folder that holds app bundles: /Applications (device-wide)
// or a user's ~/Applications.
type appDir struct {
	dir  string // root-relative, e.g. "Applications" or "Users/alice/Applications"
	base string // no symlink may appear below base (the user's home, or dir)
	user string // "" for the device-wide folder
}

// scanApps walks each folder and its immediate subfolders (Utilities,
// vendor folders, Setapp) for .app bundles and records catalog matches.
func scanApps(s *scan, users []policy.User, byBundle map[string]*policy.CatalogEntry) {
	dirs := []appDir{{dir: "Applications", base: "Applications"}}
	for _, u := range users {
		if home := realHome(s, u); home != "" {
			dirs = append(dirs, appDir{dir: path.Join(home, "Applications"), base: home, user: u.Name})
		}
	}
	for _, d := range dirs {
		walkAppDir(s, d, byBundle)
	}
}

func walkAppDir(s *scan, d appDir, byBundle map[string]*policy.CatalogEntry) {
	if d.base != d.dir {
		// ~/Applications: no component between the home and it may be a link.
		if err := platform.NoLinksBelow(s.h.Root, d.base, d.dir); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				s.problem("apps", "/"+d.dir, "skipped: "+err.Error())
			}
			return
		}
	}
	entries, truncated, err := readDirCapped(s.h.Root, d.dir, maxDirEntries)
	if err != nil {
		if d.user == "" {
			// Core: /Applications is where every Mac installs its apps
			// (drag-and-drop, installer packages and the App Store alike);
			// not listing it leaves no messenger shown absent, so the
			// verdict is "could not check" rather than a clean pass.
			s.probs.AddCore("apps", "/"+d.dir, "applications folder not listed, installed apps are unknown: "+describeErr(err))
			return
		}
		if !errors.Is(err, fs.ErrNotExist) {
			s.problem("apps", "/"+d.dir, "cannot list applications: "+err.Error())
		}
		return
	}
	if truncated {
		s.problem("apps", "/"+d.dir, fmt.Sprintf("more than %d entries; the rest were skipped", maxDirEntries))
	}
	for _, e := range entries {
		p := path.Join(d.dir, e.Name())
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			skipLinkedBundle(s, p)
		case strings.HasSuffix(e.Name(), ".app"):
			readBundle(s, d, p, byBundle)
		case e.IsDir():
			walkSubfolder(s, d, p, byBundle)
		}
	}
}

// walkSubfolder reads the bundles one level down (e.g. /Applications/Utilities,
// /Applications/Setapp); deeper folders are not searched.
func walkSubfolder(s *scan, d appDir, dir string, byBundle map[string]*policy.CatalogEntry) {
	entries, truncated, err := readDirCapped(s.h.Root, dir, maxDirEntries)
	if err != nil {
		s.problem("apps", "/"+dir, "cannot list folder: "+err.Error())
		return
	}
	if truncated {
		s.problem("apps", "/"+dir, fmt.Sprintf("more than %d entries; the rest were skipped", maxDirEntries))
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".app") {
			continue
		}
		p := path.Join(dir, e.Name())
		if e.Type()&fs.ModeSymlink != 0 {
			skipLinkedBundle(s, p)
			continue
		}
		readBundle(s, d, p, byBundle)
	}
}

// skipLinkedBundle records a symlinked entry, which is never followed: it
// could point at "/" or into another user's home. Links into the sealed
// system volume (macOS 13+ puts Safari.app behind such a link) are Apple's
// own and skipped silently.
func skipLinkedBundle(s *scan, p string) {
	if rl, ok := s.h.Root.(fs.ReadLinkFS); ok {
		if target, err := rl.ReadLink(p); err == nil {
			abs := target
			if !path.IsAbs(abs) {
				abs = path.Join("/", path.Dir(p), target)
			}
			if strings.HasPrefix(path.Clean(abs), "/System/") {
				return
			}
			s.problem("apps", "/"+p, fmt.Sprintf("skipped: symbolic link to %q is not followed", target))
			return
		}
	}
	s.problem("apps", "/"+p, "skipped: symbolic link is not followed")
}

// readBundle reads one bundle's Info.plist and records it when its bundle
// identifier is in the catalog.
func readBundle(s *scan, d appDir, bundle string, byBundle map[string]*policy.CatalogEntry) {
	infoPath := path.Join(bundle, "Contents", "Info.plist")
	if s.plistBytes > maxPlistBytesPerScan {
		s.problem("apps", "/"+bundle, "skipped: Info.plist read budget for this scan is spent")
		return
	}
	b, err := platform.ReadUserFile(s.h.Root, d.base, infoPath, maxInfoPlistSize)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return // an empty or partial bundle (an interrupted copy): not evidence
		}
		s.problem("apps", "/"+infoPath, "skipped bundle: "+err.Error())
		return
	}
	s.plistBytes += int64(len(b))
	info, err := parseInfoPlist(b)
	if err != nil {
		s.problem("apps", "/"+infoPath, "skipped bundle: "+err.Error())
		return
	}
	e := byBundle[string(info.ID)]
	if e == nil {
		if string(info.Category) == socialNetworking {
			addUnlisted(s, d, bundle, info)
		}
		return
	}
	loc := "/" + bundle
	if hasReceipt(s, d, bundle) {
		loc += appStoreSuffix
	}
	s.inv.Messengers = append(s.inv.Messengers, policy.Messenger{
		ID: e.ID, Name: e.Name, Variant: e.Variant, Source: sourceAppBundle,
		User: d.user, Version: platform.Printable(string(info.Version), platform.MaxVersionLen), Location: loc,
	})
}

// addUnlisted records a bundle in the social-networking category that no
// catalog entry claims, under its bundle identifier (which the policy's
// unlisted.apps names). A bundle id that is not one (an unexpanded build
// variable such as "$(PRODUCT_BUNDLE_IDENTIFIER)") cannot be named by a
// policy and is reported as a problem instead.
func addUnlisted(s *scan, d appDir, bundle string, info bundleInfo) {
	id := string(info.ID)
	if !validBundleID(id) {
		s.problem("apps", "/"+bundle, "social-networking app with an invalid bundle identifier; not assessed")
		return
	}
	name := platform.Printable(string(info.DisplayName), maxUnlistedName)
	if name == "" {
		name = platform.Printable(string(info.Name), maxUnlistedName)
	}
	if name == "" {
		name = id
	}
	s.inv.Messengers = append(s.inv.Messengers, policy.Messenger{
		ID: policy.UnlistedID, Name: name, Source: sourceAppBundle, User: d.user,
		Version: platform.Printable(string(info.Version), platform.MaxVersionLen), Location: id,
	})
}

// maxUnlistedName caps the name an unlisted app is reported under.
const maxUnlistedName = 80

// validBundleID reports whether id has the shape of a CFBundleIdentifier:
// letters, digits, "-" and "." (Apple's CFBundleIdentifier reference), at
// most 255 characters, not starting with "." or "-".
func validBundleID(id string) bool {
	if id == "" || len(id) > 255 || id[0] == '.' || id[0] == '-' {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// hasReceipt reports whether the bundle carries a Mac App Store receipt.
func hasReceipt(s *scan, d appDir, bundle string) bool {
	p := path.Join(bundle, "Contents", "_MASReceipt")
	if platform.NoLinksBelow(s.h.Root, d.base, p) != nil {
		return false
	}
	st, err := platform.Lstat(s.h.Root, p)
	return err == nil && st.IsDir()
}

// bundleIndex maps each catalog bundle identifier (case-sensitive, as
// LaunchServices compares them) to its entry.
func bundleIndex(cat *policy.Catalog) map[string]*policy.CatalogEntry {
	m := map[string]*policy.CatalogEntry{}
	for i := range cat.Messengers {
		e := &cat.Messengers[i]
		for _, id := range e.Darwin.BundleIDs {
			if _, dup := m[id]; !dup {
				m[id] = e
			}
		}
	}
	return m
}

// realHome returns the user's home when it is a real directory (not a
// symbolic link, which could point into another user's home), else "". A
// home that is a link is a problem, recorded once.
func realHome(s *scan, u policy.User) string {
	home := userHome(u)
	if home == "" {
		return ""
	}
	st, err := platform.Lstat(s.h.Root, home)
	switch {
	case err != nil:
		if !errors.Is(err, fs.ErrNotExist) {
			s.problem("users", "/"+home, "cannot read home: "+err.Error())
		}
		return ""
	case st.Mode()&fs.ModeSymlink != 0 || !st.IsDir():
		s.problem("users", "/"+home, "skipped home: not a real directory (a symbolic link is not followed)")
		return ""
	}
	return home
}

// userHome returns a user's home as a root-relative path, or "" when it is
// not usable (relative, the root itself).
func userHome(u policy.User) string {
	if !path.IsAbs(u.Home) {
		return ""
	}
	rel := platform.RelPath(u.Home)
	if rel == "." {
		return ""
	}
	return rel
}
