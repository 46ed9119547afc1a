package darwin

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// realBundle is what one shipped Info.plist in testdata/real says, and what
// a scan makes of the bundle: a catalog id, "unlisted", or "" (not a
// messenger).
type realBundle struct {
	app              string // bundle folder the test places it in
	id, version, cat string
	want             string
}

const social = "public.app-category.social-networking"

var realBundles = map[string]realBundle{
	"telegram-swift-2.92.Info.plist":        {"Telegram.app", "ru.keepcoder.Telegram", "2.92", social, "telegram"},
	"telegram-swift-beta-11.2.2.Info.plist": {"Telegram Beta.app", "ru.keepcoder.Telegram", "11.2.2", social, "telegram"},
	"telegram-swift-11.14.1.Info.plist":     {"Telegram 11.app", "ru.keepcoder.Telegram", "11.14.1", social, "telegram"},
	"telegram-desktop-6.1.2.Info.plist":     {"Telegram Desktop.app", "com.tdesktop.Telegram", "6.1.2", social, "telegram"},
	"slack-mas-0.43.Info.plist":             {"Slack 0.43.app", "com.tinyspeck.slackmacgap", "0.43", "public.app-category.business", "slack"},
	"slack-2.8.1.Info.plist":                {"Slack 2.app", "com.tinyspeck.slackmacgap", "2.8.1", "public.app-category.business", "slack"},
	"slack-3.0.5.Info.plist":                {"Slack.app", "com.tinyspeck.slackmacgap", "3.0.5", "public.app-category.business", "slack"},
	"whatsapp-24.24.85.Info.plist":          {"WhatsApp.app", "net.whatsapp.WhatsApp", "24.24.85", social, "whatsapp"},
	"zoom-5.15.7.Info.plist":                {"zoom.us.app", "us.zoom.xos", "5.15.7 (21404)", "public.app-category.video", "zoom"},
	"skype-8.23.Info.plist":                 {"Skype.app", "com.skype.skype", "8.23", social, "skype"},
	"wechat-3.2.1.Info.plist":               {"WeChat.app", "com.tencent.xinWeChat", "3.2.1", social, "wechat"},
	"line-6.7.2.Info.plist":                 {"LINE.app", "jp.naver.line.mac", "6.7.2", social, "line"},
	"chrome-app-youtube.Info.plist":         {"YouTube.app", "com.google.Chrome.app.agimnkijcaahngcdmfeangaknmldooml", "", "", ""},
	"discord-safari-webapp.Info.plist":      {"Discord.app", "com.apple.Safari.WebApp.6E15A207-CBF3-4859-9BC8-C88BDB6A1681", "1.0", "", ""},
	"fake-zoom-automator.Info.plist":        {"zoom.us 2.app", "com.apple.automator.zoom.us", "1.3", "", ""},
	"messenger-electron-wrapper.Info.plist": {"Messenger.app", "com.electron.messenger", "1.0.0", "public.app-category.developer-tools", ""},
	"TelegramSwift-Telegram-Mac-Info.plist": {"Template1.app", "$(PRODUCT_BUNDLE_IDENTIFIER)", "$(MARKETING_VERSION)", social, ""},
	"tdesktop-Telegram.plist":               {"Template2.app", "@bundle_identifier_plist@", "@desktop_app_version_string@", social, ""},
}

// TestRealCaptures parses every file in testdata/real — shipped Info.plists
// and user records published by others, with SOURCES.md — with the parser
// the agent uses. A file without a case fails the test.
func TestRealCaptures(t *testing.T) {
	users := map[string]struct {
		user  policy.User
		human bool
	}{
		"corsica.xml":        {policy.User{Name: "corsica", UID: "601", Home: "/Users/corsica"}, true},
		"plaso-user.plist":   {policy.User{Name: "user", UID: "501", Home: "/Users/user"}, true},
		"plaso-nobody.plist": {policy.User{Name: "nobody", UID: "-2", Home: "/var/empty"}, false},
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "real"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		seen[name] = true
		b := readTestdata(t, "real/"+name)
		t.Run(name, func(t *testing.T) {
			if rb, ok := realBundles[name]; ok {
				info, err := parseInfoPlist(b)
				if err != nil {
					t.Fatal(err)
				}
				if string(info.ID) != rb.id || string(info.Version) != rb.version || string(info.Category) != rb.cat {
					t.Errorf("parsed %q %q %q; want %q %q %q", info.ID, info.Version, info.Category, rb.id, rb.version, rb.cat)
				}
				return
			}
			if u, ok := users[name]; ok {
				got, shell, err := parseUserRecord(b)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(u.user, got); diff != "" {
					t.Errorf("user (-want +got):\n%s", diff)
				}
				if isHuman(got, shell) != u.human {
					t.Errorf("isHuman = %v, want %v", !u.human, u.human)
				}
				return
			}
			if name != "SOURCES.md" && name != "README.md" {
				t.Errorf("no case for %s: every real capture must be parsed", name)
			}
		})
	}
	for name := range realBundles {
		if !seen[name] {
			t.Errorf("case %s has no file in testdata/real", name)
		}
	}
	for name := range users {
		if !seen[name] {
			t.Errorf("case %s has no file in testdata/real", name)
		}
	}
}

// TestRealBundlesScan puts every shipped Info.plist into one Mac, with the
// real user records, two social-networking apps the catalog does not know
// and Ferdium with its recipes folder, and checks what the scan finds.
func TestRealBundlesScan(t *testing.T) {
	root := t.TempDir()
	for file, rb := range realBundles {
		writeFile(t, root, "Applications/"+rb.app+"/Contents/Info.plist", readTestdata(t, "real/"+file))
	}
	for _, u := range []string{"corsica.xml", "plaso-user.plist", "plaso-nobody.plist"} {
		name := strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(u, "plaso-"), ".xml"), ".plist") + ".plist"
		writeFile(t, root, dslocalUsers+"/"+name, readTestdata(t, "real/"+u))
	}
	// Unlisted: the real WhatsApp plist with its identity changed, as a
	// re-signed or lesser-known client would carry it; one in a home.
	wa := string(readTestdata(t, "real/whatsapp-24.24.85.Info.plist"))
	chat := strings.ReplaceAll(wa, "net.whatsapp.WhatsApp", "org.example.ChatClient")
	writeFile(t, root, "Applications/ChatClient.app/Contents/Info.plist", []byte(chat))
	writeFile(t, root, "Users/corsica/Applications/Chat2.app/Contents/Info.plist", []byte(strings.ReplaceAll(wa, "net.whatsapp.WhatsApp", "im.example.chat2")))
	// Ferdium for user "user": bundle id from the Homebrew cask, services
	// as recipe folders (ferdium/ferdium-app src/environment-remote.ts).
	ferdium := strings.ReplaceAll(wa, "net.whatsapp.WhatsApp", "com.ferdium.ferdium-app")
	writeFile(t, root, "Applications/Ferdium.app/Contents/Info.plist", []byte(ferdium))
	for _, svc := range []string{"whatsapp", "slack", "temp", "Not A Service"} {
		writeFile(t, root, "Users/user/Library/Application Support/Ferdium/recipes/"+svc+"/package.json", []byte("{}"))
	}
	h := &platform.Host{GOOS: "darwin", Root: platform.NewDirFS(root), RootDir: root}
	inv, err := Scan(context.Background(), h, defaultCatalog(t))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, m := range inv.Messengers {
		k := m.ID + " " + m.User + " " + m.Location
		if m.Services != "" {
			k += " [" + m.Services + "]"
		}
		got[k] = true
	}
	want := []string{
		"telegram  /Applications/Telegram.app", "telegram  /Applications/Telegram Desktop.app",
		"slack  /Applications/Slack.app", "whatsapp  /Applications/WhatsApp.app", "zoom  /Applications/zoom.us.app",
		"skype  /Applications/Skype.app", "wechat  /Applications/WeChat.app", "line  /Applications/LINE.app",
		"unlisted  org.example.ChatClient", "unlisted corsica im.example.chat2",
		"ferdium  /Applications/Ferdium.app",
		"ferdium user /Users/user/Library/Application Support/Ferdium",
		"ferdium user /Users/user/Library/Application Support/Ferdium/recipes [slack, whatsapp]",
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("missing %q", w)
		}
	}
	for k := range got {
		if strings.Contains(k, "YouTube") || strings.Contains(k, "Discord") || strings.Contains(k, "zoom.us 2") ||
			strings.Contains(k, "Messenger.app") || strings.Contains(k, "Template") {
			t.Errorf("not a messenger, but found: %q", k)
		}
	}
	var templ []string
	for _, p := range inv.Problems {
		if strings.Contains(p.Path, "Template") {
			templ = append(templ, p.Message)
		}
	}
	if len(templ) != 2 {
		t.Errorf("template bundles: problems %q; want one each (invalid bundle identifier)", templ)
	}
	fs := policy.Evaluate(policy.Default(), inv, policy.EvalOptions{Now: time.Unix(0, 0)})
	for _, f := range fs {
		if f.Rule == "messenger.unlisted" && f.Status == policy.StatusPass {
			t.Errorf("unlisted %s passes", f.Subject)
		}
	}
}
