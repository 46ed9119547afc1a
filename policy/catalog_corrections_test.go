package policy

import (
	"slices"
	"testing"
)

// TestCatalogCorrections pins the identifiers corrected or added after a
// check against public sources (each cited in catalog.yaml), and that the
// wrong ones are gone.
func TestCatalogCorrections(t *testing.T) {
	c, err := DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	type get func(e *CatalogEntry) []string
	var (
		deb      get = func(e *CatalogEntry) []string { return e.Linux.Deb }
		snap     get = func(e *CatalogEntry) []string { return e.Linux.Snap }
		flatpak  get = func(e *CatalogEntry) []string { return e.Linux.Flatpak }
		desktop  get = func(e *CatalogEntry) []string { return e.Linux.Desktop }
		dpattern get = func(e *CatalogEntry) []string { return e.Linux.DesktopPatterns }
		appimage get = func(e *CatalogEntry) []string { return e.Linux.AppImage }
		mac      get = func(e *CatalogEntry) []string { return e.Darwin.BundleIDs }
		msix     get = func(e *CatalogEntry) []string { return e.Windows.MSIX }
		android  get = func(e *CatalogEntry) []string { return e.Android.Packages }
		ios      get = func(e *CatalogEntry) []string { return e.IOS.BundleIDs }
		iosPre   get = func(e *CatalogEntry) []string { return e.IOS.BundlePrefixes }
		winName  get = func(e *CatalogEntry) []string {
			var out []string
			for _, u := range e.Windows.Uninstall {
				out = append(out, u.DisplayName+"|"+u.Publisher)
			}
			return out
		}
	)
	has := []struct {
		id   string
		list get
		want string
	}{
		{"element", deb, "element-nightly"},
		{"element", snap, "element-desktop"},
		{"element", ios, "io.element.elementx"},
		{"simplex", ios, "chat.simplex.app"},
		{"threema-work", ios, "ch.threema.work.iapp"},
		{"threema-work", iosPre, "ch.threema.onprem."},
		{"telegram", dpattern, "org.telegram.desktop._*"},
		{"telegram", dpattern, "appimagekit_*-Telegram_Desktop"},
		{"telegram", winName, "Telegram Desktop*|Telegram Messenger LLP"},
		{"telegram", android, "org.thunderdog.challegram"},
		{"zoom", winName, "Zoom(64bit)|"},
		{"zoom", winName, "Zoom (64-bit)|"},
		{"instagram", msix, "Facebook.InstagramBeta_8xx8rvfyw5nnt"},
		{"facebook-messenger", msix, "FACEBOOK.317180B0BB486_8xx8rvfyw5nnt"},
		{"facebook-messenger", mac, "com.facebook.archon.developerID"},
		{"teams", winName, "Microsoft Teams|Microsoft Corporation"},
		{"teams", snap, "teams"},
		{"whatsapp", msix, "5319275A.51895FA4EA97F_cv1g1gvanyjgm"},
		{"whatsapp", mac, "desktop.WhatsApp"},
		{"whatsapp", flatpak, "io.github.mimbrero.WhatsAppDesktop"},
		{"whatsapp", snap, "altus"},
		{"whatsapp", appimage, "altus-*.appimage"},
		{"discord", flatpak, "dev.vencord.Vesktop"},
		{"discord", flatpak, "io.github.spacingbat3.webcord"},
		{"discord", mac, "com.hnc.DiscordPTB"},
		{"discord", mac, "com.hnc.DiscordCanary"},
		{"teamwire", android, "com.teamwire.messenger"},
		{"session", ios, "com.loki-project.loki-messenger"},
		{"signal", mac, "org.whispersystems.signal-desktop-beta"},
		{"ferdium", flatpak, "org.ferdium.Ferdium"},
		{"ferdium", deb, "ferdium"},
		{"ferdium", snap, "ferdium"},
		{"ferdium", appimage, "ferdium-*.appimage"},
		{"ferdium", mac, "com.ferdium.ferdium-app"},
		{"ferdium", winName, "Ferdium*|Ferdium Contributors"},
		{"franz", flatpak, "com.meetfranz.Franz"},
		{"franz", mac, "com.meetfranz.franz"},
		{"franz", deb, "franz"},
		{"rambox", deb, "rambox"},
		{"rambox", mac, "com.grupovrs.ramboxce"},
		{"rambox", mac, "com.saenzramiro.rambox"},
		{"rambox", winName, "Rambox*|Rambox LLC"},
		{"ferdium", desktop, "org.ferdium.Ferdium"},
	}
	for _, tt := range has {
		e := c.Messenger(tt.id)
		if e == nil {
			t.Errorf("no entry %q", tt.id)
			continue
		}
		if !slices.Contains(tt.list(e), tt.want) {
			t.Errorf("%s lacks %q (has %q)", tt.id, tt.want, tt.list(e))
		}
	}
	gone := []struct {
		id   string
		list get
		bad  string
	}{
		{"element", deb, "element-desktop-nightly"},
		{"simplex", ios, "chat.simplex.app.ios"},
		{"threema-work", ios, "ch.threema.work"},
	}
	for _, tt := range gone {
		if e := c.Messenger(tt.id); e != nil && slices.Contains(tt.list(e), tt.bad) {
			t.Errorf("%s still lists the wrong identifier %q", tt.id, tt.bad)
		}
	}
	for _, id := range []string{"ferdium", "franz", "rambox"} {
		if e := c.Messenger(id); e == nil || e.Kind != KindAggregator {
			t.Errorf("%s is not an aggregator", id)
		}
	}
	for _, e := range c.Messengers {
		if e.Kind == KindAggregator && len(e.Sources) == 0 {
			t.Errorf("aggregator %s cites no source", e.ID)
		}
	}
}
