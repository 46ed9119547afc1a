package linux

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/linux/gvdb"
)

// dconf resolution, read from GNOME/dconf (engine/dconf-engine-profile.c,
// engine/dconf-engine-source.c, engine/dconf-engine.c dconf_engine_read):
//
//  1. The profile is the first of: the mandatory /run/dconf/user/<uid>;
//     $DCONF_PROFILE (invisible to a root agent: not inspected);
//     $XDG_RUNTIME_DIR/dconf/profile; /etc/dconf/profile/user then
//     $XDG_DATA_DIRS/dconf/profile/user; else the single line "user-db:user".
//  2. Each profile line "user-db:NAME", "system-db:NAME", "file-db:PATH" or
//     "service-db:NAME" is a source, in order; comments start with "#".
//  3. A key is locked when a source other than the first has it in its
//     ".locks" table (the last such source wins); reads then start at that
//     source. Otherwise the first source holding the key wins.
//
// A source whose file is missing reads as empty, as in dconf. A source that
// cannot be read safely (symlink, FIFO, oversize, corrupt) makes every key
// it could decide unknown.

const (
	dconfMandatoryDir = "run/dconf/user"
	dconfSystemDBDir  = "etc/dconf/db"
	// dconfMaxDB caps a dconf database read; real ones are kilobytes.
	dconfMaxDB = platform.MaxDatabaseSize
)

var dconfProfileDirs = [...]string{"etc/dconf/profile", "usr/local/share/dconf/profile", "usr/share/dconf/profile"}

// dconfSource is one database of a profile.
type dconfSource struct {
	// label names the source in results ("~/.config/dconf/user",
	// "/etc/dconf/db/local").
	label  string
	values gvdb.Table
	locks  gvdb.Table
	open   bool // values holds a database
	locked bool // locks holds a .locks table
	err    error
}

// dconfProfile is the ordered list of sources for one user.
type dconfProfile struct {
	label   string // where the profile came from
	sources []*dconfSource
}

// dconfCache shares system databases and profile files between the users
// of one scan.
type dconfCache struct {
	h   *platform.Host
	dbs map[string]*dconfSource
}

func newDconfCache(h *platform.Host) *dconfCache {
	return &dconfCache{h: h, dbs: map[string]*dconfSource{}}
}

// parseDconfProfile returns the source descriptions of a profile file,
// trimmed and without comments, as dconf_engine_profile_handle_line.
func parseDconfProfile(b []byte) []string {
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line != "" {
			out = append(out, line)
		}
	}
	return out
}

// profileFor loads the dconf profile of user u (home is root-relative).
func (c *dconfCache) profileFor(uid, home string) (*dconfProfile, error) {
	lines, label, err := c.profileLines(uid)
	if err != nil {
		return nil, err
	}
	p := &dconfProfile{label: label}
	for _, desc := range lines {
		kind, name, ok := strings.Cut(desc, ":")
		if !ok || name == "" {
			continue // dconf ignores (with a warning) what it cannot parse
		}
		var src *dconfSource
		switch kind {
		case "user-db":
			src = c.userDB(home, name)
		case "system-db":
			src = c.systemDB(path.Join(dconfSystemDBDir, name), "/"+path.Join(dconfSystemDBDir, name), name)
		case "file-db":
			src = c.systemDB(platform.RelPath(name), path.Clean("/"+name), name)
		case "service-db":
			src = &dconfSource{label: "service-db:" + name, err: errors.New("service-db sources hold values in the dconf service and are not inspected")}
		default:
			continue
		}
		p.sources = append(p.sources, src)
	}
	return p, nil
}

// profileLines finds the profile as dconf_engine_profile_open does.
func (c *dconfCache) profileLines(uid string) ([]string, string, error) {
	if uid != "" && !strings.ContainsAny(uid, "/.") {
		rel := path.Join(dconfMandatoryDir, uid)
		if b, err := platform.ReadFile(c.h.Root, rel, platform.MaxConfigSize); err == nil {
			return parseDconfProfile(b), "/" + rel + " (mandatory)", nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("reading /%s: %w", rel, err)
		}
		// $XDG_RUNTIME_DIR is /run/user/<uid> under systemd; the directory
		// belongs to the user, so read it like a home.
		runtime := path.Join("run/user", uid)
		rel = path.Join(runtime, "dconf/profile")
		if b, err := platform.ReadUserFile(c.h.Root, runtime, rel, platform.MaxConfigSize); err == nil {
			return parseDconfProfile(b), "/" + rel, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("reading /%s: %w", rel, err)
		}
	}
	for _, dir := range dconfProfileDirs {
		rel := path.Join(dir, "user")
		b, err := platform.ReadFile(c.h.Root, rel, platform.MaxConfigSize)
		if err == nil {
			return parseDconfProfile(b), "/" + rel, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("reading /%s: %w", rel, err)
		}
	}
	return []string{"user-db:user"}, "default profile (user-db:user)", nil
}

// userDB reads $XDG_CONFIG_HOME/dconf/NAME, with XDG_CONFIG_HOME taken as
// ~/.config (a user's own override is invisible to root).
func (c *dconfCache) userDB(home, name string) *dconfSource {
	label := "~/.config/dconf/" + name
	clean := path.Clean(name)
	if home == "" || home == "." || strings.HasPrefix(clean, "../") || clean == ".." || path.IsAbs(clean) {
		return &dconfSource{label: label, err: errors.New("no usable home directory or database name")}
	}
	rel := path.Join(home, ".config/dconf", clean)
	b, err := platform.ReadUserFile(c.h.Root, home, rel, dconfMaxDB)
	return openDconfSource(label, b, err)
}

// systemDB reads a root-owned database once per scan.
func (c *dconfCache) systemDB(rel, label, name string) *dconfSource {
	if strings.Contains(name, "..") {
		return &dconfSource{label: label, err: errors.New("database name escapes its directory")}
	}
	if src, ok := c.dbs[rel]; ok {
		return src
	}
	b, err := platform.ReadFile(c.h.Root, rel, dconfMaxDB)
	src := openDconfSource(label, b, err)
	c.dbs[rel] = src
	return src
}

func openDconfSource(label string, b []byte, err error) *dconfSource {
	src := &dconfSource{label: label}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return src // a missing database is empty
	case err != nil:
		src.err = fmt.Errorf("%s not read: %w", label, err)
		return src
	}
	t, err := gvdb.Open(b)
	if err != nil {
		src.err = fmt.Errorf("%s is not a valid dconf database: %w", label, err)
		return src
	}
	src.values, src.open = t, true
	if locks, err := t.Table(".locks"); err == nil {
		src.locks, src.locked = locks, true
	} else if !errors.Is(err, gvdb.ErrNotFound) {
		src.err = fmt.Errorf("%s has a malformed lock table: %w", label, err)
	}
	return src
}

// dconfRead is the result of reading one key through a profile.
type dconfRead struct {
	value gvdb.Value
	found bool
	// source is the label of the source that held the value.
	source string
	// lockedBy is the label of the source that locked the key, if any.
	lockedBy string
	err      error
}

// read looks key up as dconf_engine_read does.
func (p *dconfProfile) read(key string) dconfRead {
	level := 0
	for i := len(p.sources) - 1; i > 0; i-- {
		s := p.sources[i]
		if s.err != nil {
			// It might have locked the key: we cannot tell.
			return dconfRead{err: s.err}
		}
		if s.locked && s.locks.Has(key) {
			level = i
			break
		}
	}
	var out dconfRead
	if level > 0 {
		out.lockedBy = p.sources[level].label
	}
	for _, s := range p.sources[level:] {
		if s.err != nil {
			out.err = s.err
			return out
		}
		if !s.open {
			continue
		}
		v, err := s.values.Value(key)
		if errors.Is(err, gvdb.ErrNotFound) {
			continue
		}
		if err != nil {
			out.err = fmt.Errorf("%s: malformed value: %w", s.label, err)
			return out
		}
		out.value, out.found, out.source = v, true, s.label
		return out
	}
	return out
}
