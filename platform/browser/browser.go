// Package browser answers which catalog messengers a user has signed in to
// inside a web browser, and which of them are installed as browser web
// apps. It is pure: it reads a root filesystem (fs.FS) through the
// platform package's capped, link-refusing readers, and the per-OS packages
// (platform/linux, darwin, windows) hand it their users' homes.
//
// Evidence is the NAME of a per-origin storage folder, never its content:
// Chromium-family browsers keep a site's IndexedDB in
// <profile>/IndexedDB/https_<host>_0.indexeddb.leveldb and Firefox keeps a
// site's storage in <profile>/storage/default/https+++<host>. Web clients
// such as WhatsApp Web keep their session in IndexedDB, so the folder
// exists for every browser profile that has used the client. Only the
// catalog's origins are looked up; no other folder name is kept, logged or
// reported.
package browser

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// Evidence sources, as documented on policy.Messenger.Source.
const (
	// SourceBrowser is a signed-in (or once used) web client in a browser
	// profile.
	SourceBrowser = policy.SourceBrowser
	// SourceWebApp is a web app installed from a browser (a macOS app shim,
	// a Windows Start-menu shortcut).
	SourceWebApp = policy.SourceWebApp
)

// Limits. A browser folder in a user's home is the user's to fill: each
// listing and read is capped so that a hostile home costs bounded time and
// memory.
const (
	// MaxEntries bounds each directory listing. Real IndexedDB folders
	// hold tens to a few hundred origins.
	MaxEntries = 4096
	// maxProfiles bounds the profiles inspected per browser.
	maxProfiles = 64
	// maxINISize caps profiles.ini (a few hundred bytes in practice).
	maxINISize = 64 << 10
	// maxLabel caps a profile name taken from profiles.ini.
	maxLabel = 64
)

// Engine is a browser's storage layout.
type Engine int

const (
	// Chromium is Chrome, Chromium, Edge, Brave, Vivaldi and Opera: a
	// user-data folder holding profile folders ("Default", "Profile 1").
	Chromium Engine = iota + 1
	// Firefox is a folder with profiles.ini naming the profile folders.
	Firefox
)

// Install is one place a browser keeps its data, relative to a home.
type Install struct {
	// Name is shown in evidence ("Chrome", "Chromium (snap)").
	Name   string
	Engine Engine
	// Dir is the user-data folder (Chromium) or the folder holding
	// profiles.ini (Firefox), relative to the home, slash-separated.
	Dir string
	// RootProfile marks a Chromium browser whose user-data folder is itself
	// the profile (Opera keeps IndexedDB directly in "Opera Stable").
	RootProfile bool
}

// Index holds the catalog's web identifiers in lookup form.
type Index struct {
	chromium map[string]*policy.CatalogEntry // IndexedDB folder name
	firefox  map[string]*policy.CatalogEntry // storage/default folder name
	hosts    map[string]*policy.CatalogEntry
	apps     map[string]*policy.CatalogEntry // Chromium app id
	// names in catalog order, for the one-by-one lookup of a folder too
	// large to list.
	chromiumNames, firefoxNames []string
}

// NewIndex indexes cat's web origins and web apps.
func NewIndex(cat *policy.Catalog) *Index {
	x := &Index{chromium: map[string]*policy.CatalogEntry{}, firefox: map[string]*policy.CatalogEntry{},
		hosts: map[string]*policy.CatalogEntry{}, apps: map[string]*policy.CatalogEntry{}}
	if cat == nil {
		return x
	}
	for i := range cat.Messengers {
		e := &cat.Messengers[i]
		for _, o := range e.Web.Origins {
			o = strings.ToLower(o)
			if o == "" || x.hosts[o] != nil {
				continue
			}
			x.hosts[o] = e
			c, f := ChromiumIndexedDBName(o), FirefoxStorageName(o)
			x.chromium[c], x.firefox[f] = e, e
			x.chromiumNames = append(x.chromiumNames, c)
			x.firefoxNames = append(x.firefoxNames, f)
		}
		for _, u := range e.Web.AppURLs {
			if id := AppID(u); x.apps[id] == nil {
				x.apps[id] = e
			}
		}
		for _, id := range e.Web.AppIDs {
			if x.apps[id] == nil {
				x.apps[id] = e
			}
		}
	}
	return x
}

// Empty reports whether the catalog names no web identifiers at all.
func (x *Index) Empty() bool { return len(x.hosts) == 0 && len(x.apps) == 0 }

// ChromiumIndexedDBName is the folder Chromium gives an https origin's
// IndexedDB: the origin identifier "https_<host>_0" (port 0 for the
// scheme's default; storage/common/database/database_identifier.cc) with
// ".indexeddb.leveldb" (content/browser/indexed_db, kIndexedDBExtension and
// kLevelDBExtension).
func ChromiumIndexedDBName(host string) string {
	return "https_" + host + "_0.indexeddb.leveldb"
}

// FirefoxStorageName is the folder Firefox gives an https origin under
// storage/default: the origin with ':' and '/' replaced by '+'
// (dom/quota/ActorsParent.cpp, MakeSanitizedOriginString).
func FirefoxStorageName(host string) string {
	return "https+++" + host
}

// firefoxOrigin strips origin attributes from a storage folder name:
// Firefox appends "^userContextId=2" for a container tab and
// "^privateBrowsingId=1" for private windows (caps/OriginAttributes.cpp).
func firefoxOrigin(name string) string {
	if i := strings.IndexByte(name, '^'); i >= 0 {
		return name[:i]
	}
	return name
}

// App returns the catalog entry of a Chromium web app with the given app id
// or start URL (either may be ""), or nil. A start URL matches by its host
// against the catalog's origins.
func (x *Index) App(appID, startURL string) *policy.CatalogEntry {
	if e := x.apps[appID]; appID != "" && e != nil {
		return e
	}
	if startURL == "" {
		return nil
	}
	rest, ok := strings.CutPrefix(strings.ToLower(startURL), "https://")
	if !ok {
		return nil
	}
	host := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host = rest[:i]
	}
	return x.hosts[host]
}

// Inspector looks through browser profiles below users' homes.
type Inspector struct {
	FS    fs.FS
	Index *Index
	// Installs are the browsers' data folders on this OS (Installs(goos)).
	Installs []Install
	// Problem records something that could not or would not be read, at a
	// root-relative path. Messages never quote file content.
	Problem func(path, msg string)
	// Abs maps an absolute path written in profiles.ini to a root-relative
	// path; ok is false for a path outside the inspected root. nil refuses
	// every absolute path.
	Abs func(p string) (rel string, ok bool)
	// MaxEntries bounds each directory listing; 0 means MaxEntries.
	MaxEntries int
	// Memo, when set, remembers across scans which catalog origins each
	// unchanged site-storage folder holds, and which browser and profile
	// folders each unchanged parent folder holds (platform.DirMemo).
	Memo *platform.DirMemo

	shared []sharedParent
	// ini holds, per install, the path of Firefox's profiles.ini below the
	// home ("" for Chromium), made once rather than per home.
	ini []string
}

// sharedParent is a folder (relative to a home) that holds the folders of
// several browsers; names maps their names in it to their paths below the
// home.
type sharedParent struct {
	dir   string
	names map[string]string
}

// sharedParents lists the folders that are the parent of two or more
// distinct install-path components.
func sharedParents(installs []Install) []sharedParent {
	kids := map[string]map[string]string{}
	var order []string
	for _, inst := range installs {
		parent := ""
		for part := range strings.SplitSeq(inst.Dir, "/") {
			cur := path.Join(parent, part)
			if parent != "" { // the home itself is never listed
				if kids[parent] == nil {
					kids[parent] = map[string]string{}
					order = append(order, parent)
				}
				kids[parent][part] = cur
			}
			parent = cur
		}
	}
	out := []sharedParent{}
	for _, p := range order {
		if len(kids[p]) >= 2 {
			out = append(out, sharedParent{dir: p, names: kids[p]})
		}
	}
	return out
}

// Prepare computes what every home's inspection shares (the folders that
// hold several browsers' folders, the paths of profiles.ini). Home calls
// it; a caller that copies one Inspector per home, to run homes
// concurrently, calls it once before.
func (in *Inspector) Prepare() {
	if in.shared == nil {
		in.shared = sharedParents(in.Installs)
	}
	if len(in.ini) != len(in.Installs) {
		in.ini = make([]string, len(in.Installs))
		for i, inst := range in.Installs {
			if inst.Engine == Firefox {
				in.ini[i] = inst.Dir + "/profiles.ini"
			}
		}
	}
}

// Home returns the evidence found in one user's browsers. home is the
// root-relative home ("home/alice", "Users/alice").
func (in *Inspector) Home(ctx context.Context, user, home string) []policy.Messenger {
	if in.Index == nil || in.Index.Empty() || home == "" || home == "." {
		return nil
	}
	in.Prepare()
	w := getWalk(in, user, home)
	defer putWalk(w)
	// One look at a folder that holds several browsers' folders (~/.config,
	// ~/Library/Application Support, %LOCALAPPDATA%) answers for all of
	// them: on most homes most browsers are absent.
	for i := range in.shared {
		sp := &in.shared[i]
		if !w.plainDir(sp.dir, "browser folder") {
			continue
		}
		relevant := func(n string) (string, bool) { p, ok := sp.names[n]; return p, ok }
		if _, complete := w.children(sp.dir, "browser folder", relevant); complete {
			w.complete[sp.dir] = sp.names
		}
	}
	for i, inst := range in.Installs {
		if ctx.Err() != nil {
			break
		}
		dir := inst.Dir
		// With the service's memo, a browser whose folders are all
		// unchanged is answered without checking each path component
		// (see remembered); everything else is checked first.
		w.optimistic = w.rememberedInstall(inst, dir, in.ini[i])
		if !w.optimistic && !w.plainDir(dir, inst.Name+" data folder") {
			continue
		}
		switch inst.Engine {
		case Chromium:
			w.chromium(inst, dir)
		case Firefox:
			w.firefox(inst, dir, in.ini[i])
		}
	}
	return w.found
}

// walk is one home's inspection. Every path it handles is relative to the
// home: the install paths are then the catalog's own strings, and looking
// one up joins nothing (platform.LstatBelow, DirMemo's keys).
type walk struct {
	in         *Inspector
	user, home string
	// kinds caches what is known of each path looked at: its type, and
	// its identity when an lstat said it (platform.Ident); absentIdent for
	// a path that does not exist. ~/.config is checked once for all
	// browsers.
	kinds map[string]platform.Ident
	// complete holds folders whose children named in the value are all in
	// kinds: a name missing there is absent without an lstat.
	complete map[string]map[string]string
	found    []policy.Messenger
	// optimistic is set while an install is walked whose folder was not
	// checked with plainDir (rememberedInstall): before anything below it
	// is listed or read, that path is checked from the home down.
	optimistic bool
}

// walks keeps walks, with their maps' storage, from one home to the next:
// a scan inspects every home, and a warm scan otherwise spends as much on
// growing these maps as on its system calls.
var walks = sync.Pool{New: func() any {
	return &walk{kinds: map[string]platform.Ident{}, complete: map[string]map[string]string{}}
}}

func getWalk(in *Inspector, user, home string) *walk {
	w := walks.Get().(*walk)
	w.in, w.user, w.home = in, user, home
	return w
}

// putWalk empties w (the found evidence now belongs to the caller) and
// returns it to the pool.
func putWalk(w *walk) {
	clear(w.kinds)
	clear(w.complete)
	*w = walk{kinds: w.kinds, complete: w.complete}
	walks.Put(w)
}

// absentIdent marks a cached path that does not exist.
var absentIdent = platform.Ident{Mode: fs.ModeIrregular | fs.ModeTemporary}

// remembered reports whether the memo holds a result for dir as it is now:
// one Lstat of the whole path, without checking each component for links.
// That is safe because a remembered result reads nothing: it is what the
// folder with this device, inode and times held when it was last listed —
// through checked components, since only such listings are remembered —
// and an unchanged identity means unchanged entries, wherever the path now
// leads. A miss leaves the caller to check the path and list it.
func (w *walk) remembered(dir string) (platform.Ident, bool) {
	if w.in.Memo == nil {
		return platform.Ident{}, false
	}
	id, err := platform.LstatBelow(w.in.FS, w.home, dir)
	if err != nil {
		return platform.Ident{}, false
	}
	if _, ok := w.in.Memo.Get(w.home, dir, id); !ok {
		return platform.Ident{}, false
	}
	return id, true
}

// rememberedInstall reports whether an install's top folder (a Chromium
// user-data folder, Firefox's profiles.ini) is remembered unchanged; the
// walk then starts optimistic and checks paths only before it lists.
func (w *walk) rememberedInstall(inst Install, dir, ini string) bool {
	if w.in.Memo == nil || w.knownAbsent(dir) {
		return false // most browsers are absent: no system call for them
	}
	key := dir
	if inst.Engine == Firefox {
		key = ini
	}
	id, ok := w.remembered(key)
	if ok {
		w.kinds[key] = id
	}
	return ok
}

// checked is called before listing or reading below dir: on an optimistic
// walk it checks dir from the home down, as plainDir does.
func (w *walk) checked(dir, what string) bool {
	return !w.optimistic || w.plainDir(dir, what)
}

// child is a folder entry's name, path below the home and type.
type child struct {
	name, path string
	mode       fs.FileMode
}

// identOf returns what an lstat says of dir, from the cache when an lstat
// already said it; ok is false when dir cannot be looked at, or when there
// is no memo: the identity only keys the memo, and a one-shot scan would
// pay an lstat per listed folder and per profiles.ini for nothing.
func (w *walk) identOf(dir string) (platform.Ident, bool) {
	if w.in.Memo == nil {
		return platform.Ident{}, false
	}
	if id, ok := w.kinds[dir]; ok && id.Identified() {
		return id, true
	}
	id, err := platform.LstatBelow(w.in.FS, w.home, dir)
	return id, err == nil
}

// children returns dir's entries that relevant accepts (giving their path
// below the home), with their types, and records the types in kinds. An
// unchanged dir is answered from the memo; otherwise it is listed (at most
// max entries) and the relevant names, never the others, are remembered.
// complete reports whether every entry was seen.
func (w *walk) children(dir, what string, relevant func(name string) (string, bool)) (kids []child, complete bool) {
	id, _ := w.identOf(dir)
	if memo, ok := w.in.Memo.Get(w.home, dir, id); ok {
		for _, m := range memo {
			c := child{name: m[1:], mode: modeOf(m[0])}
			c.path, _ = relevant(c.name)
			w.kinds[c.path] = platform.Ident{Mode: c.mode}
			kids = append(kids, c)
		}
		return kids, true
	}
	began := w.in.Memo.Begin()
	entries, truncated, listed := w.listOnly(dir, what)
	var memo []string
	for _, e := range entries {
		p, ok := relevant(e.Name())
		if !ok {
			continue
		}
		c := child{name: e.Name(), path: p, mode: e.Type()}
		w.kinds[p] = platform.Ident{Mode: c.mode}
		kids = append(kids, c)
		memo = append(memo, string(tagOf(c.mode))+c.name)
	}
	if listed && !truncated {
		w.in.Memo.Put(w.home, dir, id, began, memo)
	}
	return kids, !truncated
}

// tagOf and modeOf code an entry's type in one byte for the memo.
func tagOf(m fs.FileMode) byte {
	switch {
	case m&fs.ModeSymlink != 0:
		return 'l'
	case m&fs.ModeIrregular != 0:
		return 'i'
	case m.IsDir():
		return 'd'
	}
	return 'f'
}

func modeOf(tag byte) fs.FileMode {
	switch tag {
	case 'l':
		return fs.ModeSymlink
	case 'i':
		return fs.ModeIrregular
	case 'd':
		return fs.ModeDir
	}
	return 0
}

func (w *walk) max() int {
	if w.in.MaxEntries > 0 {
		return w.in.MaxEntries
	}
	return MaxEntries
}

// problem records a problem at p, a path below the home.
func (w *walk) problem(p, msg string) {
	if w.in.Problem != nil {
		w.in.Problem(w.home+"/"+p, msg)
	}
}

// cached returns what the walk already knows of p without a system call:
// its type (known), or that it does not exist (absent).
func (w *walk) cached(p string) (m fs.FileMode, known, absent bool) {
	if id, ok := w.kinds[p]; ok {
		if id == absentIdent {
			return 0, false, true
		}
		return id.Mode, true, false
	}
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		if names, ok := w.complete[p[:i]]; ok {
			if _, listed := names[p[i+1:]]; listed {
				return 0, false, true
			}
		}
	}
	return 0, false, false
}

// knownAbsent reports whether a component of p is known not to exist.
func (w *walk) knownAbsent(p string) bool {
	for i := 1; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		if _, known, absent := w.cached(p[:i]); absent {
			return true
		} else if !known {
			return false
		}
	}
	return false
}

// errAbsent marks a path that does not exist (cached).
var errAbsent = fs.ErrNotExist

// lstat returns the type of p, cached; errAbsent when it does not exist.
func (w *walk) lstat(p string) (fs.FileMode, error) {
	if m, known, absent := w.cached(p); absent {
		return 0, errAbsent
	} else if known {
		return m, nil
	}
	id, err := platform.LstatBelow(w.in.FS, w.home, p)
	if errors.Is(err, fs.ErrNotExist) {
		w.kinds[p] = absentIdent
		return 0, errAbsent
	}
	if err != nil {
		return 0, err
	}
	w.kinds[p] = id
	return id.Mode, nil
}

// plainDir reports whether dir (below the home) is a directory reached
// without a symbolic link, junction or other reparse point. A link on the
// way is a problem, since it could lead into /etc or another user's home;
// an absent path is silently false. what names the folder in problems.
func (w *walk) plainDir(dir, what string) bool {
	if dir == "" || dir[0] == '/' {
		return false
	}
	// Each prefix of dir is a substring of it: no allocation per
	// component.
	for i := 1; i <= len(dir); i++ {
		if i < len(dir) && dir[i] != '/' {
			continue
		}
		cur := dir[:i]
		m, err := w.lstat(cur)
		switch {
		case errors.Is(err, errAbsent):
			return false
		case err != nil:
			w.problem(cur, what+" not looked at: "+describe(err))
			return false
		case m&(fs.ModeSymlink|fs.ModeIrregular) != 0:
			w.problem(cur, what+" not inspected: a symbolic link or reparse point below the home is not followed")
			return false
		case !m.IsDir():
			return false
		}
	}
	return true
}

// list reads at most max entries of dir (already checked by plainDir) and
// remembers their types, so that plainDir below dir needs no lstat.
func (w *walk) list(dir, what string) ([]fs.DirEntry, bool) {
	entries, truncated, _ := w.listOnly(dir, what)
	for _, e := range entries {
		w.kinds[dir+"/"+e.Name()] = platform.Ident{Mode: e.Type()}
	}
	return entries, truncated
}

// listOnly is list without remembering the entries: a site-storage folder
// holds one entry per site visited, and only the catalog's are wanted.
// listed is false when dir was not checked or not read: nothing about it
// may be remembered, so that the next scan looks, and reports, again.
func (w *walk) listOnly(dir, what string) (entries []fs.DirEntry, truncated, listed bool) {
	if !w.checked(dir, what) {
		return nil, false, false
	}
	entries, truncated, err := platform.ReadDir(w.in.FS, w.home+"/"+dir, w.max())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		w.problem(dir, what+" not read: "+describe(err))
	}
	return entries, truncated, err == nil
}

// chromium inspects a Chromium-family user-data folder: every profile
// folder ("Default", "Profile <n>"; chrome/browser/profiles/profile_manager.cc
// names new profiles "Profile " + a number), and for Opera the folder
// itself.
func (w *walk) chromium(inst Install, dir string) {
	if inst.RootProfile {
		w.chromiumProfile(inst, dir, "Default")
	}
	profile := func(n string) (string, bool) {
		if !chromiumProfileName(n) {
			return "", false
		}
		return dir + "/" + n, true
	}
	kids, complete := w.children(dir, inst.Name+" data folder", profile)
	if !complete {
		w.problem(dir, fmt.Sprintf("%s data folder has more than %d entries; only the first were looked at", inst.Name, w.max()))
	}
	n := 0
	for _, e := range kids {
		if e.mode&(fs.ModeSymlink|fs.ModeIrregular) != 0 {
			w.problem(e.path, inst.Name+" profile not inspected: it is a symbolic link or reparse point, which is not followed")
			continue
		}
		if !e.mode.IsDir() {
			continue
		}
		if n++; n > maxProfiles {
			w.problem(dir, fmt.Sprintf("%s has more than %d profiles; the rest were not inspected", inst.Name, maxProfiles))
			break
		}
		w.chromiumProfile(inst, e.path, e.name)
	}
}

// chromiumProfileName reports whether name is a Chromium profile folder.
func chromiumProfileName(name string) bool {
	if name == "Default" {
		return true
	}
	n, ok := strings.CutPrefix(name, "Profile ")
	if !ok || n == "" || len(n) > 6 {
		return false
	}
	_, err := strconv.Atoi(n)
	return err == nil && n[0] != '-' && n[0] != '+'
}

func (w *walk) chromiumProfile(inst Install, profile, label string) {
	idb := profile + "/IndexedDB"
	m, err := w.lstat(idb)
	switch {
	case errors.Is(err, errAbsent):
		return
	case err != nil:
		w.problem(idb, "site storage folder not looked at: "+describe(err))
		return
	case m&(fs.ModeSymlink|fs.ModeIrregular) != 0:
		w.problem(idb, "site storage folder not inspected: a symbolic link or reparse point is not followed")
		return
	case !m.IsDir():
		return
	}
	w.match(inst, idb, label, w.in.Index.chromium, w.in.Index.chromiumNames, func(n string) string { return n })
}

// match lists a site-storage folder and records each catalog origin whose
// folder it holds. When the folder has more entries than one listing may
// read, each catalog origin's folder is looked up by name instead, so that
// a folder with a hundred thousand entries costs one capped listing and a
// few dozen lookups, and misses nothing.
func (w *walk) match(inst Install, dir, label string, byName map[string]*policy.CatalogEntry, catalogNames []string, key func(string) string) {
	var seen []*policy.CatalogEntry // a few at most
	var names []string              // their folder names, for the memo
	hit := func(e *policy.CatalogEntry, name string) {
		if e == nil || slices.Contains(seen, e) {
			return
		}
		seen = append(seen, e)
		names = append(names, name)
		w.found = append(w.found, policy.Messenger{
			ID: e.ID, Name: e.Name, Variant: e.Variant, Source: SourceBrowser, User: w.user,
			Location: inst.Name + ", profile " + strconv.Quote(label),
		})
	}
	id, _ := w.identOf(dir)
	if memo, ok := w.in.Memo.Get(w.home, dir, id); ok {
		for _, n := range memo {
			hit(byName[n], n)
		}
		return
	}
	began := w.in.Memo.Begin()
	truncated, listed := false, false
	if w.checked(dir, "site storage folder") {
		// Only the catalog's origins are kept from a listing that may name
		// thousands of sites: ScanDir hands each name over without
		// allocating it, and a match is copied (and recorded after the
		// listing, so that the remembered path above needs no closure).
		type match struct {
			e    *policy.CatalogEntry
			name string
		}
		var matched []match
		var err error
		truncated, err = platform.ScanDir(w.in.FS, w.home+"/"+dir, w.max(), func(name string, typ fs.FileMode) {
			if !typ.IsDir() {
				return
			}
			if k := key(name); byName[k] != nil {
				matched = append(matched, match{byName[k], strings.Clone(k)})
			}
		})
		for _, m := range matched {
			hit(m.e, m.name)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			w.problem(dir, "site storage folder not read: "+describe(err))
		}
		listed = err == nil
	}
	if !listed {
		return // not checked or not read: looked at, and reported, again next scan
	}
	if !truncated {
		w.in.Memo.Put(w.home, dir, id, began, names)
		return
	}
	w.problem(dir, fmt.Sprintf("site storage folder has more than %d entries; the catalog's origins were looked up one by one", w.max()))
	for _, n := range catalogNames {
		if _, err := w.lstat(dir + "/" + n); err == nil {
			if m := w.kinds[dir+"/"+n]; m.Mode.IsDir() {
				hit(byName[n], n)
			}
		}
	}
}

// describe turns an error into a message without file content: the
// platform errors name the path and the reason only.
func describe(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
