package daemon

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/config"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/localapi"
	"github.com/msgguard/msgguard/agent/scan"
	"github.com/msgguard/msgguard/agent/scan/stages"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/agent/store"
	"github.com/msgguard/msgguard/policy"
)

// gatedScanner wraps the real scan cycle; while gate is set, each scan
// announces itself on started and waits for a value on gate.
type gatedScanner struct {
	inner   *scan.Scanner
	gate    chan struct{}
	started chan struct{}
	count   atomic.Int32
}

func (g *gatedScanner) Scan(ctx context.Context, pol scan.Policy) (*status.Report, error) {
	if g.gate != nil {
		g.started <- struct{}{}
		<-g.gate
	}
	r, err := g.inner.Scan(ctx, pol)
	g.count.Add(1)
	return r, err
}

// adminHarness is a daemon with a real store, the real scan cycle with the
// compliance workflow and the drift stage, and the embedded default policy,
// probing a computer that runs Telegram (so the default policy's
// telegram.secret-chats-only attestation applies).
type adminHarness struct {
	d       *Daemon
	st      *store.Store
	scanner *gatedScanner
	kicks   atomic.Int32
	now     time.Time
	cancel  context.CancelFunc
	done    chan error
}

const secretChats = "attestation.telegram.secret-chats-only"

func newAdminHarness(t *testing.T, mod func(*Options)) *adminHarness {
	t.Helper()
	h := &adminHarness{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"), store.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	h.st = st
	clock := func() time.Time { return h.now }
	inv := &policy.Inventory{
		Device:     policy.Device{ID: "dev1", Kind: "computer", Platform: "linux"},
		Messengers: []policy.Messenger{{ID: "telegram"}},
	}
	sc := &scan.Scanner{
		Probe: func(context.Context, *policy.Catalog) (*policy.Inventory, error) {
			c := *inv
			return &c, nil
		},
		Store:  st,
		Now:    clock,
		Lang:   "en",
		Log:    zerolog.New(zerolog.NewTestWriter(t)),
		Stages: stages.For(st, compliance.Retention{}, drift.DefaultConfig()),
	}
	h.scanner = &gatedScanner{inner: sc}
	opt := Options{
		Scan: config.Scan{Interval: time.Hour, PolicyPoll: time.Hour, Timeout: 5 * time.Second},
		Policy: PolicySource{Default: func() scan.Policy {
			p := policy.Default()
			return scan.Policy{Policy: p, Ref: status.PolicyRef{Name: p.Name, SHA256: p.SHA256, Source: "embedded"}}
		}},
		Scanner: h.scanner,
		Store:   st,
		Admin:   &AdminOptions{DB: st.DB(), Drift: drift.DefaultConfig(), Kick: func() { h.kicks.Add(1) }},
		Log:     zerolog.New(zerolog.NewTestWriter(t)),
		Now:     clock,
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

func (h *adminHarness) start(t *testing.T) {
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

// firstScan starts the daemon and waits for its initial scan.
func (h *adminHarness) firstScan(t *testing.T) *status.Report {
	t.Helper()
	h.start(t)
	var r *status.Report
	waitFor(t, "the initial scan", func() bool {
		r, _ = h.d.Status(context.Background())
		return r != nil
	})
	return r
}

func findingStatus(r *status.Report, rule string) policy.Status {
	for _, f := range r.Findings {
		if f.Rule == rule {
			return f.Status
		}
	}
	return ""
}

// TestAttestRescansAtOnce: an attestation through the daemon is stored
// and the status right after shows it attested, without waiting for the
// interval.
func TestAttestRescansAtOnce(t *testing.T) {
	h := newAdminHarness(t, nil)
	r := h.firstScan(t)
	if got := findingStatus(r, secretChats); got != policy.StatusFail {
		t.Fatalf("before: %s is %q; want fail (not yet attested)", secretChats, got)
	}
	res, err := h.d.Attest(context.Background(), apitype.AttestRequest{Rule: "telegram.secret-chats-only", By: "Anna Admin", Note: "ticket 7"})
	if err != nil {
		t.Fatalf("Attest: %v", err)
	}
	a := res.Attestation
	if a.Rule != secretChats || a.Device != "dev1" || a.By != "Anna Admin" || !a.At.Equal(h.now) || !res.Applies {
		t.Errorf("Attest result = %+v", res)
	}
	if res.Rescan.Error != "" || !res.Rescan.Covered || res.Rescan.ScannedAt.IsZero() {
		t.Errorf("Rescan = %+v; want a completed rescan of dev1", res.Rescan)
	}
	r, err = h.d.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := findingStatus(r, secretChats); got != policy.StatusAttested {
		t.Errorf("after: %s is %q; want attested", secretChats, got)
	}
	if n := h.scanner.count.Load(); n != 2 {
		t.Errorf("%d scans; want 2 (the initial one and the rescan)", n)
	}
	recs, err := compliance.List(h.st.DB(), "")
	if err != nil || len(recs.Attestations) != 1 || recs.Attestations[0] != a {
		t.Errorf("stored attestations = %+v, %v; want exactly the returned one", recs.Attestations, err)
	}
}

// TestExemptRescansAtOnce: a local exemption shows as exempt with its
// real status right after.
func TestExemptRescansAtOnce(t *testing.T) {
	h := newAdminHarness(t, nil)
	h.firstScan(t)
	res, err := h.d.Exempt(context.Background(), apitype.ExemptRequest{Rule: "remote-wipe", Reason: "MDM rollout in April", Approver: "DPO", Until: "2026-04-30"})
	if err != nil {
		t.Fatalf("Exempt: %v", err)
	}
	if x := res.Exemption; x.Rule != "remote-wipe" || x.Device != "dev1" || x.Until.Format(time.DateOnly) != "2026-04-30" || !res.Rescan.Covered {
		t.Errorf("Exempt result = %+v", res)
	}
	r, _ := h.d.Status(context.Background())
	for _, f := range r.Findings {
		if f.Rule == "remote-wipe" && f.Status != policy.StatusExempt {
			t.Errorf("remote-wipe is %q after the exemption; want exempt", f.Status)
		}
	}
}

// TestRecordRefusals: every bad request is refused with the CLI's message
// (a RequestError, so the API answers 400) and nothing is recorded.
func TestRecordRefusals(t *testing.T) {
	h := newAdminHarness(t, nil)
	h.firstScan(t)
	ctx := context.Background()
	attest := func(req apitype.AttestRequest) func() error {
		return func() error { _, err := h.d.Attest(ctx, req); return err }
	}
	exempt := func(req apitype.ExemptRequest) func() error {
		return func() error { _, err := h.d.Exempt(ctx, req); return err }
	}
	accept := func(req apitype.BaselineAcceptRequest) func() error {
		return func() error { _, err := h.d.AcceptBaseline(ctx, req); return err }
	}
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"attest unknown rule", attest(apitype.AttestRequest{Rule: "telegram.secret-chat", By: "A"}), "unknown"},
		{"attest observed rule", attest(apitype.AttestRequest{Rule: "remote-wipe", By: "A"}), "observed by the agent, not attested"},
		{"attest without by", attest(apitype.AttestRequest{Rule: "telegram.secret-chats-only"}), "--by is required"},
		{"attest with control characters", attest(apitype.AttestRequest{Rule: "telegram.secret-chats-only", By: "A\x1b[31m"}), "--by contains control characters"},
		{"attest until bad date", attest(apitype.AttestRequest{Rule: "telegram.secret-chats-only", By: "A", Until: "31.12.2026"}), "--until: "},
		{"attest until past", attest(apitype.AttestRequest{Rule: "telegram.secret-chats-only", By: "A", Until: "2026-01-01"}), "is not in the future"},
		{"attest until beyond validity", attest(apitype.AttestRequest{Rule: "telegram.secret-chats-only", By: "A", Until: "2030-01-01"}), "beyond the rule's validity"},
		{"attest unknown device", attest(apitype.AttestRequest{Rule: "telegram.secret-chats-only", By: "A", Device: "phone-x"}), `no device "phone-x" in the database`},
		{"exempt without until", exempt(apitype.ExemptRequest{Rule: "remote-wipe", Reason: "r", Approver: "A"}), "--until is required"},
		{"exempt ten years out", exempt(apitype.ExemptRequest{Rule: "remote-wipe", Reason: "r", Approver: "A", Until: "2036-03-01"}), "more than max_exemption"},
		{"exempt the agent's own finding", exempt(apitype.ExemptRequest{Rule: policy.RulePolicyInvalid, Reason: "r", Approver: "A", Until: "2026-04-01"}), `unknown rule "policy.invalid"`},
		{"exempt without reason", exempt(apitype.ExemptRequest{Rule: "remote-wipe", Approver: "A", Until: "2026-04-01"}), "--reason is required"},
		{"accept without why", accept(apitype.BaselineAcceptRequest{By: "A"}), "--by and --why are required"},
		{"accept with a blank why", accept(apitype.BaselineAcceptRequest{By: "A", Why: "  "}), "accepting a baseline needs who (--by) and why (--why)"},
		{"accept unknown device", accept(apitype.BaselineAcceptRequest{By: "A", Why: "w", Device: "phone-x"}), `no drift state recorded for device "phone-x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var re *localapi.RequestError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v; want a RequestError containing %q", err, tt.want)
			}
		})
	}
	recs, err := compliance.List(h.st.DB(), "")
	if err != nil || len(recs.Attestations)+len(recs.Exemptions) != 0 {
		t.Errorf("records after refusals: %+v, %v; want none", recs, err)
	}
	if hist, _ := compliance.History(h.st.DB(), "", ""); len(hist) != 0 {
		t.Errorf("audit log after refusals: %+v; want empty", hist)
	}
	bs, _ := drift.Baselines(h.st.DB(), "")
	if len(bs) != 1 || bs[0].Info.Reason == "accepted" {
		t.Errorf("baselines after refusals: %+v; want the first scan's", bs)
	}
	if n := h.scanner.count.Load(); n != 1 {
		t.Errorf("refused requests caused %d rescans", n-1)
	}
}

// TestRecordBeforeFirstScan: without a scan there is no device to record
// for; the messages say what to do.
func TestRecordBeforeFirstScan(t *testing.T) {
	h := newAdminHarness(t, func(o *Options) {
		o.Scan.InitialDelay = time.Hour
		o.Jitter = func(d time.Duration) time.Duration { return d }
	})
	h.start(t)
	waitFor(t, "the policy loaded", func() bool { return h.d.pol.current().Policy != nil })
	ctx := context.Background()
	_, err := h.d.Attest(ctx, apitype.AttestRequest{Rule: "telegram.secret-chats-only", By: "A"})
	if err == nil || !strings.Contains(err.Error(), "no scan of this computer recorded yet") {
		t.Errorf("Attest before any scan = %v", err)
	}
	_, err = h.d.AcceptBaseline(ctx, apitype.BaselineAcceptRequest{By: "A", Why: "w"})
	if err == nil || !strings.Contains(err.Error(), "no drift state recorded yet") {
		t.Errorf("AcceptBaseline before any scan = %v", err)
	}
}

// TestAcceptBaseline records the acceptance, returns its event and kicks
// the sinks.
func TestAcceptBaseline(t *testing.T) {
	h := newAdminHarness(t, nil)
	h.firstScan(t)
	res, err := h.d.AcceptBaseline(context.Background(), apitype.BaselineAcceptRequest{By: "Anna", Why: "ticket 9"})
	if err != nil {
		t.Fatalf("AcceptBaseline: %v", err)
	}
	if len(res.Events) != 1 || res.Events[0].Kind != drift.KindBaselineAccepted || res.Events[0].Device != "dev1" {
		t.Errorf("events = %+v; want one baseline_accepted for dev1", res.Events)
	}
	if h.kicks.Load() != 1 {
		t.Errorf("sinks kicked %d times; want 1", h.kicks.Load())
	}
	bs, err := drift.Baselines(h.st.DB(), "dev1")
	if err != nil || len(bs) != 1 || bs[0].Info.Reason != "accepted" || bs[0].Info.By != "Anna" || !bs[0].Info.SetAt.Equal(h.now) {
		t.Errorf("baseline = %+v, %v; want accepted by Anna at the daemon's clock", bs, err)
	}
}

// TestRecordWaitsForRunningScan: an attestation requested while a scan
// runs is written only after that scan's cycle (its compliance step and
// transaction) completed, then rescanned.
func TestRecordWaitsForRunningScan(t *testing.T) {
	h := newAdminHarness(t, nil)
	h.firstScan(t)
	h.scanner.gate = make(chan struct{})
	h.scanner.started = make(chan struct{}, 4)
	go h.d.ScanNow(context.Background())
	<-h.scanner.started // scan 2 holds the work slot
	done := make(chan error, 1)
	go func() {
		_, err := h.d.Attest(context.Background(), apitype.AttestRequest{Rule: "telegram.secret-chats-only", By: "A"})
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if recs, _ := compliance.List(h.st.DB(), ""); len(recs.Attestations) != 0 {
		t.Fatal("attestation written while a scan was running")
	}
	select {
	case err := <-done:
		t.Fatalf("Attest returned during a running scan: %v", err)
	default:
	}
	h.scanner.gate <- struct{}{} // scan 2 finishes; the record is written
	<-h.scanner.started          // the rescan after the record
	if recs, _ := compliance.List(h.st.DB(), ""); len(recs.Attestations) != 1 {
		t.Error("attestation not written before the rescan")
	}
	h.scanner.gate <- struct{}{}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	r, _ := h.d.Status(context.Background())
	if got := findingStatus(r, secretChats); got != policy.StatusAttested {
		t.Errorf("after: %s is %q; want attested", secretChats, got)
	}
}

// TestRecordWaitHonoursContext: a caller who gives up while a scan runs
// is told so, and nothing is recorded.
func TestRecordWaitHonoursContext(t *testing.T) {
	h := newAdminHarness(t, nil)
	h.firstScan(t)
	h.scanner.gate = make(chan struct{})
	h.scanner.started = make(chan struct{}, 4)
	go h.d.ScanNow(context.Background())
	<-h.scanner.started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := h.d.Attest(ctx, apitype.AttestRequest{Rule: "telegram.secret-chats-only", By: "A"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Attest with an expired context = %v; want DeadlineExceeded", err)
	}
	h.scanner.gate <- struct{}{}
	if recs, _ := compliance.List(h.st.DB(), ""); len(recs.Attestations) != 0 {
		t.Error("attestation written after the caller gave up")
	}
}

// TestRecordUnavailableOrStopping: without Admin the requests are 501;
// once the daemon stops they are refused, not queued.
func TestRecordUnavailableOrStopping(t *testing.T) {
	h := newAdminHarness(t, func(o *Options) { o.Admin = nil })
	ctx := context.Background()
	if _, err := h.d.Attest(ctx, apitype.AttestRequest{Rule: "telegram.secret-chats-only", By: "A"}); !errors.Is(err, localapi.ErrUnavailable) {
		t.Errorf("Attest without Admin = %v; want ErrUnavailable", err)
	}
	if _, err := h.d.Exempt(ctx, apitype.ExemptRequest{}); !errors.Is(err, localapi.ErrUnavailable) {
		t.Errorf("Exempt without Admin = %v; want ErrUnavailable", err)
	}
	if _, err := h.d.AcceptBaseline(ctx, apitype.BaselineAcceptRequest{}); !errors.Is(err, localapi.ErrUnavailable) {
		t.Errorf("AcceptBaseline without Admin = %v; want ErrUnavailable", err)
	}

	h2 := newAdminHarness(t, nil)
	h2.firstScan(t)
	h2.d.mu.Lock()
	h2.d.stopping = true
	h2.d.mu.Unlock()
	if _, err := h2.d.Attest(ctx, apitype.AttestRequest{Rule: "telegram.secret-chats-only", By: "A"}); !errors.Is(err, localapi.ErrStopping) {
		t.Errorf("Attest while stopping = %v; want ErrStopping", err)
	}
	if _, err := h2.d.AcceptBaseline(ctx, apitype.BaselineAcceptRequest{By: "A", Why: "w"}); !errors.Is(err, localapi.ErrStopping) {
		t.Errorf("AcceptBaseline while stopping = %v; want ErrStopping", err)
	}
	h2.d.mu.Lock()
	h2.d.stopping = false
	h2.d.mu.Unlock()
}

// TestRecordThroughSocket: the daemon serves the record endpoints on its
// listener; the peer is the test process itself (SO_PEERCRED), so root
// records and anyone else is refused.
func TestRecordThroughSocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "mgd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "agent.sock")
	l, err := localapi.Listen(sock)
	if err != nil {
		t.Skipf("no local socket here: %v", err)
	}
	h := newAdminHarness(t, func(o *Options) { o.Listener = l })
	h.firstScan(t)
	c := localapi.NewClient(sock)
	defer c.Close()
	res, err := c.Attest(context.Background(), apitype.AttestRequest{Rule: "telegram.secret-chats-only", By: "Anna"})
	if os.Geteuid() != 0 {
		var denied *localapi.AccessDeniedError
		if !errors.As(err, &denied) {
			t.Errorf("Attest as uid %d = %v; want access denied", os.Geteuid(), err)
		}
		return
	}
	if err != nil || res.Attestation.Rule != secretChats || !res.Rescan.Covered {
		t.Fatalf("Attest as root = %+v, %v", res, err)
	}
	_, err = c.Exempt(context.Background(), apitype.ExemptRequest{Rule: "remote-wipe", Reason: "r", Approver: "A"})
	var api *localapi.APIError
	if !errors.As(err, &api) || api.Code != http.StatusBadRequest || !strings.HasPrefix(api.Msg, "--until is required") {
		t.Errorf("Exempt without --until = %v; want 400 with the CLI's message", err)
	}
}
