package windows

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// RegFile is a parsed registry export (.reg file), in file order.
//
// Format, as written by regedit.exe and reg.exe export and read by reg
// import: a header line "Windows Registry Editor Version 5.00" (UTF-16LE
// with BOM when regedit writes it) or "REGEDIT4" (ANSI); key sections
// `[HKEY_LOCAL_MACHINE\...]`, `[-...]` to delete a key; value lines
// `"Name"="string"`, `@=` for the default value, `"Name"=dword:0000012c`,
// `"Name"=hex:..` (REG_BINARY), `"Name"=hex(N):..` for any other type N
// (2 REG_EXPAND_SZ, 7 REG_MULTI_SZ, b REG_QWORD, 0 REG_NONE), `"Name"=-` to
// delete a value; hex data continued over lines ending in `\`; comment lines
// starting with `;`. In version 5 files hex(2)/hex(7) strings are UTF-16LE,
// in REGEDIT4 files single-byte. Inside quotes `\\` is a backslash and `\"`
// a quote. (Microsoft, "How to add, modify, or delete registry subkeys and
// values by using a .reg file", KB 310516; the exports in testdata/ follow
// the same rules.)
type RegFile struct {
	Keys []RegKey
}

// RegKey is one key section of a .reg file.
type RegKey struct {
	// Path is the key path as written, e.g. `HKEY_LOCAL_MACHINE\SOFTWARE`.
	Path   string
	Delete bool
	Values []RegValue
}

// RegValue is one value line of a .reg file.
type RegValue struct {
	Name   string
	Delete bool
	Value  Value
}

// .reg headers.
const (
	regHeader5 = "Windows Registry Editor Version 5.00"
	regHeader4 = "REGEDIT4"
)

// ParseReg parses a .reg export. It is pure and bounded by its input: errors
// name the line number, never the line's content.
func ParseReg(b []byte) (*RegFile, error) {
	lines := strings.Split(decodeRegText(b), "\n")
	p := regParser{}
	for i := 0; i < len(lines); i++ {
		start := i + 1
		line := strings.TrimSpace(strings.TrimSuffix(lines[i], "\r"))
		// Join continuation lines of hex data.
		for strings.HasSuffix(line, `\`) && !strings.HasPrefix(line, ";") && !strings.HasPrefix(line, "[") && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, `\`) + strings.TrimSpace(strings.TrimSuffix(lines[i], "\r"))
		}
		if err := p.line(line); err != nil {
			return nil, fmt.Errorf("reg file line %d: %w", start, err)
		}
	}
	if !p.sawHeader {
		return nil, errors.New("reg file: missing header line")
	}
	return &p.file, nil
}

// decodeRegText turns the file bytes into a string: UTF-16LE when it starts
// with the FFFE byte-order mark (regedit's default), otherwise UTF-8 with an
// optional BOM, falling back to Latin-1 for REGEDIT4's ANSI text.
func decodeRegText(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}):
		return utf16Decode(b[2:])
	case bytes.HasPrefix(b, []byte{0xef, 0xbb, 0xbf}):
		b = b[3:]
	}
	if utf8.Valid(b) {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

type regParser struct {
	file      RegFile
	sawHeader bool
	v4        bool
	cur       *RegKey
}

func (p *regParser) line(line string) error {
	switch {
	case line == "" || strings.HasPrefix(line, ";"):
		return nil
	case !p.sawHeader:
		switch line {
		case regHeader5:
		case regHeader4:
			p.v4 = true
		default:
			return errors.New("expected a .reg header")
		}
		p.sawHeader = true
		return nil
	case strings.HasPrefix(line, "["):
		return p.key(line)
	case strings.HasPrefix(line, `"`) || strings.HasPrefix(line, "@"):
		if p.cur == nil {
			return errors.New("value outside a key section")
		}
		v, err := p.value(line)
		if err != nil {
			return err
		}
		p.cur.Values = append(p.cur.Values, v)
		return nil
	}
	return errors.New("unrecognised line")
}

func (p *regParser) key(line string) error {
	if !strings.HasSuffix(line, "]") || len(line) < 3 {
		return errors.New("unterminated key section")
	}
	k := RegKey{Path: line[1 : len(line)-1]}
	if strings.HasPrefix(k.Path, "-") {
		k.Delete, k.Path = true, k.Path[1:]
	}
	if _, _, err := splitPath(k.Path); err != nil {
		return errors.New("key section with an unknown root key")
	}
	p.file.Keys = append(p.file.Keys, k)
	p.cur = &p.file.Keys[len(p.file.Keys)-1]
	return nil
}

func (p *regParser) value(line string) (RegValue, error) {
	var v RegValue
	rest := line
	if strings.HasPrefix(rest, "@") {
		rest = rest[1:]
	} else {
		name, n, err := unquote(rest)
		if err != nil {
			return v, fmt.Errorf("value name: %w", err)
		}
		v.Name, rest = name, rest[n:]
	}
	rest = strings.TrimSpace(rest)
	if !strings.HasPrefix(rest, "=") {
		return v, errors.New("expected = after the value name")
	}
	data := strings.TrimSpace(rest[1:])
	if data == "-" {
		v.Delete = true
		return v, nil
	}
	val, err := p.data(data)
	if err != nil {
		return v, fmt.Errorf("value data: %w", err)
	}
	v.Value = val
	return v, nil
}

func (p *regParser) data(data string) (Value, error) {
	lower := strings.ToLower(data)
	switch {
	case strings.HasPrefix(data, `"`):
		s, n, err := unquote(data)
		if err != nil {
			return Value{}, err
		}
		if strings.TrimSpace(data[n:]) != "" {
			return Value{}, errors.New("text after the closing quote")
		}
		return Value{Type: REG_SZ, String: s}, nil
	case strings.HasPrefix(lower, "dword:"):
		digits := strings.TrimSpace(data[len("dword:"):])
		if len(digits) == 0 || len(digits) > 8 {
			return Value{}, errors.New("dword needs 1 to 8 hex digits")
		}
		n, err := strconv.ParseUint(digits, 16, 32)
		if err != nil {
			return Value{}, errors.New("dword is not hexadecimal")
		}
		return Value{Type: REG_DWORD, Int: n}, nil
	case strings.HasPrefix(lower, "hex:"):
		b, err := hexBytes(data[len("hex:"):])
		if err != nil {
			return Value{}, err
		}
		return decodeValue(REG_BINARY, b), nil
	case strings.HasPrefix(lower, "hex("):
		end := strings.Index(lower, "):")
		if end < 0 {
			return Value{}, errors.New("hex(type) without closing parenthesis")
		}
		t, err := strconv.ParseUint(lower[len("hex("):end], 16, 32)
		if err != nil {
			return Value{}, errors.New("hex(type) is not hexadecimal")
		}
		b, err := hexBytes(data[end+2:])
		if err != nil {
			return Value{}, err
		}
		typ := ValueType(t)
		if p.v4 && (typ == REG_SZ || typ == REG_EXPAND_SZ || typ == REG_MULTI_SZ) {
			b = widen(b)
		}
		return decodeValue(typ, b), nil
	}
	return Value{}, errors.New("unrecognised value data")
}

// unquote reads a quoted .reg string at the start of s and returns it with
// the number of bytes consumed. Only \\ and \" are escapes; any other
// backslash is kept literally, as reg import does.
func unquote(s string) (string, int, error) {
	if !strings.HasPrefix(s, `"`) {
		return "", 0, errors.New("expected a quoted string")
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			return b.String(), i + 1, nil
		case c == '\\' && i+1 < len(s) && (s[i+1] == '\\' || s[i+1] == '"'):
			b.WriteByte(s[i+1])
			i++
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, errors.New("unterminated quoted string")
}

// hexBytes parses comma-separated two-digit hex bytes ("01,ff, 3a").
func hexBytes(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	out := make([]byte, 0, len(parts))
	for _, part := range parts {
		part = strings.TrimSpace(part)
		if part == "" {
			continue // a trailing comma before a line break
		}
		if len(part) != 2 {
			return nil, errors.New("hex data must be two-digit bytes")
		}
		b, err := hex.DecodeString(part)
		if err != nil {
			return nil, errors.New("hex data is not hexadecimal")
		}
		out = append(out, b[0])
	}
	return out, nil
}

// widen converts REGEDIT4 single-byte string data into UTF-16LE so that
// decodeValue reads both versions alike.
func widen(b []byte) []byte {
	out := make([]byte, 2*len(b))
	for i, c := range b {
		binary.LittleEndian.PutUint16(out[2*i:], uint16(c))
	}
	return out
}
