package linux

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/msgguard/msgguard/policy"
)

// TestEmbeddedCatalogFindsFixtureMessengers scans the fixture root with the
// catalog the agent ships, so that a catalog edit that loses a Linux
// identifier used on real systems fails here.
func TestEmbeddedCatalogFindsFixtureMessengers(t *testing.T) {
	cat, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatalf("DefaultCatalog: %v", err)
	}
	inv, err := Scan(context.Background(), fixtureHost(t, "debian-desktop"), cat)
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	got := map[string]bool{}
	for _, m := range inv.Messengers {
		got[m.ID+" "+m.Source+" "+m.User] = true
	}
	want := []string{
		"element deb ", "element flatpak ", "element desktop ",
		"signal deb ", "signal snap ", "signal desktop ", "signal data-dir alice",
		"simplex appimage alice",
		"slack deb ", "slack desktop ", "slack data-dir bob",
		"teams deb ",
		"telegram deb ", "telegram desktop ", "telegram flatpak bob", "telegram data-dir alice", "telegram data-dir bob",
		"whatsapp desktop alice", "whatsapp desktop bob",
	}
	var missing []string
	for _, w := range want {
		if !got[w] {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		t.Errorf("embedded catalog misses %q; found %v", missing, inv.Messengers)
	}
	// Nothing is found for the login-less account or the removed package.
	for _, m := range inv.Messengers {
		if m.User == "carol" || m.Location == "skypeforlinux" {
			t.Errorf("unexpected item %+v", m)
		}
	}
	if diff := cmp.Diff([]policy.Problem(nil), inventoryProblems(inv)); diff != "" {
		t.Errorf("Problems (-want +got):\n%s", diff)
	}
}

func TestEmbeddedCatalogWebAppNames(t *testing.T) {
	cat, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatalf("DefaultCatalog: %v", err)
	}
	c := &collector{idx: newCatalogIndex(cat)}
	for name, want := range map[string]string{
		"WhatsApp Web":    "whatsapp",
		"Microsoft Teams": "teams",
		"Google Chat":     "google-chat",
		"Telegram Web":    "telegram",
	} {
		d := desktopEntry{Name: name, Exec: "/opt/google/chrome/google-chrome --profile-directory=Default --app-id=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}
		got := c.desktopMatches(nil, d, "x.desktop")
		if len(got) != 1 || got[0].ID != want {
			t.Errorf("web app %q matched %v; want %s", name, got, want)
		}
	}
}
