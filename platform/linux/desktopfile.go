package linux

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// maxDesktopFile caps one .desktop file. Real ones are a few kilobytes;
// those with many translations reach about 40 kB.
const maxDesktopFile = 256 << 10

// maxCategories caps how many Categories= entries are looked at. Real
// files list fewer than ten; the registered categories of the Desktop Menu
// Specification are about 150 in all.
const maxCategories = 64

// maxUnlistedName caps the Name= an unlisted app is reported under: the
// file may be written by the user.
const maxUnlistedName = 80

// snapDesktopDir is where snapd installs each snap app's desktop file as
// <snap>_<app>.desktop, with X-SnapInstanceName inserted (snapd
// wrappers/desktop.go).
const snapDesktopDir = "var/lib/snapd/desktop/applications"

// systemDesktopDirs are the system-wide application directories: the
// XDG_DATA_DIRS defaults plus Flatpak's and snapd's export directories
// (XDG Base Directory and Desktop Entry specifications).
func systemDesktopDirs() []string {
	return []string{
		"usr/share/applications",
		"usr/local/share/applications",
		"var/lib/flatpak/exports/share/applications",
		snapDesktopDir,
	}
}

// userDesktopDirs are below a home: $XDG_DATA_HOME/applications (where
// Chrome, Chromium, Edge and Brave put installed web apps) and the per-user
// Flatpak exports.
func userDesktopDirs() []string {
	return []string{
		".local/share/applications",
		".local/share/flatpak/exports/share/applications",
	}
}

// scanSystemDesktopFiles matches the .desktop files of the system-wide
// application directories (scanUserDesktopFiles: of one home) by name
// against the catalog and by content for browser-installed web apps (a
// WhatsApp Web PWA).
func (c *collector) scanSystemDesktopFiles(ctx context.Context) {
	for _, dir := range systemDesktopDirs() {
		if ctx.Err() != nil {
			return
		}
		entries, truncated, err := c.list(dir)
		c.scanDesktopDir(dir, "", entries, truncated, err)
	}
}

// scanUserDesktopFiles scans one home's application directories.
func (c *collector) scanUserDesktopFiles(ctx context.Context, v *homeView) {
	for _, d := range userDesktopDirs() {
		if ctx.Err() != nil {
			return
		}
		dir := v.rel + "/" + d
		if err := v.plainDir(dir); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				c.problem("desktop", dir, "application directory not read: "+describeErr(err))
			}
			continue
		}
		entries, truncated, err := v.list(dir)
		c.scanDesktopDir(dir, v.user, entries, truncated, err)
	}
}

// scanDesktopDir inspects a listed application directory. user is empty
// for system directories. Files directly in a directory checked with
// plainDir are read with platform.ReadFile, which refuses a final link.
func (c *collector) scanDesktopDir(dir, user string, entries []fs.DirEntry, truncated bool, err error) {
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.problem("desktop", dir, "application directory not read: "+describeErr(err))
		}
		return
	}
	if truncated {
		c.problem("desktop", dir, fmt.Sprintf("more than %d entries; the rest were not read", c.maxEntries))
	}
	for _, de := range entries {
		if strings.HasSuffix(de.Name(), ".desktop") {
			c.desktopFile(dir, de, user)
		}
	}
}

// desktopFile inspects one .desktop file. Only regular files are read: a
// FIFO or device named like a .desktop file is refused and reported, a
// link is not followed (and reported when it sits in a home under a
// messenger's name).
func (c *collector) desktopFile(dir string, de fs.DirEntry, user string) {
	name := de.Name()
	p := dir + "/" + name
	byName := c.desktopNameMatch(dir, strings.TrimSuffix(name, ".desktop"))
	typ := de.Type()
	switch {
	case typ.IsDir():
		return
	case typ&fs.ModeSymlink != 0:
		// Links in the root-owned system directories are packaging
		// (aliases of a file that is scanned anyway); in a home, a link
		// named like a messenger's entry is worth a note.
		if byName != nil && user != "" {
			c.problem("desktop", p, "not followed: symbolic link")
		}
		return
	case !typ.IsRegular():
		c.problem("desktop", p, "not read: not a regular file")
		return
	}
	b, err := platform.ReadListed(c.fsys, p, typ, maxDesktopFile, c.buf)
	c.buf = b[:0]
	if err != nil {
		c.problem("desktop", p, "not read: "+describeErr(err))
		return
	}
	d, err := parseDesktopEntry(b)
	if err != nil || d.Hidden {
		// Not a desktop entry, or Hidden=true, which the Desktop Entry
		// specification defines as "deleted".
		return
	}
	if d.TooManyCategories {
		c.problem("desktop", p, fmt.Sprintf("more than %d categories; only the first %d were looked at", maxCategories, maxCategories))
	}
	matches := c.desktopMatches(byName, d, name)
	for _, e := range matches {
		c.add(e, sourceDesktop, user, "", "/"+p)
	}
	if len(matches) == 0 && d.MessengerCategory && d.Type == "Application" && !c.idx.claimsExec(d.Exec) {
		c.addUnlisted(dir, name, user, d.Name)
	}
}

// addUnlisted records an application whose desktop file declares it a
// messenger (Categories InstantMessaging, Chat or IRCClient) but that no
// catalog entry claims. It is reported under its desktop file id, which
// the policy's unlisted.apps names; its Name= only labels it.
func (c *collector) addUnlisted(dir, fileName, user, name string) {
	id := strings.TrimSuffix(fileName, ".desktop")
	label := platform.Printable(name, maxUnlistedName)
	if label == "" {
		label = id
	}
	c.items = append(c.items, policy.Messenger{
		ID: policy.UnlistedID, Name: label, Source: sourceDesktop, User: user, Location: id,
	})
}

// desktopNameMatch matches a desktop file id against the catalog's desktop
// names (and Flatpak ids). In snapd's directory the id is <snap>_<app>.
func (c *collector) desktopNameMatch(dir, id string) *policy.CatalogEntry {
	if e := c.idx.desktop[id]; e != nil {
		return e
	}
	if e := c.idx.matchDesktopPattern(id); e != nil {
		return e
	}
	if dir == snapDesktopDir {
		snap, app, _ := strings.Cut(id, "_")
		if e, _ := c.idx.snapEntry(snap); e != nil {
			return e
		}
		return c.idx.desktop[app]
	}
	return nil
}

// desktopMatches returns the catalog entries a desktop entry points to:
// by file name, by X-Flatpak / X-SnapInstanceName, by a URL in Exec=
// ("chromium --app=https://web.whatsapp.com/"), by a Chromium --app window
// class (StartupWMClass=web.whatsapp.com), and for browser-installed web
// apps (Exec= with --app-id=, or a chrome-<id>-<profile>.desktop file
// name) by their Name=.
func (c *collector) desktopMatches(byName *policy.CatalogEntry, d desktopEntry, fileName string) []*policy.CatalogEntry {
	var out []*policy.CatalogEntry
	addE := func(e *policy.CatalogEntry) {
		if e != nil && !containsEntry(out, e) {
			out = append(out, e)
		}
	}
	addE(byName)
	if d.Flatpak != "" {
		addE(c.idx.flatpak[d.Flatpak])
	}
	if d.Snap != "" {
		e, _ := c.idx.snapEntry(d.Snap)
		addE(e)
	}
	webApp := browserAppFileName(strings.TrimSuffix(fileName, ".desktop"))
	for _, arg := range splitExec(d.Exec) {
		switch {
		case strings.HasPrefix(arg, "--app-id="):
			webApp = true
		case strings.HasPrefix(arg, "--app="):
			addE(c.idx.matchURL(strings.TrimPrefix(arg, "--app=")))
		case strings.Contains(arg, "://"):
			addE(c.idx.matchURL(arg))
		}
	}
	if d.WMClass != "" {
		addE(c.idx.matchHost(d.WMClass))
	}
	if webApp {
		addE(c.idx.names[normalizeAppName(d.Name)])
	}
	return out
}

func containsEntry(list []*policy.CatalogEntry, e *policy.CatalogEntry) bool {
	for _, x := range list {
		if x == e {
			return true
		}
	}
	return false
}

// browserAppFileName reports whether a desktop file id has the shape
// Chromium-based browsers give installed web apps:
// <browser>-<32-letter app id>-<profile>, e.g.
// chrome-hnpfjngllnobngcgfapefoaidbinmjnm-Default (app ids use the letters
// a–p, Chromium components/crx_file/id_util).
func browserAppFileName(id string) bool {
	browser, rest, ok := strings.Cut(id, "-")
	if !ok || browser == "" || len(rest) < 34 || rest[32] != '-' {
		return false
	}
	for i := range 32 {
		if rest[i] < 'a' || rest[i] > 'p' {
			return false
		}
	}
	return true
}

// desktopEntry holds the keys of a [Desktop Entry] group the inventory
// uses. Localised keys (Name[de]) are ignored.
type desktopEntry struct {
	Type, Name, Exec, WMClass string
	Flatpak, Snap             string
	Hidden                    bool
	// MessengerCategory is set when Categories= holds InstantMessaging,
	// Chat or IRCClient (Desktop Menu Specification, "Additional
	// Categories": all three are sub-categories of Network).
	MessengerCategory bool
	// TooManyCategories is set when Categories= held more than
	// maxCategories entries; the rest were not looked at.
	TooManyCategories bool
}

// errNoDesktopEntry is returned for a file without a [Desktop Entry] group.
var errNoDesktopEntry = errors.New("no [Desktop Entry] group")

// parseDesktopEntry parses the [Desktop Entry] group of a desktop file
// (freedesktop.org Desktop Entry Specification 1.5: "Key=Value" lines,
// '#' comments, groups in brackets; the first occurrence of a key wins).
func parseDesktopEntry(b []byte) (desktopEntry, error) {
	var d desktopEntry
	inGroup, found := false, false
	seen := 0
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		// Skip at once the lines that cannot hold a wanted key: most of a
		// desktop file is comments and Name[xx]=/Comment[xx]= translations.
		if line[0] != '[' && !wantedKeyStart(line) {
			continue
		}
		if line[0] == '[' {
			if found && inGroup {
				break // the group ended; later groups are actions
			}
			inGroup = string(line) == "[Desktop Entry]"
			found = found || inGroup
			continue
		}
		if !inGroup {
			continue
		}
		k, v, ok := bytes.Cut(line, []byte("="))
		if !ok {
			continue
		}
		k = bytes.TrimSpace(k)
		v = bytes.TrimSpace(v)
		bit, dst := desktopKey(&d, k)
		if dst == nil && bit != keyHidden && bit != keyCategories {
			continue
		}
		if seen&bit != 0 {
			continue
		}
		seen |= bit
		if bit == keyHidden {
			d.Hidden = string(v) == "true"
			continue
		}
		if bit == keyCategories {
			d.MessengerCategory, d.TooManyCategories = messengerCategories(v)
			continue
		}
		*dst = unescapeDesktopString(v)
	}
	if !found {
		return desktopEntry{}, errNoDesktopEntry
	}
	return d, nil
}

// wantedKeyStart reports whether a line may hold one of desktopKey's keys:
// it starts with one's first letter and is not a localised key.
func wantedKeyStart(line []byte) bool {
	switch line[0] {
	case 'T', 'N', 'E', 'S', 'X', 'H', 'C':
	default:
		return false
	}
	eq := bytes.IndexByte(line, '=')
	return eq > 0 && bytes.IndexByte(line[:eq], '[') < 0
}

const (
	keyType = 1 << iota
	keyName
	keyExec
	keyWMClass
	keyFlatpak
	keySnap
	keyHidden
	keyCategories
)

func desktopKey(d *desktopEntry, k []byte) (int, *string) {
	switch string(k) {
	case "Type":
		return keyType, &d.Type
	case "Name":
		return keyName, &d.Name
	case "Exec":
		return keyExec, &d.Exec
	case "StartupWMClass":
		return keyWMClass, &d.WMClass
	case "X-Flatpak":
		return keyFlatpak, &d.Flatpak
	case "X-SnapInstanceName":
		return keySnap, &d.Snap
	case "Hidden":
		return keyHidden, nil
	case "Categories":
		return keyCategories, nil
	}
	return 0, nil
}

// messengerCategories reports whether a Categories= value ("a;b;c;") names
// one of the messenger categories among its first maxCategories entries,
// and whether it had more than that. It does not allocate.
func messengerCategories(v []byte) (messenger, tooMany bool) {
	for n := 0; len(v) > 0; n++ {
		if n == maxCategories {
			return messenger, true
		}
		var cat []byte
		cat, v, _ = bytes.Cut(v, []byte(";"))
		switch string(bytes.TrimSpace(cat)) {
		case "InstantMessaging", "Chat", "IRCClient":
			messenger = true
		}
	}
	return messenger, false
}

// unescapeDesktopString applies the specification's string escapes \s \n
// \t \r \\.
func unescapeDesktopString(v []byte) string {
	if bytes.IndexByte(v, '\\') < 0 {
		return string(v)
	}
	var sb strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '\\' || i+1 == len(v) {
			sb.WriteByte(v[i])
			continue
		}
		i++
		switch v[i] {
		case 's':
			sb.WriteByte(' ')
		case 'n':
			sb.WriteByte('\n')
		case 't':
			sb.WriteByte('\t')
		case 'r':
			sb.WriteByte('\r')
		case '\\':
			sb.WriteByte('\\')
		default:
			sb.WriteByte('\\')
			sb.WriteByte(v[i])
		}
	}
	return sb.String()
}

// splitExec splits an Exec= value into arguments: separated by spaces,
// double-quoted arguments may contain spaces, and inside quotes a
// backslash escapes ", `, $ and \ (Desktop Entry Specification, "The Exec
// key").
func splitExec(s string) []string {
	var (
		args   []string
		cur    strings.Builder
		quoted bool
		inArg  bool
	)
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quoted && ch == '\\' && i+1 < len(s) && strings.IndexByte("\"`$\\", s[i+1]) >= 0:
			i++
			cur.WriteByte(s[i])
		case ch == '"':
			quoted = !quoted
			inArg = true
		case !quoted && (ch == ' ' || ch == '\t'):
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteByte(ch)
			inArg = true
		}
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args
}
