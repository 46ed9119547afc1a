//go:build linux || darwin

package localapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/drift"
)

// fakeRecorder is a Backend that also records; it keeps every request it
// was given and answers with fail when set.
type fakeRecorder struct {
	fakeBackend
	mu   sync.Mutex
	got  []any
	fail error
}

func (f *fakeRecorder) note(req any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, req)
	return f.fail
}

func (f *fakeRecorder) requests() []any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]any(nil), f.got...)
}

func (f *fakeRecorder) Attest(_ context.Context, req apitype.AttestRequest) (*apitype.AttestResult, error) {
	if err := f.note(req); err != nil {
		return nil, err
	}
	return &apitype.AttestResult{Attestation: compliance.Attestation{Rule: "attestation." + req.Rule, By: req.By, Device: "dev1"},
		Applies: true, Rescan: apitype.Rescan{ScannedAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Covered: true}}, nil
}

func (f *fakeRecorder) Exempt(_ context.Context, req apitype.ExemptRequest) (*apitype.ExemptResult, error) {
	if err := f.note(req); err != nil {
		return nil, err
	}
	return &apitype.ExemptResult{Exemption: compliance.Exemption{Rule: req.Rule, Approver: req.Approver, Device: "dev1"}}, nil
}

func (f *fakeRecorder) AcceptBaseline(_ context.Context, req apitype.BaselineAcceptRequest) (*apitype.BaselineAcceptResult, error) {
	if err := f.note(req); err != nil {
		return nil, err
	}
	return &apitype.BaselineAcceptResult{Events: []drift.Event{{Device: "dev1", Kind: drift.KindBaselineAccepted, By: req.By, Reason: req.Why}}}, nil
}

// callRecord calls one record endpoint through the typed client.
func callRecord(c *Client, path string) error {
	ctx := context.Background()
	var err error
	switch path {
	case PathAttest:
		_, err = c.Attest(ctx, apitype.AttestRequest{Rule: "x", By: "Anna"})
	case PathExempt:
		_, err = c.Exempt(ctx, apitype.ExemptRequest{Rule: "x", Reason: "r", Approver: "Anna", Until: "2026-04-01"})
	case PathBaselineAccept:
		_, err = c.AcceptBaseline(ctx, apitype.BaselineAcceptRequest{By: "Anna", Why: "ticket 1"})
	}
	return err
}

// TestRecordAuthorization: administrators record; any other user, and an
// unidentified one, gets 403 and the backend is never called.
func TestRecordAuthorization(t *testing.T) {
	paths := []string{PathAttest, PathExempt, PathBaselineAccept}
	peers := []struct {
		name  string
		peer  Peer
		allow bool
	}{
		{"root", Peer{UID: 0, User: "root", Admin: true}, true},
		{"windows administrator", Peer{UID: -1, SID: "S-1-5-21-1-2-3-500", User: "admin", Admin: true}, true},
		{"alice", Peer{UID: 1000, User: "alice"}, false},
		{"unresolved user", Peer{UID: 4242}, false},
	}
	for _, pt := range peers {
		t.Run(pt.name, func(t *testing.T) {
			b := &fakeRecorder{fakeBackend: fakeBackend{report: sampleReport()}}
			sock, _ := startServer(t, b, &pt.peer)
			c := NewClient(sock)
			defer c.Close()
			for _, path := range paths {
				err := callRecord(c, path)
				var denied *AccessDeniedError
				switch {
				case pt.allow && err != nil:
					t.Errorf("POST %s as %s = %v; want success", path, pt.name, err)
				case !pt.allow && !errors.As(err, &denied):
					t.Errorf("POST %s as %s = %v; want AccessDeniedError", path, pt.name, err)
				}
			}
			want := 0
			if pt.allow {
				want = len(paths)
			}
			if got := len(b.requests()); got != want {
				t.Errorf("backend saw %d record requests; want %d", got, want)
			}
		})
	}
}

// TestRecordRoundTrip: the typed client sends the flags and decodes the
// backend's answer.
func TestRecordRoundTrip(t *testing.T) {
	b := &fakeRecorder{fakeBackend: fakeBackend{report: sampleReport()}}
	sock, _ := startServer(t, b, &Peer{UID: 0, Admin: true})
	c := NewClient(sock)
	defer c.Close()
	ctx := context.Background()
	ar := apitype.AttestRequest{Rule: "telegram.secret-chats-only", By: "Anna Admin", Note: "Ticket 7 — geprüft", Until: "2026-06-30", Device: "phone-1"}
	res, err := c.Attest(ctx, ar)
	if err != nil {
		t.Fatal(err)
	}
	if res.Attestation.Rule != "attestation.telegram.secret-chats-only" || !res.Applies || !res.Rescan.Covered || res.Rescan.ScannedAt.IsZero() {
		t.Errorf("Attest result = %+v", res)
	}
	xr := apitype.ExemptRequest{Rule: "remote-wipe", Subject: "device", User: "alice", Reason: "MDM rollout", Approver: "DPO", Until: "2026-04-01"}
	if _, err := c.Exempt(ctx, xr); err != nil {
		t.Fatal(err)
	}
	br := apitype.BaselineAcceptRequest{By: "Anna", Why: "ticket 9", Device: "dev1"}
	bres, err := c.AcceptBaseline(ctx, br)
	if err != nil {
		t.Fatal(err)
	}
	if len(bres.Events) != 1 || bres.Events[0].Kind != drift.KindBaselineAccepted {
		t.Errorf("AcceptBaseline result = %+v", bres)
	}
	if diff := cmp.Diff([]any{ar, xr, br}, b.requests()); diff != "" {
		t.Errorf("requests the backend got (-want +got):\n%s", diff)
	}
}

// TestRecordErrors: a refused request is 400 with the backend's words; a
// backend that cannot record is 501; a stopping one 503.
func TestRecordErrors(t *testing.T) {
	tests := []struct {
		name     string
		backend  Backend
		wantCode int
		wantMsg  string
	}{
		{"invalid", &fakeRecorder{fail: Invalid(errors.New(`--by is required`))}, 400, "--by is required"},
		{"wrapped invalid", &fakeRecorder{fail: errors.Join(Invalid(errors.New("--until: bad date")))}, 400, "--until: bad date"},
		{"not a recorder", &fakeBackend{}, 501, ErrUnavailable.Error()},
		{"unavailable", &fakeRecorder{fail: ErrUnavailable}, 501, ErrUnavailable.Error()},
		{"stopping", &fakeRecorder{fail: ErrStopping}, 503, ErrStopping.Error()},
		{"store failure", &fakeRecorder{fail: errors.New("disk full")}, 500, "disk full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sock, _ := startServer(t, tt.backend, &Peer{UID: 0, Admin: true})
			c := NewClient(sock)
			defer c.Close()
			for _, path := range []string{PathAttest, PathExempt, PathBaselineAccept} {
				err := callRecord(c, path)
				var api *APIError
				if !errors.As(err, &api) || api.Code != tt.wantCode || api.Msg != tt.wantMsg {
					t.Errorf("POST %s = %v; want %d %q", path, err, tt.wantCode, tt.wantMsg)
				}
			}
		})
	}
}

// TestRecordRequestFiltering: browsers, other methods, other content
// types, unknown fields, trailing data and oversized bodies are refused
// before the backend sees anything.
func TestRecordRequestFiltering(t *testing.T) {
	b := &fakeRecorder{fakeBackend: fakeBackend{report: sampleReport()}}
	sock, _ := startServer(t, b, &Peer{UID: 0, Admin: true})
	okBody := `{"rule":"x","by":"Anna"}`
	tests := []struct {
		name   string
		method string
		path   string
		header map[string]string
		body   string
		want   int
	}{
		{"ok", "POST", PathAttest, nil, okBody, 200},
		{"origin", "POST", PathAttest, map[string]string{"Origin": "https://evil.example"}, okBody, 403},
		{"origin null", "POST", PathExempt, map[string]string{"Origin": "null"}, okBody, 403},
		{"referer", "POST", PathBaselineAccept, map[string]string{"Referer": "https://evil.example/"}, `{"by":"a","why":"b"}`, 403},
		{"get", "GET", PathAttest, nil, "", 405},
		{"text/plain (a form)", "POST", PathAttest, map[string]string{"Content-Type": "text/plain"}, okBody, 415},
		{"no content type", "POST", PathAttest, map[string]string{"Content-Type": ""}, okBody, 415},
		{"unknown field", "POST", PathAttest, nil, `{"rule":"x","by":"Anna","admin":true}`, 400},
		{"two values", "POST", PathAttest, nil, okBody + okBody, 400},
		{"not json", "POST", PathExempt, nil, `rule=x`, 400},
		{"empty body", "POST", PathBaselineAccept, nil, ``, 400},
		{"oversized", "POST", PathAttest, nil, `{"rule":"x","by":"` + strings.Repeat("a", maxRecordBody) + `"}`, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(b.requests())
			req, err := http.NewRequest(tt.method, "http://"+Host+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			code, body := rawRequest(t, sock, req)
			if code != tt.want {
				t.Errorf("%s %s = %d %s; want %d", tt.method, tt.path, code, body, tt.want)
			}
			if n := len(b.requests()) - before; tt.want != 200 && n != 0 {
				t.Errorf("a refused request reached the backend")
			}
		})
	}
}

// BenchmarkAttestRoundTrip measures one POST /v1/attest through the socket
// (JSON both ways, peer lookup, strict decoding) against a backend that
// answers at once: the API's own cost on top of the record and rescan.
func BenchmarkAttestRoundTrip(b *testing.B) {
	be := &fakeRecorder{fakeBackend: fakeBackend{report: sampleReport()}}
	dir, err := os.MkdirTemp("", "mgla")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "agent.sock")
	l, err := Listen(sock)
	if err != nil {
		b.Fatal(err)
	}
	s := NewServer(be, zerolog.Nop())
	s.identify = func(net.Conn) (Peer, error) { return Peer{UID: 0, Admin: true}, nil }
	go s.Serve(l)
	defer s.Shutdown(context.Background())
	c := NewClient(sock)
	defer c.Close()
	req := apitype.AttestRequest{Rule: "telegram.secret-chats-only", By: "Anna Admin", Note: "ticket 7"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Attest(context.Background(), req); err != nil {
			b.Fatal(err)
		}
		be.mu.Lock()
		be.got = be.got[:0]
		be.mu.Unlock()
	}
}
