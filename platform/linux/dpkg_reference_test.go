package linux

// The dpkg status parser before it was rewritten for speed, kept as the
// reference the new one must agree with (FuzzParseDpkgStatusReference).

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const dpkgLineMaxReference = 64 << 10

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
func parseDpkgStatusReference(r io.Reader, want func(name []byte) bool) ([]debPackage, error) {
	br := bufio.NewReaderSize(r, dpkgLineMaxReference)
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
		line, err := readLineReference(br)
		if len(line) == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				return out, flush()
			}
			return out, fmt.Errorf("reading line %d: %w", lineNo+1, err)
		}
		lineNo++
		line = trimEOLReference(line)
		if bytes.IndexByte(line, 0) >= 0 {
			return out, &dpkgSyntaxError{lineNo, "NUL byte in a text database"}
		}
		if len(line) == 0 || ((line[0] == ' ' || line[0] == '\t') && blankReference(line)) {
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
func trimEOLReference(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line
}

// blank reports whether line holds only spaces and tabs.
func blankReference(line []byte) bool {
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
func readLineReference(br *bufio.Reader) ([]byte, error) {
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

// dpkgReferenceSeeds are inputs on the parser's edges: line ends at and
// around dpkgLineMax and the read buffer's size, CRLF, NULs after a long
// line's head, a last line without a line end.
func dpkgReferenceSeeds() [][]byte {
	stanza := "Package: a\nStatus: install ok installed\nVersion: 1\n"
	var seeds [][]byte
	for _, n := range []int{dpkgLineMax - 2, dpkgLineMax - 1, dpkgLineMax, dpkgLineMax + 1, dpkgChunk - 1, dpkgChunk, dpkgChunk + 1, 3 * dpkgChunk} {
		long := strings.Repeat("y", n)
		seeds = append(seeds,
			[]byte(stanza+"Description: "+long+"\n\n"+stanza),
			[]byte(stanza+" "+long+"\x00\n"+stanza),
			[]byte(stanza+" "+long+"\r\n\nPackage: b\nStatus: install ok installed\n"),
			[]byte(stanza+" "+long),
			[]byte(strings.Repeat("x", n)+": v\n"),
			[]byte("Package: "+long+"\nStatus: install ok installed\n"),
		)
	}
	// Many stanzas, so that lines straddle every read.
	var big strings.Builder
	for i := 0; big.Len() < 3*dpkgChunk; i++ {
		fmt.Fprintf(&big, "Package: p%d\nStatus: install ok installed\nVersion: %d\nDescription: x\n more text\n .\n\n", i, i)
	}
	seeds = append(seeds, []byte(big.String()), []byte(big.String()+"broken\n"))
	return seeds
}

// oneByteReader returns one byte per Read, the worst case for buffering.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func checkAgainstReference(t *testing.T, b []byte) {
	t.Helper()
	want, wantErr := parseDpkgStatusReference(bytes.NewReader(b), wantAll)
	for name, r := range map[string]io.Reader{"whole": bytes.NewReader(b), "byte by byte": oneByteReader{bytes.NewReader(b)}} {
		got, err := parseDpkgStatus(r, wantAll)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("%s: packages differ from the reference parser (-reference +new):\n%s", name, diff)
		}
		if fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Fatalf("%s: error %v; the reference parser says %v", name, err, wantErr)
		}
	}
}

func TestParseDpkgStatusMatchesReference(t *testing.T) {
	if b, err := os.ReadFile(filepath.Join("testdata", "debian-desktop", dpkgStatus)); err == nil {
		checkAgainstReference(t, b)
	} else {
		t.Fatal(err)
	}
	for _, s := range dpkgReferenceSeeds() {
		checkAgainstReference(t, s)
	}
}

func FuzzParseDpkgStatusReference(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "debian-desktop", dpkgStatus)); err == nil {
		f.Add(b)
	}
	f.Add([]byte("Package: a\r\n\r\n \n: x\n"))
	f.Add([]byte("\x00\xff"))
	f.Add([]byte("Package: a\nStatus: install ok installed\n\t\n#c\nversion: 2\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkAgainstReference(t, b)
	})
}

// BenchmarkParseDpkgStatusReference is BenchmarkParseDpkgStatus with the
// reference parser, for a before/after comparison in one run.
func BenchmarkParseDpkgStatusReference(b *testing.B) {
	benchParseDpkg(b, parseDpkgStatusReference)
}
