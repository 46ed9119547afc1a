package linux

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"time"

	"github.com/msgguard/msgguard/platform"
)

// rpmQueryFormat prints one "name<TAB>version-release" line per package;
// rpm expands the \t and \n escapes itself (rpm(8) "--queryformat").
const rpmQueryFormat = `%{NAME}\t%{VERSION}-%{RELEASE}\n`

// rpmTimeout bounds the rpm query; a large database answers in about a
// second.
const rpmTimeout = 60 * time.Second

// rpmPackage is one line of rpm query output.
type rpmPackage struct {
	Name, Version string
}

// rpmDatabases are the files that show an RPM database, newest layout
// first: rpm ≥ 4.16 defaults to SQLite, Fedora ≥ 36 moved the database to
// /usr/lib/sysimage/rpm (leaving /var/lib/rpm as a link), openSUSE uses
// ndb's Packages.db, older systems Berkeley DB's Packages.
func rpmDatabases() []string {
	return []string{
		"usr/lib/sysimage/rpm/rpmdb.sqlite",
		"usr/lib/sysimage/rpm/Packages.db",
		"usr/lib/sysimage/rpm/Packages",
		"var/lib/rpm/rpmdb.sqlite",
		"var/lib/rpm/Packages.db",
		"var/lib/rpm/Packages",
	}
}

// findRPMDatabase returns the root-relative directory of the RPM database,
// or "" when the root has none.
func findRPMDatabase(c *collector) string {
	for _, p := range rpmDatabases() {
		if st, err := platform.Lstat(c.fsys, p); err == nil && st.Mode().IsRegular() {
			return path.Dir(p)
		}
	}
	return ""
}

// scanRPM asks rpm for the installed packages, only when an RPM database
// exists under the root. The database format depends on rpm's version and
// build, so it is read through the rpm command rather than parsed here.
func (c *collector) scanRPM(ctx context.Context, h *platform.Host) {
	dbDir := findRPMDatabase(c)
	if dbDir == "" {
		return
	}
	if h.Run == nil {
		c.problem("rpm", dbDir, "RPM database found but no command runner is configured; RPM packages are not inventoried")
		return
	}
	root := h.RootDir
	if root == "" {
		c.problem("rpm", dbDir, "RPM database found but the root has no OS path; RPM packages are not inventoried")
		return
	}
	// rpm wants an absolute --root; --root ./image would be taken relative
	// to rpm's own working directory otherwise.
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	ctx, cancel := context.WithTimeout(ctx, rpmTimeout)
	defer cancel()
	// --dbpath is taken relative to --root, so the database found here is
	// the one queried, whatever the host rpm's own default is.
	out, err := h.Output(ctx, "rpm", "--root", root, "--dbpath", "/"+dbDir, "-qa", "--qf", rpmQueryFormat)
	if err != nil {
		c.problem("rpm", dbDir, "rpm query failed, RPM packages are not inventoried: "+commandErr(err))
		return
	}
	pkgs, perr := parseRPMQuery(out)
	c.rpmRead = true
	for _, p := range pkgs {
		if e := c.idx.rpm[p.Name]; e != nil {
			c.add(e, sourceRPM, "", p.Version, p.Name)
		}
	}
	if perr != nil {
		c.problem("rpm", dbDir, "rpm output is malformed: "+perr.Error())
	}
}

// parseRPMQuery parses rpmQueryFormat output. Malformed lines are counted
// in the error, by number only.
func parseRPMQuery(b []byte) ([]rpmPackage, error) {
	var (
		out           []rpmPackage
		bad, firstBad int
	)
	for lineNo := 1; len(b) > 0; lineNo++ {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			continue
		}
		name, ver, ok := bytes.Cut(line, []byte("\t"))
		if !ok || len(name) == 0 || bytes.ContainsAny(name, " \t") || bytes.IndexByte(line, 0) >= 0 {
			bad++
			if firstBad == 0 {
				firstBad = lineNo
			}
			continue
		}
		out = append(out, rpmPackage{Name: string(name), Version: string(ver)})
	}
	if bad > 0 {
		return out, fmt.Errorf("%d malformed line(s), first at line %d", bad, firstBad)
	}
	return out, nil
}

// commandErr describes a command failure without its output.
func commandErr(err error) string {
	var ce *platform.CommandError
	if errors.As(err, &ce) {
		return ce.Error()
	}
	return err.Error()
}
