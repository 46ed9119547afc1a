package darwin

import (
	"context"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/platformtest"
	"github.com/msgguard/msgguard/policy"
)

// TestAppsAndDataDirs covers the bundle folders: /Applications, one level of
// vendor folders (Setapp, Utilities) but not deeper, each user's
// ~/Applications, XML and binary Info.plists, App Store receipts, and data
// folders attributed to the user whose home holds them.
func TestAppsAndDataDirs(t *testing.T) {
	root := t.TempDir()
	info := func(app string) string { return app + "/Contents/Info.plist" }
	writeFile(t, root, info("Applications/Signal.app"), readTestdata(t, "infoplist/Signal.bplist"))
	writeFile(t, root, info("Applications/Setapp/Telegram Desktop.app"), readTestdata(t, "infoplist/TelegramDesktop.xml"))
	writeFile(t, root, info("Applications/Microsoft Teams.app"), readTestdata(t, "infoplist/MicrosoftTeams.bplist"))
	writeFile(t, root, "Applications/Microsoft Teams.app/Contents/_MASReceipt/receipt", nil)
	writeFile(t, root, info("Applications/Vendor/Deeper/Slack.app"), readTestdata(t, "infoplist/Slack.xml")) // two levels: not searched
	writeFile(t, root, info("Applications/Utilities/Terminal.app"), readTestdata(t, "infoplist/Terminal.bplist"))
	writeFile(t, root, "Applications/Empty.app/Contents/MacOS/.keep", nil) // interrupted copy: ignored
	writeFile(t, root, info("Users/carol/Applications/Threema.app"), readTestdata(t, "infoplist/Threema.bplist"))
	writeFile(t, root, "Users/carol/Library/Application Support/Signal/config.json", nil)
	writeFile(t, root, "Users/dave/Library/Containers/com.tinyspeck.slackmacgap/Data/.keep", nil)
	writeFile(t, root, "Users/dave/Library/Application Support/Slack/.keep", nil)
	symlink(t, "/Users/carol/Library/Application Support/Signal", root, "Users/dave/Library/Application Support/Signal")

	run := platformtest.NewFakeRunner()
	run.Set("dscl . -list /Users UniqueID", string(readTestdata(t, "commands/dscl-UniqueID.txt"))+"carol 503\ndave 504\n")
	run.Set("dscl . -list /Users NFSHomeDirectory", string(readTestdata(t, "commands/dscl-NFSHomeDirectory.txt"))+"carol /Users/carol\ndave /Users/dave\n")
	run.Set("dscl . -list /Users UserShell", string(readTestdata(t, "commands/dscl-UserShell.txt"))+"carol /bin/zsh\ndave /bin/bash\n")
	h := &platform.Host{GOOS: "darwin", Root: platform.NewDirFS(root), RootDir: root, Run: run}
	inv, err := Scan(context.Background(), h, defaultCatalog(t))
	if err != nil {
		t.Fatalf("Scan() error: %v", err)
	}
	wantUsers := []policy.User{
		{Name: "alice", UID: "501", Home: "/Users/alice"},
		{Name: "bob", UID: "502", Home: "/Users/bob"},
		{Name: "carol", UID: "503", Home: "/Users/carol"},
		{Name: "dave", UID: "504", Home: "/Users/dave"},
	}
	if diff := cmp.Diff(wantUsers, inv.Users); diff != "" {
		t.Errorf("users from dscl mismatch (-want +got):\n%s", diff)
	}
	want := []policy.Messenger{
		{ID: "signal", Name: "Signal", Variant: policy.VariantPrivate, Source: "app-bundle", Version: "7.4.0", Location: "/Applications/Signal.app"},
		{ID: "signal", Name: "Signal", Variant: policy.VariantPrivate, Source: "data-dir", User: "carol", Location: "/Users/carol/Library/Application Support/Signal"},
		{ID: "slack", Name: "Slack", Variant: policy.VariantBusiness, Source: "data-dir", User: "dave", Location: "/Users/dave/Library/Application Support/Slack"},
		{ID: "teams", Name: "Microsoft Teams", Variant: policy.VariantBusiness, Source: "app-bundle", Version: "25163.3611.3774.6315", Location: "/Applications/Microsoft Teams.app (Mac App Store)"},
		{ID: "telegram", Name: "Telegram", Variant: policy.VariantDual, Source: "app-bundle", Version: "5.2.3", Location: "/Applications/Setapp/Telegram Desktop.app"},
		{ID: "threema", Name: "Threema", Variant: policy.VariantPrivate, Source: "app-bundle", User: "carol", Version: "1.2.39", Location: "/Users/carol/Applications/Threema.app"},
	}
	cat := defaultCatalog(t)
	for i := range want { // names and variants as the shipped catalog has them
		e := cat.Messenger(want[i].ID)
		if e == nil {
			t.Fatalf("catalog has no %q", want[i].ID)
		}
		want[i].Name, want[i].Variant = e.Name, e.Variant
	}
	if diff := cmp.Diff(want, inv.Messengers); diff != "" {
		t.Errorf("messengers mismatch (-want +got):\n%s", diff)
	}
}

func TestDataDirPatterns(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "Users/erin/Library/Group Containers/6N38VWS5BX.ru.keepcoder.Telegram/.keep", nil)
	cat := &policy.Catalog{Messengers: []policy.CatalogEntry{{
		ID: "telegram", Name: "Telegram", Variant: policy.VariantDual,
		Darwin: policy.DarwinIDs{DataDirs: []string{"Library/Containers/ru.keepcoder.Telegram", "~/Library/Group Containers/*.ru.keepcoder.Telegram"}},
	}}}
	s := newTestScan(&platform.Host{Root: platform.NewDirFS(root)})
	s.cat = cat
	scanDataDirs(s, policy.User{Name: "erin", UID: "505", Home: "/Users/erin"})
	want := []policy.Messenger{{ID: "telegram", Name: "Telegram", Variant: policy.VariantDual, Source: "data-dir", User: "erin",
		Location: "/Users/erin/Library/Group Containers/6N38VWS5BX.ru.keepcoder.Telegram"}}
	if diff := cmp.Diff(want, s.inv.Messengers); diff != "" {
		t.Errorf("scanDataDirs(pattern) mismatch (-want +got):\n%s", diff)
	}
	if probs := s.probs.List(); len(probs) != 0 {
		t.Errorf("problems = %+v; want none", probs)
	}
}

func TestMatchProcess(t *testing.T) {
	cat := &policy.Catalog{Messengers: []policy.CatalogEntry{
		{ID: "teams", Darwin: policy.DarwinIDs{Processes: []string{"MSTeams", "Microsoft Teams"}}},
		{ID: "longname", Darwin: policy.DarwinIDs{Processes: []string{"VeryLongMessengerName"}}},
	}}
	for name, want := range map[string]string{
		"MSTeams":          "teams",
		"Microsoft Teams":  "teams",
		"VeryLongMesseng":  "longname", // p_comm keeps 15 characters plus NUL
		"VeryLongMessenge": "longname",
		"VeryLong":         "",
		"msteams":          "",
	} {
		got := ""
		if e := matchProcess(cat, name); e != nil {
			got = e.ID
		}
		if got != want {
			t.Errorf("matchProcess(%q) = %q; want %q", name, got, want)
		}
	}
}

func BenchmarkScanFixtureMac(b *testing.B) {
	cat := defaultCatalog(b)
	h, _ := macHost(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Scan(context.Background(), h, cat); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScanHostileBundles(b *testing.B) {
	cat := defaultCatalog(b)
	h := hostileMac(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Scan(context.Background(), h, cat); err != nil {
			b.Fatal(err)
		}
	}
}

// lstatDenied answers Lstat of one path with "operation not permitted", as
// macOS privacy protection does for another app's container when the agent
// lacks Full Disk Access.
type lstatDenied struct {
	*platform.DirFS
	path string
}

func (d lstatDenied) Lstat(name string) (fs.FileInfo, error) {
	if name == d.path {
		return nil, &fs.PathError{Op: "lstat", Path: name, Err: fs.ErrPermission}
	}
	return d.DirFS.Lstat(name)
}

// TestDataDirNotPermitted: a data folder that cannot be looked at is a
// problem, not an absent folder.
func TestDataDirNotPermitted(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "Users/erin/Library/Containers/net.whatsapp.WhatsApp/Data/.keep", nil)
	const denied = "Users/erin/Library/Containers/net.whatsapp.WhatsApp"
	cat := &policy.Catalog{Messengers: []policy.CatalogEntry{{
		ID: "whatsapp", Name: "WhatsApp", Variant: policy.VariantPrivate,
		Darwin: policy.DarwinIDs{DataDirs: []string{"Library/Containers/net.whatsapp.WhatsApp"}},
	}}}
	s := newTestScan(&platform.Host{Root: lstatDenied{platform.NewDirFS(root), denied}})
	s.cat = cat
	scanDataDirs(s, policy.User{Name: "erin", UID: "505", Home: "/Users/erin"})
	if len(s.inv.Messengers) != 0 {
		t.Errorf("messengers = %+v; want none from a folder that could not be looked at", s.inv.Messengers)
	}
	if probs := s.probs.List(); len(probs) != 1 || probs[0].Path != "/"+denied || !strings.Contains(probs[0].Message, "permission denied") {
		t.Errorf("problems = %+v; want one for /%s saying permission denied", probs, denied)
	}
}

// TestBundleVersionIsCleaned: an Info.plist in ~/Applications is the user's
// to write; its version enters the inventory capped and without control
// characters.
func TestBundleVersionIsCleaned(t *testing.T) {
	root := t.TempDir()
	version := "7.4.0\n\t" + strings.Repeat("9", 200) // XML allows no other control characters
	writeFile(t, root, "Users/carol/Applications/Signal.app/Contents/Info.plist", []byte(
		`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict>`+
			`<key>CFBundleIdentifier</key><string>org.whispersystems.signal-desktop</string>`+
			`<key>CFBundleShortVersionString</key><string>`+version+`</string></dict></plist>`))
	s := newTestScan(&platform.Host{Root: platform.NewDirFS(root)})
	s.cat = defaultCatalog(t)
	scanApps(s, []policy.User{{Name: "carol", UID: "503", Home: "/Users/carol"}}, bundleIndex(s.cat))
	if len(s.inv.Messengers) != 1 {
		t.Fatalf("messengers = %+v; want Signal", s.inv.Messengers)
	}
	want := platform.Printable(version, platform.MaxVersionLen)
	if got := s.inv.Messengers[0].Version; got != want || len(got) > platform.MaxVersionLen || strings.ContainsAny(got, "\n\t") {
		t.Errorf("Version = %q; want %q", got, want)
	}
}
