package linux

import (
	"context"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/browser"
	"github.com/msgguard/msgguard/policy"
)

// scanBrowsers adds the catalog messengers whose web clients each user's
// browser profiles show (platform/browser): Chrome, Chromium (also snap and
// Flatpak), Edge, Brave, Vivaldi, Opera and Firefox (also snap and
// Flatpak). Only folder names are read. Linux has no browser app shims to
// look at: a web app installed from Chromium is a .desktop file, which the
// desktop-file probe matches by its URL (linux.desktop_urls).
func scanBrowsers(ctx context.Context, h *platform.Host, cat *policy.Catalog, users []policy.User, inv *policy.Inventory) {
	idx := browser.NewIndex(cat)
	if idx.Empty() {
		return
	}
	probs := platform.Problems{Max: maxProblemsPerProbe}
	in := &browser.Inspector{
		FS: h.Root, Index: idx, Installs: browser.Installs("linux"), Memo: h.Memo,
		Problem: func(p, msg string) { probs.Add("browsers", "/"+p, msg) },
		Abs: func(p string) (string, bool) {
			if len(p) == 0 || p[0] != '/' {
				return "", false
			}
			return platform.RelPath(p), true
		},
	}
	var found []policy.Messenger
	seen := map[string]bool{}
	for _, u := range users {
		if ctx.Err() != nil {
			break
		}
		if len(u.Home) < 2 || u.Home[0] != '/' {
			continue
		}
		home := platform.RelPath(u.Home)
		if seen[home] {
			continue // two accounts sharing one home: inspected once
		}
		seen[home] = true
		found = append(found, in.Home(ctx, u.Name, home)...)
	}
	inv.Messengers = dedupMessengers(append(inv.Messengers, found...))
	inv.Problems = append(inv.Problems, probs.List()...)
}
