package darwin

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"howett.net/plist"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseInfoPlist(t *testing.T) {
	tests := []struct {
		file string
		want bundleInfo
	}{
		{"Telegram", bundleInfo{ID: "ru.keepcoder.Telegram", Name: "Telegram", Version: "10.6", Category: "public.app-category.social-networking"}},
		{"TelegramDesktop", bundleInfo{ID: "com.tdesktop.Telegram", Version: "5.2.3"}},
		{"WhatsApp", bundleInfo{ID: "net.whatsapp.WhatsApp", Name: "WhatsApp", DisplayName: "WhatsApp", Version: "26.25.15", Category: "public.app-category.social-networking"}},
		{"Signal", bundleInfo{ID: "org.whispersystems.signal-desktop", Name: "Signal", DisplayName: "Signal", Version: "7.4.0", Category: "public.app-category.social-networking"}},
		{"Slack", bundleInfo{ID: "com.tinyspeck.slackmacgap", Name: "Slack", DisplayName: "Slack", Version: "4.41.105", Category: "public.app-category.productivity"}},
		{"MicrosoftTeams", bundleInfo{ID: "com.microsoft.teams2", Name: "Microsoft Teams", DisplayName: "Microsoft Teams", Version: "25163.3611.3774.6315"}},
		{"Threema", bundleInfo{ID: "threema-consumer-web", Name: "Threema", DisplayName: "Threema", Version: "1.2.39"}},
		{"Firefox", bundleInfo{ID: "org.mozilla.firefox", Name: "Firefox", Version: "128.0"}},
	}
	for _, tc := range tests {
		for _, ext := range []string{".xml", ".bplist"} {
			t.Run(tc.file+ext, func(t *testing.T) {
				got, err := parseInfoPlist(readTestdata(t, "infoplist/"+tc.file+ext))
				if err != nil {
					t.Fatalf("parseInfoPlist() error: %v", err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("parseInfoPlist(%s%s) mismatch (-want +got):\n%s", tc.file, ext, diff)
				}
			})
		}
	}
}

func TestParseInfoPlistLenientTypes(t *testing.T) {
	// A version stored as a number must not lose the bundle identifier.
	b := []byte(`<?xml version="1.0"?><plist version="1.0"><dict>
<key>CFBundleIdentifier</key><string>org.whispersystems.signal-desktop</string>
<key>CFBundleShortVersionString</key><real>7.4</real>
<key>CFBundleName</key><array><string>x</string></array></dict></plist>`)
	got, err := parseInfoPlist(b)
	if err != nil {
		t.Fatalf("parseInfoPlist() error: %v", err)
	}
	if got.ID != "org.whispersystems.signal-desktop" || got.Version != "" || got.Name != "" {
		t.Errorf("parseInfoPlist() = %+v; want the id only", got)
	}
}

func TestDecodePlistRejectsHostileInput(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want error // nil: any error
	}{
		{"truncated binary", readTestdata(t, "broken/truncated.bplist"), errPlistFormat},
		{"xml bomb", readTestdata(t, "broken/bomb.xml"), errPlistDepth},
		{"binary bomb", readTestdata(t, "broken/bomb.bplist"), errPlistDepth},
		{"binary cycle", readTestdata(t, "broken/cycle.bplist"), errPlistFormat},
		{"binary laughs", readTestdata(t, "broken/laughs.bplist"), errPlistDepth},
		{"openstep text", []byte(`{ CFBundleIdentifier = "net.whatsapp.WhatsApp"; }`), errPlistFormat},
		{"openstep nesting", []byte(strings.Repeat("(", 100000)), errPlistFormat},
		{"not a plist root", []byte(`<html><body/></html>`), errPlistFormat},
		{"two roots", []byte(`<plist><dict/></plist><plist><dict/></plist>`), errPlistFormat},
		{"mismatched tags", []byte(`<plist><dict></array></plist>`), errPlistFormat},
		{"empty", nil, errPlistFormat},
		{"bplist header only", []byte("bplist00"), errPlistFormat},
		{"bplist v1", append([]byte("bplist15"), make([]byte, 40)...), errPlistFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			var info bundleInfo
			err := decodePlist(tc.b, &info)
			if err == nil {
				t.Fatalf("decodePlist(%s) = nil error; want a rejection", tc.name)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("decodePlist(%s) error = %v; want %v", tc.name, err, tc.want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("decodePlist(%s) took %v; want a quick rejection", tc.name, d)
			}
		})
	}
}

// TestDecodePlistErrorsQuoteNoContent: the parsers' own messages name
// elements and quote values; decodePlist's errors must not carry them (a
// dslocal record or an nvram dump holds personal data).
func TestDecodePlistErrorsQuoteNoContent(t *testing.T) {
	const secret = "alice.secret"
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"date", `<plist><dict><key>idleTime</key><date>` + secret + `</date></dict></plist>`, errPlistValue},
		{"integer", `<plist><dict><key>idleTime</key><integer>` + secret + `</integer></dict></plist>`, errPlistValue},
		{"mismatched tags", `<plist><dict><` + secret + `>x</bob></dict></plist>`, errPlistFormat},
		{"root element", `<` + secret + `/>`, errPlistFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v byHostScreensaver
			err := decodePlist([]byte(tc.in), &v)
			if !errors.Is(err, tc.want) {
				t.Errorf("decodePlist error = %v; want %v", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("decodePlist error %q quotes the document", err)
			}
		})
	}
}

// TestCheckBinaryPlistAcceptsSharedObjects: a DAG (one object referenced
// from many places, as CoreFoundation writes repeated strings) is fine.
func TestCheckBinaryPlistAcceptsSharedObjects(t *testing.T) {
	type doc struct {
		A []string `plist:"a"`
		B []string `plist:"b"`
		C []string `plist:"c"`
	}
	shared := []string{"x", "x", "x"}
	b, err := plist.Marshal(doc{A: shared, B: shared, C: shared}, plist.BinaryFormat)
	if err != nil {
		t.Fatal(err)
	}
	var got doc
	if err := decodePlist(b, &got); err != nil {
		t.Fatalf("decodePlist(shared objects) error: %v", err)
	}
	if diff := cmp.Diff(doc{A: shared, B: shared, C: shared}, got); diff != "" {
		t.Errorf("decodePlist mismatch (-want +got):\n%s", diff)
	}
}

func TestCheckPlistDepthLimit(t *testing.T) {
	nest := func(n int) []byte {
		return []byte("<plist>" + strings.Repeat("<array>", n) + strings.Repeat("</array>", n) + "</plist>")
	}
	if err := checkPlist(nest(maxPlistDepth)); err != nil {
		t.Errorf("checkPlist(depth %d) = %v; want nil", maxPlistDepth, err)
	}
	if err := checkPlist(nest(maxPlistDepth + 3)); !errors.Is(err, errPlistDepth) {
		t.Errorf("checkPlist(depth %d) = %v; want %v", maxPlistDepth+3, err, errPlistDepth)
	}
	var v any
	for _, n := range []int{maxPlistDepth - 2, maxPlistDepth + 3} {
		var cur any = []any{}
		for i := 0; i < n; i++ {
			cur = []any{cur}
		}
		b, err := plist.Marshal(cur, plist.BinaryFormat)
		if err != nil {
			t.Fatal(err)
		}
		err = decodePlist(b, &v)
		if n <= maxPlistDepth && err != nil {
			t.Errorf("decodePlist(binary depth %d) = %v; want nil", n, err)
		}
		if n > maxPlistDepth && !errors.Is(err, errPlistDepth) {
			t.Errorf("decodePlist(binary depth %d) = %v; want %v", n, err, errPlistDepth)
		}
	}
}

func TestPlistPresentDoesNotDecode(t *testing.T) {
	on, err := parseNvram(readTestdata(t, "commands/nvram-fmm.xml"))
	if err != nil || !on {
		t.Errorf("parseNvram(nvram-fmm.xml) = %v, %v; want true, nil", on, err)
	}
	off, err := parseNvram(readTestdata(t, "commands/nvram-nofmm.xml"))
	if err != nil || off {
		t.Errorf("parseNvram(nvram-nofmm.xml) = %v, %v; want false, nil", off, err)
	}
}

func FuzzDecodePlist(f *testing.F) {
	for _, name := range []string{"infoplist/Slack.bplist", "infoplist/Telegram.xml", "broken/truncated.bplist",
		"broken/cycle.bplist", "broken/laughs.bplist", "commands/profiles-list-mdm.xml", "commands/nvram-fmm.xml"} {
		f.Add(readTestdata(f, name))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// Must not panic or hang, whatever the bytes.
		_, _ = parseInfoPlist(b)
		_, _, _ = parseProfilesList(b)
		_, _ = parseNvram(b)
		if m, err := parseManagedScreensaver(b); err == nil {
			_ = m.String()
		}
	})
}
