package windows

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
)

// utf16File encodes s the way regedit writes .reg files: UTF-16LE with a BOM.
func utf16File(s string) []byte {
	u := utf16.Encode([]rune(s))
	out := []byte{0xff, 0xfe}
	for _, c := range u {
		out = binary.LittleEndian.AppendUint16(out, c)
	}
	return out
}

func TestParseReg(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want *RegFile
	}{
		{
			name: "every value type",
			in: []byte("Windows Registry Editor Version 5.00\r\n\r\n" +
				"[HKEY_LOCAL_MACHINE\\SOFTWARE\\Test]\r\n" +
				"@=\"default\"\r\n" +
				"\"Path\"=\"C:\\\\Program Files\\\\App\"\r\n" +
				"\"Quote\"=\"say \\\"hi\\\"\"\r\n" +
				"\"Dword\"=dword:0000012c\r\n" +
				"\"Qword\"=hex(b):00,e4,0b,54,02,00,00,00\r\n" +
				"\"Expand\"=hex(2):25,00,53,00,79,00,73,00,74,00,65,00,6d,00,44,00,72,00,69,00,\\\r\n" +
				"  76,00,65,00,25,00,00,00\r\n" +
				"\"Multi\"=hex(7):61,00,00,00,62,00,63,00,00,00,00,00\r\n" +
				"\"Bin\"=hex:01,ff,3a\r\n" +
				"\"None\"=hex(0):\r\n" +
				"\"Gone\"=-\r\n"),
			want: &RegFile{Keys: []RegKey{{Path: `HKEY_LOCAL_MACHINE\SOFTWARE\Test`, Values: []RegValue{
				{Name: "", Value: Value{Type: REG_SZ, String: "default"}},
				{Name: "Path", Value: Value{Type: REG_SZ, String: `C:\Program Files\App`}},
				{Name: "Quote", Value: Value{Type: REG_SZ, String: `say "hi"`}},
				{Name: "Dword", Value: Value{Type: REG_DWORD, Int: 300}},
				{Name: "Qword", Value: Value{Type: REG_QWORD, Int: 10000000000}},
				{Name: "Expand", Value: Value{Type: REG_EXPAND_SZ, String: "%SystemDrive%"}},
				{Name: "Multi", Value: Value{Type: REG_MULTI_SZ, Strings: []string{"a", "bc"}}},
				{Name: "Bin", Value: Value{Type: REG_BINARY, Data: []byte{1, 0xff, 0x3a}}},
				{Name: "None", Value: Value{Type: REG_NONE}},
				{Name: "Gone", Delete: true},
			}}}},
		},
		{
			name: "REGEDIT4 with ANSI strings, comments and a deleted key",
			in: []byte("REGEDIT4\n\n; a comment\n[-HKEY_CURRENT_USER\\Software\\Old]\n\n" +
				"[HKEY_CURRENT_USER\\Software\\New]\n\"E\"=hex(2):25,53,25,00\n  \"Indented\" = dword:1\n"),
			want: &RegFile{Keys: []RegKey{
				{Path: `HKEY_CURRENT_USER\Software\Old`, Delete: true},
				{Path: `HKEY_CURRENT_USER\Software\New`, Values: []RegValue{
					{Name: "E", Value: Value{Type: REG_EXPAND_SZ, String: "%S%"}},
					{Name: "Indented", Value: Value{Type: REG_DWORD, Int: 1}},
				}},
			}},
		},
		{
			name: "UTF-16LE file as regedit writes it",
			in:   utf16File("Windows Registry Editor Version 5.00\r\n\r\n[HKEY_USERS\\S-1-5-18\\X]\r\n\"Name\"=\"Skype\u2122 7.34\"\r\n"),
			want: &RegFile{Keys: []RegKey{{Path: `HKEY_USERS\S-1-5-18\X`, Values: []RegValue{
				{Name: "Name", Value: Value{Type: REG_SZ, String: "Skype\u2122 7.34"}},
			}}}},
		},
		{
			name: "value names with brackets and equals signs",
			in:   []byte("Windows Registry Editor Version 5.00\n[HKLM\\K]\n\"a=[b]\"=\"c=d\"\n\"SCRNSAVE.EXE\"=\"x.scr\"\n"),
			want: &RegFile{Keys: []RegKey{{Path: `HKLM\K`, Values: []RegValue{
				{Name: "a=[b]", Value: Value{Type: REG_SZ, String: "c=d"}},
				{Name: "SCRNSAVE.EXE", Value: Value{Type: REG_SZ, String: "x.scr"}},
			}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseReg(tt.in)
			if err != nil {
				t.Fatalf("ParseReg() error: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseReg() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseRegErrors(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{"no header", "[HKLM\\X]\n", "line 1"},
		{"empty", "", "missing header"},
		{"value before key", "REGEDIT4\n\"a\"=\"b\"\n", "line 2: value outside a key section"},
		{"unknown root", "REGEDIT4\n[HKEY_NOWHERE\\X]\n", "line 2"},
		{"unterminated key", "REGEDIT4\n[HKLM\\X\n", "unterminated key"},
		{"bad dword", "REGEDIT4\n[HKLM\\X]\n\"a\"=dword:xyz\n", "line 3"},
		{"long dword", "REGEDIT4\n[HKLM\\X]\n\"a\"=dword:123456789\n", "1 to 8 hex digits"},
		{"bad hex", "REGEDIT4\n[HKLM\\X]\n\"a\"=hex:1,2\n", "two-digit"},
		{"unterminated string", "REGEDIT4\n[HKLM\\X]\n\"a\"=\"b\n", "unterminated"},
		{"junk after string", "REGEDIT4\n[HKLM\\X]\n\"a\"=\"b\" c\n", "after the closing quote"},
		{"unknown data", "REGEDIT4\n[HKLM\\X]\n\"a\"=str:b\n", "unrecognised value data"},
		{"junk line", "REGEDIT4\n[HKLM\\X]\nhello\n", "line 3: unrecognised line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseReg([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ParseReg(%q) error = %v; want one containing %q", tt.in, err, tt.wantErr)
			}
		})
	}
}

// TestParseRegErrorHidesContent checks that errors never quote the file.
func TestParseRegErrorHidesContent(t *testing.T) {
	_, err := ParseReg([]byte("REGEDIT4\n[HKLM\\X]\n\"secret-name\"=secret-data\n"))
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("ParseReg() error = %v; want an error without the line's content", err)
	}
}

func TestParseRegFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/*/*.reg")
	hives, _ := filepath.Glob("testdata/*/hives/*.reg")
	files = append(files, hives...)
	if len(files) < 5 {
		t.Fatalf("found %d fixture .reg files; want the committed ones", len(files))
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			rf, err := ParseReg(b)
			if err != nil {
				t.Fatalf("ParseReg(%s) error: %v", f, err)
			}
			if len(rf.Keys) == 0 {
				t.Errorf("ParseReg(%s) found no keys", f)
			}
		})
	}
}

func FuzzParseReg(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.reg")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("REGEDIT4\n[HKLM\\X]\n\"a\"=hex(7):61,00,00,\\\n 00\n@=\"\\\\\"\n"))
	f.Add(utf16File("Windows Registry Editor Version 5.00\r\n[HKCU\\X]\r\n\"q\"=hex(b):01\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rf, err := ParseReg(b)
		if err != nil {
			return
		}
		// Whatever parses must load into a registry and read back.
		m := NewMemRegistry()
		m.mu.Lock()
		err = m.apply(rf, "")
		m.mu.Unlock()
		if err != nil {
			t.Fatalf("apply of a parsed file failed: %v", err)
		}
		for _, k := range rf.Keys {
			if k.Delete {
				continue
			}
			if _, err := m.Values(k.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("Values(%q) error: %v", k.Path, err)
			}
		}
	})
}

func TestMemRegistry(t *testing.T) {
	m := NewMemRegistry()
	err := m.Load([]byte("REGEDIT4\n[HKEY_LOCAL_MACHINE\\Software\\B]\n\"Name\"=\"x\"\n[HKLM\\software\\a]\n[HKLM\\SOFTWARE\\c\\d]\n" +
		"[-HKLM\\Software\\C]\n[HKLM\\Software\\B]\n\"name\"=\"y\"\n"))
	if err != nil {
		t.Fatalf("Load() error: %v", err)
	}
	subs, err := m.SubKeys(`HKLM\SOFTWARE`)
	if err != nil {
		t.Fatalf("SubKeys() error: %v", err)
	}
	if diff := cmp.Diff([]string{"a", "B"}, subs); diff != "" {
		t.Errorf("SubKeys() mismatch (-want +got):\n%s", diff)
	}
	vals, err := m.Values(`hkey_local_machine\software\b`)
	if err != nil {
		t.Fatalf("Values() error: %v", err)
	}
	if got, ok, _ := stringValue(vals, "NAME"); !ok || got != "y" || len(vals) != 1 {
		t.Errorf("Values() = %v; want the value replaced case-insensitively by \"y\"", vals)
	}
	if _, err := m.Values(`HKLM\Software\c\d`); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Values() of a deleted key error = %v; want fs.ErrNotExist", err)
	}
	if _, err := m.SubKeys(`NOPE\x`); err == nil {
		t.Error("SubKeys() of an unknown root succeeded")
	}
}

func TestMemRegistryLoadHive(t *testing.T) {
	m := NewMemRegistry()
	m.AddHive(`C:\Users\bob\NTUSER.DAT`, []byte("REGEDIT4\n[HKEY_CURRENT_USER\\Control Panel\\Desktop]\n\"ScreenSaveActive\"=\"1\"\n"))
	m.AddHiveError(`C:\Users\eve\NTUSER.DAT`, errors.New("sharing violation"))
	m.AddHive(`C:\Users\bad\NTUSER.DAT`, []byte("not a reg file"))

	root, unload, err := m.LoadHive("S-1-5-21-1-2-3-1002", `c:\users\BOB\ntuser.dat`)
	if err != nil {
		t.Fatalf("LoadHive() error: %v", err)
	}
	if root != `HKU\msgguard_S-1-5-21-1-2-3-1002` {
		t.Errorf("LoadHive() root = %q", root)
	}
	vals, err := m.Values(root + `\Control Panel\Desktop`)
	if err != nil || len(vals) != 1 {
		t.Fatalf("Values() in the loaded hive = %v, %v", vals, err)
	}
	if _, _, err := m.LoadHive("S-1-5-21-1-2-3-1002", `C:\Users\bob\NTUSER.DAT`); err == nil {
		t.Error("LoadHive() twice succeeded; want the mount to be busy")
	}
	if err := unload(); err != nil {
		t.Fatalf("unload() error: %v", err)
	}
	if _, err := m.Values(root + `\Control Panel\Desktop`); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Values() after unload error = %v; want fs.ErrNotExist", err)
	}
	for _, file := range []string{`C:\Users\eve\NTUSER.DAT`, `C:\Users\bad\NTUSER.DAT`, `C:\Users\none\NTUSER.DAT`} {
		if _, _, err := m.LoadHive("S-1-5-21-9", file); err == nil {
			t.Errorf("LoadHive(%s) succeeded; want an error", file)
		}
	}
}

func TestDecodeValue(t *testing.T) {
	tests := []struct {
		name string
		typ  ValueType
		data []byte
		want Value
	}{
		{"sz with NUL padding", REG_SZ, encodeRegString("Fork\x00\x00\x00"), Value{Type: REG_SZ, String: "Fork"}},
		{"odd-length sz", REG_SZ, []byte{'a', 0, 'b'}, Value{Type: REG_SZ, String: "a"}},
		{"short dword", REG_DWORD, []byte{1}, Value{Type: REG_DWORD, Int: 1}},
		{"big-endian dword", REG_DWORD_BE, []byte{0, 0, 1, 0}, Value{Type: REG_DWORD_BE, Int: 256}},
		{"empty multi", REG_MULTI_SZ, nil, Value{Type: REG_MULTI_SZ}},
		{"unknown type keeps bytes", ValueType(99), []byte{7}, Value{Type: 99, Data: []byte{7}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, decodeValue(tt.typ, tt.data)); diff != "" {
				t.Errorf("decodeValue() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTypedGetters(t *testing.T) {
	vals := map[string]Value{
		"S": {Type: REG_SZ, String: "12"},
		"D": {Type: REG_DWORD, Int: 7},
		"B": {Type: REG_BINARY, Data: []byte{1}},
		"X": {Type: REG_SZ, String: "twelve"},
	}
	if _, _, err := stringValue(vals, "d"); !errors.Is(err, errWrongType) {
		t.Errorf("stringValue(DWORD) error = %v; want errWrongType", err)
	}
	if _, _, err := intValue(vals, "s"); !errors.Is(err, errWrongType) {
		t.Errorf("intValue(REG_SZ) error = %v; want errWrongType", err)
	}
	if n, ok, err := numberValue(vals, "S"); n != 12 || !ok || err != nil {
		t.Errorf("numberValue(\"12\") = %d, %v, %v", n, ok, err)
	}
	if n, ok, err := numberValue(vals, "D"); n != 7 || !ok || err != nil {
		t.Errorf("numberValue(DWORD 7) = %d, %v, %v", n, ok, err)
	}
	for _, name := range []string{"B", "X"} {
		if _, _, err := numberValue(vals, name); !errors.Is(err, errWrongType) {
			t.Errorf("numberValue(%s) error = %v; want errWrongType", name, err)
		}
	}
	if _, ok, err := stringValue(vals, "missing"); ok || err != nil {
		t.Errorf("stringValue(missing) = %v, %v; want absent", ok, err)
	}
}

// encodeRegString returns s as UTF-16LE with the terminating NUL, the way
// RegQueryValueExW returns a REG_SZ.
func encodeRegString(s string) []byte {
	out := []byte{}
	for _, c := range utf16.Encode([]rune(s + "\x00")) {
		out = binary.LittleEndian.AppendUint16(out, c)
	}
	return out
}
