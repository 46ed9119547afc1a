package linux

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

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
// names. With the service's memo, an unchanged database (same device,
// inode, size, modification and change time; dpkg replaces the file by
// renaming status-new over it, and only root can write it) is not read
// again: the packages the last read kept, a handful of names and versions,
// are remembered for it and for idx's set of names (debKey). Parsing a
// 5,000-package database is a third of a scan's CPU time.
func readDebFacts(fsys fs.FS, idx *catalogIndex, memo *platform.DirMemo) debFacts {
	read := func() debFacts {
		pkgs, err := readDebPackages(fsys, func(name []byte) bool {
			return idx.deb[string(name)] != nil || idx.agentDeb[string(name)]
		})
		return debFacts{pkgs: pkgs, err: err}
	}
	if memo == nil || idx.debKey == "" {
		return read()
	}
	id, err := platform.LstatBelow(fsys, dpkgAdminDir, "status")
	if err != nil || !id.Mode.IsRegular() {
		return read() // its error, or the refusal of a link or FIFO, as without the memo
	}
	if v, ok := memo.Get(idx.debKey, dpkgStatus, id); ok {
		return debFacts{pkgs: decodeDebPackages(v)}
	}
	began := memo.Begin()
	f := read()
	if f.err == nil {
		memo.Put(idx.debKey, dpkgStatus, id, began, encodeDebPackages(f.pkgs))
	}
	return f
}

// encodeDebPackages and decodeDebPackages keep the kept packages in a
// DirMemo.
func encodeDebPackages(pkgs []debPackage) []string {
	out := make([]string, len(pkgs))
	for i, p := range pkgs {
		out[i] = p.Name + "\x00" + p.Version
	}
	return out
}

func decodeDebPackages(v []string) []debPackage {
	out := make([]debPackage, 0, len(v))
	for _, s := range v {
		name, version, _ := strings.Cut(s, "\x00")
		out = append(out, debPackage{Name: name, Version: version})
	}
	return out
}

// scanDpkg reads the dpkg status database directly: it is a plain
// deb822 file (deb822(5), dpkg(1) "FILES"), and parsing it in process is
// several times faster than running dpkg-query and needs no command. A
// missing database is only a Problem when dpkg's admin directory exists.
// It returns what it read, for the remote-wipe probe.
func (c *collector) scanDpkg(memo *platform.DirMemo) debFacts {
	f := readDebFacts(c.fsys, c.idx, memo)
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
// past after their first dpkgLineMax bytes.
const dpkgLineMax = 64 << 10

// dpkgChunk is the parser's read buffer: two longest lines, so that after
// moving a partial line to the front there is always room to read.
const dpkgChunk = 2 * dpkgLineMax

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
//
// Speed: it reads 128 kB at a time and finds line ends with
// bytes.IndexByte (vectorised) in the buffer itself, instead of a
// bufio.Reader call per line; most lines are Description and Conffiles
// continuations, which cost one byte test and the NUL check.
func parseDpkgStatus(r io.Reader, want func(name []byte) bool) ([]debPackage, error) {
	p := dpkgParser{want: want}
	buf := make([]byte, dpkgChunk)
	start, end := 0, 0
	skipping := false // inside the tail of an over-long line
	for {
		nl := bytes.IndexByte(buf[start:end], '\n')
		if nl >= 0 {
			line := buf[start : start+nl]
			start += nl + 1
			if skipping {
				skipping = false
				continue
			}
			if len(line) > dpkgLineMax {
				line = line[:dpkgLineMax]
			}
			if err := p.line(line); err != nil {
				return p.out, err
			}
			continue
		}
		// No line end buffered.
		if skipping {
			start = end
		} else if end-start >= dpkgLineMax {
			// An over-long line: its head now, the rest is skipped.
			if err := p.line(buf[start : start+dpkgLineMax]); err != nil {
				return p.out, err
			}
			skipping, start = true, end
		}
		n := copy(buf, buf[start:end])
		start, end = 0, n
		m, err := io.ReadAtLeast(r, buf[end:], 1)
		end += m
		if err == nil {
			continue
		}
		if !errors.Is(err, io.EOF) {
			return p.out, fmt.Errorf("reading line %d: %w", p.lineNo+1, err)
		}
		// End of file: a last line without a line end.
		if start < end && !skipping {
			line := buf[start:end]
			if len(line) > dpkgLineMax {
				line = line[:dpkgLineMax]
			}
			if err := p.line(line); err != nil {
				return p.out, err
			}
		}
		return p.out, p.flush()
	}
}

// dpkgParser is the state of parseDpkgStatus between lines.
type dpkgParser struct {
	want               func(name []byte) bool
	out                []debPackage
	name, ver          []byte
	inStanza, onDisk   bool
	lineNo, stanzaLine int
}

// flush ends the current stanza.
func (p *dpkgParser) flush() error {
	if !p.inStanza {
		return nil
	}
	p.inStanza = false
	if len(p.name) == 0 {
		return &dpkgSyntaxError{p.stanzaLine, "stanza without a Package field"}
	}
	if p.onDisk && p.want(p.name) {
		p.out = append(p.out, debPackage{Name: string(p.name), Version: string(p.ver)})
	}
	return nil
}

// line handles one line, without its "\n".
func (p *dpkgParser) line(line []byte) error {
	p.lineNo++
	line = trimEOL(line)
	if bytes.IndexByte(line, 0) >= 0 {
		return &dpkgSyntaxError{p.lineNo, "NUL byte in a text database"}
	}
	if len(line) == 0 {
		return p.flush()
	}
	switch line[0] {
	case ' ', '\t':
		if blank(line) {
			return p.flush()
		}
		if !p.inStanza {
			return &dpkgSyntaxError{p.lineNo, "continuation line outside a stanza"}
		}
		return nil // continuation of Description, Conffiles, ...
	case '#':
		return nil // comments are not dpkg's, but deb822 allows them
	}
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return &dpkgSyntaxError{p.lineNo, "field line without a colon"}
	}
	if !p.inStanza {
		p.inStanza, p.stanzaLine = true, p.lineNo
		p.name, p.ver, p.onDisk = p.name[:0], p.ver[:0], false
	}
	// Only three fields matter; their names' lengths rule out the rest
	// before any case-insensitive comparison.
	field := line[:colon]
	switch len(field) {
	case len("Package"): // and "Version"
		switch {
		case bytes.EqualFold(field, []byte("Package")):
			p.name = append(p.name[:0], bytes.TrimSpace(line[colon+1:])...)
		case bytes.EqualFold(field, []byte("Version")):
			p.ver = append(p.ver[:0], bytes.TrimSpace(line[colon+1:])...)
		}
	case len("Status"):
		if bytes.EqualFold(field, []byte("Status")) {
			p.onDisk = dpkgFilesOnDisk(bytes.TrimSpace(line[colon+1:]))
		}
	}
	return nil
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
