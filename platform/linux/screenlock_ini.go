package linux

import (
	"bytes"
	"strings"
)

// iniFile is a parsed keyfile: group → key → value, for the small
// freedesktop/systemd keyfiles the screen-lock probes read (AccountsService
// user files, session .desktop files, logind.conf). Keys before any group
// header land in group "". Later duplicates win, as in GKeyFile and systemd.
type iniFile map[string]map[string]string

// parseIniFile parses "[group]" headers, "key=value" lines and "#"/";"
// comments. Localised keys ("Name[de]") are kept verbatim. It never fails:
// lines it does not understand are skipped, as GKeyFile-tolerant readers do.
func parseIniFile(b []byte) iniFile {
	out := iniFile{}
	group := ""
	for len(b) > 0 {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			if end := bytes.IndexByte(line, ']'); end > 0 {
				group = string(line[1:end])
			}
			continue
		}
		k, v, ok := bytes.Cut(line, []byte("="))
		if !ok {
			continue
		}
		key := string(bytes.TrimSpace(k))
		if key == "" {
			continue
		}
		g := out[group]
		if g == nil {
			g = map[string]string{}
			out[group] = g
		}
		g[key] = string(bytes.TrimSpace(v))
	}
	return out
}

// get returns group/key and whether it was set.
func (f iniFile) get(group, key string) (string, bool) {
	v, ok := f[group][key]
	return v, ok
}

// parseKeyfileBool reads a GKeyFile/KConfig boolean. KConfig also accepts
// on/yes/1 (kconfiggroup.cpp); ok is false for anything else.
func parseKeyfileBool(s string) (val, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "on", "yes", "1":
		return true, true
	case "false", "off", "no", "0":
		return false, true
	}
	return false, false
}
