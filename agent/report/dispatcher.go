package report

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"

	"github.com/msgguard/msgguard/agent/report/outbox"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/agent/store"
	"github.com/msgguard/msgguard/policy"
)

// Options tune the Dispatcher.
type Options struct {
	Log zerolog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// MinBackoff and MaxBackoff bound the retry delay after a failed
	// delivery (defaults 2 s and 5 min).
	MinBackoff, MaxBackoff time.Duration
}

// Dispatcher drains every event sink's outbox and rewrites the state
// sinks. One goroutine per event sink, so a collector that hangs delays
// only its own events.
type Dispatcher struct {
	st     *store.Store
	db     *bolt.DB
	events []EventSink
	states []StateSink
	errs   []error
	opts   Options
	kicks  []chan struct{}
	stateC chan struct{}

	mu     sync.Mutex
	health map[string]*sinkHealth
	// commits counts write transactions made by delivery (tests check the
	// one-commit-per-batch budget).
	commits atomic.Int64
}

type sinkHealth struct {
	lastSuccess time.Time
	lastError   string
	failures    int
}

// NewDispatcher registers an outbox for every event sink (deleting the
// outboxes of sinks no longer configured) and returns the dispatcher. Call
// it before the first scan so that the scan's events are queued.
func NewDispatcher(st *store.Store, sinks Sinks, opts Options) (*Dispatcher, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 2 * time.Second
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(5*time.Minute, opts.MinBackoff)
	}
	d := &Dispatcher{st: st, db: st.DB(), events: sinks.Events, states: sinks.States, errs: sinks.Errors, opts: opts,
		stateC: make(chan struct{}, 1), health: map[string]*sinkHealth{}}
	specs := make([]outbox.Spec, 0, len(sinks.Specs))
	for _, s := range sinks.Events {
		d.kicks = append(d.kicks, make(chan struct{}, 1))
		d.health[s.Name()] = &sinkHealth{}
		if _, ok := sinks.Specs[s.Name()]; !ok {
			specs = append(specs, outbox.Spec{Name: s.Name()})
		}
	}
	// Specs holds the started event sinks and those that failed to start
	// (their queues are kept and keep filling until the config is fixed).
	for name, c := range sinks.Specs {
		sev := policy.Severity(c.MinSeverity)
		if !sev.Valid() {
			sev = ""
		}
		specs = append(specs, outbox.Spec{Name: name, MaxEvents: c.MaxQueue, MinSeverity: sev})
	}
	for _, s := range sinks.States {
		d.health[s.Name()] = &sinkHealth{}
	}
	removed, err := outbox.Register(d.db, specs)
	if err != nil {
		return nil, fmt.Errorf("registering sink outboxes: %w", err)
	}
	for _, name := range removed {
		opts.Log.Warn().Str("sink", name).Msg("outbox_removed_sink_no_longer_configured")
	}
	for _, e := range sinks.Errors {
		opts.Log.Error().Str("error", e.Error()).Msg("sink_config_invalid")
	}
	return d, nil
}

// Kick asks every sink to deliver now and the state sinks to refresh; the
// daemon calls it after each scan. It never blocks.
func (d *Dispatcher) Kick() {
	for _, k := range d.kicks {
		select {
		case k <- struct{}{}:
		default:
		}
	}
	d.kickState()
}

func (d *Dispatcher) kickState() {
	select {
	case d.stateC <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is cancelled. It starts by draining whatever the
// outboxes hold from before a restart. It returns after every sink
// goroutine stopped; in-flight requests are abandoned (their events stay
// queued and are sent again, with the same idempotency keys).
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for i, s := range d.events {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.loop(ctx, s, d.kicks[i])
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		d.stateLoop(ctx)
	}()
	d.kickState()
	wg.Wait()
	for _, s := range d.events {
		if err := s.Close(); err != nil {
			d.opts.Log.Warn().Str("sink", s.Name()).Str("error", err.Error()).Msg("sink_close_failed")
		}
	}
	return nil
}

func (d *Dispatcher) loop(ctx context.Context, s EventSink, kick <-chan struct{}) {
	log := d.opts.Log.With().Str("component", "report").Str("sink", s.Name()).Logger()
	attempt := 0
	var notBefore time.Time
	for {
		var wait <-chan time.Time
		if ctx.Err() != nil {
			return
		}
		if d.opts.Now().Before(notBefore) {
			wait = time.After(notBefore.Sub(d.opts.Now()))
		} else {
			err := d.drain(ctx, s)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				attempt++
				delay := backoff(attempt, d.opts.MinBackoff, d.opts.MaxBackoff)
				var ra *retryAfterError
				if errors.As(err, &ra) && ra.after > delay {
					delay = min(ra.after, d.opts.MaxBackoff)
				}
				notBefore = d.opts.Now().Add(delay)
				log.Warn().Str("error", err.Error()).Int("attempt", attempt).Dur("retry_in", delay).Msg("delivery_failed")
				wait = time.After(delay)
			} else {
				attempt, notBefore = 0, time.Time{}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-wait:
		case <-kick:
		}
	}
}

// backoff is "full jitter" exponential backoff: a uniformly random delay
// up to min(max, base·2^attempt), so that a fleet whose collector comes
// back does not retry in lockstep (Brooker, "Exponential Backoff And
// Jitter", AWS Architecture Blog, 2015). The floor is base/2.
func backoff(attempt int, base, maxDelay time.Duration) time.Duration {
	ceil := maxDelay
	if attempt < 30 {
		if c := base << attempt; c > 0 && c < maxDelay {
			ceil = c
		}
	}
	return base/2 + rand.N(ceil-base/2+1)
}

// drain delivers batches until the outbox is empty or a delivery fails.
func (d *Dispatcher) drain(ctx context.Context, s EventSink) error {
	name := s.Name()
	mkDropped := func(sink string, n int, first, last time.Time) outbox.Entry {
		e := droppedEvent(sink, n, first, last)
		body, _ := json.Marshal(e)
		return outbox.Entry{ID: e.ID, Severity: e.Severity, Body: body}
	}
	delivered := false
	defer func() {
		if delivered {
			d.kickState()
		}
	}()
	batch := max(s.BatchSize(), 1)
	for ctx.Err() == nil {
		items, err := outbox.Next(d.db, name, batch, mkDropped)
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return nil
		}
		msgs, poison := decode(items)
		n, derr := 0, error(nil)
		if len(msgs) > 0 {
			n, derr = s.Deliver(ctx, msgs)
		}
		// Ack what was delivered plus undecodable entries up to the first
		// undelivered message; record the error in the same transaction.
		acked := ackable(items, poison, n)
		now := d.opts.Now().UTC()
		if derr != nil && ctx.Err() != nil {
			// Our own shutdown, not the collector's fault: keep the last
			// real error in health.
			derr = ctx.Err()
			if len(acked) > 0 {
				d.commits.Add(1)
				if err := d.db.Update(func(tx *bolt.Tx) error { return outbox.Ack(tx, name, acked, now) }); err != nil {
					return fmt.Errorf("recording delivery: %w", err)
				}
			}
			return derr
		}
		var msg string
		if derr != nil {
			msg = derr.Error()
		}
		if len(acked) > 0 || derr != nil {
			d.commits.Add(1)
			err = d.db.Update(func(tx *bolt.Tx) error {
				if len(acked) > 0 {
					if err := outbox.Ack(tx, name, acked, now); err != nil {
						return err
					}
				}
				if derr != nil {
					return outbox.Fail(tx, name, msg, now)
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("recording delivery: %w", err)
			}
		}
		for _, i := range poison {
			d.opts.Log.Error().Str("sink", name).Str("event", items[i].ID).Msg("outbox_entry_undecodable_skipped")
		}
		d.opts.Log.Debug().Str("sink", name).Int("delivered", n).Int("batch", len(msgs)).Msg("delivery_round")
		d.note(name, n > 0, msg, now)
		if n > 0 {
			delivered = true
		}
		if derr != nil {
			return derr
		}
		// A sink may take fewer than offered (a webhook resending exactly
		// the events of a failed request); the rest come next round.
		if n == 0 && len(msgs) > 0 {
			return fmt.Errorf("sink %s delivered none of %d events without an error", name, len(msgs))
		}
	}
	return ctx.Err()
}

// decode turns outbox items into messages; it returns the indexes of items
// whose body is not a valid event (they would block the queue forever).
func decode(items []outbox.Item) (msgs []Message, poison []int) {
	msgs = make([]Message, 0, len(items))
	for i, it := range items {
		var m Message
		if err := json.Unmarshal(it.Body, &m.Event); err != nil || m.Event.ID == "" {
			poison = append(poison, i)
			continue
		}
		m.JSON = it.Body
		msgs = append(msgs, m)
	}
	return msgs, poison
}

// ackable returns the items to acknowledge: in queue order, every item up
// to the n-th delivered message, including undecodable ones before it.
func ackable(items []outbox.Item, poison []int, n int) []outbox.Item {
	bad := map[int]bool{}
	for _, i := range poison {
		bad[i] = true
	}
	var out []outbox.Item
	sent := 0
	for i, it := range items {
		if bad[i] {
			out = append(out, it)
			continue
		}
		if sent == n {
			break
		}
		out = append(out, it)
		sent++
	}
	return out
}

func (d *Dispatcher) note(name string, ok bool, errMsg string, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	h := d.health[name]
	if h == nil {
		return
	}
	if ok {
		h.lastSuccess = now
	}
	if errMsg != "" {
		h.lastError, h.failures = errMsg, h.failures+1
	} else if ok {
		h.failures = 0
	}
}

func (d *Dispatcher) stateLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.stateC:
			d.writeStates()
		}
	}
}

// writeStates rewrites every state sink from the latest reports.
func (d *Dispatcher) writeStates() {
	if len(d.states) == 0 {
		return
	}
	reports, err := latestReports(d.st)
	if err != nil {
		d.opts.Log.Warn().Str("error", err.Error()).Msg("state_sinks_no_report")
		return
	}
	s := State{Reports: reports, Sinks: d.Health(), Now: d.opts.Now().UTC()}
	for _, ss := range d.states {
		err := ss.Write(s)
		msg := ""
		if err != nil {
			msg = err.Error()
			d.opts.Log.Warn().Str("sink", ss.Name()).Str("error", msg).Msg("state_sink_write_failed")
		}
		d.note(ss.Name(), err == nil, msg, s.Now)
	}
}

func latestReports(st *store.Store) ([]*status.Report, error) {
	ids, err := st.Devices()
	if err != nil {
		return nil, err
	}
	var out []*status.Report
	for _, id := range ids {
		r, err := st.Latest(id)
		if errors.Is(err, store.ErrNoScan) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Health returns every sink's delivery state: queue depth and the last
// success and error (from the outbox, which survives restarts, and from
// this process), plus one entry per sink that could not be started.
func (d *Dispatcher) Health() []status.SinkHealth {
	out, err := Health(d.db)
	if err != nil {
		out = nil
	}
	byName := map[string]int{}
	for i, h := range out {
		byName[h.Name] = i
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.states {
		h := d.health[s.Name()]
		out = append(out, status.SinkHealth{Name: s.Name(), LastSuccess: h.lastSuccess, LastError: h.lastError})
	}
	for _, e := range d.errs {
		name := "(not started)"
		var se *SinkError
		if errors.As(e, &se) && se.Name != "" {
			name = se.Name
		}
		if i, ok := byName[name]; ok {
			out[i].LastError = "not started: " + e.Error()
			continue
		}
		out = append(out, status.SinkHealth{Name: name, LastError: "not started: " + e.Error()})
	}
	return out
}

// Health reads the event sinks' delivery state from the database (for the
// CLI while the service is stopped).
func Health(db *bolt.DB) ([]status.SinkHealth, error) {
	stats, err := outbox.ReadStats(db)
	if err != nil {
		return nil, err
	}
	out := make([]status.SinkHealth, 0, len(stats))
	for _, s := range stats {
		h := status.SinkHealth{Name: s.Name, LastSuccess: s.LastSuccess, QueueDepth: s.Depth}
		if s.LastError != "" && !s.LastErrorAt.Before(s.LastSuccess) {
			h.LastError = s.LastError + " (at " + s.LastErrorAt.Format(time.RFC3339) + ")"
		}
		out = append(out, h)
	}
	return out, nil
}

// retryAfterError carries a collector's Retry-After.
type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

func hashID(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
