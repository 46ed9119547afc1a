package platformtest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/msgguard/msgguard/policy"
)

// CheckBrowserEvidence compares the browser evidence a scan found (got)
// with want, and checks that the browser probe reported no problem and that
// the fixtures' unrelated site (example.org) and non-messenger web app
// (YouTube) appear nowhere in the inventory.
func CheckBrowserEvidence(t testing.TB, inv *policy.Inventory, want, got []policy.Messenger) {
	t.Helper()
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
