package linux

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/msgguard/msgguard/platform"
)

const (
	dpkgAdminDir = "var/lib/dpkg"
	dpkgStatus   = "var/lib/dpkg/status"
)

// debPackage is an installed Debian package the catalog names.
type debPackage struct {
	Name, Version string
}

// scanDpkg reads the dpkg status database directly: it is a plain
// deb822 file (deb822(5), dpkg(1) "FILES"), and parsing it in process is
// several times faster than running dpkg-query and needs no command. A
// missing database is only a Problem when dpkg's admin directory exists.
func (c *collector) scanDpkg() {
	f, _, err := openRegular(c.fsys, dpkgStatus, platform.MaxDatabaseSize)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if _, derr := fs.Stat(c.fsys, dpkgAdminDir); derr != nil {
				return // no dpkg on this system
			}
		}
		c.problem("dpkg", dpkgStatus, "dpkg status database not read, Debian packages are not inventoried: "+describeErr(err))
		return
	}
	defer f.Close()
	pkgs, err := parseDpkgStatus(io.LimitReader(f, platform.MaxDatabaseSize), func(name []byte) bool {
		return c.idx.deb[string(name)] != nil
	})
	for _, p := range pkgs {
		c.add(c.idx.deb[p.Name], sourceDeb, "", p.Version, p.Name)
	}
	if err != nil {
		c.problem("dpkg", dpkgStatus, "dpkg status database is malformed, packages after the error are not inventoried: "+err.Error())
	}
}

// dpkgLineMax is the longest line the parser looks at in full; longer
// lines (e.g. huge Conffiles or Description continuations) are skipped
// past after their first bytes.
const dpkgLineMax = 64 << 10

// parseDpkgStatus streams a dpkg status file and returns the installed
// packages for which want(name) is true. It allocates only for those: the
// fields of every stanza are kept in reused buffers. want must not retain
// its argument.
//
// Format (deb822(5)): stanzas separated by blank lines; "Field: value"
// lines, field names case-insensitive; continuation lines start with a
// space or tab. dpkg(1) lists the package states; a package's files are
// on disk in the states installed, unpacked, half-configured,
// triggers-awaited and triggers-pending (not in not-installed,
// config-files or half-installed), whatever the selection (install, hold,
// deinstall, purge) says.
//
// A malformed line (no colon, a NUL byte, a stanza without Package) stops
// the parse: the error names the line number, never its content, and the
// packages before it are returned.
func parseDpkgStatus(r io.Reader, want func(name []byte) bool) ([]debPackage, error) {
	br := bufio.NewReaderSize(r, dpkgLineMax)
	var (
		out                []debPackage
		name, ver          []byte
		inStanza, onDisk   bool
		lineNo, stanzaLine int
	)
	flush := func() error {
		if !inStanza {
			return nil
		}
		inStanza = false
		if len(name) == 0 {
			return fmt.Errorf("line %d: stanza without a Package field", stanzaLine)
		}
		if onDisk && want(name) {
			out = append(out, debPackage{Name: string(name), Version: string(ver)})
		}
		return nil
	}
	for {
		line, err := readLine(br)
		if len(line) == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				return out, flush()
			}
			return out, fmt.Errorf("line %d: %w", lineNo+1, err)
		}
		lineNo++
		line = bytes.TrimRight(line, "\r\n")
		if bytes.IndexByte(line, 0) >= 0 {
			return out, fmt.Errorf("line %d: NUL byte in a text database", lineNo)
		}
		if len(bytes.TrimLeft(line, " \t")) == 0 {
			if ferr := flush(); ferr != nil {
				return out, ferr
			}
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if !inStanza {
				return out, fmt.Errorf("line %d: continuation line outside a stanza", lineNo)
			}
			continue // continuation of Description, Conffiles, ...
		}
		if line[0] == '#' {
			continue // comments are not dpkg's, but deb822 allows them
		}
		field, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(field) == 0 {
			return out, fmt.Errorf("line %d: field line without a colon", lineNo)
		}
		if !inStanza {
			inStanza, stanzaLine = true, lineNo
			name, ver, onDisk = name[:0], ver[:0], false
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(field, []byte("Package")):
			name = append(name[:0], value...)
		case bytes.EqualFold(field, []byte("Version")):
			ver = append(ver[:0], value...)
		case bytes.EqualFold(field, []byte("Status")):
			onDisk = dpkgFilesOnDisk(value)
		}
	}
}

// readLine returns the next line; a line longer than the reader's buffer
// is returned truncated (its first dpkgLineMax bytes) and the rest is
// skipped.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return line, err
	}
	// Keep the head: the caller only needs a field name from it. Copying
	// it out is rare (only absurdly long lines).
	head := append([]byte(nil), line...)
	for errors.Is(err, bufio.ErrBufferFull) {
		_, err = br.ReadSlice('\n')
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return head, err
}

// dpkgFilesOnDisk reports whether a Status value ("want flag status")
// means the package's files are installed.
func dpkgFilesOnDisk(status []byte) bool {
	s := bytes.TrimSpace(status)
	i := bytes.LastIndexAny(s, " \t")
	if i < 0 {
		return false
	}
	switch string(s[i+1:]) {
	case "installed", "unpacked", "half-configured", "triggers-awaited", "triggers-pending":
		return true
	}
	return false
}
