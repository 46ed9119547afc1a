package windows

import (
	"testing"

	"github.com/msgguard/msgguard/platform/platformtest"

	"github.com/msgguard/msgguard/policy"
)

// TestScanBrowsersWindows: dave uses Teams (work) in Edge; carol has
// WhatsApp Web installed from Chrome (a Start-menu shortcut with
// --app-id=) beside a YouTube web app. Neither www.example.org nor YouTube
// is reported.
func TestScanBrowsersWindows(t *testing.T) {
	f := loadFixture(t, "home")
	f.h.Browsers = true
	inv := scanFixture(t, f)
	cat := defaultCatalog(t)
	var got []policy.Messenger
	for _, m := range inv.Messengers {
		if m.Source == policy.SourceBrowser || m.Source == policy.SourceWebApp {
			got = append(got, m)
		}
	}
	want := []policy.Messenger{
		evidence(t, cat, "teams", policy.SourceBrowser, "dave", "", `Edge, profile "Default"`),
		evidence(t, cat, "whatsapp", policy.SourceWebApp, "carol", "",
			`C:\Users\carol\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Chrome Apps\WhatsApp Web.lnk (Chrome, profile "Default")`),
	}
	platformtest.CheckBrowserEvidence(t, inv, want, got)
}
