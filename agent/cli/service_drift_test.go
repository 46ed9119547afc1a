//go:build linux

package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/msgguard/msgguard/agent/drift"
)

// TestServiceDeliversDrift runs `agent run` as a real process with a JSON
// Lines and a Prometheus sink, installs a messenger package into the
// inspected root between two scans, and checks that exactly one
// messenger_appeared event reaches the JSONL file, that /v1/drift lists it,
// and that the textfile gauges are written.
func TestServiceDeliversDrift(t *testing.T) {
	requireRootForService(t)
	a := newAgentTree(t, "10s")
	// A private copy of the fixture root that the test can change.
	root := filepath.Join(a.dir, "root")
	if out, err := exec.Command("cp", "-a", a.root, root).CombinedOutput(); err != nil {
		t.Fatalf("copying the fixture root: %v\n%s", err, out)
	}
	a.root = root
	events := filepath.Join(a.dir, "events.jsonl")
	prom := filepath.Join(a.dir, "msgguard.prom")
	cfg, err := os.ReadFile(a.config)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(cfg), "root: ", "root: \""+root+"\"\n#", 1) +
		"sinks:\n  - type: jsonl\n    path: " + events + "\n  - type: prometheus\n    path: " + prom + "\n"
	if err := os.WriteFile(a.config, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	p := a.start(t)
	c := a.client(t, p)
	ctx := context.Background()

	// Install Skype's package (dpkg status stanza as dpkg writes it) and
	// ask the service to scan again.
	status := filepath.Join(root, "var/lib/dpkg/status")
	f, err := os.OpenFile(status, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\nPackage: skypeforlinux\nStatus: install ok installed\nPriority: optional\nSection: net\nInstalled-Size: 300000\nMaintainer: Skype Linux Client <support@skype.net>\nArchitecture: amd64\nVersion: 8.96.0.207\nDescription: Skype for Linux\n")
	f.Close()
	if _, err := c.Scan(ctx); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(15 * time.Second)
	var appeared []drift.Event
	for {
		appeared = appeared[:0]
		if fh, err := os.Open(events); err == nil {
			sc := bufio.NewScanner(fh)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				var ev drift.Event
				if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Kind == "messenger_appeared" {
					appeared = append(appeared, ev)
				}
			}
			fh.Close()
		}
		if len(appeared) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(appeared) != 1 || appeared[0].Subject != "skype" {
		t.Fatalf("messenger_appeared events in %s = %+v; want exactly one for skype", events, appeared)
	}
	v, err := c.Drift(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, ev := range v.Events {
		if ev.ID == appeared[0].ID {
			found++
		}
	}
	if found != 1 {
		t.Errorf("/v1/drift lists the event %d times; want 1", found)
	}
	for time.Now().Before(deadline) {
		if _, err := os.Stat(prom); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, err := os.ReadFile(prom)
	if err != nil || !strings.Contains(string(b), "msgguard_") {
		t.Errorf("prometheus textfile: %v\n%s", err, b)
	}
}
