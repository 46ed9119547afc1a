package darwin

import (
	"context"
	"testing"

	"github.com/msgguard/msgguard/platform/platformtest"

	"github.com/msgguard/msgguard/policy"
)

// TestScanBrowsersMac: alice has Messenger in Chrome's Default profile and
// WhatsApp Web installed as a Chrome app shim beside a real YouTube shim
// (not a messenger); www.example.org in her profile is never reported.
func TestScanBrowsersMac(t *testing.T) {
	cat := defaultCatalog(t)
	h, _ := macHost(t)
	h.Browsers = true
	inv, err := Scan(context.Background(), h, cat)
	if err != nil {
		t.Fatal(err)
	}
	var got []policy.Messenger
	for _, m := range inv.Messengers {
		if m.Source == policy.SourceBrowser || m.Source == policy.SourceWebApp {
			got = append(got, m)
		}
	}
	ev := func(id, source, loc string) policy.Messenger {
		e := cat.Messenger(id)
		return policy.Messenger{ID: id, Name: e.Name, Variant: e.Variant, Source: source, User: "alice", Location: loc}
	}
	want := []policy.Messenger{
		ev("facebook-messenger", policy.SourceBrowser, `Chrome, profile "Default"`),
		ev("whatsapp", policy.SourceWebApp, `/Users/alice/Applications/Chrome Apps.localized/WhatsApp Web.app (Chrome)`),
	}
	platformtest.CheckBrowserEvidence(t, inv, want, got)
}
