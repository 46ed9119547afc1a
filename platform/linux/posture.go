package linux

import (
	"context"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// scanPosture inspects screen lock (per user), remote-wipe capability and
// disk encryption. It only reads files under h.Root (and, for a ZFS root,
// runs `zfs get`); it never runs anything in a user's context and never
// writes. What it could not read ends up as Unknown with a reason, and in
// inv.Problems. debs is the inventory's read of the dpkg database (see
// readDebFacts), which holds the management agents' packages.
func scanPosture(ctx context.Context, h *platform.Host, cat *policy.Catalog, users []policy.User, debs debFacts, inv *policy.Inventory) policy.Posture {
	p := policy.Posture{Inspected: true, ScreenLock: []policy.ScreenLock{}}
	sl := newScreenLockProbe(h)
	for _, u := range users {
		if ctx.Err() != nil {
			break
		}
		lock := sl.forUser(u)
		if lock.Applicable == policy.Yes && lock.Enabled == policy.Unknown {
			inv.Problems = append(inv.Problems, policy.Problem{Probe: "screen_lock", Path: u.Home, Message: u.Name + ": " + lock.Reason})
		}
		p.ScreenLock = append(p.ScreenLock, lock)
	}
	inv.Problems = append(inv.Problems, sl.desk.probs...)
	var agents []policy.AgentSignature
	if cat != nil {
		agents = cat.Agents
	}
	p.RemoteWipe = remoteWipe(h, agents, sl.desk.procs, debs)
	p.Encryption = diskEncryption(ctx, h, users)
	return p
}
