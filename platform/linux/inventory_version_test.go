package linux

import (
	"strings"
	"testing"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// TestAddCleansVersion: versions from user-writable files (a per-user
// Flatpak's metainfo) enter the inventory capped and without control
// characters.
func TestAddCleansVersion(t *testing.T) {
	c := &collector{}
	c.add(&policy.CatalogEntry{ID: "telegram"}, sourceFlatpak, "bob", "5.3.1\x1b[2J\n"+strings.Repeat("1", 1<<20), "/home/bob/x")
	got := c.items[0].Version
	if len(got) != platform.MaxVersionLen || !strings.HasPrefix(got, "5.3.1[2J111") {
		t.Errorf("Version = %q (%d bytes); want the printable part, capped at %d bytes", got, len(got), platform.MaxVersionLen)
	}
}
