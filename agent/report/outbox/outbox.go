// Package outbox answers "what is still to be delivered to each sink?": a
// bounded, per-sink FIFO queue of events kept in the agent's bbolt database.
//
// Events are enqueued inside the scan's own write transaction (so a scan and
// the events it caused commit together or not at all) and removed only after
// the sink confirmed delivery, in one transaction per delivered batch. A
// queue that is full drops its oldest low-severity entry first (osquery's
// buffered_log_max purges oldest-first; we spare high-severity events as long
// as possible) and counts what it dropped, so that the dispatcher can send a
// `dropped` event saying so.
package outbox

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/msgguard/msgguard/agent/scan"
	"github.com/msgguard/msgguard/policy"
)

// DefaultMaxEvents bounds a queue when a sink sets no limit: at ~1 KiB an
// event, 10,000 events are ~10 MiB — weeks of drift for an offline laptop.
const DefaultMaxEvents = 10_000

var (
	bucketOutbox = []byte("outbox")
	bucketQueue  = []byte("q")
	bucketLow    = []byte("low")
	keyMeta      = []byte("meta")
)

// Spec declares one sink's queue.
type Spec struct {
	Name string
	// MaxEvents bounds the queue (DefaultMaxEvents when 0).
	MaxEvents int
	// MinSeverity filters what is enqueued; events below it are not queued
	// for this sink. Empty queues everything.
	MinSeverity policy.Severity
}

// Entry is one queued event.
type Entry struct {
	// ID is the event's idempotency key.
	ID       string          `json:"id"`
	Device   string          `json:"device,omitempty"`
	Severity policy.Severity `json:"severity"`
	// Body is the event as the sinks serialise it (JSON).
	Body json.RawMessage `json:"body"`
}

// Item is an entry with its queue position.
type Item struct {
	Key []byte
	Entry
	// Dropped marks the synthesised "events were dropped" entry, which is
	// kept outside the queue (it must not be dropped itself).
	Dropped bool
}

// meta is a queue's bookkeeping, stored under the sink's bucket.
type meta struct {
	MaxEvents   int             `json:"max_events"`
	MinSeverity policy.Severity `json:"min_severity,omitempty"`
	Count       int             `json:"count"`
	// DroppedPending counts entries dropped since the last `dropped` event
	// was materialised; DroppedFirst/Last bound when.
	DroppedPending int       `json:"dropped_pending,omitempty"`
	DroppedFirst   time.Time `json:"dropped_first,omitzero"`
	DroppedLast    time.Time `json:"dropped_last,omitzero"`
	DroppedTotal   int       `json:"dropped_total,omitempty"`
	// DroppedEvent is the materialised `dropped` event awaiting delivery;
	// once created its id and count never change, so a retry is idempotent.
	DroppedEvent *Entry    `json:"dropped_event,omitempty"`
	LastSuccess  time.Time `json:"last_success,omitzero"`
	LastError    string    `json:"last_error,omitempty"`
	LastErrorAt  time.Time `json:"last_error_at,omitzero"`
}

// Stats is a queue's state for health output.
type Stats struct {
	Name         string
	Depth        int
	DroppedTotal int
	LastSuccess  time.Time
	LastError    string
	LastErrorAt  time.Time
}

// Register creates the queues named in specs (updating their limits) and
// deletes queues of sinks that are no longer configured. It returns the
// names of deleted queues so that the caller can log them.
func Register(db *bolt.DB, specs []Spec) (removed []string, err error) {
	err = db.Update(func(tx *bolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(bucketOutbox)
		if err != nil {
			return err
		}
		want := map[string]bool{}
		for _, s := range specs {
			if s.Name == "" {
				return errors.New("outbox: sink without a name")
			}
			want[s.Name] = true
			if err := register(root, s); err != nil {
				return err
			}
		}
		var stale [][]byte
		err = root.ForEachBucket(func(k []byte) error {
			if !want[string(k)] {
				stale = append(stale, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range stale {
			if err := root.DeleteBucket(k); err != nil {
				return fmt.Errorf("outbox: removing queue %s: %w", k, err)
			}
			removed = append(removed, string(k))
		}
		return nil
	})
	return removed, err
}

func register(root *bolt.Bucket, s Spec) error {
	b, err := root.CreateBucketIfNotExists([]byte(s.Name))
	if err != nil {
		return fmt.Errorf("outbox: queue %s: %w", s.Name, err)
	}
	for _, n := range [][]byte{bucketQueue, bucketLow} {
		if _, err := b.CreateBucketIfNotExists(n); err != nil {
			return fmt.Errorf("outbox: queue %s: %w", s.Name, err)
		}
	}
	m, err := readMeta(b)
	if err != nil {
		return err
	}
	m.MaxEvents = s.MaxEvents
	if m.MaxEvents <= 0 {
		m.MaxEvents = DefaultMaxEvents
	}
	m.MinSeverity = s.MinSeverity
	if err := writeMeta(b, m); err != nil {
		return err
	}
	// A lowered limit applies at once.
	now := time.Now().UTC()
	for m.Count > m.MaxEvents {
		if err := dropOne(b, &m, now); err != nil {
			return err
		}
	}
	return writeMeta(b, m)
}

func readMeta(b *bolt.Bucket) (meta, error) {
	var m meta
	if v := b.Get(keyMeta); v != nil {
		if err := json.Unmarshal(v, &m); err != nil {
			return m, fmt.Errorf("outbox: decoding queue state: %w", err)
		}
	}
	return m, nil
}

func writeMeta(b *bolt.Bucket, m meta) error {
	v, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return b.Put(keyMeta, v)
}

// lowSeverity reports whether s is dropped first when a queue is full.
func lowSeverity(s policy.Severity) bool { return s.Rank() <= policy.SeverityLow.Rank() }

// Enqueue appends e to every registered queue whose severity filter admits
// it. It runs in the caller's write transaction; with no queues registered
// it does nothing.
func Enqueue(tx *bolt.Tx, e Entry, now time.Time) error {
	root := tx.Bucket(bucketOutbox)
	if root == nil {
		return nil
	}
	val, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("outbox: encoding %s: %w", e.ID, err)
	}
	// Collect the names first: bbolt forbids changing a bucket while
	// ForEach walks it.
	var names [][]byte
	if err := root.ForEachBucket(func(k []byte) error {
		names = append(names, append([]byte(nil), k...))
		return nil
	}); err != nil {
		return err
	}
	for _, name := range names {
		if err := enqueue(root.Bucket(name), e, val, now); err != nil {
			return fmt.Errorf("outbox: %s: %w", name, err)
		}
	}
	return nil
}

func enqueue(b *bolt.Bucket, e Entry, val []byte, now time.Time) error {
	m, err := readMeta(b)
	if err != nil {
		return err
	}
	if m.MinSeverity != "" && e.Severity.Rank() < m.MinSeverity.Rank() {
		return nil
	}
	for m.MaxEvents > 0 && m.Count >= m.MaxEvents {
		if err := dropOne(b, &m, now); err != nil {
			return err
		}
	}
	q := b.Bucket(bucketQueue)
	seq, err := q.NextSequence()
	if err != nil {
		return err
	}
	k := binary.BigEndian.AppendUint64(nil, seq)
	if err := q.Put(k, val); err != nil {
		return err
	}
	if lowSeverity(e.Severity) {
		if err := b.Bucket(bucketLow).Put(k, nil); err != nil {
			return err
		}
	}
	m.Count++
	return writeMeta(b, m)
}

// dropOne removes the oldest low-severity entry, or the oldest entry when
// only higher ones are queued, and counts it.
func dropOne(b *bolt.Bucket, m *meta, now time.Time) error {
	q, low := b.Bucket(bucketQueue), b.Bucket(bucketLow)
	k, _ := low.Cursor().First()
	if k == nil {
		k, _ = q.Cursor().First()
	}
	if k == nil {
		m.Count = 0
		return nil
	}
	k = append([]byte(nil), k...)
	if err := q.Delete(k); err != nil {
		return err
	}
	if err := low.Delete(k); err != nil {
		return err
	}
	m.Count--
	m.DroppedPending++
	m.DroppedTotal++
	if m.DroppedFirst.IsZero() {
		m.DroppedFirst = now
	}
	m.DroppedLast = now
	return nil
}

// DroppedFunc builds the entry announcing n dropped events between first
// and last; the dispatcher supplies it so that the entry has the same shape
// as every other event.
type DroppedFunc func(sink string, n int, first, last time.Time) Entry

// Next returns up to max items of the sink's queue, oldest first, preceded
// by a pending `dropped` entry if events were dropped. The first call after
// a drop materialises that entry in its own transaction so that its id and
// count stay fixed across retries.
func Next(db *bolt.DB, sink string, max int, dropped DroppedFunc) ([]Item, error) {
	var need bool
	items, err := next(db, sink, max, &need)
	if err != nil || !need {
		return items, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := queue(tx, sink)
		if err != nil {
			return err
		}
		m, err := readMeta(b)
		if err != nil {
			return err
		}
		if m.DroppedEvent == nil && m.DroppedPending > 0 {
			e := dropped(sink, m.DroppedPending, m.DroppedFirst, m.DroppedLast)
			m.DroppedEvent = &e
			m.DroppedPending, m.DroppedFirst, m.DroppedLast = 0, time.Time{}, time.Time{}
		}
		return writeMeta(b, m)
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: %s: recording dropped events: %w", sink, err)
	}
	return next(db, sink, max, &need)
}

func next(db *bolt.DB, sink string, max int, needDropped *bool) ([]Item, error) {
	var out []Item
	*needDropped = false
	err := db.View(func(tx *bolt.Tx) error {
		b, err := queue(tx, sink)
		if err != nil {
			return err
		}
		m, err := readMeta(b)
		if err != nil {
			return err
		}
		if m.DroppedEvent == nil && m.DroppedPending > 0 {
			*needDropped = true
			return nil
		}
		if m.DroppedEvent != nil {
			out = append(out, Item{Entry: *m.DroppedEvent, Dropped: true})
		}
		c := b.Bucket(bucketQueue).Cursor()
		for k, v := c.First(); k != nil && len(out) < max; k, v = c.Next() {
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("outbox: %s: decoding entry %x: %w", sink, k, err)
			}
			out = append(out, Item{Key: append([]byte(nil), k...), Entry: e})
		}
		return nil
	})
	return out, err
}

func queue(tx *bolt.Tx, sink string) (*bolt.Bucket, error) {
	root := tx.Bucket(bucketOutbox)
	if root == nil {
		return nil, fmt.Errorf("outbox: no queue for sink %s", sink)
	}
	b := root.Bucket([]byte(sink))
	if b == nil || b.Bucket(bucketQueue) == nil {
		return nil, fmt.Errorf("outbox: no queue for sink %s", sink)
	}
	return b, nil
}

// Ack removes delivered items and records the success, in the caller's
// write transaction (one per batch).
func Ack(tx *bolt.Tx, sink string, items []Item, now time.Time) error {
	b, err := queue(tx, sink)
	if err != nil {
		return err
	}
	m, err := readMeta(b)
	if err != nil {
		return err
	}
	q, low := b.Bucket(bucketQueue), b.Bucket(bucketLow)
	for _, it := range items {
		if it.Dropped {
			if m.DroppedEvent != nil && m.DroppedEvent.ID == it.ID {
				m.DroppedEvent = nil
			}
			continue
		}
		// A dropped (overflowed) entry may already be gone; count only
		// what was still queued.
		if q.Get(it.Key) == nil {
			continue
		}
		if err := q.Delete(it.Key); err != nil {
			return err
		}
		if err := low.Delete(it.Key); err != nil {
			return err
		}
		m.Count--
	}
	m.LastSuccess = now
	return writeMeta(b, m)
}

// Fail records a delivery error for health output. msg must not contain
// secrets; callers pass their own redacted error text.
func Fail(tx *bolt.Tx, sink, msg string, now time.Time) error {
	b, err := queue(tx, sink)
	if err != nil {
		return err
	}
	m, err := readMeta(b)
	if err != nil {
		return err
	}
	m.LastError, m.LastErrorAt = msg, now
	return writeMeta(b, m)
}

// ReadStats returns every queue's state, in name order.
func ReadStats(db *bolt.DB) ([]Stats, error) {
	var out []Stats
	err := db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketOutbox)
		if root == nil {
			return nil
		}
		return root.ForEachBucket(func(name []byte) error {
			m, err := readMeta(root.Bucket(name))
			if err != nil {
				return err
			}
			depth := m.Count
			if m.DroppedEvent != nil {
				depth++
			}
			out = append(out, Stats{Name: string(name), Depth: depth, DroppedTotal: m.DroppedTotal,
				LastSuccess: m.LastSuccess, LastError: m.LastError, LastErrorAt: m.LastErrorAt})
			return nil
		})
	})
	return out, err
}

// Stage is the scan stage that puts the events earlier stages produced
// (Cycle.Events, from drift) into every registered queue, in the scan's
// transaction: an event is queued exactly when its scan commits. It does
// nothing in a dry run.
func Stage() scan.Stage {
	return scan.Stage{Name: "outbox", Run: func(tx *bolt.Tx, c *scan.Cycle) error {
		if tx == nil {
			return nil
		}
		now := c.Start
		if c.Report != nil {
			now = c.Report.ScannedAt
		}
		for _, e := range c.Events {
			if err := Enqueue(tx, Entry{ID: e.ID, Device: e.Device, Severity: e.Severity, Body: e.Body}, now); err != nil {
				return err
			}
		}
		return nil
	}}
}

// EnqueueEvent puts one event into every registered queue in tx: the
// delivery of drift events recorded outside a scan (a baseline accepted),
// as drift.Config.Enqueue.
func EnqueueEvent(tx *bolt.Tx, e scan.Event, now time.Time) error {
	return Enqueue(tx, Entry{ID: e.ID, Device: e.Device, Severity: e.Severity, Body: e.Body}, now)
}
