package ios

import (
	"path/filepath"
	"testing"

	"github.com/msgguard/msgguard/platform/phone/phonetest"
	"github.com/msgguard/msgguard/platform/platformtest"
	"github.com/msgguard/msgguard/policy"
)

// loadFixture parses testdata/name, a fixture in phonetest's format whose
// identifier line is "udid: ".
func loadFixture(t testing.TB, name string) phonetest.Fixture {
	t.Helper()
	return phonetest.Load(t, filepath.Join("testdata", name), "udid")
}

// fakeFor returns a FakeRunner serving the given fixtures.
func fakeFor(fs ...phonetest.Fixture) *platformtest.FakeRunner {
	r := platformtest.NewFakeRunner()
	for _, f := range fs {
		f.Install(r, "")
	}
	return r
}

// testCatalog carries the iOS bundle identifiers of the acceptance scenario and
// messenger-catalog.md; it does not depend on the shipped catalog file.
func testCatalog() *policy.Catalog {
	return &policy.Catalog{Messengers: []policy.CatalogEntry{
		{ID: "whatsapp", Name: "WhatsApp", Variant: policy.VariantPrivate, Family: "whatsapp",
			IOS: policy.IOSIDs{BundleIDs: []string{"net.whatsapp.WhatsApp"}}},
		{ID: "whatsapp-business", Name: "WhatsApp Business", Variant: policy.VariantBusiness, Family: "whatsapp",
			IOS: policy.IOSIDs{BundleIDs: []string{"net.whatsapp.WhatsAppSMB"}}},
		{ID: "telegram", Name: "Telegram", Variant: policy.VariantPrivate,
			IOS: policy.IOSIDs{BundleIDs: []string{"ph.telegra.Telegraph"}}},
		{ID: "signal", Name: "Signal", Variant: policy.VariantPrivate,
			IOS: policy.IOSIDs{BundleIDs: []string{"org.whispersystems.signal"}}},
		{ID: "threema", Name: "Threema", Variant: policy.VariantPrivate, Family: "threema",
			IOS: policy.IOSIDs{BundleIDs: []string{"ch.threema.iapp"}}},
		{ID: "threema-work", Name: "Threema Work", Variant: policy.VariantBusiness, Family: "threema",
			IOS: policy.IOSIDs{BundleIDs: []string{"ch.threema.work"}}},
		{ID: "teams", Name: "Microsoft Teams", Variant: policy.VariantDual,
			IOS: policy.IOSIDs{BundleIDs: []string{"com.microsoft.skype.teams"}}},
		{ID: "slack", Name: "Slack", Variant: policy.VariantBusiness,
			IOS: policy.IOSIDs{BundleIDs: []string{"com.tinyspeck.chatlyio"}}},
	}}
}
