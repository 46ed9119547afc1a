package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/msgguard/msgguard/agent/config"
	"github.com/msgguard/msgguard/agent/localapi"
	"github.com/msgguard/msgguard/agent/scan"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/agent/store"
	"github.com/msgguard/msgguard/policy"
)

// fakeScanner records each scan's policy; gate, if set, blocks each scan
// until a value is received (or the scan's context ends).
type fakeScanner struct {
	mu       sync.Mutex
	policies []scan.Policy
	gate     chan struct{}
	started  chan struct{}
	ctxErrs  []error
	fail     error
}

func (f *fakeScanner) Scan(ctx context.Context, pol scan.Policy) (*status.Report, error) {
	if f.started != nil {
		f.started <- struct{}{}
	}
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.policies = append(f.policies, pol)
	f.ctxErrs = append(f.ctxErrs, ctx.Err())
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if f.fail != nil {
		return nil, f.fail
	}
	fs := []status.Finding{}
	for _, x := range pol.Extra {
		fs = append(fs, status.Finding{Finding: x})
	}
	return &status.Report{ScannedAt: time.Now(), Policy: pol.Ref, Findings: fs, Device: policy.Device{ID: "dev1"}}, nil
}

func (f *fakeScanner) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.policies)
}

func (f *fakeScanner) last() scan.Policy {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.policies[len(f.policies)-1]
}

type fakeStore struct {
	latest *status.Report
	closed atomic.Bool
}

func (s *fakeStore) Latest(string) (*status.Report, error) {
	if s.latest == nil {
		return nil, store.ErrNoScan
	}
	return s.latest, nil
}

func (s *fakeStore) Scans(id string, since time.Time) ([]store.ScanRecord, error) {
	return []store.ScanRecord{{ID: id, ScannedAt: since}}, nil
}

func (s *fakeStore) Close() error {
	s.closed.Store(true)
	return nil
}

// fakeLoad accepts "name: X" and rejects anything else.
func fakeLoad(file string, data []byte) (scan.Policy, error) {
	name, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "name: ")
	if !ok {
		return scan.Policy{}, errors.New(file + ":1:1: not a policy\n" + file + ":2:1: second error")
	}
	return scan.Policy{Ref: status.PolicyRef{Name: name, Source: file}}, nil
}

func fakeDefault() scan.Policy {
	return scan.Policy{Ref: status.PolicyRef{Name: "embedded-default", Source: "embedded"}}
}

type harness struct {
	d       *Daemon
	scanner *fakeScanner
	store   *fakeStore
	reload  chan struct{}
	cancel  context.CancelFunc
	done    chan error
	policy  string
}

func fastSchedule() config.Scan {
	return config.Scan{Interval: time.Hour, PolicyPoll: 10 * time.Millisecond, Timeout: 5 * time.Second}
}

func newHarness(t *testing.T, sched config.Scan, mod func(*Options)) *harness {
	t.Helper()
	h := &harness{scanner: &fakeScanner{}, store: &fakeStore{}, reload: make(chan struct{}, 1)}
	h.policy = filepath.Join(t.TempDir(), "policy.yaml")
	writePolicy(t, h.policy, "name: first")
	opt := Options{
		Scan:    sched,
		Policy:  PolicySource{File: h.policy, Load: fakeLoad, Default: fakeDefault},
		Scanner: h.scanner,
		Store:   h.store,
		Reload:  h.reload,
		Log:     zerolog.New(zerolog.NewTestWriter(t)),
		Jitter:  func(time.Duration) time.Duration { return 0 },
	}
	if mod != nil {
		mod(&opt)
	}
	d, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	h.d = d
	return h
}

func (h *harness) start(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan error, 1)
	go func() { h.done <- h.d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(20 * time.Second):
			t.Error("daemon did not stop")
		}
	})
}

// writePolicy replaces the file atomically, as an editor or config
// management would.
func writePolicy(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestInitialScanAndStatus(t *testing.T) {
	h := newHarness(t, fastSchedule(), nil)
	if _, err := h.d.Status(context.Background()); !errors.Is(err, localapi.ErrNoReport) {
		t.Errorf("Status before any scan = %v; want ErrNoReport", err)
	}
	h.start(t)
	waitFor(t, "the initial scan", func() bool { return h.scanner.count() == 1 })
	var r *status.Report
	waitFor(t, "a report", func() bool {
		r, _ = h.d.Status(context.Background())
		return r != nil
	})
	if r.Source != "service" || r.Service == nil || !r.Service.Running || r.Policy.Name != "first" {
		t.Fatalf("Status = source %q service %+v policy %q", r.Source, r.Service, r.Policy.Name)
	}
	if r.Service.StartedAt.IsZero() || r.Service.LastScan.IsZero() {
		t.Errorf("Service times not set: %+v", r.Service)
	}
	waitFor(t, "next scan about an hour out", func() bool {
		r, _ = h.d.Status(context.Background())
		return time.Until(r.Service.NextScan) > 59*time.Minute
	})
}

func TestLatestFromStoreBeforeFirstScan(t *testing.T) {
	h := newHarness(t, config.Scan{Interval: time.Hour, InitialDelay: time.Hour, PolicyPoll: time.Hour}, func(o *Options) {
		o.Jitter = func(d time.Duration) time.Duration { return d }
	})
	h.store.latest = &status.Report{ScannedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Device: policy.Device{ID: "dev1"}}
	h.start(t)
	var r *status.Report
	waitFor(t, "the stored report", func() bool {
		r, _ = h.d.Status(context.Background())
		return r != nil
	})
	if !r.Service.LastScan.Equal(h.store.latest.ScannedAt) || h.scanner.count() != 0 {
		t.Errorf("Status = last scan %v after %d scans; want the stored report, no scan yet", r.Service.LastScan, h.scanner.count())
	}
	v, err := h.d.Drift(context.Background(), time.Unix(0, 0))
	if err != nil || len(v.Scans) != 1 || v.Scans[0].ID != "dev1" {
		t.Errorf("Drift = %#v, %v; want the store's records of dev1", v, err)
	}
}

func TestIntervalScans(t *testing.T) {
	sched := fastSchedule()
	sched.Interval = 30 * time.Millisecond
	h := newHarness(t, sched, nil)
	h.start(t)
	waitFor(t, "three scans", func() bool { return h.scanner.count() >= 3 })
}

func TestScansCoalesce(t *testing.T) {
	h := newHarness(t, config.Scan{Interval: time.Hour, InitialDelay: time.Hour, PolicyPoll: time.Hour, Timeout: 5 * time.Second}, func(o *Options) {
		o.Jitter = func(d time.Duration) time.Duration { return d }
	})
	h.scanner.gate = make(chan struct{})
	h.scanner.started = make(chan struct{}, 100)
	h.start(t)
	first := make(chan error, 1)
	go func() {
		_, err := h.d.ScanNow(context.Background())
		first <- err
	}()
	<-h.scanner.started // scan 1 runs
	var wg sync.WaitGroup
	reports := make([]*status.Report, 20)
	for i := range reports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := h.d.ScanNow(context.Background())
			if err != nil {
				t.Errorf("ScanNow: %v", err)
			}
			reports[i] = r
		}()
	}
	// All 20 wait for the one scan after the running one.
	waitFor(t, "20 waiters on the pending scan", func() bool {
		h.d.mu.Lock()
		defer h.d.mu.Unlock()
		return h.d.pending != nil && len(h.d.pending.reasons) == 20
	})
	h.scanner.gate <- struct{}{} // finish scan 1
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	<-h.scanner.started
	h.scanner.gate <- struct{}{} // finish scan 2
	wg.Wait()
	if n := h.scanner.count(); n != 2 {
		t.Errorf("scans = %d; want 2 (one running, one for all coalesced requests)", n)
	}
	for _, r := range reports[1:] {
		if !r.ScannedAt.Equal(reports[0].ScannedAt) {
			t.Fatal("coalesced requests got different scans")
		}
	}
}

func TestPolicyGarbageKeepsLastGood(t *testing.T) {
	h := newHarness(t, fastSchedule(), nil)
	h.start(t)
	waitFor(t, "the initial scan", func() bool { return h.scanner.count() == 1 })

	writePolicy(t, h.policy, "name: second")
	waitFor(t, "a rescan with the new policy", func() bool { return h.scanner.count() == 2 })
	if got := h.scanner.last().Ref.Name; got != "second" {
		t.Errorf("policy after change = %q; want second", got)
	}

	writePolicy(t, h.policy, "}}} garbage {{{")
	waitFor(t, "a rescan after garbage", func() bool { return h.scanner.count() == 3 })
	p := h.scanner.last()
	if p.Ref.Name != "second" {
		t.Errorf("policy in force after garbage = %q; want the last good (second)", p.Ref.Name)
	}
	wantErrs := []string{h.policy + ":1:1: not a policy", h.policy + ":2:1: second error"}
	if diff := cmp.Diff(wantErrs, p.Ref.Errors); diff != "" {
		t.Errorf("Ref.Errors (-want +got):\n%s", diff)
	}
	if len(p.Extra) != 1 || p.Extra[0].Rule != "policy.invalid" || p.Extra[0].Status != policy.StatusFail {
		t.Errorf("Extra = %+v; want one failing policy.invalid finding", p.Extra)
	}
	hl := h.d.Health(context.Background())
	if hl.OK || len(hl.Problems) != 1 || !strings.Contains(hl.Problems[0], "rejected") {
		t.Errorf("Health = %+v; want the rejected policy as a problem", hl)
	}
	r, _ := h.d.Status(context.Background())
	if len(r.Policy.Errors) != 2 {
		t.Errorf("Status policy errors = %v", r.Policy.Errors)
	}

	// The same garbage again (touched) does not rescan; a fix does.
	time.Sleep(50 * time.Millisecond)
	if n := h.scanner.count(); n != 3 {
		t.Errorf("unchanged garbage caused %d more scans", n-3)
	}
	writePolicy(t, h.policy, "name: fixed")
	waitFor(t, "a rescan after the fix", func() bool { return h.scanner.count() == 4 })
	p = h.scanner.last()
	if p.Ref.Name != "fixed" || len(p.Ref.Errors) != 0 || len(p.Extra) != 0 {
		t.Errorf("after fix: %+v", p)
	}
	if hl := h.d.Health(context.Background()); !hl.OK {
		t.Errorf("Health after fix = %+v", hl)
	}
}

func TestPolicyAtStart(t *testing.T) {
	tests := []struct {
		name      string
		content   string // "" = no file
		optional  bool
		mode      os.FileMode
		wantName  string
		wantError string
	}{
		{"good", "name: p1", false, 0o644, "p1", ""},
		{"garbage uses the default", "xx", false, 0o644, "embedded-default", "not a policy"},
		{"missing optional", "", true, 0, "embedded-default", ""},
		{"missing required", "", false, 0, "embedded-default", "no such file"},
		{"world-writable refused as root", "name: p1", false, 0o666, "embedded-default", "writable by group or others"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.mode == 0o666 && os.Geteuid() != 0 {
				t.Skip("ownership checks apply when running as root")
			}
			h := newHarness(t, fastSchedule(), nil)
			os.Remove(h.policy)
			if tt.content != "" {
				writePolicy(t, h.policy, tt.content)
				os.Chmod(h.policy, tt.mode)
			}
			h.d.pol.src.Optional = tt.optional
			h.start(t)
			waitFor(t, "the initial scan", func() bool { return h.scanner.count() == 1 })
			p := h.scanner.last()
			if p.Ref.Name != tt.wantName {
				t.Errorf("policy = %q; want %q", p.Ref.Name, tt.wantName)
			}
			got := strings.Join(p.Ref.Errors, "\n")
			if (tt.wantError == "") != (got == "") || !strings.Contains(got, tt.wantError) {
				t.Errorf("errors = %q; want %q", got, tt.wantError)
			}
		})
	}
}

func TestReloadRescans(t *testing.T) {
	h := newHarness(t, fastSchedule(), nil)
	h.start(t)
	waitFor(t, "the initial scan", func() bool { return h.scanner.count() == 1 })
	h.reload <- struct{}{}
	waitFor(t, "a scan after SIGHUP", func() bool { return h.scanner.count() == 2 })
}

func TestShutdownFinishesRunningScan(t *testing.T) {
	h := newHarness(t, fastSchedule(), nil)
	h.scanner.gate = make(chan struct{})
	h.scanner.started = make(chan struct{}, 10)
	h.start(t)
	<-h.scanner.started
	h.cancel()
	time.Sleep(100 * time.Millisecond)
	if h.store.closed.Load() {
		t.Fatal("store closed while a scan was running")
	}
	// Requests during shutdown are refused, not queued.
	if _, err := h.d.ScanNow(context.Background()); !errors.Is(err, localapi.ErrStopping) {
		t.Errorf("ScanNow while stopping = %v; want ErrStopping", err)
	}
	h.scanner.gate <- struct{}{}
	select {
	case err := <-h.done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the scan finished")
	}
	h.done <- nil // for Cleanup
	if !h.store.closed.Load() {
		t.Error("store not closed")
	}
	if h.scanner.ctxErrs[0] != nil {
		t.Errorf("the running scan's context was cancelled (%v); it should finish and be recorded", h.scanner.ctxErrs[0])
	}
}

func TestShutdownCancelsHungScan(t *testing.T) {
	h := newHarness(t, fastSchedule(), nil)
	h.d.scanGrace = 100 * time.Millisecond
	h.scanner.gate = make(chan struct{}) // never released
	h.scanner.started = make(chan struct{}, 10)
	h.start(t)
	<-h.scanner.started
	start := time.Now()
	h.cancel()
	select {
	case <-h.done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run hung on a hung scan")
	}
	h.done <- nil
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	if !h.store.closed.Load() {
		t.Error("store not closed")
	}
}

func TestScanFailureIsHealthProblem(t *testing.T) {
	h := newHarness(t, fastSchedule(), nil)
	h.scanner.fail = errors.New("probe exploded")
	h.start(t)
	waitFor(t, "a failed scan", func() bool { return h.scanner.count() == 1 })
	waitFor(t, "health problem", func() bool { return !h.d.Health(context.Background()).OK })
	if p := h.d.Health(context.Background()).Problems; len(p) != 1 || !strings.Contains(p[0], "probe exploded") {
		t.Errorf("problems = %v", p)
	}
}

// TestDamagedDatabaseStopsTheService: a scan that finds the database
// damaged (the service's daily check) stops Run with the error, so that the
// service manager's restart moves the file aside and rebuilds it; scanning
// on would fail at every interval.
func TestDamagedDatabaseStopsTheService(t *testing.T) {
	h := newHarness(t, fastSchedule(), nil)
	h.scanner.fail = fmt.Errorf("consistency check: %w", &store.CorruptError{Reason: "page 7 reached twice"})
	h.start(t)
	select {
	case err := <-h.done:
		if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), "restart rebuilds") {
			t.Errorf("Run = %v; want the damage, and why it stops", err)
		}
		h.done <- err // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("the service kept running on a damaged database")
	}
}

func TestResourceBudget(t *testing.T) {
	var cpu atomic.Int64
	var rss atomic.Uint64
	rss.Store(10 << 20)
	h := newHarness(t, fastSchedule(), func(o *Options) {
		o.Budget = config.Budget{RSSMB: 64, CPUPercent: 5}
		o.SampleEvery = 20 * time.Millisecond
		o.Sampler = func() (Usage, error) {
			return Usage{RSS: rss.Load(), CPU: time.Duration(cpu.Load())}, nil
		}
	})
	h.start(t)
	waitFor(t, "a sample", func() bool { return h.d.Health(context.Background()).RSSBytes == 10<<20 })
	if !h.d.Health(context.Background()).OK {
		t.Errorf("under budget but unhealthy: %+v", h.d.Health(context.Background()))
	}
	rss.Store(100 << 20)
	waitFor(t, "memory over budget", func() bool {
		p := h.d.Health(context.Background()).Problems
		return len(p) == 1 && strings.Contains(p[0], "memory 100 MB over the 64 MB budget")
	})
	rss.Store(10 << 20)
	// Burn "CPU": 1 s of CPU per 20 ms of wall time.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				cpu.Add(int64(250 * time.Millisecond))
			}
		}
	}()
	waitFor(t, "CPU over budget", func() bool {
		p := h.d.Health(context.Background()).Problems
		return len(p) == 1 && strings.Contains(p[0], "CPU")
	})
}

func TestSelfSampler(t *testing.T) {
	s, err := SelfSampler()
	if err != nil {
		t.Fatal(err)
	}
	u, err := s()
	if err != nil || u.RSS == 0 || u.CPU <= 0 {
		t.Errorf("SelfSampler = %+v, %v; want non-zero RSS and CPU", u, err)
	}
}

// TestHealthDegradedBySinkQueue: a sink whose deliveries fail while events
// wait makes health degraded (not ok); a busy sink without an error and a
// failing one whose queue drained do not.
func TestHealthDegradedBySinkQueue(t *testing.T) {
	var sinks []status.SinkHealth
	h := newHarness(t, fastSchedule(), func(o *Options) {
		o.SinkHealth = func() []status.SinkHealth { return slices.Clone(sinks) }
	})
	tests := []struct {
		name  string
		sinks []status.SinkHealth
		ok    bool
	}{
		{"healthy", []status.SinkHealth{{Name: "hq"}}, true},
		{"busy", []status.SinkHealth{{Name: "hq", QueueDepth: 40}}, true},
		{"failed, drained", []status.SinkHealth{{Name: "hq", LastError: "POST https://c.example/x: 503"}}, true},
		{"failing with a queue", []status.SinkHealth{{Name: "ok"}, {Name: "hq", QueueDepth: 3, LastError: "POST https://c.example/x: timeout"}}, false},
	}
	for _, tt := range tests {
		sinks = tt.sinks
		hl := h.d.Health(context.Background())
		if hl.OK != tt.ok || (hl.State == status.HealthDegraded) == tt.ok || hl.ProblemCount != len(hl.Problems) {
			t.Errorf("%s: health %+v; want ok=%v and the matching state", tt.name, hl, tt.ok)
		}
		if !tt.ok && (len(hl.Problems) != 1 || !strings.Contains(hl.Problems[0], "sink hq: 3 events queued")) {
			t.Errorf("%s: problems %q; want the failing sink named with its queue", tt.name, hl.Problems)
		}
		for _, s := range hl.Sinks {
			if s.Failing != (s.LastError != "") {
				t.Errorf("%s: sink %+v: failing must follow the last error", tt.name, s)
			}
		}
	}
}
