// Package daemon is the runtime of `agent run`: it schedules scans (at
// start after a random delay, on an interval with jitter, when the policy
// file's content changes, on SIGHUP and on request through the local API),
// runs one scan at a time, keeps the last good policy when a new one fails
// to load (across restarts, when given a place to keep it), serves the
// local API — including administrators' records, written between scans —
// watches its own resource use, and shuts down within 20 s without losing
// a scan in progress.
//
// The scan cycle and the store are reached through small interfaces
// (Scanner, Store) so that the daemon is tested with fakes; cmd_run.go
// wires the real agent/scan and agent/store.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/config"
	"github.com/msgguard/msgguard/agent/localapi"
	"github.com/msgguard/msgguard/agent/scan"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/agent/store"
	"github.com/msgguard/msgguard/policy"
)

// Shutdown budget: a running scan gets ScanGrace to finish (so it is
// recorded), then is cancelled and gets cancelGrace to unwind; the API gets
// apiGrace, and an administrator's record still being written gets
// recordGrace. Together they stay under install.StopTimeout (20 s).
const (
	ScanGrace   = 14 * time.Second
	cancelGrace = 2 * time.Second
	apiGrace    = 2 * time.Second
	recordGrace = time.Second
)

// Scanner runs one scan cycle: probe, evaluate, record. agent/scan.Scanner
// implements it.
type Scanner interface {
	Scan(ctx context.Context, pol scan.Policy) (*status.Report, error)
}

// Store is what the daemon reads from the database; *store.Store
// implements it. The daemon closes it on shutdown.
type Store interface {
	Latest(id string) (*status.Report, error)
	Scans(id string, since time.Time) ([]store.ScanRecord, error)
	Close() error
}

// Options are the daemon's dependencies and settings.
type Options struct {
	// Scan is the schedule (interval, jitter, initial delay, timeouts,
	// policy poll).
	Scan config.Scan
	// Budget is the resource budget to watch.
	Budget config.Budget
	// Policy is how the policy is found and loaded.
	Policy PolicySource
	// Scanner runs scans; Store is the open database.
	Scanner Scanner
	Store   Store
	// Listener is the local API's listener (localapi.Listen); nil runs
	// without an API.
	Listener net.Listener
	// API, instead of Listener, is a local API server already serving
	// (the service serves a Waiting backend while it waits for its
	// database); APIDone delivers its Serve result. The daemon becomes its
	// backend, and shuts it down when it stops.
	API     *localapi.Server
	APIDone <-chan error
	// Reload delivers SIGHUP: reread the policy and scan.
	Reload <-chan struct{}
	// Drift answers /v1/drift; nil serves the store's scan records.
	Drift func(ctx context.Context, since time.Time) (*apitype.DriftResponse, error)
	// Problems are known health problems at start (e.g. the database was
	// rebuilt after corruption, a malformed sink).
	Problems []string
	// SinkHealth reports the reporting sinks' delivery state for health;
	// nil when there are no sinks.
	SinkHealth func() []status.SinkHealth
	// Admin, if set, lets administrators record attestations, exemptions
	// and drift baselines through the local API, and every local user read
	// them (redacted by the API); nil answers those requests with 501.
	Admin *AdminOptions
	Log   zerolog.Logger

	// Seams for tests.
	Now     func() time.Time
	Jitter  func(max time.Duration) time.Duration
	Sampler func() (Usage, error)
	// SampleEvery is the resource sampling period (default 60 s).
	SampleEvery time.Duration
}

// Daemon is a running agent.
type Daemon struct {
	opt    Options
	log    zerolog.Logger
	now    func() time.Time
	jitter func(time.Duration) time.Duration
	pol    *policyWatch
	res    *resources

	// scanGrace is ScanGrace; shorter in tests.
	scanGrace time.Duration

	kick     chan struct{} // a pending scan awaits the worker
	scanDone chan struct{} // the worker finished a scan
	// damaged receives the error of a scan that found the database
	// damaged (the daily consistency check): the service stops so that
	// its restart moves the file aside and rebuilds, loudly, at Open.
	damaged chan error
	// busy is the work slot: held by a scan for its whole cycle and by an
	// administrator's record while it is written (see lock).
	busy chan struct{}

	mu       sync.Mutex
	pending  *flight // the next scan; requests join it
	stopping bool
	started  time.Time
	latest   *status.Report
	// shown is latest as the API shows it (Source "service"), made once
	// per report for Snapshot; shownOf is the report it was made from.
	shown, shownOf *status.Report
	// api is the local API once it serves (Run); a scan warms its view of
	// the new report before publishing it (localapi.Server.Warm).
	api atomic.Pointer[localapi.Server]

	// served is set by each status and health request and by each scan:
	// the first trim tick after a quiet spell (lastActive at least
	// trimQuiet ago) returns the heap and drops the pages they touched.
	served     atomic.Bool
	lastActive atomic.Int64 // unix nanoseconds

	// health is the last reading for Snapshot, taken at healthAt while
	// healthOf was the latest report.
	healthMu sync.Mutex
	health   status.Health
	healthAt time.Time
	healthOf *status.Report
	// healthBusy is set while a request reads health afresh.
	healthBusy bool
	lastScan   time.Time
	lastDur    time.Duration
	lastErr    error
	nextScan   time.Time
	scanCount  int
}

// flight is one scan that any number of requests wait for.
type flight struct {
	done    chan struct{}
	reasons []string
	report  *status.Report
	err     error
}

// New checks opt and returns a daemon ready to Run.
func New(opt Options) (*Daemon, error) {
	if opt.Scanner == nil || opt.Store == nil {
		return nil, errors.New("daemon: Scanner and Store are required")
	}
	if err := opt.Policy.check(); err != nil {
		return nil, err
	}
	if opt.Scan.Interval <= 0 || opt.Scan.PolicyPoll <= 0 {
		return nil, errors.New("daemon: scan interval and policy poll must be positive")
	}
	d := &Daemon{
		opt:       opt,
		log:       opt.Log.With().Str("component", "daemon").Logger(),
		now:       opt.Now,
		jitter:    opt.Jitter,
		kick:      make(chan struct{}, 1),
		scanDone:  make(chan struct{}, 1),
		damaged:   make(chan error, 1),
		busy:      make(chan struct{}, 1),
		scanGrace: ScanGrace,
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.jitter == nil {
		d.jitter = randomUpTo
	}
	d.pol = newPolicyWatch(opt.Policy, d.now, d.log)
	d.res = newResources(opt.Budget, opt.Sampler, d.log)
	return d, nil
}

// randomUpTo returns a uniformly random duration in [0, max].
func randomUpTo(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(max) + 1))
}

// Run runs the daemon until ctx is cancelled, then shuts down: the API stops
// taking requests, a scan in progress is allowed to finish (up to
// ScanGrace), and the store is closed. It returns an error only for a
// failure that should make the service manager restart the agent.
func (d *Daemon) Run(ctx context.Context) error {
	d.mu.Lock()
	d.started = d.now()
	d.mu.Unlock()
	d.pol.check(true)
	if r, err := d.opt.Store.Latest(""); err == nil {
		d.mu.Lock()
		d.latest = r
		d.lastScan = r.ScannedAt
		d.mu.Unlock()
	} else if !errors.Is(err, store.ErrNoScan) {
		d.log.Warn().Err(err).Msg("latest_report_unreadable")
	}

	// The worker's context is not ctx: a scan in progress when the stop
	// request arrives is allowed to finish and be recorded.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		d.worker(workCtx)
	}()

	var api *localapi.Server
	var apiDone <-chan error
	switch {
	case d.opt.API != nil:
		api, apiDone = d.opt.API, d.opt.APIDone
		api.SetBackend(d)
	case d.opt.Listener != nil:
		api = localapi.NewServer(d, d.opt.Log)
		done := make(chan error, 1)
		go func() { done <- api.Serve(d.opt.Listener) }()
		apiDone = done
	}
	if api != nil {
		d.api.Store(api)
	}
	d.log.Info().Dur("interval", d.opt.Scan.Interval).Str("policy", d.pol.describe()).Msg("agent_started")

	runErr := d.schedule(ctx, apiDone)
	d.shutdown(api, cancelWork, workerDone)
	return runErr
}

// schedule is the main loop: timers, policy polling, SIGHUP, sampling.
func (d *Daemon) schedule(ctx context.Context, apiDone <-chan error) error {
	first := d.jitter(d.opt.Scan.InitialDelay)
	timer := time.NewTimer(first)
	defer timer.Stop()
	d.setNext(d.now().Add(first))
	poll := time.NewTicker(d.opt.Scan.PolicyPoll)
	defer poll.Stop()
	every := d.opt.SampleEvery
	if every <= 0 {
		every = time.Minute
	}
	sample := time.NewTicker(every)
	defer sample.Stop()
	trim := time.NewTicker(trimEvery)
	defer trim.Stop()
	d.res.sample(d.now())
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-apiDone:
			if err != nil {
				return fmt.Errorf("local API stopped: %w", err)
			}
			apiDone = nil
		case <-timer.C:
			d.request("interval")
		case err := <-d.damaged:
			// Scanning on would fail every time; a restart (the service
			// manager's, Restart=always / KeepAlive / recovery actions)
			// opens the file again, which moves it aside and rebuilds.
			return fmt.Errorf("the database is damaged; stopping so that the restart rebuilds it: %w", err)
		case <-d.scanDone:
			// Any completed scan (interval, policy, API) restarts the
			// interval, so scans do not bunch up.
			next := d.opt.Scan.Interval + d.jitter(d.opt.Scan.Jitter)
			timer.Reset(next)
			d.setNext(d.now().Add(next))
		case <-poll.C:
			if d.pol.check(false) {
				d.request("policy_changed")
			}
		case <-d.opt.Reload:
			d.log.Info().Msg("reload_requested")
			d.pol.check(true)
			d.request("reload")
		case <-sample.C:
			d.res.sample(d.now())
		case <-trim.C:
			// Scans and requests since the last trim allocated (inventory,
			// JSON, bbolt pages) and paged in code the idle service does
			// not need again soon: hand both back once things are quiet.
			// Not after every scan or request: in a burst of status
			// requests, or scans asked back to back, every trim was a
			// full collection and a page fault for each code page the
			// next request ran through.
			if time.Since(time.Unix(0, d.lastActive.Load())) >= trimQuiet && d.served.Swap(false) {
				// Two collections: sync.Pool keeps what it holds (the
				// local API's compressors, about 820 KB) through one and
				// drops it at the next.
				runtime.GC()
				debug.FreeOSMemory()
				dropTextPages()
			}
		}
	}
}

func (d *Daemon) setNext(t time.Time) {
	d.mu.Lock()
	d.nextScan = t
	d.mu.Unlock()
}

// request asks for a scan that starts after this call and returns the
// flight to wait on. Requests made while a scan runs all join the one
// pending scan after it (they coalesce); at most one scan runs at a time.
func (d *Daemon) request(reason string) *flight {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopping {
		f := &flight{done: make(chan struct{}), err: localapi.ErrStopping}
		close(f.done)
		return f
	}
	if d.pending == nil {
		d.pending = &flight{done: make(chan struct{})}
		select {
		case d.kick <- struct{}{}:
		default:
		}
	}
	d.pending.reasons = append(d.pending.reasons, reason)
	return d.pending
}

func (d *Daemon) worker(ctx context.Context) {
	for range d.kick {
		d.mu.Lock()
		f := d.pending
		d.pending = nil
		stopping := d.stopping
		d.mu.Unlock()
		if f == nil {
			continue
		}
		if stopping {
			f.err = localapi.ErrStopping
			close(f.done)
			continue
		}
		f.report, f.err = d.scanOnce(ctx, f.reasons)
		close(f.done)
		select {
		case d.scanDone <- struct{}{}:
		default:
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// scanOnce runs one scan cycle under the scan timeout.
func (d *Daemon) scanOnce(ctx context.Context, reasons []string) (*status.Report, error) {
	pol := d.pol.current()
	timeout := d.opt.Scan.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	// An administrator's record being written finishes first.
	select {
	case d.busy <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-d.busy }()
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := d.now()
	d.log.Info().Strs("reasons", dedupe(reasons)).Msg("scan_started")
	r, err := d.opt.Scanner.Scan(sctx, pol)
	dur := d.now().Sub(start)
	var shown *status.Report
	if err == nil {
		shown = d.showable(r)
	}
	d.mu.Lock()
	d.lastErr = err
	d.scanCount++
	if err == nil {
		d.latest = r
		d.shown, d.shownOf = shown, r
		d.lastScan = r.ScannedAt
		d.lastDur = dur
	}
	d.mu.Unlock()
	if err != nil {
		d.log.Error().Err(err).Dur("took", dur).Msg("scan_failed")
	}
	if errors.Is(err, store.ErrCorrupt) {
		select {
		case d.damaged <- err:
		default:
		}
	}
	d.active() // the next quiet trim tick returns what the scan used
	return r, err
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// shutdown stops the API, lets a running scan finish (bounded), and closes
// the store.
func (d *Daemon) shutdown(api *localapi.Server, cancelWork context.CancelFunc, workerDone <-chan struct{}) {
	start := time.Now()
	d.mu.Lock()
	d.stopping = true
	if f := d.pending; f != nil {
		// Not started: nothing is lost; its waiters learn we stop.
		d.pending = nil
		f.err = localapi.ErrStopping
		close(f.done)
	}
	d.mu.Unlock()
	close(d.kick)
	workerStopped := true
	select {
	case <-workerDone:
	case <-time.After(d.scanGrace):
		d.log.Warn().Msg("scan_cancelled_for_shutdown")
		cancelWork()
		select {
		case <-workerDone:
		case <-time.After(cancelGrace):
			d.log.Error().Msg("scan_did_not_stop")
			workerStopped = false
		}
	}
	if api != nil {
		ctx, cancel := context.WithTimeout(context.Background(), apiGrace)
		api.Shutdown(ctx)
		cancel()
	}
	// A record whose request outlived the API's grace is written before
	// the database closes (new ones are refused: stopping is set).
	if workerStopped {
		select {
		case d.busy <- struct{}{}:
		case <-time.After(recordGrace):
			d.log.Warn().Msg("record_still_running_at_close")
		}
	}
	if err := d.opt.Store.Close(); err != nil {
		d.log.Error().Err(err).Msg("store_close_failed")
	}
	d.log.Info().Dur("took", time.Since(start)).Msg("agent_stopped")
}

// Status implements localapi.Backend.
func (d *Daemon) Status(ctx context.Context) (*status.Report, error) {
	h := d.Health(ctx)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.latest == nil {
		return nil, localapi.ErrNoReport
	}
	out := *d.latest
	out.Source = "service"
	out.Service = d.service(h)
	return &out, nil
}

// Snapshot implements localapi.Snapshotter: the latest report as the
// service shows it, shared (the scan that replaces it sets another
// pointer; nothing modifies it), and the service state apart, so that the
// API encodes each report once.
func (d *Daemon) Snapshot(ctx context.Context) (*status.Report, *status.Service, error) {
	d.active()
	h := d.recentHealth(ctx)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.latest == nil {
		return nil, nil, localapi.ErrNoReport
	}
	if d.shown == nil || d.shownOf != d.latest {
		r := *d.latest
		r.Source = "service"
		d.shown, d.shownOf = &r, d.latest
	}
	return d.shown, d.service(h), nil
}

// showable returns r as the API shows it (Source "service"), with the
// local API's view of it encoded already: the requests that arrive while
// this runs are answered from the previous report without waiting.
func (d *Daemon) showable(r *status.Report) *status.Report {
	shown := *r
	shown.Source = "service"
	if api := d.api.Load(); api != nil {
		api.Warm(&shown)
	}
	return &shown
}

// trimEvery is how often the daemon checks whether scans ran or requests
// were served since it last returned its heap and dropped its executable's
// pages (dropTextPages); trimQuiet is how long nothing must have happened
// before it does.
const (
	trimEvery = 10 * time.Second
	trimQuiet = 5 * time.Second
)

// active records a scan or a request for the trim.
func (d *Daemon) active() {
	d.lastActive.Store(time.Now().UnixNano())
	d.served.Store(true)
}

// healthTTL is how long Snapshot reuses a health reading: a burst of
// status requests costs one read of the sinks' queues, not one each.
const healthTTL = time.Second

// recentHealth is Health, computed at most once per healthTTL and again
// whenever a new report is in place: a scan that follows a rejected policy
// or a failed delivery must not be shown beside the health from before it.
// While one request reads health afresh, the others answer with the
// previous reading instead of queueing behind it: the read of the sinks'
// queues is a database read, which can wait for a scan's commit, and a
// burst of status requests during a scan must not wait with it.
func (d *Daemon) recentHealth(ctx context.Context) status.Health {
	d.mu.Lock()
	latest := d.latest
	d.mu.Unlock()
	d.healthMu.Lock()
	now := time.Now()
	fresh := !d.healthAt.IsZero() && now.Sub(d.healthAt) < healthTTL && !now.Before(d.healthAt) && d.healthOf == latest
	if fresh || (d.healthBusy && !d.healthAt.IsZero()) {
		h := d.health
		d.healthMu.Unlock()
		return h
	}
	d.healthBusy = true
	d.healthMu.Unlock()
	h := d.Health(ctx)
	d.healthMu.Lock()
	d.health, d.healthAt, d.healthOf, d.healthBusy = h, time.Now(), latest, false
	d.healthMu.Unlock()
	return h
}

// service is the running daemon's state; d.mu is held.
func (d *Daemon) service(h status.Health) *status.Service {
	return &status.Service{
		Running:      true,
		StartedAt:    d.started,
		LastScan:     d.lastScan,
		NextScan:     d.nextScan,
		ScanDuration: d.lastDur,
		Health:       h,
	}
}

// ScanNow implements localapi.Backend: it joins the next scan and waits.
func (d *Daemon) ScanNow(ctx context.Context) (*status.Report, error) {
	f := d.request("api")
	select {
	case <-f.done:
		if f.err != nil {
			return nil, f.err
		}
		out := *f.report
		out.Source = "service"
		return &out, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Drift implements localapi.Backend.
func (d *Daemon) Drift(ctx context.Context, since time.Time) (*apitype.DriftResponse, error) {
	if d.opt.Drift != nil {
		return d.opt.Drift(ctx, since)
	}
	d.mu.Lock()
	var id string
	if d.latest != nil {
		id = d.latest.Device.ID
	}
	d.mu.Unlock()
	// Without a drift engine: the scan records since a time, each marked
	// when its findings differed from the scan before.
	if id == "" {
		return apitype.NewDriftResponse(since, nil, nil), nil
	}
	recs, err := d.opt.Store.Scans(id, since)
	if err != nil {
		return nil, err
	}
	return apitype.NewDriftResponse(since, nil, recs), nil
}

// Health implements localapi.Backend.
func (d *Daemon) Health(context.Context) status.Health {
	d.active()
	h := status.Health{}
	h.Problems = append(h.Problems, d.opt.Problems...)
	if msg := d.pol.problem(); msg != "" {
		h.Problems = append(h.Problems, msg)
	}
	d.mu.Lock()
	if d.lastErr != nil {
		h.Problems = append(h.Problems, "last scan failed: "+d.lastErr.Error())
	}
	d.mu.Unlock()
	if d.opt.SinkHealth != nil {
		h.Sinks = d.opt.SinkHealth()
		h.Problems = append(h.Problems, status.SinkProblems(h.Sinks)...)
	}
	rss, over := d.res.state()
	h.RSSBytes = rss
	h.Problems = append(h.Problems, over...)
	h.Settle()
	return h
}

// InvalidPolicyFinding builds the finding raised while a rejected policy
// file is ignored; it is the fallback when PolicySource.InvalidFinding is
// nil.
func invalidPolicyFinding(err error, now time.Time) policy.Finding {
	return policy.Finding{
		Rule:        "policy.invalid",
		Status:      policy.StatusFail,
		Severity:    policy.SeverityHigh,
		Subject:     "policy",
		Message:     "the policy file could not be loaded; the last good policy stays in force: " + err.Error(),
		Remediation: "Fix the policy file (check it with 'agent policy check FILE'); the agent rescans when it changes.",
		EvaluatedAt: now,
	}
}
