package linux

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// itemKeys lists inventory items as "id source user location [services]".
func itemKeys(inv *policy.Inventory) []string {
	var out []string
	for _, m := range inv.Messengers {
		k := strings.Join([]string{m.ID, m.Source, m.User, m.Location}, " ")
		if m.Services != "" {
			k += " [" + m.Services + "]"
		}
		out = append(out, k)
	}
	return out
}

// TestUnlistedAndAggregatorFixture scans a Debian 12 desktop with the real
// desktop files of dino-im, pidgin and telegram-desktop, Telegram's own
// per-user launcher, an AppImage-integrated Telegram and Ferdium with three
// services set up, with the catalog the agent ships.
func TestUnlistedAndAggregatorFixture(t *testing.T) {
	cat, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	inv, err := Scan(context.Background(), fixtureHost(t, "messenger-desktop"), cat)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"ferdium data-dir alice /home/alice/.config/Ferdium",
		"ferdium data-dir alice /home/alice/.config/Ferdium/recipes [slack, telegram, whatsapp]",
		"ferdium desktop  /usr/share/applications/ferdium.desktop",
		"telegram desktop  /usr/share/applications/org.telegram.desktop.desktop",
		"telegram desktop alice /home/alice/.local/share/applications/org.telegram.desktop._a64117485bc5f662921b10decdc30b4f.desktop",
		"telegram desktop bob /home/bob/.local/share/applications/appimagekit_9e340c2a8806d40ea0662893c8258c04-Telegram_Desktop.desktop",
		"unlisted desktop  im.dino.Dino",
		"unlisted desktop  pidgin",
	}
	if diff := cmp.Diff(want, itemKeys(inv)); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	for _, m := range inv.Messengers {
		if m.ID == policy.UnlistedID && m.Name != map[string]string{"im.dino.Dino": "Dino", "pidgin": "Pidgin"}[m.Location] {
			t.Errorf("unlisted %s named %q", m.Location, m.Name)
		}
	}
	if diff := cmp.Diff([]policy.Problem(nil), inventoryProblems(inv)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}

	// With the default policy: Dino and Pidgin are unknown, never a pass;
	// Ferdium is an aggregator that names its services.
	fs := policy.Evaluate(policy.Default(), inv, policy.EvalOptions{Now: time.Unix(0, 0)})
	seen := map[string]policy.Finding{}
	for _, f := range fs {
		seen[f.Rule+"|"+f.Subject+"|"+f.User] = f
	}
	for _, k := range []string{"messenger.unlisted|im.dino.Dino|", "messenger.unlisted|pidgin|", "messenger.ferdium|ferdium|", "messenger.ferdium|ferdium|alice"} {
		f, ok := seen[k]
		if !ok {
			t.Errorf("no finding %s", k)
			continue
		}
		if f.Status != policy.StatusUnknown {
			t.Errorf("%s: status %s, want unknown", k, f.Status)
		}
	}
	if f := seen["messenger.ferdium|ferdium|alice"]; !slices.ContainsFunc(f.Evidence, func(e policy.Evidence) bool {
		return strings.Contains(e.Detail, "services slack, telegram, whatsapp")
	}) {
		t.Errorf("ferdium evidence lacks the services: %+v", f.Evidence)
	}
}

// TestDesktopPatterns checks the catalog's desktop_patterns on names that
// must and must not match.
func TestDesktopPatterns(t *testing.T) {
	cat, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	idx := newCatalogIndex(cat)
	for name, want := range map[string]string{
		"org.telegram.desktop._a64117485bc5f662921b10decdc30b4f":        "telegram",
		"appimagekit_9e340c2a8806d40ea0662893c8258c04-Telegram_Desktop": "telegram",
		"org.telegram.desktop":  "telegram", // exact name
		"org.telegram.desktopX": "",
		"appimagekit_9e340c2a8806d40ea0662893c8258c04-Telegram_Desktop_Helper": "",
		"xorg.telegram.desktop._abc": "",
	} {
		got := ""
		if e := (&collector{idx: idx}).desktopNameMatch("usr/share/applications", name); e != nil {
			got = e.ID
		}
		if got != want {
			t.Errorf("%s matched %q, want %q", name, got, want)
		}
	}
}

// TestUnlistedPerUserAndHostile: a per-user messenger app, one whose
// Exec= is a catalog messenger's program, a Type=Link entry, and a desktop
// file with 10,000 categories (bounded, one problem without content).
func TestUnlistedPerUserAndHostile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "etc/passwd"), "alice:x:1000:1000::/home/alice:/bin/bash\n")
	apps := filepath.Join(dir, "home/alice/.local/share/applications")
	writeFile(t, filepath.Join(apps, "io.github.Hexchat.desktop"), "[Desktop Entry]\nType=Application\nName=HexChat\nExec=hexchat\nCategories=GTK;Network;IRCClient;\n")
	writeFile(t, filepath.Join(apps, "my-viber.desktop"), "[Desktop Entry]\nType=Application\nName=Viber\nExec=/opt/viber/Viber %u\nCategories=Network;Chat;\n")
	writeFile(t, filepath.Join(apps, "chat-link.desktop"), "[Desktop Entry]\nType=Link\nName=Chat\nURL=https://chat.example/\nCategories=Chat;\n")
	secret := "SECRET-CATEGORY-CONTENT"
	huge := "[Desktop Entry]\nType=Application\nName=Huge\nExec=huge\nCategories=" + strings.Repeat(secret+";", 10000) + "Chat;\n"
	writeFile(t, filepath.Join(apps, "huge.desktop"), huge)
	h := &platform.Host{GOOS: "linux", Root: platform.NewDirFS(dir), RootDir: dir}
	cat, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	inv, err := Scan(context.Background(), h, cat)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("scan took %v", d)
	}
	var got []string
	for _, m := range inv.Messengers {
		got = append(got, fmt.Sprintf("%s %s %s %s", m.ID, m.User, m.Location, m.Name))
	}
	if diff := cmp.Diff([]string{"unlisted alice io.github.Hexchat HexChat"}, got); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	var probs []string
	for _, p := range inv.Problems {
		if strings.Contains(p.Message, secret) || strings.Contains(p.Path, secret) {
			t.Errorf("problem leaks file content: %+v", p)
		}
		if p.Probe == "desktop" {
			probs = append(probs, p.Path+": "+p.Message)
		}
	}
	want := []string{fmt.Sprintf("/home/alice/.local/share/applications/huge.desktop: more than %d categories; only the first %d were looked at", maxCategories, maxCategories)}
	if diff := cmp.Diff(want, probs); diff != "" {
		t.Errorf("desktop problems (-want +got):\n%s", diff)
	}
}

// TestRealMessengerPackages scans copies of the desktop files that the real
// Debian packages dino-im, pidgin and telegram-desktop installed on this
// machine (.ci/run installs them), in a scratch root with every other file
// of /usr/share/applications beside them.
func TestRealMessengerPackages(t *testing.T) {
	const apps = "/usr/share/applications"
	for _, f := range []string{"im.dino.Dino.desktop", "pidgin.desktop", "org.telegram.desktop.desktop"} {
		if _, err := os.Stat(filepath.Join(apps, f)); err != nil {
			t.Skipf("%s/%s not present (install the Debian packages dino-im, pidgin and telegram-desktop); skipping", apps, f)
		}
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n")
	entries, err := os.ReadDir(apps)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".desktop") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(apps, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "usr/share/applications", e.Name()), string(b))
	}
	cat, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	inv, err := Scan(context.Background(), &platform.Host{GOOS: "linux", Root: platform.NewDirFS(dir), RootDir: dir}, cat)
	if err != nil {
		t.Fatal(err)
	}
	keys := itemKeys(inv)
	for _, w := range []string{
		"unlisted desktop  im.dino.Dino",
		"unlisted desktop  pidgin",
		"telegram desktop  /usr/share/applications/org.telegram.desktop.desktop",
	} {
		if !slices.Contains(keys, w) {
			t.Errorf("missing %q in %q", w, keys)
		}
	}
	for _, f := range policy.Evaluate(policy.Default(), inv, policy.EvalOptions{}) {
		if f.Rule == "messenger.unlisted" && (f.Subject == "im.dino.Dino" || f.Subject == "pidgin") && f.Status == policy.StatusPass {
			t.Errorf("%s passes: %s", f.Subject, f.Message)
		}
	}
}

// TestServiceDirsHostile: a recipes folder with 500 entries reports at
// most platform.MaxServices names and says so; a recipes folder that is a
// symbolic link (to /etc) is not followed and reports nothing.
func TestServiceDirsHostile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "etc/passwd"), "alice:x:1000:1000::/home/alice:/bin/bash\nbob:x:1001:1001::/home/bob:/bin/bash\n")
	recipes := filepath.Join(dir, "home/alice/.config/Ferdium/recipes")
	for i := range 500 {
		mkdir(t, filepath.Join(recipes, fmt.Sprintf("svc%05d", i)))
	}
	mkdir(t, filepath.Join(dir, "home/bob/.config/Ferdium"))
	symlink(t, "/etc", filepath.Join(dir, "home/bob/.config/Ferdium/recipes"))
	cat, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	inv, err := Scan(context.Background(), &platform.Host{GOOS: "linux", Root: platform.NewDirFS(dir), RootDir: dir}, cat)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range inv.Messengers {
		switch {
		case m.User == "alice" && strings.HasSuffix(m.Location, "/recipes"):
			if n := len(strings.Split(m.Services, ", ")); n != platform.MaxServices {
				t.Errorf("alice: %d services reported, want %d", n, platform.MaxServices)
			}
		case m.User == "bob" && m.Services != "":
			t.Errorf("bob's linked recipes folder was followed: %+v", m)
		}
	}
	found := false
	for _, p := range inv.Problems {
		if strings.HasSuffix(p.Path, "/home/alice/.config/Ferdium/recipes") && strings.Contains(p.Message, "only the first were reported") {
			found = true
		}
	}
	if !found {
		t.Errorf("no problem about the cut service list: %+v", inv.Problems)
	}
}
