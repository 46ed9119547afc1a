package report

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"

	"github.com/msgguard/msgguard/agent/config"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/report/outbox"
	"github.com/msgguard/msgguard/agent/report/reporttest"
	"github.com/msgguard/msgguard/agent/store"
	"github.com/msgguard/msgguard/policy"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func openTestStore(t testing.TB, path string) *store.Store {
	t.Helper()
	st, err := store.Open(path, store.Options{Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// enqueue puts n events per device, interleaved, into every registered
// outbox (as drift's hook does) and returns their ids in queue order.
func enqueue(t testing.TB, db *bolt.DB, n int, sev policy.Severity, devices ...string) []string {
	t.Helper()
	var ids []string
	err := db.Update(func(tx *bolt.Tx) error {
		for i := range n {
			for _, d := range devices {
				e := drift.Event{SchemaVersion: 1, ID: fmt.Sprintf("%s-%s-%03d-%d", d, sev, i, time.Now().UnixNano()), Device: d,
					Time: time.Now().UTC(), Kind: drift.KindFindingChanged, Rule: "r", Before: "pass", After: "fail",
					Severity: sev, Message: "rule r: pass → fail"}
				body, _ := json.Marshal(e)
				if err := outbox.Enqueue(tx, outbox.Entry{ID: e.ID, Device: d, Severity: sev, Body: body}, e.Time); err != nil {
					return err
				}
				ids = append(ids, e.ID)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

type running struct {
	d      *Dispatcher
	cancel context.CancelFunc
	done   chan struct{}
}

func start(t testing.TB, st *store.Store, sinks Sinks, log zerolog.Logger) *running {
	t.Helper()
	d, err := NewDispatcher(st, sinks, Options{Log: log, MinBackoff: 5 * time.Millisecond, MaxBackoff: 40 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{d: d, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		_ = d.Run(ctx)
	}()
	t.Cleanup(r.stop)
	return r
}

func (r *running) stop() {
	r.cancel()
	<-r.done
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func webhookSinks(t testing.TB, c *reporttest.Collector, mod func(*config.Sink), o BuildOptions) Sinks {
	t.Helper()
	cfg := config.Sink{Name: "hq", Type: config.SinkWebhook, URL: c.URL, TokenFile: c.TokenFile, CAFile: c.CA.CAFile,
		BatchSize: 3, Timeout: 2 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	s := Build([]config.Sink{cfg}, o)
	if len(s.Errors) > 0 {
		t.Fatalf("Build: %v", s.Errors)
	}
	return s
}

func depth(t testing.TB, db *bolt.DB, sink string) int {
	t.Helper()
	hs, err := Health(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		if h.Name == sink {
			return h.QueueDepth
		}
	}
	return -1
}

// checkExactlyOnce asserts that the collector, de-duplicating by id, got
// every id once and in queue order (which is also per-device order).
func checkExactlyOnce(t *testing.T, c *reporttest.Collector, want []string, maxTimes int) {
	t.Helper()
	got, times := c.Delivered()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delivered ids (first acceptance order) mismatch (-want +got):\n%s", diff)
	}
	for id, n := range times {
		if n > maxTimes {
			t.Errorf("event %s accepted %d times; want at most %d", id, n, maxTimes)
		}
	}
	for _, r := range c.Requests() {
		if len(r.IDs) == 1 && r.IdempotencyKey != `"`+r.IDs[0]+`"` {
			t.Errorf("single-event request has Idempotency-Key %q; want %q", r.IdempotencyKey, `"`+r.IDs[0]+`"`)
		}
	}
}

func TestWebhookFaultsDeliverEverythingOnce(t *testing.T) {
	tests := []struct {
		name   string
		faults []reporttest.Fault
	}{
		{"500 twice", []reporttest.Fault{reporttest.Status500, reporttest.Status500}},
		{"429 with Retry-After", []reporttest.Fault{reporttest.Status429}},
		{"timeout", []reporttest.Fault{reporttest.Hang}},
		{"connection closed mid-request", []reporttest.Fault{reporttest.Close, reporttest.Close}},
		{"everything at once", []reporttest.Fault{reporttest.Status500, reporttest.Hang, reporttest.Close, reporttest.Status429}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ca := reporttest.NewCA(t, dir)
			c := reporttest.NewCollector(t, dir, ca, false)
			c.Fail(tt.faults...)
			st := openTestStore(t, filepath.Join(dir, "state.db"))
			defer st.Close()
			var logs syncBuffer
			sinks := webhookSinks(t, c, func(s *config.Sink) { s.Timeout = 300 * time.Millisecond }, BuildOptions{})
			r := start(t, st, sinks, zerolog.New(&logs))
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("logs:\n%s\nrequests: %+v", logs.String(), c.Requests())
				}
			})
			ids := enqueue(t, st.DB(), 4, policy.SeverityHigh, "dev-a", "dev-b")
			r.d.Kick()
			waitFor(t, "all events delivered", func() bool { got, _ := c.Delivered(); return len(got) == len(ids) })
			waitFor(t, "outbox empty", func() bool { return depth(t, st.DB(), "hq") == 0 })
			checkExactlyOnce(t, c, ids, 1)
			r.stop()
			if strings.Contains(logs.String(), c.Token) {
				t.Error("bearer token appears in the logs")
			}
			if !strings.Contains(logs.String(), "delivery_failed") {
				t.Error("the failure was not logged")
			}
			hs, _ := Health(st.DB())
			if len(hs) != 1 || hs[0].LastSuccess.IsZero() || hs[0].LastError != "" {
				t.Errorf("health after recovery = %+v; want a success and no current error", hs)
			}
		})
	}
}

func TestWebhookUnreachable(t *testing.T) {
	dir := t.TempDir()
	ca := reporttest.NewCA(t, dir)
	c := reporttest.NewCollector(t, dir, ca, false)
	other := reporttest.NewCA(t, t.TempDir())
	// A resolver whose DNS server is a closed loopback port: every lookup
	// fails without touching the network.
	deadDNS := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return nil, errors.New("dns server unreachable")
	}}
	tests := []struct {
		name    string
		mod     func(*config.Sink)
		o       BuildOptions
		wantErr string
	}{
		{"wrong server certificate", func(s *config.Sink) { s.CAFile = other.CAFile }, BuildOptions{}, "certificate signed by unknown authority"},
		{"dns fails", func(s *config.Sink) { s.URL = "https://collector.invalid/v1/events" }, BuildOptions{Resolver: deadDNS}, "lookup collector.invalid"},
		{"connection refused", func(s *config.Sink) { s.URL = "https://" + closedPort(t) + "/v1/events" }, BuildOptions{}, "connection refused"},
		{"no client certificate for mTLS collector", nil, BuildOptions{}, "certificate required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			coll := c
			if tt.mod == nil {
				coll = reporttest.NewCollector(t, t.TempDir(), ca, true)
			}
			st := openTestStore(t, filepath.Join(t.TempDir(), "state.db"))
			defer st.Close()
			r := start(t, st, webhookSinks(t, coll, tt.mod, tt.o), zerolog.Nop())
			enqueue(t, st.DB(), 2, policy.SeverityMedium, "dev-a")
			r.d.Kick()
			waitFor(t, "an error in health", func() bool {
				hs, _ := Health(st.DB())
				return len(hs) == 1 && hs[0].LastError != ""
			})
			r.stop()
			hs, _ := Health(st.DB())
			if !strings.Contains(hs[0].LastError, tt.wantErr) || hs[0].QueueDepth != 2 {
				t.Errorf("health = %+v; want error containing %q and both events still queued", hs[0], tt.wantErr)
			}
			if strings.Contains(hs[0].LastError, "tenant=acme") {
				t.Errorf("error shows the URL's query string: %s", hs[0].LastError)
			}
		})
	}
	t.Run("mutual TLS with client certificate", func(t *testing.T) {
		mtls := reporttest.NewCollector(t, t.TempDir(), ca, true)
		st := openTestStore(t, filepath.Join(t.TempDir(), "state.db"))
		defer st.Close()
		r := start(t, st, webhookSinks(t, mtls, func(s *config.Sink) { s.CertFile, s.KeyFile = ca.ClientCertFile, ca.ClientKeyFile }, BuildOptions{}), zerolog.Nop())
		ids := enqueue(t, st.DB(), 2, policy.SeverityMedium, "dev-a")
		r.d.Kick()
		waitFor(t, "delivery over mTLS", func() bool { got, _ := mtls.Delivered(); return len(got) == 2 })
		checkExactlyOnce(t, mtls, ids, 1)
	})
}

func closedPort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestWebhookTokenFile(t *testing.T) {
	dir := t.TempDir()
	ca := reporttest.NewCA(t, dir)
	c := reporttest.NewCollector(t, dir, ca, false)
	if err := os.Chmod(c.TokenFile, 0o644); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	st := openTestStore(t, filepath.Join(dir, "state.db"))
	defer st.Close()
	r := start(t, st, webhookSinks(t, c, nil, BuildOptions{Log: zerolog.New(&logs)}), zerolog.New(&logs))
	ids := enqueue(t, st.DB(), 3, policy.SeverityHigh, "dev-a")
	r.d.Kick()
	waitFor(t, "token refused", func() bool {
		hs, _ := Health(st.DB())
		return len(hs) == 1 && strings.Contains(hs[0].LastError, "readable or writable by group or others")
	})
	if n := len(c.Requests()); n != 0 {
		t.Errorf("%d requests sent with a world-readable token; want none", n)
	}
	if err := os.Chmod(c.TokenFile, 0o600); err != nil {
		t.Fatal(err)
	}
	r.d.Kick()
	waitFor(t, "delivery after chmod 600", func() bool { got, _ := c.Delivered(); return len(got) == 3 })
	checkExactlyOnce(t, c, ids, 1)
	r.stop()
	if strings.Contains(logs.String(), c.Token) {
		t.Error("bearer token appears in the logs")
	}
	evs, _ := drift.List(st.DB(), time.Time{})
	for _, e := range evs {
		if b, _ := json.Marshal(e); bytes.Contains(b, []byte(c.Token)) {
			t.Error("bearer token appears in an event")
		}
	}
	for _, bad := range []string{"", "two words", "tab\tinside"} {
		path := filepath.Join(t.TempDir(), "tok")
		os.WriteFile(path, []byte(bad), 0o600)
		if _, err := readToken(path); err == nil {
			t.Errorf("readToken(%q) accepted a malformed token", bad)
		} else if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("readToken error shows the token: %v", err)
		}
	}
}

// TestKilledWithEventsQueued kills the agent (cancels delivery and closes
// the database) while the collector holds a request it already accepted,
// then restarts: every event arrives, in order, and the one batch that was
// accepted twice carries the same idempotency keys both times.
func TestKilledWithEventsQueued(t *testing.T) {
	dir := t.TempDir()
	ca := reporttest.NewCA(t, dir)
	c := reporttest.NewCollector(t, dir, ca, false)
	c.Fail(reporttest.AcceptThenHang)
	path := filepath.Join(dir, "state.db")
	st := openTestStore(t, path)
	sinks := webhookSinks(t, c, func(s *config.Sink) { s.Timeout = 5 * time.Second }, BuildOptions{})
	var logs syncBuffer
	r := start(t, st, sinks, zerolog.New(&logs))
	defer func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	}()
	ids := enqueue(t, st.DB(), 5, policy.SeverityHigh, "dev-a", "phone-b")
	r.d.Kick()
	waitFor(t, "the collector to hold a request", func() bool { return len(c.Requests()) == 1 })
	r.stop() // the "kill": in-flight request abandoned, nothing acknowledged
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = openTestStore(t, path)
	defer st.Close()
	if d := depth(t, st.DB(), "hq"); d != len(ids) {
		t.Fatalf("after restart %d events queued; want %d; requests %+v", d, len(ids), c.Requests())
	}
	r = start(t, st, webhookSinks(t, c, nil, BuildOptions{}), zerolog.Nop())
	waitFor(t, "delivery after restart", func() bool { return depth(t, st.DB(), "hq") == 0 })
	r.stop()
	checkExactlyOnce(t, c, ids, 2)
	_, times := c.Delivered()
	if times[ids[0]] != 2 {
		t.Errorf("first batch accepted %d times; the test meant to have it accepted before the kill and again after", times[ids[0]])
	}
}

// failing is an event sink that fails a set number of times.
type failing struct {
	EventSink
	mu    sync.Mutex
	fails int
	seen  [][]string
}

func (f *failing) Deliver(ctx context.Context, msgs []Message) (int, error) {
	f.mu.Lock()
	var ids []string
	for _, m := range msgs {
		ids = append(ids, m.Event.ID)
	}
	f.seen = append(f.seen, ids)
	fail := f.fails > 0
	f.fails--
	f.mu.Unlock()
	if fail {
		return 0, errors.New("collector down")
	}
	return f.EventSink.Deliver(ctx, msgs)
}

func TestOutboxFullDropsOldestLowFirst(t *testing.T) {
	dir := t.TempDir()
	st := openTestStore(t, filepath.Join(dir, "state.db"))
	defer st.Close()
	out := filepath.Join(dir, "events.jsonl")
	sink := &failing{EventSink: NewJSONL("file", out, 1<<20, 1), fails: 1}
	d, err := NewDispatcher(st, Sinks{Events: []EventSink{sink}, Specs: map[string]config.Sink{"file": {MaxQueue: 10}}},
		Options{Log: zerolog.Nop(), MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var high, low []string
	for range 3 {
		high = append(high, enqueue(t, st.DB(), 2, policy.SeverityHigh, "dev")...)
		low = append(low, enqueue(t, st.DB(), 3, policy.SeverityLow, "dev")...)
	}
	// 15 queued into 10 places: the 5 oldest low ones went.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	waitFor(t, "file written", func() bool { return depth(t, st.DB(), "file") == 0 })
	cancel()
	<-done
	lines := readLines(t, out)
	var first drift.Event
	json.Unmarshal([]byte(lines[0]), &first)
	if first.Kind != drift.KindDropped || first.Count != 5 || first.Severity != policy.SeverityHigh {
		t.Fatalf("first line = %s; want a dropped event counting 5", lines[0])
	}
	var got []string
	for _, l := range lines[1:] {
		var e drift.Event
		json.Unmarshal([]byte(l), &e)
		got = append(got, e.ID)
	}
	// Queued H0 H1 L0 L1 L2 H2 H3 L3 L4 L5 H4 H5 L6 L7 L8 into 10 places:
	// each of the last five pushed out the oldest low one, L0 to L4.
	want := []string{high[0], high[1], high[2], high[3], low[5], high[4], high[5], low[6], low[7], low[8]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("kept events mismatch (-want +got):\n%s", diff)
	}
	if len(sink.seen) < 2 || sink.seen[0][0] != sink.seen[1][0] || sink.seen[0][0] != first.ID {
		t.Errorf("dropped event id changed between the failed attempt and the retry: %v", sink.seen)
	}
}

func readLines(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// One write transaction per delivered batch: enqueueing rides on the scan's
// transaction, and acknowledging a batch is a single commit.
func TestOneCommitPerBatch(t *testing.T) {
	dir := t.TempDir()
	st := openTestStore(t, filepath.Join(dir, "state.db"))
	defer st.Close()
	sinks := Build([]config.Sink{{Name: "file", Type: config.SinkJSONL, Path: filepath.Join(dir, "e.jsonl"), MaxSizeMB: 10, MaxFiles: 2}}, BuildOptions{})
	d, err := NewDispatcher(st, sinks, Options{Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	enqueue(t, st.DB(), 1200, policy.SeverityMedium, "dev")
	if err := d.drain(context.Background(), sinks.Events[0]); err != nil {
		t.Fatal(err)
	}
	if got := d.commits.Load(); got != 3 { // 1,200 events in batches of 500
		t.Errorf("commits = %d for 3 batches; want 3", got)
	}
	if n := len(readLines(t, filepath.Join(dir, "e.jsonl"))); n != 1200 {
		t.Errorf("file has %d lines; want 1200", n)
	}
}

// A sink that cannot start (here: its CA file is missing) keeps its outbox
// and keeps queueing; once the configuration is fixed and the agent
// restarted, everything is delivered.
func TestNotStartedSinkKeepsQueue(t *testing.T) {
	dir := t.TempDir()
	ca := reporttest.NewCA(t, dir)
	c := reporttest.NewCollector(t, dir, ca, false)
	st := openTestStore(t, filepath.Join(dir, "state.db"))
	defer st.Close()
	broken := Build([]config.Sink{{Name: "hq", Type: config.SinkWebhook, URL: c.URL, TokenFile: c.TokenFile,
		CAFile: filepath.Join(dir, "missing-ca.pem"), BatchSize: 10, Timeout: time.Second, File: "agent.yaml", Line: 7, Column: 5}}, BuildOptions{})
	if len(broken.Events) != 0 || len(broken.Errors) != 1 {
		t.Fatalf("Build = %d sinks, errors %v", len(broken.Events), broken.Errors)
	}
	r := start(t, st, broken, zerolog.Nop())
	ids := enqueue(t, st.DB(), 3, policy.SeverityLow, "dev")
	hs := r.d.Health()
	if len(hs) != 1 || hs[0].Name != "hq" || hs[0].QueueDepth != 3 || !strings.HasPrefix(hs[0].LastError, "not started: agent.yaml:7:5: webhook sink") {
		t.Errorf("Health = %+v", hs)
	}
	r.stop()
	r = start(t, st, webhookSinks(t, c, nil, BuildOptions{}), zerolog.Nop())
	r.d.Kick()
	waitFor(t, "queued events delivered after the fix", func() bool { return depth(t, st.DB(), "hq") == 0 })
	checkExactlyOnce(t, c, ids, 1)
}

// TestWebhookIdempotencyKeyStableAcrossRetries: a slow collector that
// stores batches but answers too late gets every request with an
// Idempotency-Key derived from its event ids, and each retry with the same
// events and key even though more events were queued meanwhile; a
// collector de-duplicating by key accepts every event exactly once.
func TestWebhookIdempotencyKeyStableAcrossRetries(t *testing.T) {
	dir := t.TempDir()
	ca := reporttest.NewCA(t, dir)
	c := reporttest.NewCollector(t, dir, ca, false)
	c.Fail(reporttest.AcceptThenHang, reporttest.AcceptThenHang)
	st := openTestStore(t, filepath.Join(dir, "state.db"))
	defer st.Close()
	r := start(t, st, webhookSinks(t, c, func(s *config.Sink) { s.Timeout = 200 * time.Millisecond }, BuildOptions{}), zerolog.Nop())
	ids := enqueue(t, st.DB(), 2, policy.SeverityHigh, "dev-a")
	r.d.Kick()
	waitFor(t, "the first stored-but-unanswered request", func() bool { return len(c.Requests()) >= 1 })
	// New events arrive while the first batch waits for its retry.
	ids = append(ids, enqueue(t, st.DB(), 3, policy.SeverityHigh, "dev-a")...)
	r.d.Kick()
	waitFor(t, "all events delivered", func() bool { got, _ := c.Delivered(); return len(got) == len(ids) })
	waitFor(t, "outbox empty", func() bool { return depth(t, st.DB(), "hq") == 0 })
	r.stop()

	reqs := c.Requests()
	keys := map[string][]string{} // key -> the ids of its first request
	accepted := map[string]int{}  // key -> requests the collector stored
	for _, q := range reqs {
		if q.IdempotencyKey == "" {
			t.Errorf("request with %d events has no Idempotency-Key", len(q.IDs))
			continue
		}
		if prev, ok := keys[q.IdempotencyKey]; ok && !slices.Equal(prev, q.IDs) {
			t.Errorf("key %s sent with ids %v and %v", q.IdempotencyKey, prev, q.IDs)
		}
		keys[q.IdempotencyKey] = q.IDs
		if q.Fault == reporttest.OK || q.Fault == reporttest.AcceptThenHang {
			accepted[q.IdempotencyKey]++
		}
	}
	if reqs[0].IdempotencyKey != reqs[1].IdempotencyKey || reqs[1].IdempotencyKey != reqs[2].IdempotencyKey {
		t.Errorf("the first request and its two retries carry keys %q, %q, %q; want one key", reqs[0].IdempotencyKey, reqs[1].IdempotencyKey, reqs[2].IdempotencyKey)
	}
	// De-duplicated by key (a stored request's retries are dropped), every
	// event arrives once.
	seen := map[string]int{}
	for key, ids := range keys {
		if accepted[key] > 0 {
			for _, id := range ids {
				seen[id]++
			}
		}
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("event %s stored %d times after de-duplication by key; want 1", id, seen[id])
		}
	}
}
