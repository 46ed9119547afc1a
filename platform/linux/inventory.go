package linux

import (
	"context"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// Placeholders: replaced by the inventory probes (users, dpkg, rpm, snap,
// flatpak, desktop, appimage, data dirs, processes).

func identify(h *platform.Host, inv *policy.Inventory) error { return nil }

func scanUsers(h *platform.Host, inv *policy.Inventory) []policy.User { return nil }

func scanMessengers(ctx context.Context, h *platform.Host, cat *policy.Catalog, users []policy.User, inv *policy.Inventory) {
}
