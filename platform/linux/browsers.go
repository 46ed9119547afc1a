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
	// One task per home on the scan's workers (runTasks), each with its
	// own Inspector and problem list; the lists are replayed in passwd
	// order, so the result does not depend on scheduling.
	type homeResult struct {
		found    []policy.Messenger
		problems [][2]string
	}
	base := browser.Inspector{
		FS: h.Root, Index: idx, Installs: browser.Installs("linux"), Memo: h.Memo,
		Abs: func(p string) (string, bool) {
			if len(p) == 0 || p[0] != '/' {
				return "", false
			}
			return platform.RelPath(p), true
		},
	}
	base.Prepare()
	var tasks []func()
	var results []*homeResult
	seen := map[string]bool{}
	for _, u := range users {
		if len(u.Home) < 2 || u.Home[0] != '/' {
			continue
		}
		home := platform.RelPath(u.Home)
		if seen[home] {
			continue // two accounts sharing one home: inspected once
		}
		seen[home] = true
		r := &homeResult{}
		results = append(results, r)
		in := base // a copy per home: Problem writes to this home's list
		in.Problem = func(p, msg string) { r.problems = append(r.problems, [2]string{"/" + p, msg}) }
		name := u.Name
		tasks = append(tasks, func() {
			if ctx.Err() == nil {
				r.found = in.Home(ctx, name, home)
			}
		})
	}
	runTasks(tasks, h.Parallel())
	probs := platform.Problems{Max: maxProblemsPerProbe}
	var found []policy.Messenger
	for _, r := range results {
		found = append(found, r.found...)
		for _, p := range r.problems {
			probs.Add("browsers", p[0], p[1])
		}
	}
	inv.Messengers = dedupMessengers(append(inv.Messengers, found...))
	inv.Problems = append(inv.Problems, probs.List()...)
}
