//go:build linux || darwin

package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/policy"
)

// fakeBackend serves a fixed report with two users' findings.
type fakeBackend struct {
	report *status.Report
	scans  atomic.Int32
	drift  *apitype.DriftResponse
	err    error
}

func (b *fakeBackend) Status(context.Context) (*status.Report, error) {
	if b.err != nil {
		return nil, b.err
	}
	return b.report, nil
}

func (b *fakeBackend) ScanNow(context.Context) (*status.Report, error) {
	b.scans.Add(1)
	return b.report, nil
}

func (b *fakeBackend) Drift(_ context.Context, since time.Time) (*apitype.DriftResponse, error) {
	if b.drift == nil {
		return nil, ErrUnavailable
	}
	return b.drift, nil
}

func (b *fakeBackend) Health(context.Context) status.Health {
	return status.Health{OK: true, RSSBytes: 1234}
}

func sampleReport() *status.Report {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	fs := []status.Finding{
		{Finding: policy.Finding{Rule: "disk.encryption", Status: policy.StatusPass, Subject: "device", EvaluatedAt: now}},
		{Finding: policy.Finding{Rule: "messenger.consumer", Status: policy.StatusFail, Subject: "whatsapp", User: "alice", EvaluatedAt: now}},
		{Finding: policy.Finding{Rule: "messenger.consumer", Status: policy.StatusFail, Subject: "telegram", User: "bob", EvaluatedAt: now}},
	}
	return &status.Report{
		SchemaVersion: status.SchemaVersion,
		ScannedAt:     now,
		Findings:      fs,
		Summary:       status.Summarize(fs),
		Inventory: &policy.Inventory{
			Users: []policy.User{{Name: "alice"}, {Name: "bob"}},
			Messengers: []policy.Messenger{
				{ID: "whatsapp", User: "alice"}, {ID: "telegram", User: "bob"}, {ID: "signal"},
			},
		},
	}
}

// shortDir returns a directory whose paths fit in sun_path (108 bytes on
// Linux, 104 on macOS); t.TempDir() paths can be too long.
func shortDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "mgla")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// startServer serves b on a fresh socket; peer, if non-nil, replaces the
// peer-credential lookup.
func startServer(t *testing.T, b Backend, peer *Peer) (string, *Server) {
	t.Helper()
	return startServerWith(t, b, peer, nil)
}

// startServerWith is startServer with a hook that adjusts the server
// before it serves.
func startServerWith(t *testing.T, b Backend, peer *Peer, adjust func(*Server)) (string, *Server) {
	t.Helper()
	sock := filepath.Join(shortDir(t), "run", "agent.sock")
	l, err := Listen(sock)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	s := NewServer(b, zerolog.New(zerolog.NewTestWriter(t)))
	if peer != nil {
		p := *peer
		s.identify = func(net.Conn) (Peer, error) { return p, nil }
	}
	if adjust != nil {
		adjust(s)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return sock, s
}

func findingUsers(r *status.Report) []string {
	var us []string
	for _, f := range r.Findings {
		us = append(us, f.Rule+"/"+f.User)
	}
	return us
}

func TestStatusAdminAndRedacted(t *testing.T) {
	b := &fakeBackend{report: sampleReport()}
	tests := []struct {
		name         string
		peer         Peer
		wantFindings []string
		wantMsgrs    int
		wantRedacted bool
	}{
		{"root", Peer{UID: 0, User: "root", Admin: true},
			[]string{"disk.encryption/", "messenger.consumer/alice", "messenger.consumer/bob"}, 3, false},
		{"alice", Peer{UID: 1000, User: "alice"},
			[]string{"disk.encryption/", "messenger.consumer/alice"}, 2, true},
		{"unknown user", Peer{UID: 4242},
			[]string{"disk.encryption/"}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sock, _ := startServer(t, b, &tt.peer)
			c, err := Dial(context.Background(), sock)
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer c.Close()
			r, err := c.Status(context.Background())
			if err != nil {
				t.Fatalf("Status: %v", err)
			}
			if diff := cmp.Diff(tt.wantFindings, findingUsers(r)); diff != "" {
				t.Errorf("Status findings (-want +got):\n%s", diff)
			}
			if r.Redacted != tt.wantRedacted || len(r.Inventory.Messengers) != tt.wantMsgrs {
				t.Errorf("Status redacted=%v messengers=%d; want %v, %d", r.Redacted, len(r.Inventory.Messengers), tt.wantRedacted, tt.wantMsgrs)
			}
			fs, err := c.Findings(context.Background())
			if err != nil || len(fs) != len(tt.wantFindings) {
				t.Errorf("Findings = %d, %v; want %d", len(fs), err, len(tt.wantFindings))
			}
			inv, err := c.Inventory(context.Background())
			if err != nil || len(inv.Messengers) != tt.wantMsgrs {
				t.Errorf("Inventory messengers = %d, %v; want %d", len(inv.Messengers), err, tt.wantMsgrs)
			}
		})
	}
}

func TestScanAdminOnly(t *testing.T) {
	b := &fakeBackend{report: sampleReport()}
	sock, _ := startServer(t, b, &Peer{UID: 1000, User: "alice"})
	c := NewClient(sock)
	defer c.Close()
	_, err := c.Scan(context.Background())
	var ad *AccessDeniedError
	if !errors.As(err, &ad) {
		t.Fatalf("Scan as non-admin = %v; want AccessDeniedError", err)
	}
	if b.scans.Load() != 0 {
		t.Errorf("non-admin triggered %d scans", b.scans.Load())
	}

	sock, _ = startServer(t, b, &Peer{UID: 0, User: "root", Admin: true})
	c2 := NewClient(sock)
	defer c2.Close()
	if _, err := c2.Scan(context.Background()); err != nil {
		t.Fatalf("Scan as root: %v", err)
	}
	if b.scans.Load() != 1 {
		t.Errorf("scans = %d; want 1", b.scans.Load())
	}
}

func TestDrift(t *testing.T) {
	b := &fakeBackend{report: sampleReport()}
	sock, _ := startServer(t, b, &Peer{UID: 1000, User: "alice"})
	c := NewClient(sock)
	defer c.Close()
	var api *APIError
	if _, err := c.Drift(context.Background(), time.Time{}); !errors.As(err, &api) || api.Code != http.StatusNotImplemented {
		t.Errorf("Drift without engine = %v; want 501", err)
	}
	b.drift = apitype.NewDriftResponse(time.Time{}, []drift.Event{
		{ID: "device", Kind: drift.KindPostureChanged},
		{ID: "alice", Kind: drift.KindMessengerAppeared, User: "alice"},
		{ID: "bob", Kind: drift.KindMessengerAppeared, User: "bob"},
	}, nil)
	got, err := c.Drift(context.Background(), time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatalf("Drift: %v", err)
	}
	var ids []string
	for _, e := range got.Events {
		ids = append(ids, e.ID)
	}
	if strings.Join(ids, ",") != "device,alice" || !got.Redacted || got.Scans == nil {
		t.Errorf("redacted drift = %+v; want the device's and alice's events, redacted", got)
	}
}

func TestNoReportIs503(t *testing.T) {
	b := &fakeBackend{err: ErrNoReport}
	sock, _ := startServer(t, b, &Peer{UID: 0, Admin: true})
	c := NewClient(sock)
	defer c.Close()
	var api *APIError
	if _, err := c.Status(context.Background()); !errors.As(err, &api) || api.Code != http.StatusServiceUnavailable {
		t.Errorf("Status with no report = %v; want 503", err)
	}
}

// rawRequest sends one hand-made request over the socket.
func rawRequest(t *testing.T, sock string, req *http.Request) (int, string) {
	t.Helper()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return dial(ctx, sock)
	}}
	defer tr.CloseIdleConnections()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRequestFiltering(t *testing.T) {
	b := &fakeBackend{report: sampleReport()}
	sock, _ := startServer(t, b, &Peer{UID: 0, Admin: true})
	tests := []struct {
		name   string
		method string
		url    string
		header map[string]string
		want   int
	}{
		{"ok", "GET", "http://" + Host + PathStatus, nil, 200},
		{"origin", "GET", "http://" + Host + PathStatus, map[string]string{"Origin": "https://evil.example"}, 403},
		{"referer", "GET", "http://" + Host + PathStatus, map[string]string{"Referer": "https://evil.example/x"}, 403},
		{"foreign host", "GET", "http://127.0.0.1" + PathStatus, nil, 403},
		{"rebinding host", "GET", "http://evil.example" + PathStatus, nil, 403},
		{"post status", "POST", "http://" + Host + PathStatus, nil, 405},
		{"get scan", "GET", "http://" + Host + PathScan, nil, 405},
		{"unknown path", "GET", "http://" + Host + "/v1/secrets", nil, 404},
		{"bad since", "GET", "http://" + Host + PathDrift + "?since=yesterday", nil, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			code, body := rawRequest(t, sock, req)
			if code != tt.want {
				t.Errorf("%s %s = %d %s; want %d", tt.method, tt.url, code, body, tt.want)
			}
			if code != 200 {
				var eb errorBody
				if err := json.Unmarshal([]byte(body), &eb); err != nil || eb.Error == "" {
					t.Errorf("error body %q is not {\"error\": ...}", body)
				}
			}
		})
	}
}

// TestPeerCredentials uses the real SO_PEERCRED/LOCAL_PEERCRED lookup: the
// test process connects as itself.
func TestPeerCredentials(t *testing.T) {
	b := &fakeBackend{report: sampleReport()}
	sock, _ := startServer(t, b, nil)
	c := NewClient(sock)
	defer c.Close()
	r, err := c.Status(context.Background())
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if want := os.Geteuid() != 0; r.Redacted != want {
		t.Errorf("Status as uid %d: redacted = %v; want %v", os.Geteuid(), r.Redacted, want)
	}
}

func TestPeerForUID(t *testing.T) {
	lookup := func(uid int) string { return map[int]string{0: "root", 1000: "alice"}[uid] }
	tests := []struct {
		uid  int
		want Peer
	}{
		{0, Peer{UID: 0, User: "root", Admin: true}},
		{1000, Peer{UID: 1000, User: "alice"}},
		{65534, Peer{UID: 65534}},
	}
	for _, tt := range tests {
		if got := peerForUID(tt.uid, lookup); got != tt.want {
			t.Errorf("peerForUID(%d) = %+v; want %+v", tt.uid, got, tt.want)
		}
	}
}

func TestDialNoDaemon(t *testing.T) {
	dir := shortDir(t)
	missing := filepath.Join(dir, "none.sock")
	start := time.Now()
	if _, err := Dial(context.Background(), missing); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Dial(missing) = %v; want ErrNotRunning", err)
	}
	// A stale socket: bound, then the listener closed without unlinking.
	stale := filepath.Join(dir, "stale.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	if _, err := Dial(context.Background(), stale); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Dial(stale) = %v; want ErrNotRunning", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Dial without a daemon took %v", d)
	}
}

func TestConcurrentStatus(t *testing.T) {
	b := &fakeBackend{report: sampleReport()}
	sock, _ := startServer(t, b, nil)
	c := NewClient(sock)
	defer c.Close()
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Status(context.Background()); err != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Errorf("%d of 1000 concurrent status requests failed", n)
	}
}

func BenchmarkStatusRoundTrip(b *testing.B) {
	be := &fakeBackend{report: sampleReport()}
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
	go s.Serve(l)
	defer s.Shutdown(context.Background())
	b.Run("reused-connection", func(b *testing.B) {
		c := NewClient(sock)
		defer c.Close()
		for b.Loop() {
			if _, err := c.Status(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("dial-each-time", func(b *testing.B) {
		for b.Loop() {
			c, err := Dial(context.Background(), sock)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.Status(context.Background()); err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	})
}
