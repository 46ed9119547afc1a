package darwin

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/browser"
	"github.com/msgguard/msgguard/policy"
)

// scanBrowsers adds, per user, the catalog messengers whose web clients the
// user's browser profiles show (platform/browser) and the messenger web
// apps installed from Chromium browsers as app shims in ~/Applications.
func scanBrowsers(s *scan, users []policy.User) {
	idx := browser.NewIndex(s.cat)
	if idx.Empty() {
		return
	}
	in := &browser.Inspector{
		FS: s.h.Root, Index: idx, Installs: browser.Installs("darwin"), Memo: s.h.Memo,
		Problem: func(p, msg string) { s.problem("browsers", "/"+p, msg) },
		Abs: func(p string) (string, bool) {
			if !strings.HasPrefix(p, "/") {
				return "", false
			}
			return platform.RelPath(p), true
		},
	}
	for _, u := range users {
		if s.ctx.Err() != nil {
			return
		}
		home := realHome(s, u)
		if home == "" {
			continue
		}
		s.inv.Messengers = append(s.inv.Messengers, in.Home(s.ctx, u.Name, home)...)
		scanAppShims(s, idx, u.Name, home)
	}
}

// shimFolders are the folders of ~/Applications where Chromium browsers put
// the app shims of installed web apps ("<product> Apps.localized";
// chrome/browser/web_applications/os_integration/mac/web_app_shortcut_mac.mm,
// GetLocalizableAppShortcutsSubdirName), with the bundle-id prefix each
// browser gives its shims (base bundle id + ".app." + app id).
var shimFolders = []struct{ dir, browser, prefix string }{
	{"Applications/Chrome Apps.localized", "Chrome", "com.google.Chrome.app."},
	{"Applications/Chrome Beta Apps.localized", "Chrome Beta", "com.google.Chrome.beta.app."},
	{"Applications/Chromium Apps.localized", "Chromium", "org.chromium.Chromium.app."},
	{"Applications/Edge Apps.localized", "Edge", "com.microsoft.edgemac.app."},
	{"Applications/Brave Browser Apps.localized", "Brave", "com.brave.Browser.app."},
}

// maxShims bounds the app shims read per folder.
const maxShims = 200

// shimInfo is the part of an app shim's Info.plist we use: Chromium writes
// the app id, start URL and profile folder under CrAppMode* keys
// (chrome/common/mac/app_mode_common.h).
type shimInfo struct {
	ID         plistString `plist:"CFBundleIdentifier"`
	AppID      plistString `plist:"CrAppModeShortcutID"`
	URL        plistString `plist:"CrAppModeShortcutURL"`
	ProfileDir plistString `plist:"CrAppModeProfileDir"`
}

// scanAppShims matches each app shim in a user's browser app folders by
// its app id (from the bundle id or CrAppModeShortcutID) or its start URL.
func scanAppShims(s *scan, idx *browser.Index, user, home string) {
	for _, f := range shimFolders {
		dir := path.Join(home, f.dir)
		if err := platform.NoLinksBelow(s.h.Root, home, dir); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				s.problem("browsers", "/"+dir, "web-app folder not inspected: "+err.Error())
			}
			continue
		}
		entries, truncated, err := readDirCapped(s.h.Root, dir, maxShims)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				s.problem("browsers", "/"+dir, "web-app folder not read: "+err.Error())
			}
			continue
		}
		if truncated {
			s.problem("browsers", "/"+dir, fmt.Sprintf("more than %d entries; the rest were skipped", maxShims))
		}
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".app") || !e.IsDir() {
				continue
			}
			readShim(s, idx, f.browser, f.prefix, user, home, path.Join(dir, e.Name()))
		}
	}
}

func readShim(s *scan, idx *browser.Index, browserName, prefix, user, home, bundle string) {
	if s.plistBytes > maxPlistBytesPerScan {
		s.problem("browsers", "/"+bundle, "skipped: Info.plist read budget for this scan is spent")
		return
	}
	infoPath := path.Join(bundle, "Contents", "Info.plist")
	b, err := platform.ReadUserFile(s.h.Root, home, infoPath, maxInfoPlistSize)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.problem("browsers", "/"+infoPath, "skipped web app: "+err.Error())
		}
		return
	}
	s.plistBytes += int64(len(b))
	var info shimInfo
	if err := decodePlist(b, &info); err != nil {
		s.problem("browsers", "/"+infoPath, "skipped web app: "+err.Error())
		return
	}
	appID := string(info.AppID)
	if id, ok := strings.CutPrefix(string(info.ID), prefix); ok && browser.ValidAppID(id) {
		appID = id
	}
	e := idx.App(appID, string(info.URL))
	if e == nil {
		return
	}
	loc := "/" + bundle + " (" + browserName
	if p := platform.Printable(string(info.ProfileDir), 64); p != "" {
		loc += fmt.Sprintf(", profile %q", p)
	}
	s.inv.Messengers = append(s.inv.Messengers, policy.Messenger{
		ID: e.ID, Name: e.Name, Variant: e.Variant, Source: browser.SourceWebApp, User: user, Location: loc + ")",
	})
}
