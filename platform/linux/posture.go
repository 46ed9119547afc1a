package linux

import (
	"context"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// scanPosture is a placeholder until the posture probes land: it reports the
// posture as not inspected, so every posture rule evaluates to unknown.
func scanPosture(ctx context.Context, h *platform.Host, cat *policy.Catalog, users []policy.User, inv *policy.Inventory) policy.Posture {
	return policy.Posture{Inspected: false}
}
