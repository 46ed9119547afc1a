package ios

import (
	"bufio"
	"bytes"
	"errors"
	"strings"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// Limits on what a device's output may make us keep.
const (
	maxDevices = 64
	maxApps    = 20000
)

// parseUDIDs parses `idevice_id -l` and `idevicepair list`: one UDID per
// line (libimobiledevice tools/idevice_id.c prints " (USB)"/" (Network)"
// after it only when both -l and -n are given). Anything that is not a UDID
// is skipped.
func parseUDIDs(b []byte) []string {
	var out []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || !ValidUDID(f[0]) || seen[f[0]] || len(out) >= maxDevices {
			continue
		}
		seen[f[0]] = true
		out = append(out, f[0])
	}
	return out
}

// parseValue parses `ideviceinfo -k KEY` (with or without -q DOMAIN): the
// value on one line (common/utils.c plist_print_to_stream: strings as is,
// booleans "true"/"false"). An absent key prints nothing: ok is false.
func parseValue(b []byte) (string, bool) {
	s := strings.TrimSpace(strings.ToValidUTF8(string(b), ""))
	if s == "" || strings.ContainsAny(s, "\n\r") || len(s) > 128 {
		return "", false
	}
	v := platform.Printable(s, 128)
	return v, v != ""
}

// parseBool parses a boolean ideviceinfo value.
func parseBool(b []byte) policy.Tri {
	switch v, _ := parseValue(b); v {
	case "true":
		return policy.Yes
	case "false":
		return policy.No
	}
	return policy.Unknown
}

// app is one installed app.
type app struct {
	ID      string
	Version string
}

var errNoAppList = errors.New("unexpected ideviceinstaller output: no CFBundleIdentifier header")

// parseAppList parses the app list of ideviceinstaller. Both generations
// print a header naming the columns, then one line per app with the bundle
// identifier bare and the other attributes quoted, ", "-separated:
//
//	1.1.x `-l -o list_all`: "CFBundleIdentifier, CFBundleVersion, CFBundleDisplayName"
//	                        `net.whatsapp.WhatsApp, "2.24.10.74", "WhatsApp"`
//	                        (the version is left out when the app has none)
//	1.2.x `list --all`:     "CFBundleIdentifier, CFBundleShortVersionString, CFBundleDisplayName"
//	                        `net.whatsapp.WhatsApp, "24.10.74", "WhatsApp"`
//	                        (an absent attribute leaves an empty column)
//
// (ideviceinstaller src/ideviceinstaller.c print_apps in 1.1.1 and 1.2.0;
// 1.2.0 quotes with libplist's PLIST_FORMAT_PRINT, which escapes like
// JSON.) Display names are not kept: only identifier and version.
func parseAppList(b []byte) ([]app, error) {
	var apps []app
	header := false
	versionCol := 1
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !header {
			if strings.HasPrefix(line, "CFBundleIdentifier") {
				header = true
				versionCol = columnOf(line, "Version")
			}
			continue
		}
		if a, ok := appLine(line, versionCol); ok && len(apps) < maxApps {
			apps = append(apps, a)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !header {
		return nil, errNoAppList
	}
	return apps, nil
}

// columnOf returns the index of the first header column containing word,
// or -1.
func columnOf(header, word string) int {
	for i, c := range strings.Split(header, ",") {
		if strings.Contains(c, word) {
			return i
		}
	}
	return -1
}

func appLine(line string, versionCol int) (app, bool) {
	id, rest, _ := strings.Cut(line, ",")
	id = strings.TrimSpace(id)
	if !validBundleID(id) {
		return app{}, false
	}
	cols := splitQuoted(rest)
	a := app{ID: id}
	// 1.1.x leaves the version column out entirely when the app has none:
	// with fewer columns than the header the version is the missing one.
	if versionCol > 0 && versionCol-1 < len(cols) && len(cols) >= 2 {
		a.Version = cols[versionCol-1]
	}
	return a, true
}

// splitQuoted splits `"a", , "b\"c"` into its columns, unquoting JSON-style
// escapes; an empty column is "".
func splitQuoted(s string) []string {
	var cols []string
	for {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return cols
		}
		var col string
		if s[0] == '"' {
			col, s = unquote(s[1:])
		} else {
			col, s, _ = strings.Cut(s, ",")
			col = strings.TrimSpace(col)
			s = "," + s
		}
		cols = append(cols, platform.Printable(col, 64))
		var ok bool
		if s, ok = strings.CutPrefix(strings.TrimLeft(s, " "), ","); !ok {
			return cols
		}
	}
}

// unquote reads a quoted string up to its closing quote and returns it with
// the rest of the input.
func unquote(s string) (string, string) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:]
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), ""
}

// validBundleID reports whether s looks like a CFBundleIdentifier: ASCII
// letters, digits, "-", "_" and ".", at most 255 characters, starting with
// a letter or digit (Apple's "reverse-DNS" rule; a line of dots, as in
// a listing cut off with "...", is not an app).
func validBundleID(s string) bool {
	if s == "" || len(s) > 255 || s[0] == '.' || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
