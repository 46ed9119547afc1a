//go:build linux || darwin

package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/policy"
)

// fakeReader is a Backend that also reads: it answers with the fixed full
// views below and keeps every query it was given.
type fakeReader struct {
	fakeBackend
	mu   sync.Mutex
	got  []string
	fail error
}

func (f *fakeReader) note(q string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, q)
	return f.fail
}

func (f *fakeReader) queries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

func (f *fakeReader) Attestations(_ context.Context, device string) (*apitype.AttestationList, error) {
	if err := f.note("attestations " + device); err != nil {
		return nil, err
	}
	return fullAttestations(), nil
}

func (f *fakeReader) Exemptions(_ context.Context, device string) (*apitype.ExemptionList, error) {
	if err := f.note("exemptions " + device); err != nil {
		return nil, err
	}
	return fullExemptions(), nil
}

func (f *fakeReader) Baselines(_ context.Context, device string) (*apitype.BaselineList, error) {
	if err := f.note("baselines " + device); err != nil {
		return nil, err
	}
	return fullBaselines(), nil
}

func (f *fakeReader) Explain(_ context.Context, rule, device string) (*apitype.RuleHistory, error) {
	if err := f.note("explain " + rule + " " + device); err != nil {
		return nil, err
	}
	return fullHistory(), nil
}

// The fixtures' record and expiry times.
const (
	t0    = "2026-03-01T12:00:00Z"
	until = "2026-06-01T00:00:00Z"
)

// at parses one of the times above.
func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// secrets are what no one but an administrator may read in the fixtures
// below: other people's names, administrators' free text, and the other
// account ("bob") with everything about it.
func secrets() []string {
	return []string{"Anna Admin", "ticket 7", "DPO Dora", "MDM rollout", "Petra", "ticket 9", "bob", "Bob", "telegram"}
}

func fullAttestations() *apitype.AttestationList {
	return &apitype.AttestationList{Attestations: []compliance.Attestation{
		{Rule: "attestation.wire.legal-hold-off", Device: "dev1", By: "Anna Admin", Note: "ticket 7", At: at(t0), Until: at(until)},
		{Rule: "attestation.whatsapp-business.group-consent", Device: "phone1", By: "Anna Admin", At: at(t0), Until: at(until),
			ExpiredAt: at(until)},
	}}
}

func fullExemptions() *apitype.ExemptionList {
	return &apitype.ExemptionList{Exemptions: []compliance.Exemption{
		{Rule: "remote-wipe", Device: "dev1", Reason: "MDM rollout", Approver: "DPO Dora", At: at(t0), Until: at(until)},
		{Rule: "messenger.consumer", Subject: "whatsapp", User: "alice", Device: "dev1", Reason: "MDM rollout", Approver: "DPO Dora", At: at(t0), Until: at(until)},
		{Rule: "messenger.consumer", Subject: "telegram", User: "bob", Device: "dev1", Reason: "Bob's trial", Approver: "DPO Dora", At: at(t0), Until: at(until)},
	}}
}

// events has one event about the device, one about alice, one about bob
// and a messenger that moved from bob to alice (as drift phrases them).
func events() []drift.Event {
	return []drift.Event{
		{Device: "dev1", Kind: drift.KindPostureChanged, Attribute: "disk.encryption", Before: "off", After: "on",
			Message: "disk.encryption: off → on"},
		{Device: "dev1", Kind: drift.KindFindingAppeared, Rule: "messenger.consumer", Subject: "whatsapp", User: "alice",
			StatusAfter: policy.StatusFail, After: "fail", Message: "rule messenger.consumer (subject whatsapp, user alice): (none) → fail"},
		{Device: "dev1", Kind: drift.KindFindingAppeared, Rule: "messenger.consumer", Subject: "telegram", User: "bob",
			StatusAfter: policy.StatusFail, After: "fail", Message: "rule messenger.consumer (subject telegram, user bob): (none) → fail"},
		{Device: "dev1", Kind: drift.KindMessengerChanged, Attribute: "user", Subject: "signal", User: "alice", Before: "bob", After: "alice", Variant: "consumer",
			Message: "messenger signal (consumer) moved from user bob to user alice"},
	}
}

func fullBaselines() *apitype.BaselineList {
	return &apitype.BaselineList{Baselines: []drift.Baseline{
		{Device: "dev1", Hostname: "laptop-7", Info: drift.BaselineInfo{SetAt: at(t0), Reason: "accepted", By: "Petra", Why: "ticket 9"},
			LastScanAt: at(t0), Differences: events()},
		{Device: "phone1", Info: drift.BaselineInfo{SetAt: at(t0), Reason: "first_scan"}, LastScanAt: at(t0)},
	}}
}

func fullHistory() *apitype.RuleHistory {
	f := func(user, subject string) status.Finding {
		return status.Finding{Finding: policy.Finding{Rule: "messenger.consumer", Status: policy.StatusFail, Subject: subject, User: user, EvaluatedAt: at(t0)}}
	}
	return &apitype.RuleHistory{
		Device: "dev1", Platform: "linux", ScannedAt: at(t0),
		Findings: []status.Finding{f("", "signal-system"), f("alice", "whatsapp"), f("bob", "telegram")},
		Drift:    events(),
		Log: []compliance.LogEntry{
			{Time: at(t0), Kind: compliance.LogExempted, Device: "dev1", Rule: "messenger.consumer", By: "DPO Dora", Reason: "MDM rollout", Until: at(until)},
			{Time: at(t0), Kind: compliance.LogExempted, Device: "dev1", Rule: "messenger.consumer", User: "alice", Subject: "whatsapp", By: "DPO Dora", Reason: "MDM rollout", Until: at(until)},
			{Time: at(t0), Kind: compliance.LogExemptionExpired, Device: "dev1", Rule: "messenger.consumer", User: "bob", Subject: "telegram", By: "DPO Dora", Reason: "Bob's trial", Until: at(until)},
		},
	}
}

// readAll calls the four read endpoints through the typed client.
func readAll(t *testing.T, c *Client) map[string]any {
	t.Helper()
	ctx := context.Background()
	out := map[string]any{}
	var err error
	if out[PathAttestations], err = c.Attestations(ctx, ""); err != nil {
		t.Fatalf("Attestations: %v", err)
	}
	if out[PathExemptions], err = c.Exemptions(ctx, ""); err != nil {
		t.Fatalf("Exemptions: %v", err)
	}
	if out[PathBaselines], err = c.Baselines(ctx, ""); err != nil {
		t.Fatalf("Baselines: %v", err)
	}
	if out[PathExplain], err = c.Explain(ctx, "messenger.consumer", ""); err != nil {
		t.Fatalf("Explain: %v", err)
	}
	return out
}

// TestReadAdministrator: an administrator reads the backend's full views.
func TestReadAdministrator(t *testing.T) {
	for _, peer := range []Peer{{UID: 0, User: "root", Admin: true}, {UID: -1, SID: "S-1-5-18", User: "SYSTEM", Admin: true}} {
		t.Run(peer.User, func(t *testing.T) {
			sock, _ := startServer(t, &fakeReader{}, &peer)
			c := NewClient(sock)
			defer c.Close()
			want := map[string]any{PathAttestations: fullAttestations(), PathExemptions: fullExemptions(),
				// A baseline without differences answers [] (decoded: empty, not nil).
				PathBaselines: baselinesWithLists(fullBaselines()), PathExplain: fullHistory()}
			if diff := cmp.Diff(want, readAll(t, c)); diff != "" {
				t.Errorf("administrator's views (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadRedacted: anyone else gets device-level records and their own,
// without names or administrators' free text; an unresolved account gets
// the device-level part only.
func TestReadRedacted(t *testing.T) {
	alice := map[string]any{
		PathAttestations: &apitype.AttestationList{Redacted: true, Attestations: []compliance.Attestation{
			{Rule: "attestation.wire.legal-hold-off", Device: "dev1", At: at(t0), Until: at(until)},
			{Rule: "attestation.whatsapp-business.group-consent", Device: "phone1", At: at(t0), Until: at(until), ExpiredAt: at(until)},
		}},
		PathExemptions: &apitype.ExemptionList{Redacted: true, Exemptions: []compliance.Exemption{
			{Rule: "remote-wipe", Device: "dev1", At: at(t0), Until: at(until)},
			{Rule: "messenger.consumer", Subject: "whatsapp", User: "alice", Device: "dev1", At: at(t0), Until: at(until)},
		}},
		PathBaselines: &apitype.BaselineList{Redacted: true, Baselines: []drift.Baseline{
			{Device: "dev1", Hostname: "laptop-7", Info: drift.BaselineInfo{SetAt: at(t0), Reason: "accepted"}, LastScanAt: at(t0),
				Differences: []drift.Event{events()[0], events()[1], {Device: "dev1", Kind: drift.KindMessengerChanged, Attribute: "user",
					Subject: "signal", User: "alice", Before: "(another user)", After: "alice", Variant: "consumer",
					Message: "messenger signal (consumer) moved from another user to user alice"}}},
			{Device: "phone1", Info: drift.BaselineInfo{SetAt: at(t0), Reason: "first_scan"}, LastScanAt: at(t0), Differences: []drift.Event{}},
		}},
	}
	h := fullHistory()
	h.Redacted = true
	h.Findings = h.Findings[:2]
	h.Drift = alice[PathBaselines].(*apitype.BaselineList).Baselines[0].Differences
	h.Log = []compliance.LogEntry{
		{Time: at(t0), Kind: compliance.LogExempted, Device: "dev1", Rule: "messenger.consumer", Until: at(until)},
		{Time: at(t0), Kind: compliance.LogExempted, Device: "dev1", Rule: "messenger.consumer", User: "alice", Subject: "whatsapp", Until: at(until)},
	}
	alice[PathExplain] = h

	nobody := map[string]any{
		PathAttestations: alice[PathAttestations],
		PathExemptions:   &apitype.ExemptionList{Redacted: true, Exemptions: alice[PathExemptions].(*apitype.ExemptionList).Exemptions[:1]},
	}
	b := *alice[PathBaselines].(*apitype.BaselineList)
	b.Baselines = append([]drift.Baseline(nil), b.Baselines...)
	b.Baselines[0].Differences = events()[:1]
	nobody[PathBaselines] = &b
	hn := *h
	hn.Findings, hn.Drift, hn.Log = h.Findings[:1], events()[:1], h.Log[:1]
	nobody[PathExplain] = &hn

	tests := []struct {
		name string
		peer Peer
		want map[string]any
	}{
		{"alice", Peer{UID: 1000, User: "alice"}, alice},
		{"unresolved account", Peer{UID: 4242}, nobody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sock, _ := startServer(t, &fakeReader{}, &tt.peer)
			c := NewClient(sock)
			defer c.Close()
			got := readAll(t, c)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("redacted views (-want +got):\n%s", diff)
			}
			// Whatever the expectations say: nothing secret on the wire.
			for path, v := range got {
				b, err := json.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range secrets() {
					if strings.Contains(string(b), s) {
						t.Errorf("GET %s as %s carries %q:\n%s", path, tt.name, s, b)
					}
				}
			}
		})
	}
}

// TestReadPassesQuery: the client's device and rule reach the backend.
func TestReadPassesQuery(t *testing.T) {
	b := &fakeReader{}
	sock, _ := startServer(t, b, &Peer{UID: 0, Admin: true})
	c := NewClient(sock)
	defer c.Close()
	ctx := context.Background()
	dev := "iphone-00008030 & co/ü"
	c.Attestations(ctx, dev)
	c.Exemptions(ctx, "")
	c.Baselines(ctx, dev)
	c.Explain(ctx, "attestation.telegram.secret-chats-only", dev)
	c.Explain(ctx, "remote-wipe", "")
	want := []string{"attestations " + dev, "exemptions ", "baselines " + dev,
		"explain attestation.telegram.secret-chats-only " + dev, "explain remote-wipe "}
	if diff := cmp.Diff(want, b.queries()); diff != "" {
		t.Errorf("backend queries (-want +got):\n%s", diff)
	}
}

// TestReadRequestFiltering: browsers, other methods and bad queries are
// refused before the backend sees anything, for administrators too.
func TestReadRequestFiltering(t *testing.T) {
	b := &fakeReader{}
	sock, _ := startServer(t, b, &Peer{UID: 0, Admin: true})
	tests := []struct {
		name   string
		method string
		target string
		header map[string]string
		want   int
	}{
		{"ok", "GET", PathAttestations, nil, 200},
		{"ok explain", "GET", PathExplain + "?rule=remote-wipe&device=dev1", nil, 200},
		{"origin", "GET", PathAttestations, map[string]string{"Origin": "https://evil.example"}, 403},
		{"origin null", "GET", PathExplain + "?rule=x", map[string]string{"Origin": "null"}, 403},
		{"referer", "GET", PathBaselines, map[string]string{"Referer": "https://evil.example/"}, 403},
		{"post", "POST", PathExemptions, nil, 405},
		{"delete", "DELETE", PathBaselines, nil, 405},
		{"explain without rule", "GET", PathExplain, nil, 400},
		{"explain with empty rule", "GET", PathExplain + "?rule=", nil, 400},
		{"unknown parameter", "GET", PathAttestations + "?user=bob", nil, 400},
		{"rule on a list", "GET", PathExemptions + "?rule=x", nil, 400},
		{"device twice", "GET", PathBaselines + "?device=a&device=b", nil, 400},
		{"long device", "GET", PathAttestations + "?device=" + strings.Repeat("a", maxQueryValue+1), nil, 400},
		{"control character", "GET", PathExplain + "?rule=x%0A", nil, 400},
		{"invalid UTF-8", "GET", PathAttestations + "?device=%ff", nil, 400},
		{"malformed query", "GET", PathAttestations + "?device=%zz", nil, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(b.queries())
			req, err := http.NewRequest(tt.method, "http://"+Host+tt.target, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			code, body := rawRequest(t, sock, req)
			if code != tt.want {
				t.Errorf("%s %s = %d %s; want %d", tt.method, tt.target, code, body, tt.want)
			}
			if n := len(b.queries()) - before; tt.want != 200 && n != 0 {
				t.Errorf("a refused request reached the backend")
			}
		})
	}
}

// TestReadErrors: a backend without the read side is 501, a stopping one
// 503, a database failure 500 with its message; for everyone.
func TestReadErrors(t *testing.T) {
	tests := []struct {
		name     string
		backend  Backend
		wantCode int
		wantMsg  string
	}{
		{"not a reader", &fakeBackend{}, 501, ErrUnavailable.Error()},
		{"unavailable", &fakeReader{fail: ErrUnavailable}, 501, ErrUnavailable.Error()},
		{"stopping", &fakeReader{fail: ErrStopping}, 503, ErrStopping.Error()},
		{"database failure", &fakeReader{fail: errors.New("reading the attestations: page 7 corrupt")}, 500, "reading the attestations: page 7 corrupt"},
	}
	for _, tt := range tests {
		for _, peer := range []Peer{{UID: 0, Admin: true}, {UID: 1000, User: "alice"}} {
			t.Run(tt.name+"/"+peer.User, func(t *testing.T) {
				sock, _ := startServer(t, tt.backend, &peer)
				c := NewClient(sock)
				defer c.Close()
				ctx := context.Background()
				for path, call := range map[string]func() error{
					PathAttestations: func() error { _, err := c.Attestations(ctx, ""); return err },
					PathExemptions:   func() error { _, err := c.Exemptions(ctx, ""); return err },
					PathBaselines:    func() error { _, err := c.Baselines(ctx, ""); return err },
					PathExplain:      func() error { _, err := c.Explain(ctx, "x", ""); return err },
				} {
					var api *APIError
					if err := call(); !errors.As(err, &api) || api.Code != tt.wantCode || api.Msg != tt.wantMsg {
						t.Errorf("GET %s = %v; want %d %q", path, err, tt.wantCode, tt.wantMsg)
					}
				}
			})
		}
	}
}

// TestRedactKeepsInputs: redaction copies; the backend's values (which a
// real backend may cache) are not changed.
func TestRedactKeepsInputs(t *testing.T) {
	a, x, b, h := fullAttestations(), fullExemptions(), fullBaselines(), fullHistory()
	a.Redact("alice")
	x.Redact("alice")
	b.Redact("alice")
	h.Redact("alice")
	got := []any{a, x, b, h}
	want := []any{fullAttestations(), fullExemptions(), fullBaselines(), fullHistory()}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Redact changed its input (-want +got):\n%s", diff)
	}
}

func TestReadQuery(t *testing.T) {
	tests := []struct {
		path, raw string
		want      map[string]string
		wantErr   string
	}{
		{PathAttestations, "", map[string]string{}, ""},
		{PathAttestations, "device=dev1", map[string]string{"device": "dev1"}, ""},
		{PathExplain, "rule=remote-wipe&device=phone%201", map[string]string{"rule": "remote-wipe", "device": "phone 1"}, ""},
		{PathExplain, "device=dev1", nil, `parameter "rule" is required`},
		{PathExemptions, "rule=x", nil, `unknown parameter "rule"`},
		{PathBaselines, "device=a&device=a", nil, `parameter "device" given 2 times`},
		{PathAttestations, "device=%00", nil, `parameter "device" is not printable text`},
		{"/v1/status", "device=a", nil, `unknown parameter "device"`},
	}
	for _, tt := range tests {
		got, err := readQuery(tt.path, tt.raw)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("readQuery(%q, %q) = %v, %v; want error %q", tt.path, tt.raw, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !cmp.Equal(got, tt.want) {
			t.Errorf("readQuery(%q, %q) = %v, %v; want %v", tt.path, tt.raw, got, err, tt.want)
		}
	}
}

// FuzzReadQuery: any query either fails or yields only known, short,
// printable parameters, with a rule for explain.
func FuzzReadQuery(f *testing.F) {
	for _, s := range []string{"", "device=dev1", "rule=remote-wipe&device=x", "rule=%0a", "device=%ff", "a=b&a=c", "%zz", strings.Repeat("rule=a&", 50)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, path := range []string{PathAttestations, PathExplain} {
			got, err := readQuery(path, raw)
			if err != nil {
				continue
			}
			if path == PathExplain && got["rule"] == "" {
				t.Errorf("readQuery(%q, %q) accepted no rule", path, raw)
			}
			for k, v := range got {
				if k != "device" && (k != "rule" || path != PathExplain) {
					t.Errorf("readQuery(%q, %q) accepted %q", path, raw, k)
				}
				if len(v) > maxQueryValue || !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\n\r\x7f") {
					t.Errorf("readQuery(%q, %q) accepted %q=%q", path, raw, k, v)
				}
			}
			// What was accepted goes back through the client's encoding.
			q := url.Values{}
			for k, v := range got {
				q.Set(k, v)
			}
			if again, err := readQuery(path, q.Encode()); err != nil || !cmp.Equal(again, got) {
				t.Errorf("readQuery round trip of %v = %v, %v", got, again, err)
			}
		}
	})
}

// BenchmarkReadRoundTrip measures GET /v1/explain through the socket
// (query checks, peer lookup, redaction for a non-administrator, JSON both
// ways) against a backend that answers at once: the API's own cost on top
// of the database read.
func BenchmarkReadRoundTrip(b *testing.B) {
	dir, err := os.MkdirTemp("", "mgla") // sun_path is short
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	l, err := Listen(dir + "/a.sock")
	if err != nil {
		b.Fatal(err)
	}
	s := NewServer(&fakeReader{}, zerolog.Nop())
	s.identify = func(net.Conn) (Peer, error) { return Peer{UID: 1000, User: "alice"}, nil }
	go s.Serve(l)
	defer s.Shutdown(context.Background())
	c := NewClient(dir + "/a.sock")
	defer c.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Explain(context.Background(), "messenger.consumer", "dev1"); err != nil {
			b.Fatal(err)
		}
	}
}
