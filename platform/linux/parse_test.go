package linux

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func wantAll([]byte) bool { return true }

func TestParseDpkgStatusFixture(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "debian-desktop", dpkgStatus))
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseDpkgStatus(bytes.NewReader(b), wantAll)
	if err != nil {
		t.Fatalf("parseDpkgStatus: %v", err)
	}
	// skypeforlinux is "deinstall ok config-files": not on disk.
	want := []debPackage{
		{"base-files", "12.4+deb12u11"}, {"bash", "5.2.15-2+b8"}, {"dpkg", "1.21.22"},
		{"element-desktop", "1.12.30"}, {"libc6", "2.36-9+deb12u14"}, {"signal-desktop", "7.86.0"},
		{"slack-desktop", "4.33.90"}, {"teams-for-linux", "2.23.1"},
		{"telegram-desktop", "4.6.5+ds-2+deb12u1"}, {"tzdata", "2025b-0+deb12u2"},
		{"vim-common", "2:9.0.1378-2+deb12u2"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseDpkgStatus mismatch (-want +got):\n%s", diff)
	}
}

func TestParseDpkgStatus(t *testing.T) {
	long := strings.Repeat("x", dpkgLineMax*2)
	tests := []struct {
		name    string
		in      string
		want    []debPackage
		wantErr string
	}{
		{"empty", "", nil, ""},
		{"blank lines only", "\n\n \n\t\n", nil, ""},
		{"one package, no trailing newline", "Package: a\nStatus: install ok installed\nVersion: 1", []debPackage{{"a", "1"}}, ""},
		{"CRLF", "Package: a\r\nStatus: install ok installed\r\nVersion: 1\r\n\r\n", []debPackage{{"a", "1"}}, ""},
		{"field names are case-insensitive", "package: a\nSTATUS: install ok installed\nversion: 2\n", []debPackage{{"a", "2"}}, ""},
		{"version before package", "Version: 3\nStatus: install ok installed\nPackage: a\n", []debPackage{{"a", "3"}}, ""},
		{"states", strings.Join([]string{
			"Package: i\nStatus: install ok installed\nVersion: 1\n",
			"Package: h\nStatus: hold ok installed\nVersion: 1\n",
			"Package: u\nStatus: install ok unpacked\nVersion: 1\n",
			"Package: f\nStatus: install reinstreq half-configured\nVersion: 1\n",
			"Package: w\nStatus: install ok triggers-awaited\nVersion: 1\n",
			"Package: t\nStatus: install ok triggers-pending\nVersion: 1\n",
			"Package: r\nStatus: deinstall ok installed\nVersion: 1\n",
			"Package: c\nStatus: deinstall ok config-files\nVersion: 1\n",
			"Package: n\nStatus: purge ok not-installed\nVersion: 1\n",
			"Package: hi\nStatus: install reinstreq half-installed\nVersion: 1\n",
			"Package: nostatus\nVersion: 1\n",
		}, "\n"), []debPackage{{"i", "1"}, {"h", "1"}, {"u", "1"}, {"f", "1"}, {"w", "1"}, {"t", "1"}, {"r", "1"}}, ""},
		{"continuations and long lines", "Package: a\nStatus: install ok installed\nDescription: d\n " + long + "\n .\n more\nX-Long: " + long + "\nVersion: 1\n", []debPackage{{"a", "1"}}, ""},
		{"blank line of spaces separates", "Package: a\nStatus: install ok installed\nVersion: 1\n   \nPackage: b\nStatus: install ok installed\nVersion: 2\n", []debPackage{{"a", "1"}, {"b", "2"}}, ""},
		{"comment lines", "# c\nPackage: a\nStatus: install ok installed\nVersion: 1\n", []debPackage{{"a", "1"}}, ""},
		{"no colon", "Package: a\nStatus: install ok installed\nVersion: 1\n\nrandom words\n", []debPackage{{"a", "1"}}, "line 5: field line without a colon"},
		{"empty field name", ": v\n", nil, "line 1: field line without a colon"},
		{"continuation outside stanza", " leading\n", nil, "line 1: continuation line outside a stanza"},
		{"NUL", "Package: a\x00\n", nil, "line 1: NUL byte"},
		{"no package field", "Status: install ok installed\n\n", nil, "line 1: stanza without a Package field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDpkgStatus(strings.NewReader(tt.in), wantAll)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("packages mismatch (-want +got):\n%s", diff)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("err = %v; want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("err = %v; want %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseDpkgStatusWantFilter(t *testing.T) {
	in := "Package: a\nStatus: install ok installed\nVersion: 1\n\nPackage: b\nStatus: install ok installed\nVersion: 2\n"
	got, err := parseDpkgStatus(strings.NewReader(in), func(n []byte) bool { return string(n) == "b" })
	if err != nil || len(got) != 1 || got[0].Name != "b" {
		t.Errorf("parseDpkgStatus(filter b) = %v, %v; want [b 2]", got, err)
	}
}

func FuzzParseDpkgStatus(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "debian-desktop", dpkgStatus)); err == nil {
		f.Add(b)
	}
	f.Add([]byte("Package: a\nStatus: install ok installed\nVersion: 1\n"))
	f.Add([]byte("Package: a\r\n\r\n \n: x\n"))
	f.Add([]byte("\x00\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _ := parseDpkgStatus(bytes.NewReader(b), wantAll)
		for _, p := range pkgs {
			// Every package returned came from a Package field of the input.
			if p.Name == "" || !bytes.Contains(b, []byte(p.Name)) {
				t.Fatalf("package %q not from the input", p.Name)
			}
			if strings.ContainsAny(p.Name, "\n") || strings.ContainsAny(p.Version, "\n") {
				t.Fatalf("package %+v spans lines", p)
			}
		}
	})
}

func TestParsePasswd(t *testing.T) {
	in := "root:x:0:0:root:/root:/bin/bash\n" +
		"+@netgroup::::::\n" +
		"\n" +
		"alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\r\n" +
		"broken line\n" +
		"bob:x:notanumber:1:::\n" +
		"carol:x:1002:1002::/home/carol:/usr/sbin/nologin\n" +
		"too:many:1:1:a:b:c:d\n"
	got, err := parsePasswd([]byte(in))
	want := []passwdEntry{
		{Name: "root", UID: 0, Home: "/root", Shell: "/bin/bash"},
		{Name: "alice", UID: 1000, Home: "/home/alice", Shell: "/bin/bash"},
		{Name: "carol", UID: 1002, Home: "/home/carol", Shell: "/usr/sbin/nologin"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parsePasswd mismatch (-want +got):\n%s", diff)
	}
	if err == nil || err.Error() != "3 malformed line(s) skipped, first at line 5" {
		t.Errorf("parsePasswd err = %v", err)
	}
}

func TestHumanUsers(t *testing.T) {
	entries := []passwdEntry{
		{Name: "root", UID: 0, Home: "/root", Shell: "/bin/bash"},
		{Name: "alice", UID: 1000, Home: "/home/alice/", Shell: "/bin/bash"},
		{Name: "alice", UID: 1005, Home: "/home/alice2", Shell: "/bin/bash"},
		{Name: "svc", UID: 1001, Home: "/srv", Shell: "/bin/false"},
		{Name: "nobody", UID: 1002, Home: "/", Shell: "/bin/sh"},
		{Name: "nfsnobody", UID: 4294967294, Home: "/", Shell: "/bin/sh"},
		{Name: "ovf", UID: 65534, Home: "/", Shell: "/bin/sh"},
		{Name: "dash", UID: 1003, Home: "/home/dash", Shell: ""},
		{Name: "low", UID: 500, Home: "/home/low", Shell: "/bin/sh"},
	}
	got := humanUsers(entries, 1000)
	var names []string
	for _, u := range got {
		names = append(names, u.Name+"="+u.Home)
	}
	want := []string{"alice=/home/alice", "dash=/home/dash"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("humanUsers mismatch (-want +got):\n%s", diff)
	}
	if got := humanUsers(entries, 500); len(got) != 3 {
		t.Errorf("humanUsers(UID_MIN 500) = %v; want low included", got)
	}
}

func TestParseLoginDefs(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "debian-desktop", "etc", "login.defs"))
	if err != nil {
		t.Fatal(err)
	}
	kv := parseLoginDefs(b)
	if kv["UID_MIN"] != "1000" || kv["UID_MAX"] != "60000" {
		t.Errorf("UID_MIN, UID_MAX = %q, %q; want 1000, 60000", kv["UID_MIN"], kv["UID_MAX"])
	}
}

func FuzzParsePasswd(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "debian-desktop", "etc", "passwd")); err == nil {
		f.Add(b)
	}
	f.Add([]byte("a:x:1000:1000::/home/a:/bin/sh\n::::::\n+\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, _ := parsePasswd(b)
		for _, e := range entries {
			if e.Name == "" || strings.ContainsAny(e.Name, ":\n") || strings.ContainsAny(e.Home+e.Shell, ":\n") {
				t.Fatalf("bad entry %+v", e)
			}
		}
		for _, u := range humanUsers(entries, defaultUIDMin) {
			if u.Name == "nobody" || u.UID == "" {
				t.Fatalf("bad user %+v", u)
			}
		}
	})
}

func TestParseDesktopEntry(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    desktopEntry
		wantErr bool
	}{
		{"fixture telegram", readFixture(t, "debian-desktop/usr/share/applications/org.telegram.desktop.desktop"),
			desktopEntry{Type: "Application", Name: "Telegram", Exec: "Telegram -- %u", WMClass: "TelegramDesktop", MessengerCategory: true}, false},
		{"fixture flatpak export", readFixture(t, "debian-desktop/var/lib/flatpak/exports/share/applications/im.riot.Riot.desktop"),
			desktopEntry{Type: "Application", Name: "Element", WMClass: "element", Flatpak: "im.riot.Riot",
				Exec: "/usr/bin/flatpak run --branch=stable --arch=x86_64 --command=/app/bin/element --file-forwarding im.riot.Riot @@u %U @@", MessengerCategory: true}, false},
		{"fixture snap", readFixture(t, "debian-desktop/var/lib/snapd/desktop/applications/signal-desktop_signal-desktop.desktop"),
			desktopEntry{Type: "Application", Name: "Signal", WMClass: "Signal", Snap: "signal-desktop",
				Exec: "env BAMF_DESKTOP_FILE_HINT=/var/lib/snapd/desktop/applications/signal-desktop_signal-desktop.desktop /snap/bin/signal-desktop --no-sandbox %U", MessengerCategory: true}, false},
		{"first key wins, localised ignored, actions ignored", "[Desktop Entry]\nName[de]=X\nName = A\\sB\nName=C\nHidden=true\n[Desktop Action x]\nExec=evil\n",
			desktopEntry{Name: "A B", Hidden: true}, false},
		{"key before group ignored", "Name=Z\n# c\n[Other]\nName=Y\n[Desktop Entry]\nName=W\n", desktopEntry{Name: "W"}, false},
		{"messenger categories", "[Desktop Entry]\nType=Application\nName=Dino\nCategories=GTK;Network;Chat;InstantMessaging;\n", desktopEntry{Type: "Application", Name: "Dino", MessengerCategory: true}, false},
		{"IRC client, spaces", "[Desktop Entry]\nCategories= Network ; IRCClient \n", desktopEntry{MessengerCategory: true}, false},
		{"localised categories ignored", "[Desktop Entry]\nCategories[de]=Chat;\nCategories=Network;WebBrowser;\n", desktopEntry{}, false},
		{"look-alike category", "[Desktop Entry]\nCategories=Network;InstantMessagingX;X-Chat;\n", desktopEntry{}, false},
		{"messenger beyond the cap", "[Desktop Entry]\nCategories=" + strings.Repeat("A;", maxCategories) + "Chat;\n", desktopEntry{TooManyCategories: true}, false},
		{"no group", "Name=Z\n", desktopEntry{}, true},
		{"binary", "\x00\x01\x02", desktopEntry{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDesktopEntry([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v; wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseDesktopEntry mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func readFixture(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSplitExec(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a b  c", []string{"a", "b", "c"}},
		{`"/opt/My App/app" --app="https://x y/"`, []string{"/opt/My App/app", "--app=https://x y/"}},
		{`sh -c "echo \"\$HOME\" \\\\ \` + "`" + `"`, []string{"sh", "-c", `echo "$HOME" \\ ` + "`"}},
		{`""`, []string{""}},
		{`unterminated "quote`, []string{"unterminated", "quote"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, splitExec(tt.in)); diff != "" {
			t.Errorf("splitExec(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func FuzzParseDesktopEntry(f *testing.F) {
	for _, rel := range []string{
		"debian-desktop/usr/share/applications/org.telegram.desktop.desktop",
		"debian-desktop/home/alice/.local/share/applications/chrome-hnpfjngllnobngcgfapefoaidbinmjnm-Default.desktop",
		"debian-desktop/home/bob/.local/share/applications/whatsapp-web.desktop",
	} {
		if b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(rel))); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("[Desktop Entry]\nExec=\"a\\\\\" b\\s\nName=\\\n"))
	idx := newCatalogIndex(testCatalog())
	c := &collector{idx: idx}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := parseDesktopEntry(b)
		if err != nil {
			return
		}
		splitExec(d.Exec)
		c.desktopMatches(nil, d, "chrome-hnpfjngllnobngcgfapefoaidbinmjnm-Default.desktop")
	})
}

func TestDesktopMatches(t *testing.T) {
	c := &collector{idx: newCatalogIndex(testCatalog())}
	tests := []struct {
		name string
		d    desktopEntry
		file string
		want []string
	}{
		{"pwa by app id and name", desktopEntry{Name: "WhatsApp Web", Exec: "chrome --app-id=hnpfjngllnobngcgfapefoaidbinmjnm"}, "x.desktop", []string{"whatsapp"}},
		{"pwa by file name", desktopEntry{Name: "Microsoft Teams"}, "msedge-cifhbcnohmdccbgoicgdjpfamggdegmo-Default.desktop", []string{"teams"}},
		{"name alone is not enough", desktopEntry{Name: "Signal", Exec: "/usr/bin/something"}, "x.desktop", nil},
		{"--app URL", desktopEntry{Exec: "chromium --app=https://web.whatsapp.com/"}, "x.desktop", []string{"whatsapp"}},
		{"bare URL argument", desktopEntry{Exec: `epiphany --application-mode "https://app.slack.com/client"`}, "x.desktop", []string{"slack"}},
		{"look-alike host", desktopEntry{Exec: "chromium --app=https://web.whatsapp.com.evil.example/?web.whatsapp.com"}, "x.desktop", nil},
		{"wm class", desktopEntry{WMClass: "teams.microsoft.com__v2"}, "x.desktop", []string{"teams"}},
		{"x-flatpak", desktopEntry{Flatpak: "org.signal.Signal"}, "x.desktop", []string{"signal"}},
		{"x-snap parallel instance", desktopEntry{Snap: "telegram-desktop_work"}, "x.desktop", []string{"telegram"}},
		{"several", desktopEntry{Flatpak: "org.signal.Signal", Exec: "x --app=https://web.telegram.org/k/"}, "x.desktop", []string{"signal", "telegram"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range c.desktopMatches(nil, tt.d, tt.file) {
				got = append(got, e.ID)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("desktopMatches mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBrowserAppFileName(t *testing.T) {
	for id, want := range map[string]bool{
		"chrome-hnpfjngllnobngcgfapefoaidbinmjnm-Default":  true,
		"brave-hnpfjngllnobngcgfapefoaidbinmjnm-Profile_1": true,
		"chrome-hnpfjngllnobngcgfapefoaidbinmjnz-Default":  false, // z is not a-p
		"chrome-hnpfjngllnobngcgfapefoaidbinmjn-Default":   false,
		"signal-desktop":       false,
		"org.telegram.desktop": false,
		"chrome-hnpfjngllnobngcgfapefoaidbinmjnmm-Default":  false,
		"-hnpfjngllnobngcgfapefoaidbinmjnm-Default":         false,
		"chromehnpfjngllnobngcgfapefoaidbinmjnm-Defaultxxx": false,
	} {
		if got := browserAppFileName(id); got != want {
			t.Errorf("browserAppFileName(%q) = %v; want %v", id, got, want)
		}
	}
}

func TestParseSnapYAML(t *testing.T) {
	got, err := parseSnapYAML([]byte(readFixture(t, "debian-desktop/snap/signal-desktop/776/meta/snap.yaml")))
	if err != nil || got != (snapMeta{Name: "signal-desktop", Version: "7.86.0"}) {
		t.Errorf("parseSnapYAML(fixture) = %+v, %v", got, err)
	}
	// A version that YAML would read as a number keeps its text.
	got, err = parseSnapYAML([]byte("name: x\nversion: 1.10\n"))
	if err != nil || got.Version != "1.10" {
		t.Errorf("parseSnapYAML(1.10) = %+v, %v", got, err)
	}
	if _, err := parseSnapYAML([]byte("name: [unclosed")); err == nil {
		t.Error("parseSnapYAML(garbage) = nil error")
	}
}

func TestParseMetainfoVersion(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{"fixture element", readFixture(t, "debian-desktop/var/lib/flatpak/app/im.riot.Riot/x86_64/stable/2d5b7c0e3f1a9b8c4d6e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e/files/share/metainfo/im.riot.Riot.metainfo.xml"), "1.11.111", false},
		{"fixture telegram has no releases", readFixture(t, "debian-desktop/home/bob/.local/share/flatpak/app/org.telegram.desktop/x86_64/stable/8f3e2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f/files/share/metainfo/org.telegram.desktop.metainfo.xml"), "", true},
		{"nested release elsewhere is ignored", `<component><x><release version="9"/></x><releases><release version="2"/></releases></component>`, "2", false},
		{"garbage", "<<<", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMetainfoVersion([]byte(tt.in))
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("parseMetainfoVersion = %q, %v; want %q, err %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseRPMQuery(t *testing.T) {
	got, err := parseRPMQuery([]byte("slack\t4.41.105-0.1.el8\nbash\t5.2.26-3.fc40\n\nbroken\nsp ace\tx\n"))
	want := []rpmPackage{{"slack", "4.41.105-0.1.el8"}, {"bash", "5.2.26-3.fc40"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseRPMQuery mismatch (-want +got):\n%s", diff)
	}
	if err == nil || !strings.Contains(err.Error(), "2 malformed line(s), first at line 4") {
		t.Errorf("parseRPMQuery err = %v", err)
	}
}

func FuzzParseRPMQuery(f *testing.F) {
	f.Add([]byte("slack\t4.41.105-0.1.el8\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _ := parseRPMQuery(b)
		for _, p := range pkgs {
			if p.Name == "" || strings.ContainsAny(p.Name, " \t\n") {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}

func TestParseOSRelease(t *testing.T) {
	kv := parseOSRelease([]byte(readFixture(t, "debian-desktop/usr/lib/os-release")))
	if got := osVersion(kv); got != "Debian GNU/Linux 12 (bookworm)" {
		t.Errorf("osVersion(fixture) = %q", got)
	}
	kv = parseOSRelease([]byte("NAME='Fedora Linux'\nVERSION=\"40 (Workstation \\\"Edition\\\")\"\nBAD LINE\n#PRETTY_NAME=x\n"))
	if got := osVersion(kv); got != `Fedora Linux 40 (Workstation "Edition")` {
		t.Errorf("osVersion(no PRETTY_NAME) = %q", got)
	}
}

func TestParseMachineID(t *testing.T) {
	for in, ok := range map[string]bool{
		"70bca54095ae40518688646350af5866\n": true,
		"uninitialized\n":                    false,
		"":                                   false,
		"70bca54095ae40518688646350af586z\n": false,
	} {
		if _, err := parseMachineID([]byte(in)); (err == nil) != ok {
			t.Errorf("parseMachineID(%q) err = %v; want ok %v", in, err, ok)
		}
	}
	a, _ := parseMachineID([]byte("70bca54095ae40518688646350af5866"))
	if id := deviceID(a); len(id) != 32 || strings.Contains(id, "70bca540") {
		t.Errorf("deviceID = %q; want 32 hex digits unrelated to the machine id", id)
	}
}

func TestIndexHelpers(t *testing.T) {
	idx := newCatalogIndex(testCatalog())
	if e := idx.matchAppImage("SimpleX-Desktop-x86_64.AppImage"); e == nil || e.ID != "simplex" {
		t.Errorf("matchAppImage is not case-insensitive: %v", e)
	}
	if e := idx.matchAppImage("signal.AppImage"); e != nil {
		t.Errorf("matchAppImage(signal.AppImage) = %v; want nil", e.ID)
	}
	if got := normalizeAppName("  WhatsApp Web "); got != "whatsapp" {
		t.Errorf("normalizeAppName = %q", got)
	}
	// Data dirs that would leave the home are dropped.
	cat := testCatalog()
	cat.Messengers[0].Linux.DataDirs = []string{"../../etc", "/etc/shadow", "~/.config/WasIstLos", "."}
	idx = newCatalogIndex(cat)
	for parent, refs := range idx.dataDirs {
		for _, r := range refs {
			if strings.HasPrefix(r.rel, "/") || strings.HasPrefix(r.rel, "..") || r.rel == "." {
				t.Errorf("unsafe data dir %q kept under %q", r.rel, parent)
			}
		}
	}
	if refs := idx.dataDirs[".config"]; !containsRel(refs, ".config/WasIstLos") {
		t.Errorf("~/ prefix not stripped: %+v", refs)
	}
}

func containsRel(refs []dataDirRef, rel string) bool {
	for _, r := range refs {
		if r.rel == rel {
			return true
		}
	}
	return false
}
