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

// debFacts is what the scan's one read of the dpkg status database found:
// the installed packages the catalog names, as messengers or as management
// agents (for the remote-wipe probe), and the read's error (with the
// packages before it, for a malformed file).
type debFacts struct {
	pkgs []debPackage
	err  error
}

// errDebNotRead stands for a status database the scan did not get to.
var errDebNotRead = errors.New("not read: the scan was cancelled first")

// readDebFacts reads the dpkg status database once for every package idx
// names.
func readDebFacts(fsys fs.FS, idx *catalogIndex) debFacts {
	pkgs, err := readDebPackages(fsys, func(name []byte) bool {
		return idx.deb[string(name)] != nil || idx.agentDeb[string(name)]
	})
	return debFacts{pkgs: pkgs, err: err}
}

// scanDpkg reads the dpkg status database directly: it is a plain
// deb822 file (deb822(5), dpkg(1) "FILES"), and parsing it in process is
// several times faster than running dpkg-query and needs no command. A
// missing database is only a Problem when dpkg's admin directory exists.
// It returns what it read, for the remote-wipe probe.
func (c *collector) scanDpkg() debFacts {
	f := readDebFacts(c.fsys, c.idx)
	for _, p := range f.pkgs {
		if e := c.idx.deb[p.Name]; e != nil {
			c.add(e, sourceDeb, "", p.Version, p.Name)
		}
	}
	switch err := f.err; {
	case err == nil:
	case isDpkgSyntaxError(err):
		c.problem("dpkg", dpkgStatus, "dpkg status database is malformed, packages after the error are not inventoried: "+err.Error())
	case errors.Is(err, fs.ErrNotExist) && !dpkgPresent(c.fsys):
		// No dpkg on this system: nothing to report.
	default:
		c.problem("dpkg", dpkgStatus, "dpkg status database not read, Debian packages are not inventoried: "+describeErr(err))
	}
	return f
}

// dpkgSyntaxError is a malformed line in the status file. It carries the
// line number, never the line.
type dpkgSyntaxError struct {
	Line int
	Msg  string
}

func (e *dpkgSyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

func isDpkgSyntaxError(err error) bool {
	var se *dpkgSyntaxError
	return errors.As(err, &se)
}

// readDebPackages streams the dpkg status database of the root and returns
// the installed packages for which want(name) is true (want must not
// retain its argument). It reads the multi-megabyte file in 64 kB pieces
// instead of whole; a scan reads it once (readDebFacts). A malformed file
// gives a *dpkgSyntaxError with the packages read before it.
func readDebPackages(fsys fs.FS, want func(name []byte) bool) ([]debPackage, error) {
	f, _, err := platform.OpenFile(fsys, dpkgStatus, platform.MaxDatabaseSize)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseDpkgStatus(io.LimitReader(f, platform.MaxDatabaseSize), want)
}

// dpkgPresent reports whether the root has dpkg's admin directory: without
// it a missing status file just means "not a dpkg system".
func dpkgPresent(fsys fs.FS) bool {
	_, err := fs.Stat(fsys, dpkgAdminDir)
	return err == nil
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
			return &dpkgSyntaxError{stanzaLine, "stanza without a Package field"}
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
			return out, fmt.Errorf("reading line %d: %w", lineNo+1, err)
		}
		lineNo++
		line = trimEOL(line)
		if bytes.IndexByte(line, 0) >= 0 {
			return out, &dpkgSyntaxError{lineNo, "NUL byte in a text database"}
		}
		if len(line) == 0 || ((line[0] == ' ' || line[0] == '\t') && blank(line)) {
			if ferr := flush(); ferr != nil {
				return out, ferr
			}
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if !inStanza {
				return out, &dpkgSyntaxError{lineNo, "continuation line outside a stanza"}
			}
			continue // continuation of Description, Conffiles, ...
		}
		if line[0] == '#' {
			continue // comments are not dpkg's, but deb822 allows them
		}
		field, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(field) == 0 {
			return out, &dpkgSyntaxError{lineNo, "field line without a colon"}
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

// trimEOL drops a trailing "\n" or "\r\n" (cheaper than bytes.TrimRight,
// which builds its cutset on every call; this runs for every line).
func trimEOL(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line
}

// blank reports whether line holds only spaces and tabs.
func blank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
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
