package policy

import (
	_ "embed"
	"fmt"
	"path"
	"reflect"
	"regexp"
	"strings"
	"sync"
)

// catalogYAML is a string so that the embedded bytes are immutable.
//
//go:embed catalog.yaml
var catalogYAML string

// CatalogYAML returns the embedded catalog file as shipped.
func CatalogYAML() []byte {
	return []byte(catalogYAML)
}

// DefaultCatalog returns the embedded catalog. It builds a fresh value on
// every call, so callers may modify it. The value comes from Go code
// generated from catalog.yaml (default_gen.go, see generate.go); the error
// is always nil and stays for the callers' sake.
func DefaultCatalog() (*Catalog, error) {
	return genDefaultCatalog(), nil
}

// parseDefaultCatalog loads the embedded catalog.yaml: the source of the
// generated catalog, and what the tests compare it with.
func parseDefaultCatalog() (*Catalog, error) {
	return LoadCatalog("catalog.yaml", []byte(catalogYAML))
}

// LoadCatalog decodes and validates a catalog file strictly. Every problem
// is a *LoadError (see LoadErrors); several are joined.
func LoadCatalog(file string, data []byte) (*Catalog, error) {
	d := newDecoder(file)
	root := d.parseDocument(data)
	var c Catalog
	if root != nil {
		d.decode(root, reflect.ValueOf(&c).Elem(), "")
		if len(d.errs) == 0 {
			validateCatalog(d, &c, "", nil)
		}
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Messenger returns the entry with the given id, or nil.
func (c *Catalog) Messenger(id string) *CatalogEntry {
	for i := range c.Messengers {
		if c.Messengers[i].ID == id {
			return &c.Messengers[i]
		}
	}
	return nil
}

// Agent returns the agent signature with the given id, or nil.
func (c *Catalog) Agent(id string) *AgentSignature {
	for i := range c.Agents {
		if c.Agents[i].ID == id {
			return &c.Agents[i]
		}
	}
	return nil
}

// Family returns the entries of one family (see CatalogEntry.FamilyID), in
// catalog order.
func (c *Catalog) Family(family string) []*CatalogEntry {
	var out []*CatalogEntry
	for i := range c.Messengers {
		if c.Messengers[i].FamilyID() == family {
			out = append(out, &c.Messengers[i])
		}
	}
	return out
}

// IDs returns the messenger ids in catalog order.
func (c *Catalog) IDs() []string {
	out := make([]string, len(c.Messengers))
	for i, e := range c.Messengers {
		out[i] = e.ID
	}
	return out
}

// merge returns base followed by extra, as a new catalog.
func (c *Catalog) merge(extra *Catalog) *Catalog {
	out := &Catalog{
		Messengers: make([]CatalogEntry, 0, len(c.Messengers)+len(extra.Messengers)),
		Agents:     make([]AgentSignature, 0, len(c.Agents)+len(extra.Agents)),
	}
	out.Messengers = append(append(out.Messengers, c.Messengers...), extra.Messengers...)
	out.Agents = append(append(out.Agents, c.Agents...), extra.Agents...)
	return out
}

// idRe is the shape of messenger, family and agent ids: they appear in rule
// ids ("messenger.whatsapp-business") and on command lines.
var idRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`) })

// identifier is one exact identifier of a catalog entry, for the
// uniqueness check: two entries claiming the same Debian package would make
// detection ambiguous.
type identifier struct{ kind, value string }

// validateCatalog checks c and records errors on d under prefix
// ("" or "catalog."). base, when set, is the built-in catalog that c extends:
// ids and identifiers must not clash with it, because a policy must never
// silently redefine what "whatsapp" means.
func validateCatalog(d *decoder, c *Catalog, prefix string, base *Catalog) {
	ids := map[string]string{}       // id -> path
	owner := map[identifier]string{} // identifier -> id
	if base != nil {
		for _, e := range base.Messengers {
			ids[e.ID] = "built-in catalog"
			for _, idf := range entryIdentifiers(&e) {
				owner[idf] = e.ID
			}
		}
	}
	for i := range c.Messengers {
		e := &c.Messengers[i]
		p := fmt.Sprintf("%smessengers[%d]", prefix, i)
		validateEntry(d, e, p)
		if e.ID == "" {
			continue
		}
		if where, dup := ids[e.ID]; dup {
			d.add(d.at(p+".id"), p+".id", fmt.Sprintf("id %q is already defined (%s); choose another id", e.ID, where))
		} else {
			ids[e.ID] = p
		}
		for _, idf := range entryIdentifiers(e) {
			if other, dup := owner[idf]; dup && other != e.ID {
				d.add(d.at(p), p, fmt.Sprintf("%s %q is already claimed by %q; one identifier must map to one messenger", idf.kind, idf.value, other))
				continue
			}
			owner[idf] = e.ID
		}
	}
	agentIDs := map[string]string{}
	if base != nil {
		for _, a := range base.Agents {
			agentIDs[a.ID] = "built-in catalog"
		}
	}
	for i := range c.Agents {
		a := &c.Agents[i]
		p := fmt.Sprintf("%sagents[%d]", prefix, i)
		validateAgent(d, a, p)
		if a.ID == "" {
			continue
		}
		if where, dup := agentIDs[a.ID]; dup {
			d.add(d.at(p+".id"), p+".id", fmt.Sprintf("agent id %q is already defined (%s); choose another id", a.ID, where))
		} else {
			agentIDs[a.ID] = p
		}
	}
}

func validateEntry(d *decoder, e *CatalogEntry, p string) {
	switch {
	case e.ID == "":
		d.add(d.at(p), p+".id", "id is required")
	case !idRe().MatchString(e.ID):
		d.add(d.at(p+".id"), p+".id", fmt.Sprintf("id %q must be lower-case letters, digits and dashes", truncate(e.ID, 40)))
	case e.ID == SubjectDevice, e.ID == UnlistedID:
		// Findings about the whole device use subject "device", and
		// "unlisted" is the id of apps the catalog does not know; a
		// messenger with either id would collide with them.
		d.add(d.at(p+".id"), p+".id", fmt.Sprintf("id %q is reserved", e.ID))
	}
	if e.Kind != "" && e.Kind != KindAggregator {
		d.add(d.at(p+".kind"), p+".kind", fmt.Sprintf("unknown kind %q (leave it out for a messenger, or write %s)", truncate(e.Kind, 40), KindAggregator))
	}
	if e.Name == "" {
		d.add(d.at(p), p+".name", "name is required")
	}
	if e.Variant == "" {
		d.add(d.at(p), p+".variant", "variant is required (business, private or dual)")
	}
	if e.Family != "" && !idRe().MatchString(e.Family) {
		d.add(d.at(p+".family"), p+".family", fmt.Sprintf("family %q must be lower-case letters, digits and dashes", truncate(e.Family, 40)))
	}
	checkNonEmpty(d, p, e)
	for i, pat := range e.Linux.AppImage {
		checkPattern(d, fmt.Sprintf("%s.linux.appimage[%d]", p, i), pat)
	}
	for i, pat := range e.Linux.DesktopPatterns {
		pp := fmt.Sprintf("%s.linux.desktop_patterns[%d]", p, i)
		checkPattern(d, pp, pat)
		if strings.Trim(pat, "*?") == "" {
			// A pattern of wildcards only would claim every desktop file.
			d.add(d.at(pp), pp, fmt.Sprintf("pattern %q matches every name; it needs a literal part", truncate(pat, 40)))
		}
	}
	for i, pre := range e.IOS.BundlePrefixes {
		if pp := fmt.Sprintf("%s.ios.bundle_prefixes[%d]", p, i); !strings.HasSuffix(pre, ".") || strings.Count(pre, ".") < 2 {
			d.add(d.at(pp), pp, fmt.Sprintf("prefix %q must have at least two labels and end in \".\" (e.g. \"ch.threema.onprem.\")", truncate(pre, 40)))
		}
	}
	for i, u := range e.Windows.Uninstall {
		up := fmt.Sprintf("%s.windows.uninstall[%d]", p, i)
		if u.DisplayName == "" {
			d.add(d.at(up), up+".display_name", "display_name is required")
		}
		checkPattern(d, up+".display_name", u.DisplayName)
		checkPattern(d, up+".publisher", u.Publisher)
	}
	checkWeb(d, p, &e.Web)
	checkSources(d, p, e.Sources)
}

// originRe is a lower-case DNS host name: the form browsers use in the
// names of their per-origin storage folders.
var originRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)
})

// appIDRe is a Chromium app id: 32 letters a-p.
var appIDRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-p]{32}$`) })

// checkWeb checks the shape of web identifiers: an origin with a scheme
// or path, or an upper-case letter, would never match a storage folder.
func checkWeb(d *decoder, p string, w *WebIDs) {
	for i, o := range w.Origins {
		fp := fmt.Sprintf("%s.web.origins[%d]", p, i)
		if o != "" && (len(o) > 253 || !originRe().MatchString(o)) {
			d.add(d.at(fp), fp, fmt.Sprintf("origin %q must be a lower-case host name without scheme, port or path (e.g. web.whatsapp.com)", truncate(o, 40)))
		}
	}
	for i, u := range w.AppURLs {
		fp := fmt.Sprintf("%s.web.app_urls[%d]", p, i)
		if u != "" && (!strings.HasPrefix(u, "https://") || strings.ContainsAny(u, " \t\n#")) {
			d.add(d.at(fp), fp, fmt.Sprintf("app URL %q must be an https URL without fragment (the web app's manifest id or start URL)", truncate(u, 40)))
		}
	}
	for i, id := range w.AppIDs {
		fp := fmt.Sprintf("%s.web.app_ids[%d]", p, i)
		if id != "" && !appIDRe().MatchString(id) {
			d.add(d.at(fp), fp, fmt.Sprintf("app id %q must be 32 letters a-p", truncate(id, 40)))
		}
	}
}

func validateAgent(d *decoder, a *AgentSignature, p string) {
	switch {
	case a.ID == "":
		d.add(d.at(p), p+".id", "id is required")
	case !idRe().MatchString(a.ID):
		d.add(d.at(p+".id"), p+".id", fmt.Sprintf("id %q must be lower-case letters, digits and dashes", truncate(a.ID, 40)))
	}
	if a.Name == "" {
		d.add(d.at(p), p+".name", "name is required")
	}
	if len(a.Packages)+len(a.Units)+len(a.UserUnits)+len(a.Processes)+len(a.Paths) == 0 {
		d.add(d.at(p), p, "an agent needs at least one of packages, units, user_units, processes or paths")
	}
	if !contains([]string{"", "native", "script", "none"}, a.WipeMethod) {
		d.add(d.at(p+".wipe_method"), p+".wipe_method", fmt.Sprintf("unknown wipe_method %q (want native, script or none)", truncate(a.WipeMethod, 40)))
	}
	for i, s := range append(append(append(append(append([]string{}, a.Packages...), a.Units...), a.UserUnits...), a.Processes...), a.Paths...) {
		if s == "" {
			d.add(d.at(p), p, fmt.Sprintf("identifier %d is empty", i))
		}
	}
	checkSources(d, p, a.Sources)
}

// checkNonEmpty reports empty strings in any identifier list of e: an empty
// identifier would match nothing or, worse, everything.
func checkNonEmpty(d *decoder, p string, e *CatalogEntry) {
	for _, idf := range allIdentifierLists(e) {
		for i, v := range idf.values {
			if v == "" {
				fp := fmt.Sprintf("%s.%s[%d]", p, idf.path, i)
				d.add(d.at(fp), fp, "identifier is empty")
			}
		}
	}
}

func checkPattern(d *decoder, p, pat string) {
	if _, err := path.Match(pat, ""); err != nil {
		d.add(d.at(p), p, fmt.Sprintf("bad pattern %q: %v", truncate(pat, 40), err))
	}
}

func checkSources(d *decoder, p string, srcs []SourceRef) {
	for i, s := range srcs {
		sp := fmt.Sprintf("%s.sources[%d]", p, i)
		if s.What == "" {
			d.add(d.at(sp), sp+".what", "what is required")
		}
		if !contains([]string{"", "V", "T", "U"}, s.Tag) {
			d.add(d.at(sp+".tag"), sp+".tag", fmt.Sprintf("unknown tag %q (want V, T or U)", truncate(s.Tag, 10)))
		}
	}
}

type identifierList struct {
	path, kind string
	values     []string
	exact      bool // exact identifiers must be unique across entries
}

func allIdentifierLists(e *CatalogEntry) []identifierList {
	return []identifierList{
		{"linux.deb", "Debian package", e.Linux.Deb, true},
		{"linux.rpm", "RPM package", e.Linux.RPM, true},
		{"linux.snap", "snap", e.Linux.Snap, true},
		{"linux.flatpak", "Flatpak id", e.Linux.Flatpak, true},
		{"linux.desktop", ".desktop name", e.Linux.Desktop, true},
		{"linux.desktop_patterns", ".desktop name pattern", e.Linux.DesktopPatterns, false},
		{"linux.desktop_urls", "web-app URL", e.Linux.DesktopURLs, true},
		{"linux.appimage", "AppImage pattern", e.Linux.AppImage, false},
		{"linux.data_dirs", "Linux data dir", e.Linux.DataDirs, true},
		{"linux.service_dirs", "Linux service dir", e.Linux.ServiceDirs, true},
		{"linux.processes", "Linux process", e.Linux.Processes, true},
		{"darwin.bundle_ids", "macOS bundle id", e.Darwin.BundleIDs, true},
		{"darwin.team_ids", "macOS team id", e.Darwin.TeamIDs, false},
		{"darwin.data_dirs", "macOS data dir", e.Darwin.DataDirs, true},
		{"darwin.service_dirs", "macOS service dir", e.Darwin.ServiceDirs, true},
		{"darwin.processes", "macOS process", e.Darwin.Processes, false},
		{"windows.msix", "MSIX package family", e.Windows.MSIX, true},
		{"windows.data_dirs", "Windows data dir", e.Windows.DataDirs, true},
		{"windows.service_dirs", "Windows service dir", e.Windows.ServiceDirs, true},
		{"windows.processes", "Windows process", e.Windows.Processes, true},
		{"android.packages", "Android package", e.Android.Packages, true},
		{"ios.bundle_ids", "iOS bundle id", e.IOS.BundleIDs, true},
		{"ios.bundle_prefixes", "iOS bundle id prefix", e.IOS.BundlePrefixes, true},
		{"web.origins", "web origin", e.Web.Origins, true},
		{"web.app_urls", "web-app URL", e.Web.AppURLs, true},
		{"web.app_ids", "web-app id", e.Web.AppIDs, true},
	}
}

// entryIdentifiers lists the exact identifiers of e. Team ids are shared by
// all apps of one vendor and macOS process names are display names that
// clash ("Messenger"), so they are not required to be unique; patterns can
// overlap by design.
func entryIdentifiers(e *CatalogEntry) []identifier {
	var out []identifier
	for _, l := range allIdentifierLists(e) {
		if !l.exact {
			continue
		}
		for _, v := range l.values {
			out = append(out, identifier{l.kind, v})
		}
	}
	return out
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
