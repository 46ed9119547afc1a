package android

import (
	"path/filepath"
	"testing"

	"github.com/msgguard/msgguard/platform/phone/phonetest"
	"github.com/msgguard/msgguard/platform/platformtest"
	"github.com/msgguard/msgguard/policy"
)

// loadFixture parses testdata/name, a phone fixture in phonetest's format
// whose identifier line is "serial: ".
func loadFixture(t testing.TB, name string) phonetest.Fixture {
	t.Helper()
	return phonetest.Load(t, filepath.Join("testdata", name), "serial")
}

// shellPrefix is what precedes a fixture's command line when the probe runs
// it: "adb -s SERIAL shell ".
func shellPrefix(serial string) string { return "adb -s " + serial + " shell " }

// testCatalog is a catalog built in Go with the Android and iOS identifiers
// of the embedded catalog (policy/catalog.yaml), so these tests do
// not depend on the shipped catalog file.
func testCatalog() *policy.Catalog {
	return &policy.Catalog{Messengers: []policy.CatalogEntry{
		{ID: "whatsapp", Name: "WhatsApp", Variant: policy.VariantPrivate, Family: "whatsapp",
			Android: policy.AndroidIDs{Packages: []string{"com.whatsapp"}}},
		{ID: "whatsapp-business", Name: "WhatsApp Business", Variant: policy.VariantBusiness, Family: "whatsapp",
			Android: policy.AndroidIDs{Packages: []string{"com.whatsapp.w4b"}}},
		{ID: "signal", Name: "Signal", Variant: policy.VariantPrivate,
			Android: policy.AndroidIDs{Packages: []string{"org.thoughtcrime.securesms"}}},
		{ID: "telegram", Name: "Telegram", Variant: policy.VariantPrivate,
			Android: policy.AndroidIDs{Packages: []string{"org.telegram.messenger", "org.telegram.messenger.web"}}},
		{ID: "threema", Name: "Threema", Variant: policy.VariantPrivate, Family: "threema",
			Android: policy.AndroidIDs{Packages: []string{"ch.threema.app", "ch.threema.app.libre"}}},
		{ID: "threema-work", Name: "Threema Work", Variant: policy.VariantBusiness, Family: "threema",
			Android: policy.AndroidIDs{Packages: []string{"ch.threema.app.work"}}},
		{ID: "viber", Name: "Viber", Variant: policy.VariantPrivate,
			Android: policy.AndroidIDs{Packages: []string{"com.viber.voip"}}},
		{ID: "slack", Name: "Slack", Variant: policy.VariantBusiness,
			Android: policy.AndroidIDs{Packages: []string{"com.Slack"}}},
		{ID: "teams", Name: "Microsoft Teams", Variant: policy.VariantDual,
			Android: policy.AndroidIDs{Packages: []string{"com.microsoft.teams"}}},
	}}
}

// fakeFor returns a FakeRunner serving the given fixtures.
func fakeFor(fs ...phonetest.Fixture) *platformtest.FakeRunner {
	r := platformtest.NewFakeRunner()
	for _, f := range fs {
		f.Install(r, shellPrefix(f.ID))
	}
	return r
}
