package linux

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/linux/gvdb"
)

// GSettings looks schemas up in gschemas.compiled files (GVDB; GLib
// gio/gsettingsschema.c initialise_schema_sources): the user's
// $XDG_DATA_HOME/glib-2.0/schemas first, then each of $XDG_DATA_DIRS
// (default /usr/local/share, /usr/share). Distribution *.gschema.override
// files are compiled into those defaults. In a compiled schema each key is a
// tuple whose member 0 is the default value; ".path" is the dconf path.

var systemSchemaFiles = [...]string{
	"usr/local/share/glib-2.0/schemas/gschemas.compiled",
	"usr/share/glib-2.0/schemas/gschemas.compiled",
}

// schemaSource is one readable gschemas.compiled.
type schemaSource struct {
	label string
	root  gvdb.Table
}

// schemaCache holds the system schema files, read once per scan.
type schemaCache struct {
	system []schemaSource
	err    error
}

func readSchemaCache(h *platform.Host) *schemaCache {
	c := &schemaCache{}
	for _, rel := range systemSchemaFiles {
		b, err := platform.ReadFile(h.Root, rel, platform.MaxDatabaseSize)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			c.err = fmt.Errorf("reading /%s: %w", rel, err)
			return c
		}
		t, err := gvdb.Open(b)
		if err != nil {
			c.err = fmt.Errorf("/%s is not a valid schema file: %w", rel, err)
			return c
		}
		c.system = append(c.system, schemaSource{label: "/" + rel, root: t})
	}
	return c
}

// gsettings reads effective GSettings values for one user.
type gsettings struct {
	profile *dconfProfile
	// schemas lists the user's schema file (if any) before the system ones.
	schemas []schemaSource
	err     error
}

// newGSettings prepares a reader for the user with root-relative home.
func newGSettings(h *platform.Host, dc *dconfCache, sc *schemaCache, uid, home string) *gsettings {
	g := &gsettings{}
	if sc.err != nil {
		g.err = sc.err
		return g
	}
	if home != "" && home != "." {
		rel := path.Join(home, ".local/share/glib-2.0/schemas/gschemas.compiled")
		b, err := platform.ReadUserFile(h.Root, home, rel, platform.MaxDatabaseSize)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			g.err = fmt.Errorf("~/.local/share/glib-2.0/schemas/gschemas.compiled not read: %w", err)
			return g
		default:
			t, err := gvdb.Open(b)
			if err != nil {
				g.err = fmt.Errorf("~/.local/share/glib-2.0/schemas/gschemas.compiled is not a valid schema file: %w", err)
				return g
			}
			g.schemas = append(g.schemas, schemaSource{label: "~/.local/share/glib-2.0/schemas", root: t})
		}
	}
	g.schemas = append(g.schemas, sc.system...)
	p, err := dc.profileFor(uid, home)
	if err != nil {
		g.err = err
		return g
	}
	g.profile = p
	return g
}

// errNoSchema says a schema is not installed.
var errNoSchema = errors.New("schema not installed")

// errNoKey says an installed schema has no such key.
var errNoKey = errors.New("key not in schema")

// gsValue is one effective setting and where it came from.
type gsValue struct {
	name   string // key name, for Source strings
	value  gvdb.Value
	source string // "~/.config/dconf/user", "/etc/dconf/db/local (locked)", "schema default"
	locked string // label of the locking database, if locked
}

// schema finds the schema's table and its source label.
func (g *gsettings) schema(id string) (gvdb.Table, string, error) {
	for _, s := range g.schemas {
		t, err := s.root.Table(id)
		if errors.Is(err, gvdb.ErrNotFound) {
			continue
		}
		if err != nil {
			return gvdb.Table{}, "", fmt.Errorf("%s: schema %s malformed: %w", s.label, id, err)
		}
		return t, s.label, nil
	}
	return gvdb.Table{}, "", fmt.Errorf("%s: %w", id, errNoSchema)
}

// get returns the effective value of schema id, key, as
// g_settings_get_value does: the dconf value when its type matches the
// schema's, otherwise the schema default (GLib drops a mistyped user value
// silently — g_settings_backend_read checks g_variant_is_of_type).
func (g *gsettings) get(id, key string) (gsValue, error) {
	if g.err != nil {
		return gsValue{}, g.err
	}
	sch, label, err := g.schema(id)
	if err != nil {
		return gsValue{}, err
	}
	def, err := schemaDefault(sch, key)
	if err != nil {
		return gsValue{}, fmt.Errorf("%s %s: %w", id, key, err)
	}
	out := gsValue{name: key, value: def, source: "schema default"}
	if label != "/"+systemSchemaFiles[1] {
		out.source = "schema default (" + label + ")"
	}
	pathV, err := sch.Value(".path")
	if err != nil {
		return out, nil // relocatable schema: no fixed dconf path, default applies
	}
	dir, err := pathV.StringBytes()
	if err != nil {
		return gsValue{}, fmt.Errorf("%s: malformed .path: %w", id, err)
	}
	r := g.profile.read(string(dir) + key)
	if r.err != nil {
		return gsValue{}, r.err
	}
	out.locked = r.lockedBy
	if !r.found {
		return out, nil
	}
	if r.value.Type() != def.Type() {
		out.source = fmt.Sprintf("schema default (value in %s has type %s, not %s, and is ignored)", r.source, r.value.Type(), def.Type())
		return out, nil
	}
	out.value, out.source = r.value, r.source
	if r.lockedBy != "" {
		out.source += " (locked)"
	}
	return out, nil
}

// schemaDefault returns member 0 of a compiled key's tuple.
func schemaDefault(sch gvdb.Table, key string) (gvdb.Value, error) {
	v, err := sch.Value(key)
	if errors.Is(err, gvdb.ErrNotFound) {
		return gvdb.Value{}, errNoKey
	}
	if err != nil {
		return gvdb.Value{}, err
	}
	return v.Child(0)
}

func (v gsValue) bool() (bool, error) {
	b, err := v.value.Bool()
	if err != nil {
		return false, fmt.Errorf("%s: %w", v.name, err)
	}
	return b, nil
}

func (v gsValue) int() (int, error) {
	n, err := v.value.Int()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", v.name, err)
	}
	if n < -1<<31 || n > 1<<31-1 {
		return 0, fmt.Errorf("%s: value out of range", v.name)
	}
	return int(n), nil
}

// describe renders "name=value (source)" for Source strings.
func (v gsValue) describe() string {
	var val string
	if b, err := v.value.Bool(); err == nil {
		val = strconv.FormatBool(b)
	} else if n, err := v.value.Int(); err == nil {
		val = strconv.FormatInt(n, 10)
	} else {
		val = v.value.Type()
	}
	return v.name + "=" + val + " (" + v.source + ")"
}

// describeValues joins the descriptions of the settings that decided a
// verdict.
func describeValues(vals ...gsValue) string {
	parts := make([]string, 0, len(vals))
	for _, v := range vals {
		if v.name != "" {
			parts = append(parts, v.describe())
		}
	}
	return strings.Join(parts, "; ")
}

// lockedValues renders the values a system database enforces.
func lockedValues(vals ...gsValue) string {
	by := map[string][]string{}
	var order []string
	for _, v := range vals {
		if v.locked == "" || v.name == "" {
			continue
		}
		if _, ok := by[v.locked]; !ok {
			order = append(order, v.locked)
		}
		d := v.describe()
		d = d[:strings.Index(d, " (")]
		by[v.locked] = append(by[v.locked], d)
	}
	parts := make([]string, 0, len(order))
	for _, l := range order {
		parts = append(parts, "locked in "+l+": "+strings.Join(by[l], ", "))
	}
	return strings.Join(parts, "; ")
}
