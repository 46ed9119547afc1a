// Package windows inventories a Windows device: its users (from
// ProfileList), the messengers installed for each of them (Uninstall keys in
// HKLM and every user hive, MSIX/Store packages, per-user install
// directories, running processes) and its posture (screen lock per user,
// MDM enrollment for remote wipe, BitLocker per fixed volume).
//
// Everything is read through seams so that Linux CI runs the whole package:
// the registry through the Registry interface (NativeRegistry on Windows,
// MemRegistry built from .reg exports in tests), files through
// platform.Host.Root (the system drive, "Users/alice/..."), and commands
// through platform.Host.Run.
package windows

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// scanner carries one scan's inputs and results.
type scanner struct {
	h     *platform.Host
	reg   Registry
	cat   *policy.Catalog
	m     *matcher
	probs *problems
	found []policy.Messenger
	// msixDirsSeen holds (lower-case) package directories already reported
	// as MSIX evidence.
	msixDirsSeen map[string]bool
	// drive is the system drive h.Root holds ("C:"); systemRoot its Windows
	// directory ("C:\Windows").
	drive, systemRoot string
}

func (s *scanner) add(m policy.Messenger) { s.found = append(s.found, m) }

// Scan inspects the Windows device whose registry is reg and whose system
// drive is h.Root, and returns its inventory. When reg also implements
// HiveLoader (NativeRegistry and MemRegistry do), the hive of each user who
// is not logged in is loaded for the duration of that user's reads and
// unloaded right after; otherwise such users are reported with an unknown
// screen lock. Scan fails only when the registry cannot be read at all (no
// MachineGuid) or ctx ends; every partial failure is an Inventory.Problem.
func Scan(ctx context.Context, h *platform.Host, reg Registry, cat *policy.Catalog) (*policy.Inventory, error) {
	if reg == nil || h == nil || h.Root == nil {
		return nil, errors.New("windows scan: no registry or no root filesystem")
	}
	s := &scanner{h: h, reg: reg, cat: cat, probs: newProblems(), msixDirsSeen: map[string]bool{}}
	s.m = newMatcher(cat, s.probs)
	inv := &policy.Inventory{Device: policy.Device{Kind: policy.DeviceComputer, Platform: "windows"}}
	if err := s.identify(&inv.Device); err != nil {
		return nil, fmt.Errorf("windows scan: %w", err)
	}
	s.systemDrive()
	profiles := s.profiles()
	s.scanUninstall(keyUninstall, keyUninstall, "")
	s.scanUninstall(keyUninstallWOW, keyUninstallWOW, "")
	ml := s.machineLock()
	locks, err := s.scanUsers(ctx, profiles, ml)
	if err != nil {
		return nil, err
	}
	if h.Browsers {
		s.scanBrowsers(ctx, profiles)
	}
	s.scanProcesses(ctx, profiles)
	inv.Posture = policy.Posture{
		ScreenLock: locks,
		RemoteWipe: s.remoteWipe(),
		Encryption: s.bitLocker(ctx),
		Inspected:  true,
	}
	for _, p := range profiles {
		inv.Users = append(inv.Users, p.user)
	}
	inv.Messengers = sortMessengers(s.found)
	inv.Problems = s.probs.done()
	return inv, nil
}

// scanUsers does every per-user read, one user at a time, so that a hive we
// load stays mounted only while that user is read.
func (s *scanner) scanUsers(ctx context.Context, profiles []profile, ml machineLock) ([]policy.ScreenLock, error) {
	loaded := s.loadedHives()
	seen := map[string]bool{} // MSIX families attributed to a user
	locks := make([]policy.ScreenLock, 0, len(profiles))
	for _, p := range profiles {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("windows scan: %w", err)
		}
		h := s.openHive(p, loaded)
		if h.err != nil {
			s.probs.add("users", `HKU\`+p.sid, fmt.Errorf("user %s: hive not readable: %w", p.user.Name, h.err))
		} else {
			for _, k := range []string{userKeyUninstall, userKeyUninstallWOW} {
				s.scanUninstall(h.root+`\`+k, `HKU\`+p.sid+`\`+k, p.user.Name)
			}
		}
		s.scanUserMSIX(p, h, seen)
		s.scanDataDirs(p)
		locks = append(locks, s.userLock(p, h, ml))
		h.close(s, p)
	}
	s.scanWindowsApps(seen)
	return locks, nil
}

// systemDrive reads the system drive from SystemRoot ("C:\WINDOWS"); h.Root
// is that drive. Defaults to C:.
func (s *scanner) systemDrive() {
	s.drive, s.systemRoot = "C:", `C:\Windows`
	root := s.readString("device", keyCurrentVer, "SystemRoot")
	if len(root) >= 3 && root[1] == ':' && root[2] == '\\' {
		s.drive, s.systemRoot = strings.ToUpper(root[:2]), root
	}
}
