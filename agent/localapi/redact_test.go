//go:build linux || darwin

package localapi

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/policy"
)

// Planted names: personal fields (who attested or approved, their notes and
// reasons) and operational ones (the policy file's path, a moved-aside
// database, a collector's host and path, sink errors). A non-administrator
// must find none of them in any answer.
var planted = []string{
	"Planted Attester", "planted-note-7781", "Planted Approver", "planted-reason-5512",
	"/planted/etc/msgguard", "state.db.corrupt-planted", "planted-collector.example", "/planted-hook",
}

// plantedReport builds a report the way the agent does: findings through
// compliance.Apply (an attestation and a local exemption recorded with the
// planted names), the policy.invalid finding from a real load error of a
// file at the planted path, and health with the planted problems.
func plantedReport(t *testing.T) (*status.Report, status.Health) {
	t.Helper()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const polFile = "/planted/etc/msgguard/policy.yaml"
	inv := &policy.Inventory{
		Device: policy.Device{ID: "dev1", Kind: "computer", Platform: "linux", Hostname: "laptop-7"},
		Users:  []policy.User{{Name: "alice", Home: "/home/alice"}, {Name: "bob", Home: "/home/bob"}},
		Messengers: []policy.Messenger{
			{ID: "whatsapp-business", Variant: "business"},
			{ID: "whatsapp", Variant: "private", User: "alice"},
		},
		Problems: []policy.Problem{{Probe: "store", Path: "/var/lib/msgguard/state.db.corrupt-planted", Message: "database moved aside"}},
	}
	st := compliance.NewState()
	p := policy.Default()
	var rule string
	for _, a := range p.Attestations {
		if a.AppliesWhen.Applies(inv) {
			rule = a.Rule()
			break
		}
	}
	if rule == "" {
		t.Fatal("no attestation rule of the default policy applies to WhatsApp Business")
	}
	st.Attestations[rule] = compliance.Attestation{Rule: rule, Device: "dev1", By: "Planted Attester", Note: "planted-note-7781",
		At: now.Add(-time.Hour), Until: now.Add(30 * 24 * time.Hour)}
	x := compliance.Exemption{Rule: "messenger.whatsapp", User: "alice", Device: "dev1", Reason: "planted-reason-5512",
		Approver: "Planted Approver", At: now.Add(-time.Hour), Until: now.Add(30 * 24 * time.Hour)}
	st.Exemptions[x.Key()] = x
	_, loadErr := policy.Load(polFile, []byte("messengers: [}}}\n"))
	if loadErr == nil {
		t.Fatal("garbage policy loaded")
	}
	in := []policy.Finding{
		{Rule: "messenger.whatsapp", Status: policy.StatusFail, Severity: policy.SeverityHigh, Subject: "whatsapp", User: "alice",
			Message: "WhatsApp (private) is installed", EvaluatedAt: now},
		policy.InvalidPolicyFinding(loadErr, now),
	}
	res := compliance.Apply(compliance.Input{Policy: p, Inventory: inv, Findings: in, Now: now, Lang: "en"}, st)
	var fs []status.Finding
	for _, f := range res.Findings {
		fs = append(fs, status.Finding{Finding: f, FirstSeen: now, LastChanged: now})
	}
	rep := &status.Report{
		SchemaVersion: status.SchemaVersion, ScannedAt: now, Device: inv.Device, Findings: fs, Summary: status.Summarize(fs),
		Inventory: inv, Source: "service",
		Policy: status.PolicyRef{Name: "GDPR", SHA256: "abc", Source: polFile, Errors: []string{loadErr.Error()}},
	}
	h := status.Health{OK: false, State: status.HealthDegraded, Problems: []string{
		"policy file " + polFile + " rejected; \"GDPR\" stays in force",
		"database was corrupt and rebuilt at 2026-03-01T11:00:00Z; the old file is /var/lib/msgguard/state.db.corrupt-planted",
		"sink hq: 3 events queued after failed deliveries: POST https://planted-collector.example/planted-hook: collector answered 503",
	}, Sinks: []status.SinkHealth{{Name: "hq", QueueDepth: 3, Failing: true,
		LastError: "POST https://planted-collector.example/planted-hook: collector answered 503 Service Unavailable"}}}
	return rep, h
}

// plantedBackend serves the planted report; snapshot selects the cached
// (Snapshotter) path of the server.
type plantedBackend struct {
	fakeReader
	rep    *status.Report
	health status.Health
}

func (b *plantedBackend) Status(ctx context.Context) (*status.Report, error) {
	r := *b.rep
	r.Service = &status.Service{Running: true, Health: b.health}
	return &r, nil
}

func (b *plantedBackend) Health(context.Context) status.Health { return b.health }

type snapshotBackend struct{ *plantedBackend }

func (b snapshotBackend) Snapshot(context.Context) (*status.Report, *status.Service, error) {
	return b.rep, &status.Service{Running: true, Health: b.health}, nil
}

// TestNonAdminSeesNoPlantedNames calls every read endpoint as a
// non-administrator and greps the raw answers for the planted names; the
// administrator's answers carry them (so the planting works).
func TestNonAdminSeesNoPlantedNames(t *testing.T) {
	rep, h := plantedReport(t)
	paths := []string{PathStatus, PathFindings, PathInventory, PathHealth, PathDrift,
		PathAttestations, PathExemptions, PathBaselines, PathExplain + "?rule=" + rep.Findings[0].Rule}
	pb := &plantedBackend{rep: rep, health: h}
	pb.drift = apitype.NewDriftResponse(time.Time{}, []drift.Event{
		{ID: "e1", Device: "dev1", Kind: drift.KindBaselineAccepted, By: "Planted Approver", Reason: "planted-reason-5512",
			Message: "baseline accepted by Planted Approver: planted-reason-5512"},
		{ID: "e2", Device: "dev1", Kind: drift.KindMessengerAppeared, User: "alice", Subject: "whatsapp"},
		// A reset's and the following summary's reason name the moved-aside
		// database; an administrator's message may quote anything.
		{ID: "e3", Device: "dev1", Kind: drift.KindReset,
			Reason:  "database rebuilt after corruption; damaged file kept at /var/lib/msgguard/state.db.corrupt-planted",
			Message: "drift state reset, new baseline set: damaged file kept at /var/lib/msgguard/state.db.corrupt-planted"},
		{ID: "e4", Device: "dev1", Kind: drift.KindSummary, Reason: "after reset: state.db.corrupt-planted",
			Message: "state summary after state.db.corrupt-planted"},
		{ID: "e5", Device: "dev1", Kind: drift.KindMessengerAppeared, User: "alice", Subject: "whatsapp", Variant: "private",
			Message: "messenger WhatsApp (private) appeared for user alice (Planted Attester, planted-note-7781)"},
	}, nil)
	backends := []struct {
		name string
		b    Backend
	}{{"plain", pb}, {"snapshot", snapshotBackend{pb}}}
	for _, be := range backends {
		for _, peer := range []Peer{{UID: 1000, User: "alice"}, {UID: 4242}, {UID: 0, User: "root", Admin: true}} {
			sock, _ := startServer(t, be.b, &peer)
			var all strings.Builder
			for _, path := range paths {
				body := rawGet(t, sock, path)
				all.WriteString(body)
				if peer.Admin {
					continue
				}
				for _, s := range append(planted, secrets()...) {
					if strings.Contains(strings.ToLower(body), strings.ToLower(s)) {
						t.Errorf("%s: GET %s as uid %d carries %q:\n%s", be.name, path, peer.UID, s, body)
					}
				}
				if strings.Contains(body, "null") {
					t.Errorf("%s: GET %s as uid %d has a null:\n%s", be.name, path, peer.UID, body)
				}
			}
			if peer.Admin {
				for _, s := range planted {
					if !strings.Contains(all.String(), s) {
						t.Errorf("%s: the administrator's answers lack %q: the test plants nothing", be.name, s)
					}
				}
			}
		}
	}
}

// rawGet returns the body of GET path on the socket.
func rawGet(t *testing.T, sock, path string) string {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get("http://" + Host + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %s %s", path, resp.Status, b)
	}
	return string(b)
}

// TestEmptyListsAreArrays: a report with no findings, users, messengers
// or posture lists answers [] for each, never null, in every view.
func TestEmptyListsAreArrays(t *testing.T) {
	empty := &status.Report{SchemaVersion: status.SchemaVersion, Inventory: &policy.Inventory{}}
	noInv := &status.Report{SchemaVersion: status.SchemaVersion}
	for _, rep := range []*status.Report{empty, noInv} {
		pb := &plantedBackend{rep: rep}
		for _, b := range []Backend{pb, snapshotBackend{pb}} {
			for _, peer := range []Peer{{UID: 0, User: "root", Admin: true}, {UID: 1000, User: "alice"}} {
				sock, _ := startServer(t, b, &peer)
				for _, path := range []string{PathStatus, PathFindings, PathInventory} {
					body := rawGet(t, sock, path)
					if strings.Contains(body, "null") {
						t.Errorf("GET %s (%T, admin %v): null in\n%s", path, b, peer.Admin, body)
					}
					for _, want := range []string{`"users":[]`, `"messengers":[]`} {
						if path != PathFindings && !strings.Contains(body, want) {
							t.Errorf("GET %s (%T, admin %v): no %s in\n%s", path, b, peer.Admin, want, body)
						}
					}
				}
			}
		}
	}
}

// countingSnapshot counts Snapshot calls and serves whatever report it
// holds.
type countingSnapshot struct {
	fakeBackend
	rep   atomic.Pointer[status.Report]
	calls atomic.Int32
}

func (c *countingSnapshot) Snapshot(context.Context) (*status.Report, *status.Service, error) {
	c.calls.Add(1)
	return c.rep.Load(), &status.Service{Running: true, Health: status.Health{OK: true, State: status.HealthOK}}, nil
}

// TestStatusFromSnapshot: the server answers from the Snapshotter (never
// Status), encodes a report once per view, and a new report (a new
// pointer) is served at once.
func TestStatusFromSnapshot(t *testing.T) {
	first := sampleReport()
	b := &countingSnapshot{}
	b.rep.Store(first)
	b.err = errors.New("Status must not be called")
	sock, s := startServer(t, b, &Peer{UID: 0, Admin: true})
	one := rawGet(t, sock, PathStatus)
	two := rawGet(t, sock, PathStatus)
	if one != two || !strings.Contains(one, `"service":{"running":true`) || !strings.HasSuffix(one, "}}\n") {
		t.Errorf("status answers differ or lack the service part:\n%s\n%s", one, two)
	}
	s.cache.mu.Lock()
	n := len(s.cache.gens[0].views)
	s.cache.mu.Unlock()
	if n != 1 {
		t.Errorf("%d cached views after two requests of one view; want 1", n)
	}
	second := sampleReport()
	second.ScanID = "second-scan"
	b.rep.Store(second)
	if got := rawGet(t, sock, PathStatus); !strings.Contains(got, "second-scan") {
		t.Errorf("after a new report: %s", got)
	}
	if n := b.calls.Load(); n != 3 {
		t.Errorf("Snapshot called %d times; want 3", n)
	}
}
