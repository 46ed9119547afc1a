package linux

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// Linux has no built-in remote wipe: the company can wipe a device only
// through a management agent it controls (Intune, Fleet's orbit, Workspace
// ONE, JumpCloud, Prey, ...; docs/posture-detection.md). An agent counts when it
// is installed (a dpkg package or one of its paths) AND its service is
// enabled (a symlink in a systemd *.wants/ directory) or running (systemd's
// run/systemd/units/invocation:<unit> link, which exists while a unit is
// active, or a process on a live host). Everything is read through the root
// filesystem; systemctl is not needed.

const systemdRunUnit = "run/systemd/units"

// systemdWantsDirs hold "<target>.wants/<unit>" enablement symlinks
// (systemctl enable writes /etc; vendor presets may ship /usr/lib).
var systemdWantsDirs = [...]string{"etc/systemd/system", "usr/lib/systemd/system", "lib/systemd/system"}

// wipeEvidence is what was found for one agent.
type wipeEvidence struct {
	installed []string // "package intune-portal", "path /opt/microsoft/..."
	active    []string // "unit x.service enabled (...)", "process x"
}

// remoteWipe decides remote-wipe capability from the catalog's agents; debs
// holds the installed packages the scan's read of the dpkg database found.
func remoteWipe(h *platform.Host, agents []policy.AgentSignature, procs []postureProc, debs debFacts) policy.RemoteWipe {
	if len(agents) == 0 {
		return policy.RemoteWipe{Capable: policy.Unknown, Reason: "the catalog lists no management agents to look for"}
	}
	want := map[string]bool{}
	for _, a := range agents {
		for _, p := range a.Packages {
			want[p] = true
		}
	}
	installed := map[string]bool{}
	var dpkgErr error
	if len(want) > 0 {
		switch err := debs.err; {
		case err == nil:
			for _, p := range debs.pkgs {
				installed[p.Name] = want[p.Name]
			}
		case !errors.Is(err, fs.ErrNotExist):
			dpkgErr = fmt.Errorf("reading /%s: %w", dpkgStatus, err)
		}
	}
	var partial []string
	for _, a := range agents {
		ev := agentEvidence(h, a, installed, procs)
		name := a.Name
		if name == "" {
			name = a.ID
		}
		if len(ev.installed) > 0 && a.WipeMethod == "none" {
			// The catalog says this agent manages the device but cannot
			// wipe it on this platform: present, yet no capability.
			partial = append(partial, name+" is installed ("+strings.Join(ev.installed, ", ")+") but offers no remote wipe on Linux")
			continue
		}
		if len(ev.installed) > 0 && len(ev.active) > 0 {
			provider := a.Provider
			if provider == "" {
				provider = name
			}
			how := ""
			if a.WipeMethod == "script" {
				// Intune and Fleet wipe Linux only by running an
				// admin-written script as root; say so in the evidence.
				how = " (wipe by admin-run script)"
			}
			return policy.RemoteWipe{
				Capable:  policy.Yes,
				Scope:    "device",
				Provider: provider,
				Source:   name + how + ": " + strings.Join(ev.installed, ", ") + "; " + strings.Join(ev.active, ", "),
			}
		}
		if len(ev.installed) > 0 {
			partial = append(partial, name+" is installed ("+strings.Join(ev.installed, ", ")+") but its service is neither enabled nor running")
		}
	}
	if dpkgErr != nil {
		return policy.RemoteWipe{Capable: policy.Unknown, Reason: "package database not read: " + dpkgErr.Error()}
	}
	reason := "no management agent that can wipe this device is installed and active (looked for " + agentNames(agents) + ")"
	if len(partial) > 0 {
		reason = strings.Join(partial, "; ")
	}
	return policy.RemoteWipe{Capable: policy.No, Reason: reason}
}

func agentNames(agents []policy.AgentSignature) string {
	names := make([]string, 0, len(agents))
	for _, a := range agents {
		if a.Name != "" {
			names = append(names, a.Name)
		} else {
			names = append(names, a.ID)
		}
	}
	return strings.Join(names, ", ")
}

func agentEvidence(h *platform.Host, a policy.AgentSignature, debs map[string]bool, procs []postureProc) wipeEvidence {
	var ev wipeEvidence
	for _, p := range a.Packages {
		if debs[p] {
			ev.installed = append(ev.installed, "package "+p)
		}
	}
	for _, p := range a.Paths {
		if _, err := platform.Lstat(h.Root, platform.RelPath(p)); err == nil {
			ev.installed = append(ev.installed, "path "+path.Clean("/"+p))
		}
	}
	for _, u := range a.Units {
		if !validUnitName(u) {
			continue
		}
		if where, ok := unitEnabled(h, u); ok {
			ev.active = append(ev.active, "unit "+u+" enabled (/"+where+")")
		} else if _, err := platform.Lstat(h.Root, path.Join(systemdRunUnit, "invocation:"+u)); err == nil {
			ev.active = append(ev.active, "unit "+u+" running (/"+systemdRunUnit+"/invocation:"+u+")")
		}
		// A unit file alone shows the agent is installed (for signatures
		// without packages or paths).
		if len(a.Packages) == 0 && len(a.Paths) == 0 {
			for _, dir := range systemdWantsDirs {
				rel := path.Join(dir, u)
				if _, err := platform.Lstat(h.Root, rel); err == nil {
					ev.installed = append(ev.installed, "unit file /"+rel)
					break
				}
			}
		}
	}
	if h.Live {
		for _, want := range a.Processes {
			for _, p := range procs {
				if p.comm == want || (len(want) > 15 && p.comm == want[:15]) {
					ev.active = append(ev.active, "process "+want+" running")
					break
				}
			}
		}
	}
	return ev
}

// validUnitName rejects names that would escape a directory.
func validUnitName(u string) bool {
	return u != "" && !strings.ContainsAny(u, "/\x00") && u != "." && u != ".."
}

// unitEnabled looks for <dir>/*.wants/<unit> or *.requires/<unit>.
func unitEnabled(h *platform.Host, unit string) (string, bool) {
	for _, dir := range systemdWantsDirs {
		entries, err := fs.ReadDir(h.Root, dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			n := e.Name()
			if !strings.HasSuffix(n, ".wants") && !strings.HasSuffix(n, ".requires") {
				continue
			}
			rel := path.Join(dir, n, unit)
			if _, err := platform.Lstat(h.Root, rel); err == nil {
				return rel, true
			}
		}
	}
	return "", false
}
