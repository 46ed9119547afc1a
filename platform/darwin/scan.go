// Package darwin answers what a Mac holds: its local users, the messenger
// apps installed or used by each of them, and its protection posture
// (screen lock per user, MDM remote wipe and Find My, FileVault).
//
// Everything is read through a platform.Host: files under Host.Root (the
// Mac's "/", or a fixture tree) and commands by plain name through Host.Run,
// which production resolves with Commands(). Nothing here needs cgo or a
// macOS SDK, so the package is built and tested on Linux against fixtures.
package darwin

import (
	"context"
	"fmt"
	"sort"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// Commands maps the command names this package runs to their absolute paths
// on macOS, for platform.ExecRunner. All are part of the sealed system volume.
func Commands() map[string][]string {
	return map[string][]string{
		"ioreg":     {"/usr/sbin/ioreg"},
		"dscl":      {"/usr/bin/dscl"},
		"who":       {"/usr/bin/who"},
		"launchctl": {"/bin/launchctl"},
		"pmset":     {"/usr/bin/pmset"},
		"profiles":  {"/usr/bin/profiles"},
		"nvram":     {"/usr/sbin/nvram"},
		"fdesetup":  {"/usr/bin/fdesetup"},
		// sysadminctl (/usr/sbin/sysadminctl) is not run by the runner:
		// screenLock status answers for the calling user's GUI session, so
		// launchctl starts it as `launchctl asuser <uid> sysadminctl ...`
		// and resolves the name with the runner's fixed
		// PATH=/usr/sbin:/usr/bin:/sbin:/bin (see screenlock.go).
	}
}

// maxProblemsPerProbe keeps a hostile tree (thousands of broken bundles)
// from turning the inventory into a problem list.
const maxProblemsPerProbe = 25

// Scan inspects the Mac behind h and returns its inventory. Every partial
// failure is recorded in Inventory.Problems; Scan fails only when the root
// itself cannot be read.
func Scan(ctx context.Context, h *platform.Host, cat *policy.Catalog) (*policy.Inventory, error) {
	if h == nil || h.Root == nil {
		return nil, fmt.Errorf("darwin scan: no root filesystem")
	}
	if _, err := platform.Lstat(h.Root, "."); err != nil {
		return nil, fmt.Errorf("darwin scan: reading the root: %w", err)
	}
	if cat == nil {
		cat = &policy.Catalog{}
	}
	s := &scan{ctx: ctx, h: h, cat: cat, inv: &policy.Inventory{
		Device: policy.Device{Kind: policy.DeviceComputer, Platform: "darwin"},
	}, probs: platform.Problems{Max: maxProblemsPerProbe}}
	uuid := identify(s)
	users := scanUsers(s)
	s.inv.Users = users
	scanMessengers(s, users)
	if s.h.Browsers {
		scanBrowsers(s, users)
	}
	s.inv.Posture = scanPosture(s, users, uuid)
	s.finish()
	return s.inv, nil
}

// scan carries one inventory run.
type scan struct {
	ctx   context.Context
	h     *platform.Host
	cat   *policy.Catalog
	inv   *policy.Inventory
	probs platform.Problems
	// plistBytes counts Info.plist bytes read, against maxPlistBytesPerScan.
	plistBytes int64
}

// problem records something the scan could not read or refused to read.
// The same problem (e.g. one symlinked ~/Library met by several catalog
// paths) is recorded once (see platform.Problems).
func (s *scan) problem(probe, path, msg string) {
	s.probs.Add(probe, path, msg)
}

// finish lists the problems (with a summary for capped probes) and sorts
// the evidence.
func (s *scan) finish() {
	s.inv.Problems = s.probs.List()
	m := s.inv.Messengers
	sort.SliceStable(m, func(i, j int) bool {
		a, b := m[i], m[j]
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		if a.User != b.User {
			return a.User < b.User
		}
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		return a.Location < b.Location
	})
}
