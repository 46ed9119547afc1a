package platform

import "strings"

// MaxVersionLen caps a version string kept in an inventory. Real versions
// are a few dozen bytes; the files and registry values they come from can
// be written by the user (an app bundle in ~/Applications, a per-user
// Flatpak, an HKCU uninstall key).
const MaxVersionLen = 64

// Printable keeps s short (at most max bytes, cut at a rune boundary) and
// free of control characters and invalid UTF-8, for values read from
// user-writable files, registry keys or a phone that end up in the
// inventory.
func Printable(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "")
	}
	return strings.TrimSpace(s)
}
