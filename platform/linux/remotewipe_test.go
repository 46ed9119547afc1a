package linux

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/platformtest"
	"github.com/msgguard/msgguard/policy"
)

var fleetAgent = policy.AgentSignature{ID: "fleet", Name: "Fleet (orbit)", Provider: "Fleet", Packages: []string{"fleet-osquery"}, Units: []string{"orbit.service"}, Processes: []string{"orbit"}}

func TestRemoteWipe(t *testing.T) {
	intune := policy.AgentSignature{ID: "intune", Name: "Microsoft Intune", Provider: "Microsoft Intune", Packages: []string{"intune-portal"}, Units: []string{"intune-agent.timer"}}
	prey := policy.AgentSignature{ID: "prey", Name: "Prey", Paths: []string{"/usr/lib/prey"}, Units: []string{"prey-agent.service"}}
	gnome := filepath.Join(postureTestdata, "root-gnome")
	fleetScript, fleetNoWipe := fleetAgent, fleetAgent
	fleetScript.WipeMethod, fleetNoWipe.WipeMethod = "script", "none"
	tests := []struct {
		name   string
		root   func(t *testing.T) string
		agents []policy.AgentSignature
		want   policy.RemoteWipe
	}{
		{"installed and enabled", func(t *testing.T) string { return gnome }, []policy.AgentSignature{intune, fleetAgent},
			policy.RemoteWipe{Capable: policy.Yes, Scope: "device", Provider: "Fleet",
				Source: "Fleet (orbit): package fleet-osquery; unit orbit.service enabled (/etc/systemd/system/multi-user.target.wants/orbit.service)"}},
		{"wipe by script is named in the evidence", func(t *testing.T) string { return gnome }, []policy.AgentSignature{fleetScript},
			policy.RemoteWipe{Capable: policy.Yes, Scope: "device", Provider: "Fleet",
				Source: "Fleet (orbit) (wipe by admin-run script): package fleet-osquery; unit orbit.service enabled (/etc/systemd/system/multi-user.target.wants/orbit.service)"}},
		{"installed and enabled, but no wipe on Linux", func(t *testing.T) string { return gnome }, []policy.AgentSignature{fleetNoWipe},
			policy.RemoteWipe{Capable: policy.No, Reason: "Fleet (orbit) is installed (package fleet-osquery) but offers no remote wipe on Linux"}},
		{"none installed", func(t *testing.T) string { return gnome }, []policy.AgentSignature{intune},
			policy.RemoteWipe{Capable: policy.No, Reason: "no management agent that can wipe this device is installed and active (looked for Microsoft Intune)"}},
		{"installed, service disabled", func(t *testing.T) string {
			root := platformtest.CopyTree(t, gnome)
			if err := os.Remove(filepath.Join(root, "etc/systemd/system/multi-user.target.wants/orbit.service")); err != nil {
				t.Fatal(err)
			}
			return root
		}, []policy.AgentSignature{fleetAgent},
			policy.RemoteWipe{Capable: policy.No, Reason: "Fleet (orbit) is installed (package fleet-osquery) but its service is neither enabled nor running"}},
		{"path-installed, running (not enabled)", func(t *testing.T) string {
			root := t.TempDir()
			postureWriteFile(t, root, "usr/lib/prey/current/bin/prey", "")
			if err := os.MkdirAll(filepath.Join(root, "run/systemd/units"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("5c4fd0ae4bfb4c0f9d0e8b8e2f3a1c7d", filepath.Join(root, "run/systemd/units/invocation:prey-agent.service")); err != nil {
				t.Fatal(err)
			}
			return root
		}, []policy.AgentSignature{prey},
			policy.RemoteWipe{Capable: policy.Yes, Scope: "device", Provider: "Prey", Source: "Prey: path /usr/lib/prey; unit prey-agent.service running (/run/systemd/units/invocation:prey-agent.service)"}},
		{"no signatures", func(t *testing.T) string { return gnome }, nil,
			policy.RemoteWipe{Capable: policy.Unknown, Reason: "the catalog lists no management agents to look for"}},
		{"dpkg status not readable", func(t *testing.T) string {
			root := t.TempDir()
			if err := os.MkdirAll(filepath.Join(root, "var/lib/dpkg/status"), 0o755); err != nil { // a directory
				t.Fatal(err)
			}
			return root
		}, []policy.AgentSignature{intune},
			policy.RemoteWipe{Capable: policy.Unknown, Reason: "package database not read: reading /var/lib/dpkg/status: open var/lib/dpkg/status: not a regular file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := postureHost(t, tt.root(t))
			debs := readDebFacts(h.Root, newCatalogIndex(&policy.Catalog{Agents: tt.agents}), nil)
			got := remoteWipe(h, tt.agents, nil, debs)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// opensCounter is a root that counts how often each file is opened.
type opensCounter struct {
	*platform.DirFS
	mu    sync.Mutex
	opens map[string]int
}

func (c *opensCounter) Open(name string) (fs.File, error) {
	c.mu.Lock()
	c.opens[name]++
	c.mu.Unlock()
	return c.DirFS.Open(name)
}

// TestScanReadsDpkgOnce: the inventory's read of the dpkg database also
// serves the remote-wipe probe, which finds the Fleet agent's package in
// it; the multi-megabyte file is opened once per scan.
func TestScanReadsDpkgOnce(t *testing.T) {
	h := postureHost(t, filepath.Join(postureTestdata, "root-gnome"))
	root := &opensCounter{DirFS: h.Root.(*platform.DirFS), opens: map[string]int{}}
	h.Root = root
	cat := &policy.Catalog{
		Messengers: []policy.CatalogEntry{{ID: "signal", Name: "Signal", Linux: policy.LinuxIDs{Deb: []string{"signal-desktop"}}}},
		Agents:     []policy.AgentSignature{fleetAgent},
	}
	inv, err := Scan(context.Background(), h, cat)
	if err != nil {
		t.Fatal(err)
	}
	if w := inv.Posture.RemoteWipe; w.Capable != policy.Yes || w.Provider != "Fleet" {
		t.Errorf("remote wipe = %+v; want Fleet, capable", w)
	}
	if n := root.opens[dpkgStatus]; n != 1 {
		t.Errorf("%s opened %d times per scan; want 1", dpkgStatus, n)
	}
}
