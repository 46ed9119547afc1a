package browser

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

func TestAppIDMatchesChromiumConstants(t *testing.T) {
	// chrome/browser/web_applications/web_app_id_constants.h, and the
	// real YouTube app shim in testdata (README.md there).
	for url, want := range map[string]string{
		"https://mail.google.com/chat/":                      "mdpkiolbdkhdjpekfbkbmhigcaggjagi",
		"https://chat.google.com/":                           "pommaclcbfghclhalboakcipcmmndhcj",
		"https://www.youtube.com/?feature=ytca":              "agimnkijcaahngcdmfeangaknmldooml",
		"https://mail.google.com/mail/?usp=installed_webapp": "fmgjjmmmlfnkbppncabfkddbjimcfncm",
	} {
		if got := AppID(url); got != want {
			t.Errorf("AppID(%q) = %q; want %q", url, got, want)
		}
	}
}

func testCatalog(t testing.TB) *policy.Catalog {
	t.Helper()
	cat, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// tree builds a home under a temporary root from a list of directories
// (trailing "/"), files and links ("name -> target").
func tree(t testing.TB, paths ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, p := range paths {
		full := filepath.Join(root, filepath.FromSlash(p))
		if name, target, ok := strings.Cut(p, " -> "); ok {
			full = filepath.Join(root, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		name, content, _ := strings.Cut(p, "=")
		full = filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

type result struct {
	found []policy.Messenger
	probs []policy.Problem
}

func inspect(t testing.TB, root, goos string, maxEntries int) result {
	t.Helper()
	var probs platform.Problems
	in := &Inspector{FS: platform.NewDirFS(root), Index: NewIndex(testCatalog(t)), Installs: Installs(goos),
		Problem: func(p, msg string) { probs.Add("browsers", "/"+p, msg) },
		Abs: func(p string) (string, bool) {
			if !strings.HasPrefix(p, "/") {
				return "", false
			}
			return platform.RelPath(p), true
		},
		MaxEntries: maxEntries}
	found := in.Home(context.Background(), "alice", "home/alice")
	return result{found, probs.List()}
}

func session(id, name string, v policy.Variant, loc string) policy.Messenger {
	return policy.Messenger{ID: id, Name: name, Variant: v, Source: SourceBrowser, User: "alice", Location: loc}
}

func TestInspectFindsCatalogOriginsOnly(t *testing.T) {
	const cr = "home/alice/.config/google-chrome/"
	const ff = "home/alice/.mozilla/firefox/"
	root := tree(t,
		cr+"Default/IndexedDB/https_web.whatsapp.com_0.indexeddb.leveldb/",
		cr+"Default/IndexedDB/https_secret-clinic.example_0.indexeddb.leveldb/",
		cr+"Profile 3/IndexedDB/https_app.slack.com_0.indexeddb.leveldb/",
		cr+"Profile 3/IndexedDB/https_app.slack.com_0.indexeddb.blob/",
		cr+"Profile x/IndexedDB/https_discord.com_0.indexeddb.leveldb/", // not a profile name
		cr+"Default/IndexedDB/https_web.telegram.org_0.indexeddb.leveldb=a file, not a folder",
		"home/alice/snap/chromium/common/chromium/Default/IndexedDB/https_teams.live.com_0.indexeddb.leveldb/",
		"home/alice/.config/opera/IndexedDB/https_web.skype.com_0.indexeddb.leveldb/",
		ff+"profiles.ini=[Profile0]\nName=Work stuff\nIsRelative=1\nPath=Profiles/abcd.work\n\n[Profile1]\nName=abs\nIsRelative=0\nPath=/home/alice/ffabs\n",
		ff+"Profiles/abcd.work/storage/default/https+++web.telegram.org^userContextId=1/",
		ff+"Profiles/abcd.work/storage/default/https+++secret-clinic.example/",
		"home/alice/ffabs/storage/default/https+++app.element.io/",
	)
	got := inspect(t, root, "linux", 0)
	want := []policy.Messenger{
		session("whatsapp", "WhatsApp", policy.VariantPrivate, `Chrome, profile "Default"`),
		session("slack", "Slack", policy.VariantBusiness, `Chrome, profile "Profile 3"`),
		session("teams-personal", "Microsoft Teams (free)", policy.VariantPrivate, `Chromium (snap), profile "Default"`),
		session("skype", "Skype", policy.VariantPrivate, `Opera, profile "Default"`),
		session("telegram", "Telegram", policy.VariantPrivate, `Firefox, profile "Work stuff"`),
		session("element", "Element", policy.VariantDual, `Firefox, profile "abs"`),
	}
	for i := range want {
		if e := testCatalog(t).Messenger(want[i].ID); e != nil {
			want[i].Name, want[i].Variant = e.Name, e.Variant
		}
	}
	if diff := cmp.Diff(want, got.found); diff != "" {
		t.Errorf("found (-want +got):\n%s", diff)
	}
	if len(got.probs) != 0 {
		t.Errorf("problems = %v; want none", got.probs)
	}
	// The unrelated site appears nowhere: not in evidence, not in problems.
	all := fmt.Sprint(got.found, got.probs)
	if strings.Contains(all, "secret-clinic") {
		t.Errorf("an unrelated origin leaked: %s", all)
	}
}

func TestInspectRefusesLinksAndForeignProfiles(t *testing.T) {
	const cr = "home/alice/.config/google-chrome/"
	root := tree(t,
		"home/bob/.config/google-chrome/Default/IndexedDB/https_web.whatsapp.com_0.indexeddb.leveldb/",
		"home/bob/ff/storage/default/https+++web.telegram.org/",
		cr+"Default -> /etc",
		cr+"Profile 1 -> ../../../bob/.config/google-chrome/Default",
		"home/alice/.config/microsoft-edge -> ../../bob/.config/google-chrome",
		"home/alice/.config/vivaldi/Default/IndexedDB -> /etc",
		"home/alice/.mozilla/firefox/profiles.ini=[Profile0]\nName=b\nIsRelative=0\nPath=/home/bob/ff\n[Profile1]\nName=up\nIsRelative=1\nPath=../../../bob/ff\n",
	)
	got := inspect(t, root, "linux", 0)
	if len(got.found) != 0 {
		t.Errorf("found = %v; want nothing (links and other users' profiles are not followed)", got.found)
	}
	wantProbs := []string{
		"/home/alice/.config/google-chrome/Default",
		"/home/alice/.config/google-chrome/Profile 1",
		"/home/alice/.config/microsoft-edge",
		"/home/alice/.config/vivaldi/Default/IndexedDB",
		"/home/alice/.mozilla/firefox/profiles.ini",
	}
	var paths []string
	for _, p := range got.probs {
		paths = append(paths, p.Path)
		if strings.Contains(p.Message, "bob") || strings.Contains(p.Message, "etc") {
			t.Errorf("problem message quotes a link target or file content: %q", p.Message)
		}
	}
	for _, w := range wantProbs {
		if !strings.Contains(strings.Join(paths, "\n"), w) {
			t.Errorf("no problem at %s; problems: %v", w, got.probs)
		}
	}
}

func TestInspectGarbageProfilesINIFallsBackToListing(t *testing.T) {
	root := tree(t,
		"home/alice/.mozilla/firefox/profiles.ini=\x00\x01garbage SECRET-CONTENT\n[[[",
		"home/alice/.mozilla/firefox/x1y2.default-release/storage/default/https+++web.whatsapp.com/",
		"home/alice/.config/google-chrome/Local State=\x00{{{{not json SECRET-CONTENT",
		"home/alice/.config/google-chrome/Default/IndexedDB/https_app.wire.com_0.indexeddb.leveldb/",
	)
	got := inspect(t, root, "linux", 0)
	if len(got.found) != 2 {
		t.Errorf("found = %v; want the Firefox profile found by listing and the Chrome profile despite Local State", got.found)
	}
	if len(got.probs) != 1 || !strings.Contains(got.probs[0].Message, "line 1") {
		t.Errorf("problems = %v; want one naming line 1 of profiles.ini", got.probs)
	}
	if strings.Contains(fmt.Sprint(got.probs), "SECRET") {
		t.Errorf("problem quotes file content: %v", got.probs)
	}
}

func TestInspectHugeIndexedDBIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 100,000 folders")
	}
	idb := "home/alice/.config/google-chrome/Default/IndexedDB"
	// A RAM-backed folder where there is one: creating 100,000 folders on
	// a busy shared disk takes a minute, on tmpfs a second.
	root, err := os.MkdirTemp("/dev/shm", "msgguard-browser-")
	if err != nil {
		root = t.TempDir()
	} else {
		t.Cleanup(func() { os.RemoveAll(root) })
	}
	dir := filepath.Join(root, filepath.FromSlash(idb))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 100_000 {
		if err := os.Mkdir(filepath.Join(dir, fmt.Sprintf("https_site%06d.example_0.indexeddb.leveldb", i)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The catalog origin sorts after the cap in directory order or not:
	// either way it must be found.
	if err := os.Mkdir(filepath.Join(dir, "https_web.whatsapp.com_0.indexeddb.leveldb"), 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got := inspect(t, root, "linux", 0)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("inspection took %v", d)
	}
	if len(got.found) != 1 || got.found[0].ID != "whatsapp" {
		t.Errorf("found = %v; want whatsapp", got.found)
	}
	if len(got.probs) != 1 || !strings.Contains(got.probs[0].Message, "more than") {
		t.Errorf("problems = %v; want one saying the folder was too large to list", got.probs)
	}
}

func TestParseShortcutFixture(t *testing.T) {
	b, err := os.ReadFile("../windows/testdata/home/root/Users/carol/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Chrome Apps/WhatsApp Web.lnk")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := ParseShortcut(b)
	if err != nil {
		t.Fatal(err)
	}
	if sc.AppID != "hnpfjngllnobngcgfapefoaidbinmjnm" || sc.ProfileDir != "Default" || BrowserOfTarget(sc.Target) != "Chrome" {
		t.Errorf("ParseShortcut = %+v", sc)
	}
	// Every truncation is an error or a shortcut, never a panic.
	for n := range len(b) {
		_, _ = ParseShortcut(b[:n])
	}
}

// TestParseShortcutRealFiles reads shortcuts Windows itself wrote (from
// plaso's test data, see testdata/README.md): a link target ID list, link
// info and extra data blocks around the string data, which the built
// fixtures do not have. The relative paths are the ones plaso's own test
// expects (tests/parsers/winlnk.py); none is a browser web app.
func TestParseShortcutRealFiles(t *testing.T) {
	for file, want := range map[string]string{
		"NeroInfoTool.lnk":       `..\..\..\..\..\..\..\..\Program Files (x86)\Nero\Nero 9\Nero InfoTool\InfoTool.exe`,
		"unpaired_surrogate.lnk": ".\\unicode_U+0000d800_\ufffd.exe", // an unpaired UTF-16 surrogate decodes to U+FFFD
		"example.lnk":            `.\migwiz\migwiz.exe`,
	} {
		b, err := os.ReadFile(filepath.Join("testdata/real-lnk", file))
		if err != nil {
			t.Fatal(err)
		}
		sc, err := ParseShortcut(b)
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		if sc.Target != want || sc.AppID != "" || sc.ProfileDir != "" || BrowserOfTarget(sc.Target) != "browser" {
			t.Errorf("%s: %+q; want target %q and no web app", file, sc, want)
		}
		for n := range len(b) {
			_, _ = ParseShortcut(b[:n])
		}
	}
}

func FuzzParseShortcut(f *testing.F) {
	if b, err := os.ReadFile("../windows/testdata/home/root/Users/carol/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Chrome Apps/WhatsApp Web.lnk"); err == nil {
		f.Add(b)
	}
	for _, file := range []string{"NeroInfoTool.lnk", "unpaired_surrogate.lnk", "example.lnk"} {
		if b, err := os.ReadFile(filepath.Join("testdata/real-lnk", file)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseShortcut(b) })
}

func FuzzParseProfilesINI(f *testing.F) {
	f.Add([]byte("[Profile0]\nName=default\nIsRelative=1\nPath=x.default\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, _ := parseProfilesINI(b)
		if len(ps) > maxINISections {
			t.Fatalf("%d sections", len(ps))
		}
	})
}

func TestPrivacyStatementNamesOrigins(t *testing.T) {
	p := PrivacyStatement(testCatalog(t), true, "en")
	if !strings.Contains(p.Read, "web.whatsapp.com") || !strings.Contains(p.Read, "NAMES") || !strings.Contains(p.Stored, "profile name") {
		t.Errorf("statement = %+v", p)
	}
	if off := PrivacyStatement(testCatalog(t), false, "de"); !strings.HasPrefix(off.Read, "nichts") {
		t.Errorf("switched off: %+v", off)
	}
}

// TestInspectWindowsAbsoluteProfilePaths: on Windows, profiles.ini may name
// a profile by drive path; one on another drive or in another user's
// profile is refused, one inside the user's own profile is inspected.
func TestInspectWindowsAbsoluteProfilePaths(t *testing.T) {
	const ff = "Users/alice/AppData/Roaming/Mozilla/Firefox/"
	root := tree(t,
		ff+"profiles.ini=[Profile0]\r\nName=own\r\nIsRelative=0\r\nPath=C:\\Users\\alice\\ffprof\r\n\r\n"+
			"[Profile1]\r\nName=other\r\nIsRelative=0\r\nPath=C:\\Users\\bob\\ffprof\r\n\r\n"+
			"[Profile2]\r\nName=drive\r\nIsRelative=0\r\nPath=D:\\ffprof\r\n",
		"Users/alice/ffprof/storage/default/https+++web.whatsapp.com/",
		"Users/bob/ffprof/storage/default/https+++web.telegram.org/",
	)
	var probs platform.Problems
	in := &Inspector{FS: platform.NewDirFS(root), Index: NewIndex(testCatalog(t)), Installs: Installs("windows"),
		Problem: func(p, msg string) { probs.Add("browsers", p, msg) },
		Abs: func(p string) (string, bool) { // the Windows scanner's onDrive for drive C:
			if len(p) < 3 || !strings.EqualFold(p[:2], "C:") {
				return "", false
			}
			return platform.RelPath(p[2:]), true
		}}
	found := in.Home(context.Background(), "alice", "Users/alice")
	if len(found) != 1 || found[0].ID != "whatsapp" || found[0].Location != `Firefox, profile "own"` {
		t.Errorf("found = %+v; want only whatsapp in the profile inside alice's home", found)
	}
	if ps := probs.List(); len(ps) != 1 || !strings.Contains(ps[0].Message, "outside the user's home") {
		t.Errorf("problems = %+v; want one refusal (listed once)", ps)
	}
}
