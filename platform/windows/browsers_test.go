package windows

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

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
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("browser evidence (-want +got):\n%s", diff)
	}
	for _, p := range inv.Problems {
		if p.Probe == "browsers" {
			t.Errorf("unexpected problem %+v", p)
		}
	}
	b, _ := json.Marshal(inv)
	if strings.Contains(string(b), "example.org") || strings.Contains(string(b), "YouTube") {
		t.Errorf("a site or app that is not a catalog messenger was reported")
	}
}
