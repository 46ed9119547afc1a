// Package drift answers "what changed on this device, and when?": it keeps a
// baseline and the confirmed state of every device in the agent's bbolt
// database and turns each scan into drift events — transitions, never
// states (osquery's differential results, Wazuh's "alert only when a check's
// result changes"; docs/drift.md).
//
// The first scan of a device sets its baseline silently (Wazuh's
// notify_first_scan=no); a rebuilt database or a changed policy yields one
// `reset` event instead of a storm (osquery #2162); a change must hold for N
// scans before it is confirmed (debounce); process-only evidence never makes
// an event (osquery #4270 churn). Events are stored with bounded retention,
// and a periodic `summary` carries a checksum over the current findings so
// that a collector can notice lost events (Wazuh's integrity checksum).
package drift

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/msgguard/msgguard/agent/scan"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/agent/store"
	"github.com/msgguard/msgguard/policy"
)

// Config tunes drift detection. Start from DefaultConfig.
type Config struct {
	// Debounce is the number of consecutive scans a change must hold before
	// it is reported (1 = report at once).
	Debounce int
	// Versions reports messenger version changes (low severity) when true.
	Versions bool
	// SummaryInterval is how often a state summary is emitted (0 = never).
	SummaryInterval time.Duration
	// MaxAge and MaxEvents bound the stored events.
	MaxAge    time.Duration
	MaxEvents int
	// Now is the clock for Accept; scans use their own ScannedAt.
	Now func() time.Time
	// Enqueue hands an event stored by Hook or Accept to delivery in the
	// same transaction (agent/report/outbox.EnqueueEvent); nil stores it
	// only. The scan stage hands its events to the outbox stage instead.
	Enqueue func(tx *bolt.Tx, e scan.Event, now time.Time) error
}

// DefaultConfig reports at once, tracks versions, summarises daily and
// keeps 90 days or 10,000 events.
func DefaultConfig() Config {
	return Config{Debounce: 1, Versions: true, SummaryInterval: 24 * time.Hour,
		MaxAge: 90 * 24 * time.Hour, MaxEvents: 10_000, Now: time.Now}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Debounce < 1 {
		c.Debounce = d.Debounce
	}
	if c.MaxEvents <= 0 {
		c.MaxEvents = d.MaxEvents
	}
	if c.MaxAge <= 0 {
		c.MaxAge = d.MaxAge
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Bucket layout: drift/{events, devices/<id>/{state, pending, baseline,
// baseline_pending}} with a meta key per device.
var (
	bucketDrift    = []byte("drift")
	bucketEvents   = []byte("events")
	bucketDevices  = []byte("devices")
	bucketState    = []byte("state")
	bucketPending  = []byte("pending")
	bucketBaseline = []byte("baseline")
	keyMeta        = []byte("meta")
	keyEventCount  = []byte("event_count")
)

// BaselineInfo describes a device's baseline.
type BaselineInfo struct {
	SetAt time.Time `json:"set_at"`
	// Reason is "first_scan", "accepted" or "reset".
	Reason string `json:"reason"`
	By     string `json:"by,omitempty"`
	Why    string `json:"why,omitempty"`
	ScanID string `json:"scan_id,omitempty"`
	// PolicySHA is the policy in force when the baseline was set.
	PolicySHA string `json:"policy_sha256,omitempty"`
}

// devMeta is a device's drift bookkeeping.
type devMeta struct {
	PolicySHA  string       `json:"policy_sha256"`
	SummaryAt  time.Time    `json:"summary_at,omitzero"`
	LastScanID string       `json:"last_scan_id,omitempty"`
	LastScanAt time.Time    `json:"last_scan_at,omitzero"`
	Hostname   string       `json:"hostname,omitempty"`
	Compliant  bool         `json:"compliant"`
	Baseline   BaselineInfo `json:"baseline"`
}

// Hook returns the store hook that computes drift for every recorded scan
// and, in the same transaction, stores the events and enqueues them into
// every registered sink outbox. st supplies the "database rebuilt" marker;
// it may be nil in tests.
func Hook(st *store.Store, cfg Config) store.Hook {
	cfg = cfg.withDefaults()
	return func(tx *bolt.Tx, _, cur *status.Report) error {
		reset := ""
		if st != nil {
			reset = st.TakeReset(tx)
		}
		_, err := apply(tx, cfg, cur, reset, func(tx *bolt.Tx) emitFunc { return enqueueIn(tx, cfg.Enqueue, cur.ScannedAt) })
		return err
	}
}

// Stage is the scan stage that computes drift for the cycle's recorded
// report and stores the events in the scan's transaction; it hands them to
// the next stage (agent/report/outbox.Stage) as Cycle.Events for delivery.
// st supplies the "database rebuilt" marker; it may be nil in tests. It
// does nothing in a dry run.
func Stage(st *store.Store, cfg Config) scan.Stage {
	cfg = cfg.withDefaults()
	return scan.Stage{Name: "drift", Run: func(tx *bolt.Tx, c *scan.Cycle) error {
		if tx == nil {
			return nil
		}
		if c.Report == nil || c.Report.ScanID == "" {
			return errors.New("no recorded report (the record stage must come first)")
		}
		reset := ""
		if st != nil {
			reset = st.TakeReset(tx)
		}
		collect := func(*bolt.Tx) emitFunc {
			return func(e *Event, body []byte) error {
				c.Events = append(c.Events, scan.Event{ID: e.ID, Device: e.Device, Severity: e.Severity, Body: body})
				return nil
			}
		}
		_, err := apply(tx, cfg, c.Report, reset, collect)
		return err
	}}
}

// apply runs drift for one scan and returns the events it stored.
func apply(tx *bolt.Tx, cfg Config, cur *status.Report, reset string, emit func(tx *bolt.Tx) emitFunc) ([]Event, error) {
	if cur.Device.ID == "" {
		return nil, errors.New("drift: report has no device id")
	}
	dev, err := deviceBucket(tx, cur.Device.ID)
	if err != nil {
		return nil, err
	}
	meta, hasMeta, err := readMeta(dev)
	if err != nil {
		return nil, err
	}
	snap := takeSnapshot(cur, snapshotOptions{versions: cfg.Versions})
	m := eventMeta{device: cur.Device.ID, hostname: cur.Device.Hostname, scanID: cur.ScanID, at: cur.ScannedAt}
	var events []Event
	summaryReason := ""
	switch {
	case !hasMeta && reset == "":
		if err := rebaseline(dev, snap, &meta, cur, "first_scan"); err != nil {
			return nil, err
		}
		summaryReason = "first scan: baseline set"
	case reset != "" || meta.PolicySHA != cur.Policy.SHA256:
		if reset == "" {
			reset = fmt.Sprintf("policy changed from %s to %s", short(meta.PolicySHA), short(cur.Policy.SHA256))
		}
		if err := rebaseline(dev, snap, &meta, cur, "reset"); err != nil {
			return nil, err
		}
		events = append(events, Event{SchemaVersion: EventSchemaVersion, Kind: KindReset, Severity: policy.SeverityMedium,
			Reason: reset, Message: "drift state reset, new baseline set: " + reset,
			ID: eventID(m.device, m.scanID, string(KindReset))})
		summaryReason = "after reset: " + reset
	default:
		evs, err := applyDiff(dev, snap, cfg.Debounce, m)
		if err != nil {
			return nil, err
		}
		events = append(events, evs...)
	}
	meta.PolicySHA, meta.LastScanID, meta.LastScanAt = cur.Policy.SHA256, cur.ScanID, cur.ScannedAt
	meta.Hostname, meta.Compliant = cur.Device.Hostname, cur.Compliant
	if cfg.SummaryInterval > 0 && (summaryReason != "" || meta.SummaryAt.IsZero() ||
		!cur.ScannedAt.Before(meta.SummaryAt.Add(cfg.SummaryInterval)) || cur.ScannedAt.Before(meta.SummaryAt)) {
		sum, err := summary(dev, cur, summaryReason)
		if err != nil {
			return nil, err
		}
		events = append(events, sum)
		meta.SummaryAt = cur.ScannedAt
	}
	if err := writeMeta(dev, meta); err != nil {
		return nil, err
	}
	for i := range events {
		e := &events[i]
		e.Device, e.Hostname, e.ScanID, e.Time = m.device, m.hostname, m.scanID, m.at
	}
	if err := record(tx, events, cfg, cur.ScannedAt, emit(tx)); err != nil {
		return nil, err
	}
	return events, nil
}

func short(sha string) string {
	if sha == "" {
		return "(none)"
	}
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func deviceBucket(tx *bolt.Tx, id string) (*bolt.Bucket, error) {
	root, err := tx.CreateBucketIfNotExists(bucketDrift)
	if err != nil {
		return nil, fmt.Errorf("drift: %w", err)
	}
	if _, err := root.CreateBucketIfNotExists(bucketEvents); err != nil {
		return nil, fmt.Errorf("drift: %w", err)
	}
	devs, err := root.CreateBucketIfNotExists(bucketDevices)
	if err != nil {
		return nil, fmt.Errorf("drift: %w", err)
	}
	dev, err := devs.CreateBucketIfNotExists([]byte(id))
	if err != nil {
		return nil, fmt.Errorf("drift: device %s: %w", id, err)
	}
	for _, n := range [][]byte{bucketState, bucketPending, bucketBaseline} {
		if _, err := dev.CreateBucketIfNotExists(n); err != nil {
			return nil, fmt.Errorf("drift: device %s: %w", id, err)
		}
	}
	return dev, nil
}

func readMeta(dev *bolt.Bucket) (devMeta, bool, error) {
	var m devMeta
	v := dev.Get(keyMeta)
	if v == nil {
		return m, false, nil
	}
	if err := json.Unmarshal(v, &m); err != nil {
		return m, false, fmt.Errorf("drift: decoding device state: %w", err)
	}
	return m, true, nil
}

func writeMeta(dev *bolt.Bucket, m devMeta) error {
	v, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return dev.Put(keyMeta, v)
}

// readItems loads a bucket of items. A damaged entry is skipped (it will
// be rewritten by the next change of that item) rather than failing every
// future scan.
func readItems(b *bolt.Bucket) []item {
	out := make([]item, 0, 256)
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if it, err := decodeItemKey(string(k), v); err == nil {
			out = append(out, it) // cursor order is key order
		}
	}
	return out
}

func readPending(b *bolt.Bucket) map[string]pending {
	out := map[string]pending{}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if p, err := decodePending(v); err == nil {
			out[string(k)] = p
		}
	}
	return out
}

// applyDiff compares the stored state with snap, writes the new state and
// pending candidates, and returns the confirmed events.
func applyDiff(dev *bolt.Bucket, snap snapshot, debounce int, m eventMeta) ([]Event, error) {
	stateB, pendB := dev.Bucket(bucketState), dev.Bucket(bucketPending)
	res := diff(readItems(stateB), readPending(pendB), snap, debounce)
	for _, it := range res.statePut {
		if err := stateB.Put([]byte(it.k), it.encode()); err != nil {
			return nil, err
		}
	}
	for _, k := range res.stateDel {
		if err := stateB.Delete([]byte(k)); err != nil {
			return nil, err
		}
	}
	for k, p := range res.pendingPut {
		if err := pendB.Put([]byte(k), p.encode()); err != nil {
			return nil, err
		}
	}
	for _, k := range res.pendingDel {
		if err := pendB.Delete([]byte(k)); err != nil {
			return nil, err
		}
	}
	return buildEvents(res.changes, m), nil
}

// rebaseline replaces state and baseline with snap and clears pending
// candidates.
func rebaseline(dev *bolt.Bucket, snap snapshot, meta *devMeta, cur *status.Report, reason string) error {
	for _, n := range [][]byte{bucketState, bucketPending, bucketBaseline} {
		if err := dev.DeleteBucket(n); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
			return err
		}
		if _, err := dev.CreateBucket(n); err != nil {
			return err
		}
	}
	stateB, baseB := dev.Bucket(bucketState), dev.Bucket(bucketBaseline)
	for _, it := range snap.items {
		if snap.volatile[it.k] {
			continue // process-only: not part of the confirmed state
		}
		v := it.encode()
		if err := stateB.Put([]byte(it.k), v); err != nil {
			return err
		}
		if err := baseB.Put([]byte(it.k), v); err != nil {
			return err
		}
	}
	meta.Baseline = BaselineInfo{SetAt: cur.ScannedAt, Reason: reason, ScanID: cur.ScanID, PolicySHA: cur.Policy.SHA256}
	return nil
}

// summary builds the periodic state summary from the confirmed state.
func summary(dev *bolt.Bucket, cur *status.Report, reason string) (Event, error) {
	state := readItems(dev.Bucket(bucketState))
	sum, counts := checksum(state)
	compliant := cur.Compliant
	e := Event{SchemaVersion: EventSchemaVersion, Kind: KindSummary, Severity: policy.SeverityInfo,
		Checksum: sum, Counts: counts, Compliant: &compliant,
		ID: eventID(cur.Device.ID, cur.ScanID, string(KindSummary))}
	verdict := "not compliant"
	if compliant {
		verdict = "compliant"
	}
	e.Message = fmt.Sprintf("state summary: %s; %d failing, %d unknown, %d passing findings", verdict,
		counts[string(policy.StatusFail)], counts[string(policy.StatusUnknown)], counts[string(policy.StatusPass)])
	e.Reason = reason
	return e, nil
}

// checksum hashes the confirmed findings so that a collector that applied
// every event can verify it holds the same state: SHA-256 over the lines
// "<rule>|<subject>|<user>=<status>\n" sorted bytewise, hex-encoded. It
// also counts findings by status.
func checksum(state []item) (string, map[string]int) {
	lines := make([]string, 0, len(state))
	counts := map[string]int{}
	for _, it := range state {
		if it.kind != itemFinding {
			continue
		}
		lines = append(lines, it.rule+"|"+it.subject+"|"+it.user+"="+it.value+"\n")
		counts[it.value]++
	}
	slices.Sort(lines)
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
	}
	return hex.EncodeToString(h.Sum(nil)), counts
}

// Checksum computes the summary checksum over findings as a collector
// would: the same lines as above, from the findings it last saw. Findings
// whose evidence is only a running process are left out, as drift does.
func Checksum(fs []policy.Finding) string {
	var state []item
	for _, f := range fs {
		if processOnly(f.Evidence) {
			continue
		}
		it := item{kind: itemFinding, rule: f.Rule, subject: f.Subject, user: f.User, value: string(f.Status)}
		it.key()
		state = append(state, it)
	}
	s, _ := checksum(sortItems(state))
	return s
}

// record appends events to the event log, enqueues them for delivery and
// applies retention.
// emitFunc receives each stored event with its encoded body.
type emitFunc func(e *Event, body []byte) error

// enqueueIn returns the emitFunc that hands events to enqueue (nil: none)
// in tx.
func enqueueIn(tx *bolt.Tx, enqueue func(*bolt.Tx, scan.Event, time.Time) error, now time.Time) emitFunc {
	return func(e *Event, body []byte) error {
		if enqueue == nil {
			return nil
		}
		return enqueue(tx, scan.Event{ID: e.ID, Device: e.Device, Severity: e.Severity, Body: body}, now)
	}
}

// record stores events and hands each, encoded, to emit.
func record(tx *bolt.Tx, events []Event, cfg Config, now time.Time, emit emitFunc) error {
	root := tx.Bucket(bucketDrift)
	evB := root.Bucket(bucketEvents)
	n := count(root)
	for i := range events {
		e := &events[i]
		seq, err := evB.NextSequence()
		if err != nil {
			return err
		}
		e.Seq = seq
		body, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("drift: encoding event: %w", err)
		}
		if err := evB.Put(binary.BigEndian.AppendUint64(nil, seq), body); err != nil {
			return err
		}
		n++
		if err := emit(e, body); err != nil {
			return err
		}
	}
	n, err := prune(evB, n, cfg, now)
	if err != nil {
		return err
	}
	return root.Put(keyEventCount, binary.BigEndian.AppendUint64(nil, uint64(n)))
}

func count(root *bolt.Bucket) int {
	v := root.Get(keyEventCount)
	if len(v) != 8 {
		n := 0
		c := root.Bucket(bucketEvents).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			n++
		}
		return n
	}
	return int(binary.BigEndian.Uint64(v))
}

// prune deletes events older than MaxAge and the oldest beyond MaxEvents.
func prune(evB *bolt.Bucket, n int, cfg Config, now time.Time) (int, error) {
	cutoff := now.Add(-cfg.MaxAge)
	c := evB.Cursor()
	for k, v := c.First(); k != nil; k, v = c.First() {
		if n <= cfg.MaxEvents {
			var e struct {
				Time time.Time `json:"time"`
			}
			if json.Unmarshal(v, &e) == nil && !e.Time.Before(cutoff) {
				break
			}
		}
		if err := c.Delete(); err != nil {
			return n, err
		}
		n--
	}
	return max(n, 0), nil
}

// List returns the stored events with Time at or after since, oldest first.
// It opens its own read transaction; the daemon's local API and the CLI
// both use it.
func List(db *bolt.DB, since time.Time) ([]Event, error) {
	var out []Event
	err := db.View(func(tx *bolt.Tx) (err error) {
		out, err = ListTx(tx, since)
		return err
	})
	return out, err
}

// ListTx is List inside the caller's transaction (agent/records reads a
// rule's findings and history in one).
func ListTx(tx *bolt.Tx, since time.Time) ([]Event, error) {
	var out []Event
	root := tx.Bucket(bucketDrift)
	if root == nil || root.Bucket(bucketEvents) == nil {
		return nil, nil
	}
	c := root.Bucket(bucketEvents).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var e Event
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, fmt.Errorf("drift: decoding event %x: %w", k, err)
		}
		if !e.Time.Before(since) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Baseline is a device's baseline with what differs from it now.
type Baseline struct {
	Device   string       `json:"device"`
	Hostname string       `json:"hostname,omitempty"`
	Info     BaselineInfo `json:"baseline"`
	// LastScan is the newest scan drift has seen for the device.
	LastScanAt time.Time `json:"last_scan_at"`
	// Differences are the confirmed changes since the baseline, phrased as
	// the events they would be (without ids).
	Differences []Event `json:"differences"`
}

// Baselines returns every device's baseline (or only device's when not
// empty) with its differences from the current confirmed state.
func Baselines(db *bolt.DB, device string) ([]Baseline, error) {
	var out []Baseline
	err := db.View(func(tx *bolt.Tx) error {
		devs := devicesBucket(tx)
		if devs == nil {
			return nil
		}
		return devs.ForEachBucket(func(id []byte) error {
			if device != "" && string(id) != device {
				return nil
			}
			dev := devs.Bucket(id)
			meta, ok, err := readMeta(dev)
			if err != nil || !ok {
				return err
			}
			b := Baseline{Device: string(id), Hostname: meta.Hostname, Info: meta.Baseline, LastScanAt: meta.LastScanAt}
			b.Differences = differences(readItems(dev.Bucket(bucketBaseline)), readItems(dev.Bucket(bucketState)))
			for i := range b.Differences {
				b.Differences[i].Device, b.Differences[i].Hostname = b.Device, b.Hostname
			}
			out = append(out, b)
			return nil
		})
	})
	return out, err
}

func devicesBucket(tx *bolt.Tx) *bolt.Bucket {
	root := tx.Bucket(bucketDrift)
	if root == nil {
		return nil
	}
	return root.Bucket(bucketDevices)
}

func differences(base, state []item) []Event {
	res := diff(base, nil, snapshot{items: state}, 1)
	evs := buildEvents(res.changes, eventMeta{})
	for i := range evs {
		evs[i].ID, evs[i].SchemaVersion = "", 0
	}
	return evs
}

// Accept makes the current confirmed state the baseline of device (every
// device when empty), recording who accepted it and why, and emits one
// `baseline` event per device (stored and enqueued for delivery).
func Accept(db *bolt.DB, cfg Config, device, by, why string) ([]Event, error) {
	cfg = cfg.withDefaults()
	by, why = strings.TrimSpace(by), strings.TrimSpace(why)
	if by == "" || why == "" {
		return nil, errors.New("accepting a baseline needs who (--by) and why (--why)")
	}
	now := cfg.Now().UTC()
	var events []Event
	err := db.Update(func(tx *bolt.Tx) error {
		devs := devicesBucket(tx)
		if devs == nil {
			return errors.New("no drift state recorded yet; run a scan first")
		}
		var ids [][]byte
		if err := devs.ForEachBucket(func(k []byte) error {
			if device == "" || string(k) == device {
				ids = append(ids, append([]byte(nil), k...))
			}
			return nil
		}); err != nil {
			return err
		}
		if len(ids) == 0 {
			return fmt.Errorf("no drift state recorded for device %q", device)
		}
		for _, id := range ids {
			e, err := accept(devs.Bucket(id), string(id), by, why, now)
			if err != nil {
				return err
			}
			events = append(events, e)
		}
		return record(tx, events, cfg, now, enqueueIn(tx, cfg.Enqueue, now))
	})
	if err != nil {
		return nil, err
	}
	return events, nil
}

func accept(dev *bolt.Bucket, id, by, why string, now time.Time) (Event, error) {
	meta, ok, err := readMeta(dev)
	if err != nil {
		return Event{}, err
	}
	if !ok {
		return Event{}, fmt.Errorf("no drift state recorded for device %q", id)
	}
	if err := dev.DeleteBucket(bucketBaseline); err != nil {
		return Event{}, err
	}
	baseB, err := dev.CreateBucket(bucketBaseline)
	if err != nil {
		return Event{}, err
	}
	c := dev.Bucket(bucketState).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := baseB.Put(k, v); err != nil {
			return Event{}, err
		}
	}
	meta.Baseline = BaselineInfo{SetAt: now, Reason: "accepted", By: by, Why: why, ScanID: meta.LastScanID, PolicySHA: meta.PolicySHA}
	if err := writeMeta(dev, meta); err != nil {
		return Event{}, err
	}
	return Event{SchemaVersion: EventSchemaVersion, ID: eventID(id, now.Format(time.RFC3339Nano), string(KindBaselineAccepted)),
		Device: id, Hostname: meta.Hostname, Time: now, ScanID: meta.LastScanID, Kind: KindBaselineAccepted,
		Severity: policy.SeverityMedium, By: by, Reason: why,
		Message: fmt.Sprintf("baseline accepted by %s: %s", by, why)}, nil
}

// RedactEvent returns e as the local user (empty: not resolved) may see it,
// or false when it is about another user. The view is built from the
// structured fields, not by editing texts: it copies the fields that
// describe the device's state (kind, rule, subject, the viewer's own user,
// attribute, values, statuses, counts) and leaves out the personal ones
// (who accepted a baseline, reasons, which may name people or quote a
// ticket) and the operational ones (a reset's reason names the moved-aside
// database file). Its message is rendered from the copied fields only
// (redactedMessage), so no text written for administrators — which quotes
// By and Reason, a browser profile's name or a file path — reaches it.
// A messenger that moved from another user's account says "another user".
func RedactEvent(e Event, user string) (Event, bool) {
	if e.User != "" && e.User != user {
		return Event{}, false
	}
	out := Event{SchemaVersion: e.SchemaVersion, ID: e.ID, Seq: e.Seq, Device: e.Device, Hostname: e.Hostname,
		Time: e.Time, ScanID: e.ScanID, Kind: e.Kind, Rule: e.Rule, Subject: e.Subject, User: e.User,
		Attribute: e.Attribute, Variant: e.Variant, Before: e.Before, After: e.After,
		StatusBefore: e.StatusBefore, StatusAfter: e.StatusAfter, Severity: e.Severity, Direction: e.Direction,
		Checksum: e.Checksum, Counts: e.Counts, Compliant: e.Compliant, Count: e.Count}
	if out.Kind == KindMessengerChanged && out.Attribute == "user" && out.Before != "" && out.Before != user {
		out.Before = anotherUser
	}
	out.Message = redactedMessage(out)
	return out, true
}

// anotherUser stands for a user account other than the viewer's.
const anotherUser = "(another user)"

// redactedMessage renders a non-administrator's message for e from its
// structured fields alone.
func redactedMessage(e Event) string {
	var msg string
	switch e.Kind {
	case KindFindingAppeared, KindFindingChanged, KindFindingDisappeared:
		return fmt.Sprintf("rule %s%s: %s → %s", e.Rule, scope(e.Subject, e.User),
			orNone(string(e.StatusBefore)), orNone(string(e.StatusAfter)))
	case KindMessengerAppeared:
		msg = fmt.Sprintf("messenger %s (%s) appeared %s", e.Subject, orNone(e.Variant), whereUser(e.User))
	case KindMessengerGone:
		msg = fmt.Sprintf("messenger %s (%s) disappeared %s", e.Subject, orNone(e.Variant), whereUser(e.User))
	case KindMessengerChanged:
		if e.Attribute == "user" {
			from := userOrSystem(e.Before)
			if e.Before == anotherUser {
				from = "another user"
			}
			msg = fmt.Sprintf("messenger %s (%s) moved from %s to %s", e.Subject, orNone(e.Variant), from, userOrSystem(e.After))
		} else {
			msg = fmt.Sprintf("messenger %s %s: variant %s → %s", e.Subject, whereUser(e.User), orNone(e.Before), orNone(e.After))
		}
	case KindPostureChanged:
		msg = fmt.Sprintf("%s%s: %s → %s", e.Attribute, scope(e.Subject, e.User), orNone(e.Before), orNone(e.After))
	case KindVersionChanged:
		msg = fmt.Sprintf("messenger %s%s version %s → %s", e.Subject, scope("", e.User), orNone(e.Before), orNone(e.After))
	case KindBaselineAccepted:
		return "baseline accepted"
	case KindReset:
		return "drift state reset, new baseline set"
	case KindSummary:
		verdict := "not compliant"
		if e.Compliant != nil && *e.Compliant {
			verdict = "compliant"
		}
		return fmt.Sprintf("state summary: %s; %d failing, %d unknown, %d passing findings", verdict,
			e.Counts[string(policy.StatusFail)], e.Counts[string(policy.StatusUnknown)], e.Counts[string(policy.StatusPass)])
	case KindDropped:
		return fmt.Sprintf("outbox of sink %s was full: %d older low-severity event(s) dropped", e.Subject, e.Count)
	default:
		return string(e.Kind)
	}
	if e.Rule != "" {
		msg += fmt.Sprintf("; rule %s: %s → %s", e.Rule, orNone(string(e.StatusBefore)), orNone(string(e.StatusAfter)))
	}
	return msg
}

// whereUser renders "system-wide" or "for user x".
func whereUser(u string) string {
	if u == "" {
		return "system-wide"
	}
	return "for user " + u
}
