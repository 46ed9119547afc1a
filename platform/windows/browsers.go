package windows

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/browser"
)

// startMenuPrograms is the per-user Start menu, where Chrome puts web-app
// shortcuts in a "Chrome Apps" folder and Edge puts them directly
// (chrome/browser/web_applications/os_integration/web_app_shortcut_win.cc;
// the shortcut runs chrome_proxy.exe / msedge_proxy.exe with
// --profile-directory=<profile> --app-id=<id>).
const startMenuPrograms = "AppData/Roaming/Microsoft/Windows/Start Menu/Programs"

// maxShortcuts bounds the .lnk files read per Start-menu folder.
const maxShortcuts = 500

// scanBrowsers adds, per user, the catalog messengers whose web clients the
// user's browser profiles show (platform/browser) and the messenger web
// apps installed from Chrome or Edge as Start-menu shortcuts.
func (s *scanner) scanBrowsers(ctx context.Context, profiles []profile) {
	idx := browser.NewIndex(s.cat)
	if idx.Empty() {
		return
	}
	in := &browser.Inspector{
		FS: s.h.Root, Index: idx, Installs: browser.Installs("windows"), Memo: s.h.Memo,
		Problem: func(p, msg string) { s.probs.Add("browsers", s.winPath(p), msg) },
		Abs:     s.onDrive,
	}
	for _, p := range profiles {
		if ctx.Err() != nil || p.home == "" {
			continue
		}
		s.found = append(s.found, in.Home(ctx, p.user.Name, p.home)...)
		for _, dir := range []string{startMenuPrograms + "/Chrome Apps", startMenuPrograms} {
			s.scanShortcuts(idx, p, path.Join(p.home, dir))
		}
	}
}

// scanShortcuts matches the web-app shortcuts in one Start-menu folder by
// the --app-id= in their arguments.
func (s *scanner) scanShortcuts(idx *browser.Index, p profile, dir string) {
	ok, err := isPlainDir(s.h.Root, p.home, dir)
	if err != nil {
		s.probs.add("browsers", s.errPath(err, dir), err)
		return
	}
	if !ok {
		return
	}
	entries, truncated, err := platform.ReadDir(s.h.Root, dir, maxShortcuts)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.probs.add("browsers", s.winPath(dir), err)
	}
	if truncated {
		s.probs.addf("browsers", s.winPath(dir), "more than %d entries; the rest were skipped", maxShortcuts)
	}
	for _, e := range entries {
		if !strings.EqualFold(path.Ext(e.Name()), ".lnk") || !e.Type().IsRegular() {
			continue
		}
		f := path.Join(dir, e.Name())
		b, err := platform.ReadFile(s.h.Root, f, browser.MaxShortcutSize)
		if err != nil {
			s.probs.add("browsers", s.winPath(f), err)
			continue
		}
		sc, err := browser.ParseShortcut(b)
		if err != nil {
			s.probs.add("browsers", s.winPath(f), err)
			continue
		}
		if sc.AppID == "" {
			continue
		}
		entry := idx.App(sc.AppID, "")
		if entry == nil {
			continue
		}
		loc := s.winPath(f) + " (" + browser.BrowserOfTarget(sc.Target)
		if pd := platform.Printable(sc.ProfileDir, 64); pd != "" {
			loc += fmt.Sprintf(", profile %q", pd)
		}
		s.add(messenger(entry, browser.SourceWebApp, p.user.Name, "", loc+")"))
	}
}
