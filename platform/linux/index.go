package linux

import (
	"fmt"
	"hash/fnv"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/msgguard/msgguard/policy"
)

// catalogIndex holds the Linux identifiers of a catalog in lookup maps,
// built once per scan, so that matching 5,000 dpkg packages or 300 .desktop
// files costs one map lookup each instead of a walk over the catalog.
// Where two entries claim the same identifier the first in catalog order
// wins.
type catalogIndex struct {
	deb, rpm, snap, flatpak map[string]*policy.CatalogEntry
	// desktop holds .desktop file names without the extension; Flatpak ids
	// are added too, because Flathub renames every desktop file to
	// <app-id>.desktop.
	desktop map[string]*policy.CatalogEntry
	// process holds process and executable names.
	process map[string]*policy.CatalogEntry
	// names holds lower-cased display names for browser web apps, whose
	// .desktop file carries only the app's Name= and an opaque app id.
	names    map[string]*policy.CatalogEntry
	urls     []urlRef
	appImage []patternRef
	// desktopPatterns match .desktop file ids case-sensitively; prefix is
	// each pattern's literal head, checked before path.Match.
	desktopPatterns []patternRef
	// dataDirs are per-user paths relative to the home, grouped by their
	// parent directory so that a missing ~/.var/app skips all its children.
	dataDirs map[string][]dataDirRef
	// dataParents lists dataDirs' keys in a fixed order.
	dataParents []string
	// serviceDirs are aggregators' per-user service directories.
	serviceDirs []dataDirRef
	// agentDeb holds the Debian packages of the catalog's management
	// agents, which the one read of the dpkg database picks out for the
	// remote-wipe probe.
	agentDeb map[string]bool
	// debKey names the set of Debian packages a read of the dpkg database
	// keeps (deb and agentDeb): the service remembers that read's result
	// for an unchanged database and this set (readDebFacts).
	debKey string
}

type urlRef struct {
	host, path string
	entry      *policy.CatalogEntry
}

type patternRef struct {
	pattern string // lower case for AppImage patterns
	// prefix is a desktop pattern's literal head (before any wildcard): an
	// id without it cannot match.
	prefix string
	// suffix is the pattern's literal tail after its last wildcard
	// (".appimage"): a name without it cannot match, which spares most
	// path.Match calls over a home's files.
	suffix string
	entry  *policy.CatalogEntry
}

type dataDirRef struct {
	rel   string // relative to the home, e.g. ".config/Signal"
	entry *policy.CatalogEntry
}

func newCatalogIndex(cat *policy.Catalog) *catalogIndex {
	idx := &catalogIndex{
		deb: map[string]*policy.CatalogEntry{}, rpm: map[string]*policy.CatalogEntry{},
		snap: map[string]*policy.CatalogEntry{}, flatpak: map[string]*policy.CatalogEntry{},
		desktop: map[string]*policy.CatalogEntry{}, process: map[string]*policy.CatalogEntry{},
		names: map[string]*policy.CatalogEntry{}, dataDirs: map[string][]dataDirRef{},
		agentDeb: map[string]bool{},
	}
	if cat == nil {
		return idx
	}
	for _, a := range cat.Agents {
		for _, p := range a.Packages {
			idx.agentDeb[p] = true
		}
	}
	seenDir := map[string]bool{}
	for i := range cat.Messengers {
		e := &cat.Messengers[i]
		l := &e.Linux
		addAll(idx.deb, l.Deb, e)
		addAll(idx.rpm, l.RPM, e)
		addAll(idx.snap, l.Snap, e)
		addAll(idx.flatpak, l.Flatpak, e)
		addAll(idx.desktop, l.Desktop, e)
		addAll(idx.desktop, l.Flatpak, e)
		addAll(idx.process, l.Processes, e)
		addName(idx.names, e.Name, e)
		for _, u := range l.DesktopURLs {
			if host, p, ok := splitURLPrefix(u); ok {
				idx.urls = append(idx.urls, urlRef{host: host, path: p, entry: e})
			}
		}
		for _, p := range l.DesktopPatterns {
			if _, err := path.Match(p, ""); err != nil {
				continue
			}
			prefix := p
			if i := strings.IndexAny(p, "*?[\\"); i >= 0 {
				prefix = p[:i]
			}
			idx.desktopPatterns = append(idx.desktopPatterns, patternRef{pattern: p, prefix: prefix, entry: e})
		}
		for _, p := range l.AppImage {
			lp := strings.ToLower(p)
			if _, err := path.Match(lp, ""); err != nil {
				continue // a malformed pattern never matches
			}
			suffix := lp[strings.LastIndexAny(lp, "*?]\\")+1:]
			idx.appImage = append(idx.appImage, patternRef{pattern: lp, suffix: suffix, entry: e})
		}
		// Per-user data: the catalog's own paths, plus the per-user data
		// directories Flatpak (~/.var/app/<id>) and snapd (~/snap/<name>)
		// create on first start of an app (flatpak wiki "Filesystem";
		// snapd's $SNAP_USER_DATA).
		for _, d := range l.DataDirs {
			idx.addDataDir(d, e, seenDir)
		}
		for _, id := range l.Flatpak {
			idx.addDataDir(".var/app/"+id, e, seenDir)
		}
		for _, d := range l.ServiceDirs {
			if rel := path.Clean(strings.TrimPrefix(d, "~/")); rel != "." && !path.IsAbs(rel) && rel != ".." && !strings.HasPrefix(rel, "../") {
				idx.serviceDirs = append(idx.serviceDirs, dataDirRef{rel: rel, entry: e})
			}
		}
		for _, s := range l.Snap {
			idx.addDataDir("snap/"+s, e, seenDir)
		}
	}
	idx.debKey = debKeyOf(idx)
	return idx
}

// debKeyOf fingerprints the package names a dpkg read keeps, messengers
// apart from agents (FNV-1a over the sorted names).
func debKeyOf(idx *catalogIndex) string {
	names := make([]string, 0, len(idx.deb)+len(idx.agentDeb))
	for n := range idx.deb {
		names = append(names, "m"+n)
	}
	for n := range idx.agentDeb {
		names = append(names, "a"+n)
	}
	slices.Sort(names)
	h := fnv.New64a()
	for _, n := range names {
		h.Write([]byte(n))
		h.Write([]byte{0})
	}
	return fmt.Sprintf("dpkg-catalog-%016x", h.Sum64())
}

func addAll(m map[string]*policy.CatalogEntry, keys []string, e *policy.CatalogEntry) {
	for _, k := range keys {
		if _, ok := m[k]; !ok && k != "" {
			m[k] = e
		}
	}
}

// addName records a display name, and the name without a parenthesised
// qualifier ("Microsoft Teams (work or school)" is installed as the web
// app "Microsoft Teams"); the first entry to claim a name keeps it.
func addName(m map[string]*policy.CatalogEntry, name string, e *policy.CatalogEntry) {
	keys := []string{normalizeAppName(name)}
	if i := strings.Index(name, " ("); i > 0 && strings.HasSuffix(name, ")") {
		keys = append(keys, normalizeAppName(name[:i]))
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok && k != "" {
			m[k] = e
		}
	}
}

// addDataDir records a home-relative path after cleaning it; paths that
// would leave the home ("..", absolute) are dropped.
func (idx *catalogIndex) addDataDir(rel string, e *policy.CatalogEntry, seen map[string]bool) {
	rel = strings.TrimPrefix(rel, "~/")
	rel = path.Clean(rel)
	if rel == "." || strings.HasPrefix(rel, "/") || rel == ".." || strings.HasPrefix(rel, "../") || seen[rel] {
		return
	}
	seen[rel] = true
	parent := path.Dir(rel)
	if _, ok := idx.dataDirs[parent]; !ok {
		idx.dataParents = append(idx.dataParents, parent)
	}
	idx.dataDirs[parent] = append(idx.dataDirs[parent], dataDirRef{rel: rel, entry: e})
}

// normalizeAppName folds a display name for comparison: lower case, and
// without the " Web" suffix that web apps carry ("WhatsApp Web").
func normalizeAppName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, suf := range []string{" (web)", " - web", " web", " (pwa)"} {
		s = strings.TrimSuffix(s, suf)
	}
	return strings.TrimSpace(s)
}

// splitURLPrefix turns a catalog URL prefix ("web.whatsapp.com",
// "https://teams.microsoft.com/v2") into a lower-case host and a path.
func splitURLPrefix(s string) (host, p string, ok bool) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", "", false
	}
	return strings.ToLower(u.Hostname()), u.Path, true
}

// matchURL returns the entry whose URL prefix covers raw (a URL from an
// Exec= line), comparing the host exactly so that
// "https://evil.example/?web.whatsapp.com" does not match.
func (idx *catalogIndex) matchURL(raw string) *policy.CatalogEntry {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil
	}
	host := strings.ToLower(u.Hostname())
	for _, r := range idx.urls {
		if host == r.host && strings.HasPrefix(u.Path, r.path) {
			return r.entry
		}
	}
	return nil
}

// matchHost matches a bare host (a Chromium --app window's WM class such as
// "web.whatsapp.com" or "app.slack.com__client") against the URL hosts.
func (idx *catalogIndex) matchHost(class string) *policy.CatalogEntry {
	host, _, _ := strings.Cut(strings.ToLower(class), "__")
	if !strings.Contains(host, ".") {
		return nil
	}
	for _, r := range idx.urls {
		if host == r.host {
			return r.entry
		}
	}
	return nil
}

// matchAppImage matches a file name against the AppImage patterns
// case-insensitively.
func (idx *catalogIndex) matchAppImage(name string) *policy.CatalogEntry {
	if len(idx.appImage) == 0 {
		return nil
	}
	lower := ""
	for _, p := range idx.appImage {
		if len(name) < len(p.suffix) || !strings.EqualFold(name[len(name)-len(p.suffix):], p.suffix) {
			continue
		}
		if lower == "" {
			lower = strings.ToLower(name)
		}
		if ok, _ := path.Match(p.pattern, lower); ok {
			return p.entry
		}
	}
	return nil
}

// matchDesktopPattern matches a desktop file id against the catalog's
// desktop_patterns (e.g. Telegram's org.telegram.desktop._<md5>).
func (idx *catalogIndex) matchDesktopPattern(id string) *policy.CatalogEntry {
	for _, p := range idx.desktopPatterns {
		if !strings.HasPrefix(id, p.prefix) {
			continue
		}
		if ok, _ := path.Match(p.pattern, id); ok {
			return p.entry
		}
	}
	return nil
}

// claimsExec reports whether the program an Exec= line starts is one of
// the catalog's process names (/opt/viber/Viber): such a desktop file
// belongs to a catalog messenger under another file name and is not an
// unlisted app. It is not evidence by itself.
func (idx *catalogIndex) claimsExec(exec string) bool {
	prog, _, _ := strings.Cut(strings.TrimSpace(exec), " ")
	prog = strings.Trim(prog, `"`)
	if prog == "" || prog == "env" || strings.Contains(prog, "=") {
		return false
	}
	return idx.process[path.Base(prog)] != nil
}

// snapEntry looks up a snap name, also for parallel installs
// ("signal-desktop_work" is an instance of "signal-desktop").
func (idx *catalogIndex) snapEntry(instance string) (*policy.CatalogEntry, string) {
	name, _, _ := strings.Cut(instance, "_")
	return idx.snap[name], name
}
