package windows

import (
	"errors"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// Where classic installers register (osquery's `programs` table reads the
// same keys: HKLM, its WOW6432Node twin for 32-bit installers, and every
// user hive, because per-user installers such as Signal and Telegram write
// only to HKCU; fleetdm/fleet ee/maintained-apps/outputs/telegram/windows.json).
const (
	keyUninstall     = `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall`
	keyUninstallWOW  = `HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall`
	userKeyUninstall = `Software\Microsoft\Windows\CurrentVersion\Uninstall`
	// Fleet's Telegram uninstall script also searches the per-user
	// WOW6432Node twin (ee/maintained-apps/outputs/telegram/windows.json).
	userKeyUninstallWOW = `Software\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall`
	userKeyAppModel     = `Software\Classes\Local Settings\Software\Microsoft\Windows\CurrentVersion\AppModel\Repository\Packages`
	classesKeyAppModel  = `Local Settings\Software\Microsoft\Windows\CurrentVersion\AppModel\Repository\Packages`
	// AppxAllUserStore lists, per user SID, the packages registered to that
	// user; it lives in HKLM and so also covers users who are logged off.
	keyAppxAllUserStore = `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Appx\AppxAllUserStore`
	dirPackages         = "AppData/Local/Packages"
	dirWindowsApps      = "Program Files/WindowsApps"
	// maxDirEntries bounds directory listings (WindowsApps).
	maxDirEntries = 20_000
)

// Inventory sources.
const (
	sourceUninstall = "uninstall"
	sourceMSIX      = "msix"
	sourceDataDir   = "data-dir"
)

// matcher holds the catalog's Windows identifiers in lookup form.
type matcher struct {
	uninstall []uninstallRule
	msix      map[string]*policy.CatalogEntry // by lower-case PFN
	pfns      []string                        // catalog spelling, for disk lookups
	dataDirs  []dataDirRule
	// serviceDirs are aggregators' recipe folders (Ferdium, Franz).
	serviceDirs []dataDirRule
	procs       map[string]*policy.CatalogEntry // by lower-case name without .exe
}

type uninstallRule struct {
	entry     *policy.CatalogEntry
	name, pub string // lower-case path.Match patterns; pub may be ""
	// prefix is the literal start of name, checked before path.Match so
	// that 10,000 Uninstall keys against every rule stay cheap.
	prefix string
}

type dataDirRule struct {
	entry *policy.CatalogEntry
	dir   string
}

func newMatcher(cat *policy.Catalog, probs *problems) *matcher {
	m := &matcher{msix: map[string]*policy.CatalogEntry{}, procs: map[string]*policy.CatalogEntry{}}
	if cat == nil {
		return m
	}
	for i := range cat.Messengers {
		e := &cat.Messengers[i]
		w := e.Windows
		for _, u := range w.Uninstall {
			r := uninstallRule{entry: e, name: strings.ToLower(u.DisplayName), pub: strings.ToLower(u.Publisher)}
			r.prefix = r.name
			if i := strings.IndexAny(r.name, `*?[\`); i >= 0 {
				r.prefix = r.name[:i]
			}
			if _, err := path.Match(r.name, ""); err != nil {
				probs.addf("catalog", e.ID, "bad uninstall display_name pattern: %v", err)
				continue
			}
			if _, err := path.Match(r.pub, ""); err != nil {
				probs.addf("catalog", e.ID, "bad uninstall publisher pattern: %v", err)
				continue
			}
			m.uninstall = append(m.uninstall, r)
		}
		for _, pfn := range w.MSIX {
			if _, dup := m.msix[strings.ToLower(pfn)]; !dup {
				m.msix[strings.ToLower(pfn)] = e
				m.pfns = append(m.pfns, pfn)
			}
		}
		for _, d := range w.DataDirs {
			m.dataDirs = append(m.dataDirs, dataDirRule{entry: e, dir: strings.Trim(d, "/")})
		}
		for _, d := range w.ServiceDirs {
			m.serviceDirs = append(m.serviceDirs, dataDirRule{entry: e, dir: strings.Trim(d, "/")})
		}
		for _, p := range w.Processes {
			m.procs[procKey(p)] = e
		}
	}
	return m
}

// procKey normalises a process name: lower case, without ".exe".
func procKey(name string) string {
	return strings.TrimSuffix(strings.ToLower(name), ".exe")
}

// matchUninstall returns the catalog entry whose rule matches an Uninstall
// entry. DisplayName and Publisher compare case-insensitively as
// path.Match patterns (Fleet matches `name = 'Signal' AND publisher =
// 'Signal Messenger, LLC'`, fleetdm/fleet ee/maintained-apps/outputs/signal/windows.json).
func (m *matcher) matchUninstall(name, pub string) *policy.CatalogEntry {
	name, pub = strings.ToLower(strings.TrimSpace(name)), strings.ToLower(strings.TrimSpace(pub))
	for _, r := range m.uninstall {
		if !strings.HasPrefix(name, r.prefix) {
			continue
		}
		if ok, _ := path.Match(r.name, name); !ok {
			continue
		}
		if r.pub != "" {
			if ok, _ := path.Match(r.pub, pub); !ok {
				continue
			}
		}
		return r.entry
	}
	return nil
}

// messenger builds one piece of evidence. The version is capped and
// cleaned: an HKCU uninstall key is the user's to write.
func messenger(e *policy.CatalogEntry, source, user, version, location string) policy.Messenger {
	return policy.Messenger{ID: e.ID, Name: e.Name, Variant: e.Variant, Source: source, User: user,
		Version: platform.Printable(version, platform.MaxVersionLen), Location: location}
}

// scanUninstall matches every subkey of an Uninstall key. key is where it
// is read, shown where it is reported (HKU\<SID>\... for a hive we loaded
// under another name).
func (s *scanner) scanUninstall(key, shown, user string) {
	subs, err := s.reg.SubKeys(key)
	if err != nil {
		if key == keyUninstall && len(subs) == 0 {
			// Core: HKLM's native Uninstall key is where every
			// machine-wide installer registers (Microsoft, "Uninstall
			// Registry Key"); Windows always has it. Not reading it leaves
			// no messenger shown absent, so the verdict is "could not
			// check" rather than a clean pass. (The WOW6432Node key is
			// missing on 32-bit Windows and stays an ordinary problem.)
			s.probs.AddCore(sourceUninstall, shown, "machine-wide installed programs not read: "+regReason(err))
			return
		}
		if !isNotExist(err) {
			s.probs.add(sourceUninstall, shown, err)
		}
		if len(subs) == 0 {
			return
		}
	}
	for _, sub := range subs {
		vals, err := s.reg.Values(key + `\` + sub)
		if err != nil {
			if !isNotExist(err) { // removed while we enumerate
				s.probs.add(sourceUninstall, shown+`\`+sub, err)
			}
			continue
		}
		s.uninstallEntry(vals, shown+`\`+sub, user)
	}
}

func (s *scanner) uninstallEntry(vals map[string]Value, shown, user string) {
	name, ok, err := stringValue(vals, "DisplayName")
	if err != nil {
		s.probs.add(sourceUninstall, shown, err)
		return
	}
	if !ok || strings.TrimSpace(name) == "" {
		return
	}
	pub, _, err := stringValue(vals, "Publisher")
	if err != nil {
		s.probs.add(sourceUninstall, shown, err)
	}
	e := s.m.matchUninstall(name, pub)
	if e == nil {
		return
	}
	ver, _, err := stringValue(vals, "DisplayVersion")
	if err != nil {
		s.probs.add(sourceUninstall, shown, err)
	}
	s.add(messenger(e, sourceUninstall, user, strings.TrimSpace(ver), shown))
}

// packageID is a parsed MSIX package full name.
type packageID struct {
	name, version, arch, resourceID, publisherID string
}

// family is the package family name: Name_PublisherId.
func (p packageID) family() string { return p.name + "_" + p.publisherID }

// parsePackageFullName splits Name_Version_Architecture_ResourceId_PublisherId
// (ResourceId may be empty or "~" for bundles), e.g.
// "5319275A.WhatsAppDesktop_2.2428.10.0_x64__cv1g1gvanyjgm". Package names
// cannot contain "_", so the split is unambiguous (Microsoft, "Package
// identity overview").
func parsePackageFullName(s string) (packageID, bool) {
	f := strings.Split(s, "_")
	if len(f) != 5 || f[0] == "" || f[1] == "" || f[4] == "" {
		return packageID{}, false
	}
	return packageID{name: f[0], version: f[1], arch: f[2], resourceID: f[3], publisherID: f[4]}, true
}

// msixHit is one catalog package found for one user.
type msixHit struct {
	entry    *policy.CatalogEntry
	version  string
	location string
}

// scanUserMSIX finds Store/MSIX packages for one user from the AppModel
// repository in the user's classes hive, the machine-wide AppxAllUserStore
// and the package data directories %LOCALAPPDATA%\Packages\<PFN>, merged
// into one entry per package family.
func (s *scanner) scanUserMSIX(p profile, h hive, seen map[string]bool) {
	hits := map[string]*msixHit{}
	if h.root != "" {
		s.msixKeys(h.root+`\`+userKeyAppModel, `HKU\`+p.sid+`\`+userKeyAppModel, hits)
	}
	if h.classes != "" {
		s.msixKeys(h.classes+`\`+classesKeyAppModel, h.classes+`\`+classesKeyAppModel, hits)
	}
	store := keyAppxAllUserStore + `\` + p.sid
	s.msixKeys(store, store, hits)
	if p.home != "" {
		s.msixDirs(p, hits)
	}
	for pfn, hit := range hits {
		seen[pfn] = true
		s.msixDirsSeen[strings.ToLower(hit.location)] = true
		s.add(messenger(hit.entry, sourceMSIX, p.user.Name, hit.version, hit.location))
	}
}

func (s *scanner) msixKeys(key, shown string, hits map[string]*msixHit) {
	subs, err := s.reg.SubKeys(key)
	if err != nil && !isNotExist(err) {
		s.probs.add(sourceMSIX, shown, err)
	}
	for _, full := range subs {
		id, ok := parsePackageFullName(full)
		if !ok {
			continue
		}
		pfn := strings.ToLower(id.family())
		e := s.m.msix[pfn]
		if e == nil {
			continue
		}
		if hit, ok := hits[pfn]; ok {
			if hit.version == "" {
				hit.version = id.version
			}
			continue
		}
		hits[pfn] = &msixHit{entry: e, version: id.version, location: shown + `\` + full}
	}
}

func (s *scanner) msixDirs(p profile, hits map[string]*msixHit) {
	for _, pfn := range s.m.pfns {
		rel := path.Join(p.home, dirPackages, pfn)
		ok, err := isPlainDir(s.h.Root, p.home, rel)
		if err != nil {
			s.probs.add(sourceMSIX, s.errPath(err, rel), err)
			continue
		}
		if !ok {
			continue
		}
		key := strings.ToLower(pfn)
		if hit, ok := hits[key]; ok {
			hit.location = s.winPath(rel) // the user's data directory is the clearer evidence
			continue
		}
		hits[key] = &msixHit{entry: s.m.msix[key], location: s.winPath(rel)}
	}
}

// errPath is the Windows form of the path an error names (the link that
// was refused), else of rel.
func (s *scanner) errPath(err error, rel string) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		rel = pe.Path
	}
	return s.winPath(rel)
}

// scanWindowsApps reports catalog packages staged in %ProgramFiles%\WindowsApps
// that no user scan attributed to a user: provisioned packages (installed
// for every new user) or packages of users whose profile could not be read.
func (s *scanner) scanWindowsApps(seen map[string]bool) {
	names, err := readDirNames(s.h.Root, dirWindowsApps, maxDirEntries)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.probs.add(sourceMSIX, s.winPath(dirWindowsApps), err)
		}
		if len(names) == 0 {
			return
		}
	}
	for _, full := range names {
		id, ok := parsePackageFullName(full)
		if !ok {
			continue
		}
		pfn := strings.ToLower(id.family())
		e := s.m.msix[pfn]
		if e == nil || seen[pfn] {
			continue
		}
		seen[pfn] = true
		s.add(messenger(e, sourceMSIX, "", id.version, s.winPath(path.Join(dirWindowsApps, full))))
	}
}

// readDirNames lists at most max names of dir, sorted; more returns the
// first max and an error, as does a listing cut short by a read error.
func readDirNames(fsys fs.FS, dir string, max int) ([]string, error) {
	entries, truncated, err := platform.ReadDir(fsys, dir, max)
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	sort.Strings(names)
	if err == nil && truncated {
		err = &fs.PathError{Op: "readdir", Path: dir, Err: errors.New("too many entries")}
	}
	return names, err
}

// scanDataDirs finds per-user installs that exist only on disk (Signal's
// %LOCALAPPDATA%\Programs\signal-desktop, Telegram's %APPDATA%\Telegram
// Desktop).
func (s *scanner) scanDataDirs(p profile) {
	if p.home == "" {
		return
	}
	var found map[*policy.CatalogEntry]bool
	for _, r := range s.m.dataDirs {
		rel := path.Join(p.home, r.dir)
		ok, err := isPlainDir(s.h.Root, p.home, rel)
		if err != nil {
			s.probs.add(sourceDataDir, s.errPath(err, rel), err)
			continue
		}
		// The catalog lists some package data directories as data dirs too;
		// they are already reported as the MSIX package.
		if ok && !s.msixDirsSeen[strings.ToLower(s.winPath(rel))] {
			s.add(messenger(r.entry, sourceDataDir, p.user.Name, "", s.winPath(rel)))
			if found == nil {
				found = map[*policy.CatalogEntry]bool{}
			}
			found[r.entry] = true
		}
	}
	s.scanServiceDirs(p, found)
}

// scanServiceDirs reports which services an aggregator (Ferdium, Franz) has
// set up for the user, from the folder names in its recipes folder (see
// platform.ServiceNames); only where its data folder was found.
func (s *scanner) scanServiceDirs(p profile, found map[*policy.CatalogEntry]bool) {
	for _, r := range s.m.serviceDirs {
		if !found[r.entry] {
			continue
		}
		rel := path.Join(p.home, r.dir)
		ok, err := isPlainDir(s.h.Root, p.home, rel)
		if err != nil {
			s.probs.add(sourceDataDir, s.errPath(err, rel), err)
			continue
		}
		if !ok {
			continue
		}
		entries, truncated, err := platform.ReadDir(s.h.Root, rel, maxDirEntries)
		if err != nil {
			s.probs.add(sourceDataDir, s.errPath(err, rel), err)
			continue
		}
		names, more := platform.ServiceNames(entries)
		if more || truncated {
			s.probs.add(sourceDataDir, s.winPath(rel), errors.New("more services than are listed; only the first were reported"))
		}
		m := messenger(r.entry, sourceDataDir, p.user.Name, "", s.winPath(rel))
		m.Services = strings.Join(names, ", ")
		s.add(m)
	}
}

// sortMessengers orders evidence deterministically and drops exact
// duplicates.
func sortMessengers(ms []policy.Messenger) []policy.Messenger {
	sort.Slice(ms, func(i, j int) bool {
		a, b := ms[i], ms[j]
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		if a.User != b.User {
			return a.User < b.User
		}
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		return a.Location < b.Location
	})
	out := ms[:0]
	for i, m := range ms {
		if i > 0 && m == ms[i-1] {
			continue
		}
		out = append(out, m)
	}
	return out
}
