package browser

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"unicode/utf16"
)

// MaxShortcutSize caps a .lnk file read for its arguments: a browser's
// web-app shortcut is a few kilobytes.
const MaxShortcutSize = 64 << 10

// Shortcut is what a Windows shell link says about a browser web app.
type Shortcut struct {
	// Target is the relative path or, failing that, the icon location: it
	// names the browser (chrome_proxy.exe, msedge_proxy.exe).
	Target string
	// AppID is the --app-id= argument, ProfileDir the --profile-directory=.
	AppID, ProfileDir string
}

var errLnk = errors.New("not a shell link (MS-SHLLINK)")

// Shell link header fields and flags ([MS-SHLLINK] 2.1: HeaderSize 0x4C,
// LinkCLSID 00021401-0000-0000-C000-000000000046, LinkFlags).
const (
	lnkHeaderSize       = 0x4c
	lnkHasIDList        = 1 << 0
	lnkHasLinkInfo      = 1 << 1
	lnkHasName          = 1 << 2
	lnkHasRelativePath  = 1 << 3
	lnkHasWorkingDir    = 1 << 4
	lnkHasArguments     = 1 << 5
	lnkHasIconLocation  = 1 << 6
	lnkIsUnicode        = 1 << 7
	maxLnkStringUnits   = 4096
	lnkStringDataFields = 5
)

var lnkCLSID = []byte{0x01, 0x14, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46}

// ParseShortcut reads the StringData of a shell link ([MS-SHLLINK] 2.4:
// NAME_STRING, RELATIVE_PATH, WORKING_DIR, COMMAND_LINE_ARGUMENTS,
// ICON_LOCATION, each present when its LinkFlags bit is set, after the
// header, the LinkTargetIDList (2.2, size-prefixed) and the LinkInfo (2.3,
// size-prefixed)). Every length is checked against the data, so a
// truncated or hostile file is an error, never a panic or a large
// allocation. Only the arguments and the target are kept.
func ParseShortcut(b []byte) (Shortcut, error) {
	if len(b) < lnkHeaderSize || binary.LittleEndian.Uint32(b) != lnkHeaderSize || !bytes.Equal(b[4:20], lnkCLSID) {
		return Shortcut{}, errLnk
	}
	flags := binary.LittleEndian.Uint32(b[20:])
	off := lnkHeaderSize
	if flags&lnkHasIDList != 0 {
		if off+2 > len(b) {
			return Shortcut{}, errLnk
		}
		off += 2 + int(binary.LittleEndian.Uint16(b[off:]))
	}
	if flags&lnkHasLinkInfo != 0 {
		if off+4 > len(b) {
			return Shortcut{}, errLnk
		}
		n := int(binary.LittleEndian.Uint32(b[off:]))
		if n < 4 || n > len(b) {
			return Shortcut{}, errLnk
		}
		off += n
	}
	unicode := flags&lnkIsUnicode != 0
	var fields [lnkStringDataFields]string
	bits := [lnkStringDataFields]uint32{lnkHasName, lnkHasRelativePath, lnkHasWorkingDir, lnkHasArguments, lnkHasIconLocation}
	for i, bit := range bits {
		if flags&bit == 0 {
			continue
		}
		if off+2 > len(b) {
			return Shortcut{}, errLnk
		}
		n := int(binary.LittleEndian.Uint16(b[off:]))
		off += 2
		if n > maxLnkStringUnits {
			return Shortcut{}, errLnk
		}
		size := n
		if unicode {
			size = 2 * n
		}
		if off+size > len(b) {
			return Shortcut{}, errLnk
		}
		raw := b[off : off+size]
		off += size
		if unicode {
			u := make([]uint16, n)
			for j := range u {
				u[j] = binary.LittleEndian.Uint16(raw[2*j:])
			}
			fields[i] = string(utf16.Decode(u))
		} else {
			fields[i] = string(raw) // the system code page; the ASCII we look for is the same
		}
	}
	s := Shortcut{Target: fields[1]}
	if s.Target == "" {
		s.Target = fields[4]
	}
	for _, arg := range splitArgs(fields[3]) {
		if v, ok := strings.CutPrefix(arg, "--app-id="); ok {
			s.AppID = v
		} else if v, ok := strings.CutPrefix(arg, "--profile-directory="); ok {
			s.ProfileDir = v
		}
	}
	return s, nil
}

// splitArgs splits a Windows command line on spaces outside double quotes
// and drops the quotes ("--profile-directory=Profile 1" is one argument):
// enough for the switches Chromium writes.
func splitArgs(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case (r == ' ' || r == '\t') && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// BrowserOfTarget names the browser of a web-app shortcut from its target
// or icon path: Chrome and Edge start web apps through chrome_proxy.exe and
// msedge_proxy.exe in their Application folders.
func BrowserOfTarget(target string) string {
	t := strings.ToLower(strings.ReplaceAll(target, `\`, "/"))
	switch {
	case strings.Contains(t, "msedge"), strings.Contains(t, "microsoft/edge"):
		return "Edge"
	case strings.Contains(t, "bravesoftware"):
		return "Brave"
	case strings.Contains(t, "vivaldi"):
		return "Vivaldi"
	case strings.Contains(t, "google/chrome"), strings.Contains(t, "chrome_proxy"):
		return "Chrome"
	case strings.Contains(t, "chromium"):
		return "Chromium"
	}
	return "browser"
}

// ValidAppID reports whether s has the shape of a Chromium app id.
func ValidAppID(s string) bool { return validAppID(s) }
