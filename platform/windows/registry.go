package windows

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Registry reads the Windows registry. Paths start with a root key in its
// short or long form (HKLM, HKEY_LOCAL_MACHINE, HKU, HKEY_USERS, HKCU, HKCR,
// HKCC) followed by backslash-separated subkeys, e.g.
// `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall`. Key and value
// names compare case-insensitively, as on Windows.
//
// A missing key is reported with an error that matches fs.ErrNotExist
// (errors.Is). Implementations bound their answers: at most MaxSubKeys subkeys
// and MaxValues values per key (more returns the first ones and an error
// matching ErrTruncated), and no value larger than MaxValueSize.
type Registry interface {
	// SubKeys returns the names of the direct subkeys of path.
	SubKeys(path string) ([]string, error)
	// Values returns the values of the key at path by name ("" is the
	// default value). The map must not be modified by the caller.
	Values(path string) (map[string]Value, error)
}

// HiveLoader is implemented by registries that can mount a user hive file
// (NTUSER.DAT) of a user who is not logged in. The native registry does it
// with RegLoadKey/RegUnLoadKey as SYSTEM; the .reg-file registry serves
// hives registered with AddHive.
type HiveLoader interface {
	// LoadHive mounts file (an absolute Windows path such as
	// `C:\Users\bob\NTUSER.DAT`) for the user sid and returns the registry
	// path under which the hive is visible and a function that unmounts it.
	// The caller must call unload as soon as it is done.
	LoadHive(sid, file string) (root string, unload func() error, err error)
}

// Bounds every Registry implementation enforces.
const (
	MaxSubKeys   = 100_000
	MaxValues    = 4096
	MaxValueSize = 64 << 10
)

// ErrTruncated reports that a key had more subkeys or values than the bounds
// allow; the returned slice or map holds the first ones.
var ErrTruncated = errors.New("registry key exceeds the enumeration limit")

// ValueType is a registry value type (winnt.h REG_* constants).
type ValueType uint32

// Registry value types.
const (
	REG_NONE      ValueType = 0
	REG_SZ        ValueType = 1
	REG_EXPAND_SZ ValueType = 2
	REG_BINARY    ValueType = 3
	REG_DWORD     ValueType = 4
	REG_DWORD_BE  ValueType = 5
	REG_LINK      ValueType = 6
	REG_MULTI_SZ  ValueType = 7
	REG_QWORD     ValueType = 11
)

func (t ValueType) String() string {
	switch t {
	case REG_NONE:
		return "REG_NONE"
	case REG_SZ:
		return "REG_SZ"
	case REG_EXPAND_SZ:
		return "REG_EXPAND_SZ"
	case REG_BINARY:
		return "REG_BINARY"
	case REG_DWORD:
		return "REG_DWORD"
	case REG_DWORD_BE:
		return "REG_DWORD_BIG_ENDIAN"
	case REG_LINK:
		return "REG_LINK"
	case REG_MULTI_SZ:
		return "REG_MULTI_SZ"
	case REG_QWORD:
		return "REG_QWORD"
	}
	return "REG_TYPE_" + strconv.FormatUint(uint64(t), 10)
}

// Value is one decoded registry value. String holds REG_SZ and REG_EXPAND_SZ
// (unexpanded), Strings REG_MULTI_SZ, Int REG_DWORD and REG_QWORD, and Data
// the raw bytes of every other type.
type Value struct {
	Type    ValueType
	String  string
	Strings []string
	Int     uint64
	Data    []byte
}

// decodeValue turns raw registry data into a Value. Strings are UTF-16LE as
// the registry stores them (RegQueryValueExW, and hex(2)/hex(7) in version 5
// .reg files). Malformed data never fails: integers shorter than their type
// are zero-extended and odd string lengths drop the last byte, the way a
// reader of a corrupt hive would see them.
func decodeValue(t ValueType, data []byte) Value {
	v := Value{Type: t}
	switch t {
	case REG_SZ, REG_EXPAND_SZ:
		v.String = firstString(utf16Decode(data))
	case REG_MULTI_SZ:
		v.Strings = multiString(utf16Decode(data))
	case REG_DWORD:
		v.Int = uint64(binary.LittleEndian.Uint32(pad(data, 4)))
	case REG_DWORD_BE:
		v.Int = uint64(binary.BigEndian.Uint32(pad(data, 4)))
	case REG_QWORD:
		v.Int = binary.LittleEndian.Uint64(pad(data, 8))
	default:
		v.Data = append([]byte(nil), data...)
	}
	return v
}

// pad returns the first n bytes of b, zero-extended.
func pad(b []byte, n int) []byte {
	out := make([]byte, n)
	copy(out, b)
	return out
}

func utf16Decode(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// firstString cuts s at its first NUL, as Windows does when reading REG_SZ.
func firstString(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// multiString splits NUL-separated strings, stopping at the empty string that
// terminates a REG_MULTI_SZ.
func multiString(s string) []string {
	var out []string
	for _, part := range strings.Split(s, "\x00") {
		if part == "" {
			break
		}
		out = append(out, part)
	}
	return out
}

// Root keys in their short form.
var rootNames = map[string]string{
	"hkey_local_machine":  "HKLM",
	"hklm":                "HKLM",
	"hkey_users":          "HKU",
	"hku":                 "HKU",
	"hkey_current_user":   "HKCU",
	"hkcu":                "HKCU",
	"hkey_classes_root":   "HKCR",
	"hkcr":                "HKCR",
	"hkey_current_config": "HKCC",
	"hkcc":                "HKCC",
}

// splitPath normalises a registry path into its short root name and the
// remaining subkeys (without empty components).
func splitPath(p string) (root string, parts []string, err error) {
	fields := strings.Split(strings.Trim(p, `\`), `\`)
	root, ok := rootNames[strings.ToLower(fields[0])]
	if !ok {
		return "", nil, fmt.Errorf("registry path %q: unknown root key", p)
	}
	for _, f := range fields[1:] {
		if f != "" {
			parts = append(parts, f)
		}
	}
	return root, parts, nil
}

// joinKey joins registry path components with backslashes.
func joinKey(parts ...string) string { return strings.Join(parts, `\`) }

// isNotExist reports whether err says a key or value does not exist.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// errWrongType is returned by the typed getters for a value of an unexpected
// type; the scan ignores that value and records a Problem.
var errWrongType = errors.New("unexpected registry value type")

// lookup finds a value by name, case-insensitively.
func lookup(vals map[string]Value, name string) (Value, bool) {
	if v, ok := vals[name]; ok {
		return v, true
	}
	for k, v := range vals {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return Value{}, false
}

// stringValue returns a REG_SZ or REG_EXPAND_SZ value. ok is false when the
// value is absent; err is set when it has another type.
func stringValue(vals map[string]Value, name string) (s string, ok bool, err error) {
	v, found := lookup(vals, name)
	if !found {
		return "", false, nil
	}
	if v.Type != REG_SZ && v.Type != REG_EXPAND_SZ {
		return "", false, fmt.Errorf("value %q is %s, expected a string: %w", name, v.Type, errWrongType)
	}
	return v.String, true, nil
}

// intValue returns a REG_DWORD or REG_QWORD value. ok is false when the value
// is absent; err is set when it has another type.
func intValue(vals map[string]Value, name string) (n uint64, ok bool, err error) {
	v, found := lookup(vals, name)
	if !found {
		return 0, false, nil
	}
	if v.Type != REG_DWORD && v.Type != REG_QWORD && v.Type != REG_DWORD_BE {
		return 0, false, fmt.Errorf("value %q is %s, expected a number: %w", name, v.Type, errWrongType)
	}
	return v.Int, true, nil
}

// numberValue accepts a number stored either as REG_DWORD/REG_QWORD or as a
// decimal REG_SZ, for values that documentation and real machines store both
// ways (Winlogon ScreenSaverGracePeriod is REG_SZ in the MSS baseline and a
// DWORD in other sources).
func numberValue(vals map[string]Value, name string) (n uint64, ok bool, err error) {
	v, found := lookup(vals, name)
	if !found {
		return 0, false, nil
	}
	switch v.Type {
	case REG_DWORD, REG_QWORD, REG_DWORD_BE:
		return v.Int, true, nil
	case REG_SZ, REG_EXPAND_SZ:
		n, err := strconv.ParseUint(strings.TrimSpace(v.String), 10, 32)
		if err != nil {
			return 0, false, fmt.Errorf("value %q is not a decimal number: %w", name, errWrongType)
		}
		return n, true, nil
	}
	return 0, false, fmt.Errorf("value %q is %s, expected a number: %w", name, v.Type, errWrongType)
}
