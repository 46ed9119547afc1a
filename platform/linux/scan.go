// Package linux inventories a Linux device: local users, installed and
// running messengers, and device posture (screen lock, remote wipe, disk
// encryption). Everything is read through a platform.Host, so the whole
// package is tested against fixture roots.
package linux

import (
	"context"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// Scan inspects the Linux device behind h and returns its inventory. It
// fails only when nothing at all can be read (e.g. the root does not exist);
// every partial failure is recorded in Inventory.Problems.
func Scan(ctx context.Context, h *platform.Host, cat *policy.Catalog) (*policy.Inventory, error) {
	inv := &policy.Inventory{Device: policy.Device{Kind: policy.DeviceComputer, Platform: "linux"}}
	if err := identify(h, inv); err != nil {
		return nil, err
	}
	users := scanUsers(h, inv)
	debs := scanMessengers(ctx, h, cat, users, inv)
	if h.Browsers {
		scanBrowsers(ctx, h, cat, users, inv)
	}
	inv.Posture = scanPosture(ctx, h, cat, users, debs, inv)
	return inv, nil
}
