package linux

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// fixtureHost returns a Host over testdata/<scenario>, read through the
// production DirFS.
func fixtureHost(t testing.TB, scenario string) *platform.Host {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", scenario))
	if err != nil {
		t.Fatal(err)
	}
	return &platform.Host{GOOS: "linux", Root: platform.NewDirFS(dir), RootDir: dir}
}

func TestScanDebianDesktopFixture(t *testing.T) {
	h := fixtureHost(t, "debian-desktop")
	inv, err := Scan(context.Background(), h, testCatalog())
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}

	mid, err := os.ReadFile(filepath.Join("testdata", "debian-desktop", "etc", "machine-id"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := hex.DecodeString(string(bytes.TrimSpace(mid)))
	if err != nil {
		t.Fatal(err)
	}
	wantDevice := policy.Device{
		ID: deviceID(raw), Kind: "computer", Platform: "linux",
		Hostname: "devbox-17", OSVersion: "Debian GNU/Linux 12 (bookworm)",
	}
	if diff := cmp.Diff(wantDevice, inv.Device); diff != "" {
		t.Errorf("Device mismatch (-want +got):\n%s", diff)
	}

	wantUsers := []policy.User{
		{Name: "alice", UID: "1000", Home: "/home/alice"},
		{Name: "bob", UID: "1001", Home: "/home/bob"},
	}
	if diff := cmp.Diff(wantUsers, inv.Users); diff != "" {
		t.Errorf("Users mismatch (-want +got):\n%s", diff)
	}

	m := func(id, name string, v policy.Variant, source, user, version, loc string) policy.Messenger {
		return policy.Messenger{ID: id, Name: name, Variant: v, Source: source, User: user, Version: version, Location: loc}
	}
	const (
		priv = policy.VariantPrivate
		biz  = policy.VariantBusiness
		dual = policy.VariantDual
	)
	want := []policy.Messenger{
		m("element", "Element", dual, "deb", "", "1.12.30", "element-desktop"),
		m("element", "Element", dual, "desktop", "", "", "/var/lib/flatpak/exports/share/applications/im.riot.Riot.desktop"),
		m("element", "Element", dual, "flatpak", "", "1.11.111", "/var/lib/flatpak/app/im.riot.Riot"),
		m("signal", "Signal", priv, "data-dir", "alice", "", "/home/alice/.config/Signal"),
		m("signal", "Signal", priv, "deb", "", "7.86.0", "signal-desktop"),
		m("signal", "Signal", priv, "desktop", "", "", "/usr/share/applications/signal-desktop.desktop"),
		m("signal", "Signal", priv, "desktop", "", "", "/var/lib/snapd/desktop/applications/signal-desktop_signal-desktop.desktop"),
		m("signal", "Signal", priv, "snap", "", "7.86.0", "/snap/signal-desktop"),
		m("simplex", "SimpleX Chat", priv, "appimage", "alice", "", "/home/alice/Applications/simplex-desktop-x86_64.AppImage"),
		m("slack", "Slack", biz, "data-dir", "bob", "", "/home/bob/.config/Slack"),
		m("slack", "Slack", biz, "deb", "", "4.33.90", "slack-desktop"),
		m("slack", "Slack", biz, "desktop", "", "", "/usr/share/applications/slack.desktop"),
		m("teams", "Microsoft Teams", biz, "deb", "", "2.23.1", "teams-for-linux"),
		m("telegram", "Telegram", priv, "data-dir", "alice", "", "/home/alice/.local/share/TelegramDesktop"),
		m("telegram", "Telegram", priv, "data-dir", "bob", "", "/home/bob/.var/app/org.telegram.desktop"),
		m("telegram", "Telegram", priv, "deb", "", "4.6.5+ds-2+deb12u1", "telegram-desktop"),
		m("telegram", "Telegram", priv, "desktop", "", "", "/usr/share/applications/org.telegram.desktop.desktop"),
		m("telegram", "Telegram", priv, "flatpak", "bob", "", "/home/bob/.local/share/flatpak/app/org.telegram.desktop"),
		m("whatsapp", "WhatsApp", priv, "desktop", "alice", "", "/home/alice/.local/share/applications/chrome-hnpfjngllnobngcgfapefoaidbinmjnm-Default.desktop"),
		m("whatsapp", "WhatsApp", priv, "desktop", "bob", "", "/home/bob/.local/share/applications/whatsapp-web.desktop"),
	}
	if diff := cmp.Diff(want, inv.Messengers); diff != "" {
		t.Errorf("Messengers mismatch (-want +got):\n%s", diff)
	}
	if p := inventoryProblems(inv); len(p) != 0 {
		t.Errorf("Problems = %+v; want none", p)
	}
}

// inventoryProblems keeps the Problems of the inventory probes (the
// posture probes report their own).
func inventoryProblems(inv *policy.Inventory) []policy.Problem {
	var out []policy.Problem
	for _, p := range inv.Problems {
		switch p.Probe {
		case "identify", "users", "home", "messengers", "dpkg", "rpm", "snap", "flatpak", "desktop", "appimage", "data-dir", "process":
			out = append(out, p)
		}
	}
	return out
}

func TestScanRootErrors(t *testing.T) {
	tests := []struct {
		name string
		h    *platform.Host
	}{
		{"nil root", &platform.Host{GOOS: "linux"}},
		{"missing root", &platform.Host{GOOS: "linux", Root: platform.NewDirFS(filepath.Join(t.TempDir(), "nope")), RootDir: "/nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := Scan(context.Background(), tt.h, testCatalog())
			if err == nil {
				t.Fatalf("Scan = %+v, nil; want an error", inv)
			}
		})
	}
}

func TestScanEmptyRootReportsProblems(t *testing.T) {
	h := &platform.Host{GOOS: "linux", Root: platform.NewDirFS(t.TempDir())}
	inv, err := Scan(context.Background(), h, testCatalog())
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	if len(inv.Messengers) != 0 || len(inv.Users) != 0 {
		t.Errorf("empty root: messengers %v, users %v; want none", inv.Messengers, inv.Users)
	}
	got := map[string]bool{}
	for _, p := range inv.Problems {
		got[p.Path] = true
	}
	for _, want := range []string{"/etc/machine-id", "/etc/hostname", "/etc/os-release", "/etc/passwd"} {
		if !got[want] {
			t.Errorf("no Problem for %s; got %+v", want, inv.Problems)
		}
	}
	// No dpkg at all is not a dpkg problem...
	if got["/"+dpkgStatus] {
		t.Errorf("a root without dpkg reported a dpkg problem: %+v", inv.Problems)
	}
	// ...but without accounts and any package database nothing can be shown
	// absent: both are core problems (the verdict is "could not check").
	core := map[string]bool{}
	for _, p := range inv.CoreProblems() {
		core[p.Probe] = true
	}
	if !core["users"] || !core["packages"] || len(core) != 2 {
		t.Errorf("core problems = %+v; want users and packages", inv.CoreProblems())
	}
}

func TestScanWithoutCatalog(t *testing.T) {
	inv, err := Scan(context.Background(), fixtureHost(t, "debian-desktop"), nil)
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	if len(inv.Messengers) != 0 || len(inventoryProblems(inv)) != 1 {
		t.Errorf("nil catalog: messengers %v problems %v; want none and one problem", inv.Messengers, inv.Problems)
	}
}
