package compliance

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/msgguard/msgguard/policy"
)

// Bucket layout: compliance/{devices/<id>/{attestations, exemptions,
// policy_expired, first_failed}, log}.
var (
	bucketRoot          = []byte("compliance")
	bucketDevices       = []byte("devices")
	bucketAttestations  = []byte("attestations")
	bucketExemptions    = []byte("exemptions")
	bucketPolicyExpired = []byte("policy_expired")
	bucketFirstFailed   = []byte("first_failed")
	bucketLog           = []byte("log")
)

// Retention bounds what the workflow keeps. Expired attestations and
// exemptions, records of expired policy exemptions and audit entries are
// deleted MaxAge after they ended; the audit log keeps at most MaxLog
// entries. A deleted record cannot come back either: without a record a
// rule is "not yet attested", never attested.
type Retention struct {
	MaxAge time.Duration
	MaxLog int
}

// DefaultRetention keeps 90 days (the scan history's default) and 10,000
// audit entries.
var DefaultRetention = Retention{MaxAge: 90 * policy.Day, MaxLog: 10_000}

// Store keeps the workflow's records in the agent's database. A Store with
// a nil DB applies the workflow without records (a dry run): nothing is
// attested, and every failure is new.
type Store struct {
	DB        *bolt.DB
	Retention Retention
}

// NewStore returns a Store on db with the given retention (DefaultRetention
// for zero values).
func NewStore(db *bolt.DB, r Retention) *Store {
	if r.MaxAge <= 0 {
		r.MaxAge = DefaultRetention.MaxAge
	}
	if r.MaxLog <= 0 {
		r.MaxLog = DefaultRetention.MaxLog
	}
	return &Store{DB: db, Retention: r}
}

// Apply runs the workflow for one scan of inv's device in a write
// transaction of its own. A scan runs ApplyTx as a stage of its single
// transaction instead (agent/scan); Apply is for callers outside a scan.
func (s *Store) Apply(ctx context.Context, p *policy.Policy, inv *policy.Inventory, fs []policy.Finding, now time.Time, lang string) ([]policy.Finding, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s == nil || s.DB == nil {
		return s.ApplyTx(nil, p, inv, fs, now, lang)
	}
	var out []policy.Finding
	err := s.DB.Update(func(tx *bolt.Tx) (err error) {
		out, err = s.ApplyTx(tx, p, inv, fs, now, lang)
		return err
	})
	return out, err
}

// ApplyTx runs the workflow for one scan of inv's device inside the
// caller's write transaction, reading and updating its records. With a nil
// tx it is a dry run: nothing is attested and every failure is new. It
// matches agent/scan.AdjustFunc.
func (s *Store) ApplyTx(tx *bolt.Tx, p *policy.Policy, inv *policy.Inventory, fs []policy.Finding, now time.Time, lang string) ([]policy.Finding, error) {
	in := Input{Policy: p, Inventory: inv, Findings: fs, Now: now, Lang: lang}
	if tx == nil {
		return Apply(in, NewState()).Findings, nil
	}
	dev := inv.Device.ID
	if dev == "" {
		return nil, errors.New("compliance: inventory has no device id")
	}
	b, err := deviceBucket(tx, dev)
	if err != nil {
		return nil, fmt.Errorf("compliance: %w", err)
	}
	st, err := readState(b)
	if err != nil {
		return nil, fmt.Errorf("compliance: %w", err)
	}
	res := Apply(in, st)
	if err := writeState(b, st, res.State); err != nil {
		return nil, fmt.Errorf("compliance: %w", err)
	}
	if err := appendLog(tx, res.Log); err != nil {
		return nil, fmt.Errorf("compliance: %w", err)
	}
	r := DefaultRetention
	if s != nil {
		r = s.Retention
	}
	if err := (&Store{Retention: r}).prune(tx, now); err != nil {
		return nil, fmt.Errorf("compliance: %w", err)
	}
	return res.Findings, nil
}

// Attest stores a (validated) attestation and its audit entry in one
// transaction, replacing an earlier confirmation of the same rule.
func (s *Store) Attest(a Attestation) error {
	return s.DB.Update(func(tx *bolt.Tx) error {
		b, err := deviceBucket(tx, a.Device)
		if err != nil {
			return err
		}
		if err := putJSON(b.Bucket(bucketAttestations), []byte(a.Rule), a); err != nil {
			return err
		}
		return appendLog(tx, []LogEntry{{Time: a.At, Kind: LogAttested, Device: a.Device, Rule: a.Rule, By: a.By, Reason: a.Note, Until: a.Until}})
	})
}

// Exempt stores a (validated) local exemption and its audit entry in one
// transaction, replacing an earlier one with the same scope.
func (s *Store) Exempt(x Exemption) error {
	return s.DB.Update(func(tx *bolt.Tx) error {
		b, err := deviceBucket(tx, x.Device)
		if err != nil {
			return err
		}
		if err := putJSON(b.Bucket(bucketExemptions), []byte(x.Key()), x); err != nil {
			return err
		}
		return appendLog(tx, []LogEntry{{Time: x.At, Kind: LogExempted, Device: x.Device, Rule: x.Rule, Subject: x.Subject,
			User: x.User, By: x.Approver, Reason: x.Reason, Until: x.Until}})
	})
}

// Records are the stored records of every device (or one), for listing.
type Records struct {
	Attestations []Attestation `json:"attestations"`
	Exemptions   []Exemption   `json:"exemptions"`
	// FirstFailed maps device id to finding key to first failure.
	FirstFailed map[string]map[string]time.Time `json:"first_failed,omitempty"`
	// PolicyExpired maps device id to the policy exemptions seen expired.
	PolicyExpired map[string]map[string]time.Time `json:"policy_expired,omitempty"`
}

// List returns the records of device, or of every device when empty,
// sorted by device and rule.
func List(db *bolt.DB, device string) (Records, error) {
	out := Records{Attestations: []Attestation{}, Exemptions: []Exemption{},
		FirstFailed: map[string]map[string]time.Time{}, PolicyExpired: map[string]map[string]time.Time{}}
	err := db.View(func(tx *bolt.Tx) error {
		devs := devicesBucket(tx)
		if devs == nil {
			return nil
		}
		return devs.ForEachBucket(func(id []byte) error {
			if device != "" && string(id) != device {
				return nil
			}
			st, err := readState(devs.Bucket(id))
			if err != nil {
				return err
			}
			for _, k := range sortedKeys(st.Attestations) {
				out.Attestations = append(out.Attestations, st.Attestations[k])
			}
			for _, k := range sortedKeys(st.Exemptions) {
				out.Exemptions = append(out.Exemptions, st.Exemptions[k])
			}
			if len(st.FirstFailed) > 0 {
				out.FirstFailed[string(id)] = st.FirstFailed
			}
			if len(st.PolicyExpired) > 0 {
				out.PolicyExpired[string(id)] = st.PolicyExpired
			}
			return nil
		})
	})
	return out, err
}

// History returns the audit entries of device (every device when empty)
// for rule (every rule when empty), oldest first.
func History(db *bolt.DB, device, rule string) ([]LogEntry, error) {
	var out []LogEntry
	err := db.View(func(tx *bolt.Tx) (err error) {
		out, err = HistoryTx(tx, device, rule)
		return err
	})
	return out, err
}

// HistoryTx is History inside the caller's transaction (agent/records reads
// a rule's findings and history in one).
func HistoryTx(tx *bolt.Tx, device, rule string) ([]LogEntry, error) {
	var out []LogEntry
	root := tx.Bucket(bucketRoot)
	if root == nil || root.Bucket(bucketLog) == nil {
		return nil, nil
	}
	err := root.Bucket(bucketLog).ForEach(func(k, v []byte) error {
		var e LogEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return nil // a damaged entry is skipped, not fatal
		}
		if (device == "" || e.Device == device) && (rule == "" || e.Rule == rule) {
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

func devicesBucket(tx *bolt.Tx) *bolt.Bucket {
	root := tx.Bucket(bucketRoot)
	if root == nil {
		return nil
	}
	return root.Bucket(bucketDevices)
}

func deviceBucket(tx *bolt.Tx, id string) (*bolt.Bucket, error) {
	if id == "" {
		return nil, errors.New("no device id")
	}
	root, err := tx.CreateBucketIfNotExists(bucketRoot)
	if err != nil {
		return nil, err
	}
	if _, err := root.CreateBucketIfNotExists(bucketLog); err != nil {
		return nil, err
	}
	devs, err := root.CreateBucketIfNotExists(bucketDevices)
	if err != nil {
		return nil, err
	}
	dev, err := devs.CreateBucketIfNotExists([]byte(id))
	if err != nil {
		return nil, fmt.Errorf("device %s: %w", id, err)
	}
	for _, n := range [][]byte{bucketAttestations, bucketExemptions, bucketPolicyExpired, bucketFirstFailed} {
		if _, err := dev.CreateBucketIfNotExists(n); err != nil {
			return nil, fmt.Errorf("device %s: %w", id, err)
		}
	}
	return dev, nil
}

// readState loads a device's records. A damaged entry is skipped: a lost
// attestation reads as "not yet attested" (never as attested), a lost first
// failure restarts the grace period of one finding — both safer than
// failing every future scan.
func readState(dev *bolt.Bucket) (State, error) {
	st := NewState()
	if dev == nil {
		return st, nil
	}
	each := func(name []byte, fn func(k, v []byte)) {
		if b := dev.Bucket(name); b != nil {
			_ = b.ForEach(func(k, v []byte) error { fn(k, v); return nil })
		}
	}
	each(bucketAttestations, func(k, v []byte) {
		var a Attestation
		if json.Unmarshal(v, &a) == nil && a.Rule == string(k) {
			st.Attestations[a.Rule] = a
		}
	})
	each(bucketExemptions, func(k, v []byte) {
		var x Exemption
		if json.Unmarshal(v, &x) == nil && x.Key() == string(k) {
			st.Exemptions[x.Key()] = x
		}
	})
	each(bucketPolicyExpired, func(k, v []byte) {
		if t, err := time.Parse(time.RFC3339Nano, string(v)); err == nil {
			st.PolicyExpired[string(k)] = t
		}
	})
	each(bucketFirstFailed, func(k, v []byte) {
		if t, err := time.Parse(time.RFC3339Nano, string(v)); err == nil {
			st.FirstFailed[string(k)] = t
		}
	})
	return st, nil
}

// writeState writes what changed between old and cur.
func writeState(dev *bolt.Bucket, old, cur State) error {
	if err := syncJSON(dev.Bucket(bucketAttestations), old.Attestations, cur.Attestations); err != nil {
		return err
	}
	if err := syncJSON(dev.Bucket(bucketExemptions), old.Exemptions, cur.Exemptions); err != nil {
		return err
	}
	if err := syncTimes(dev.Bucket(bucketPolicyExpired), old.PolicyExpired, cur.PolicyExpired); err != nil {
		return err
	}
	return syncTimes(dev.Bucket(bucketFirstFailed), old.FirstFailed, cur.FirstFailed)
}

func syncJSON[V comparable](b *bolt.Bucket, old, cur map[string]V) error {
	for k, v := range cur {
		if o, ok := old[k]; ok && o == v {
			continue
		}
		if err := putJSON(b, []byte(k), v); err != nil {
			return err
		}
	}
	for k := range old {
		if _, ok := cur[k]; !ok {
			if err := b.Delete([]byte(k)); err != nil {
				return err
			}
		}
	}
	return nil
}

func syncTimes(b *bolt.Bucket, old, cur map[string]time.Time) error {
	for k, v := range cur {
		if o, ok := old[k]; ok && o.Equal(v) {
			continue
		}
		if err := b.Put([]byte(k), []byte(v.UTC().Format(time.RFC3339Nano))); err != nil {
			return err
		}
	}
	for k := range old {
		if _, ok := cur[k]; !ok {
			if err := b.Delete([]byte(k)); err != nil {
				return err
			}
		}
	}
	return nil
}

func putJSON(b *bolt.Bucket, k []byte, v any) error {
	buf, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", k, err)
	}
	return b.Put(k, buf)
}

func appendLog(tx *bolt.Tx, entries []LogEntry) error {
	if len(entries) == 0 {
		return nil
	}
	root, err := tx.CreateBucketIfNotExists(bucketRoot)
	if err != nil {
		return err
	}
	lb, err := root.CreateBucketIfNotExists(bucketLog)
	if err != nil {
		return err
	}
	for _, e := range entries {
		seq, err := lb.NextSequence()
		if err != nil {
			return err
		}
		if err := putJSON(lb, binary.BigEndian.AppendUint64(nil, seq), e); err != nil {
			return err
		}
	}
	return nil
}

// prune applies retention: expired records and policy-expiry marks seen
// more than MaxAge ago, audit entries more than MaxAge after both their time
// and the end of the record they describe, and the oldest entries beyond
// MaxLog.
func (s *Store) prune(tx *bolt.Tx, now time.Time) error {
	cutoff := now.Add(-s.Retention.MaxAge)
	if devs := devicesBucket(tx); devs != nil {
		err := devs.ForEachBucket(func(id []byte) error {
			dev := devs.Bucket(id)
			if err := pruneJSON(dev.Bucket(bucketAttestations), func(v []byte) bool {
				var a Attestation
				return json.Unmarshal(v, &a) == nil && ended(a.ExpiredAt, cutoff)
			}); err != nil {
				return err
			}
			if err := pruneJSON(dev.Bucket(bucketExemptions), func(v []byte) bool {
				var x Exemption
				return json.Unmarshal(v, &x) == nil && ended(x.ExpiredAt, cutoff)
			}); err != nil {
				return err
			}
			return pruneJSON(dev.Bucket(bucketPolicyExpired), func(v []byte) bool {
				t, err := time.Parse(time.RFC3339Nano, string(v))
				return err == nil && t.Before(cutoff)
			})
		})
		if err != nil {
			return err
		}
	}
	root := tx.Bucket(bucketRoot)
	if root == nil || root.Bucket(bucketLog) == nil {
		return nil
	}
	lb := root.Bucket(bucketLog)
	c := lb.Cursor()
	// Count with the cursor: Bucket.Stats does not see keys put in this
	// still-open transaction. The log only grows on attest, exempt and
	// expiry, so it stays small.
	n := 0
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	for k, v := c.First(); k != nil; k, v = c.First() {
		var e LogEntry
		// An entry about a record is kept while the record matters: until
		// MaxAge after the later of its time and the record's end.
		old := json.Unmarshal(v, &e) == nil && e.Time.Before(cutoff) && e.Until.Before(cutoff)
		if !old && n <= s.Retention.MaxLog {
			break
		}
		if err := c.Delete(); err != nil {
			return err
		}
		n--
	}
	return nil
}

// ended reports whether a scan saw the record expired before cutoff. Only
// records a scan has seen expired are pruned, so that the expiry (and the
// drift event it causes) always happens before the record goes.
func ended(expiredAt, cutoff time.Time) bool {
	return !expiredAt.IsZero() && expiredAt.Before(cutoff)
}

func pruneJSON(b *bolt.Bucket, old func(v []byte) bool) error {
	if b == nil {
		return nil
	}
	var del [][]byte
	_ = b.ForEach(func(k, v []byte) error {
		if old(v) {
			del = append(del, append([]byte(nil), k...))
		}
		return nil
	})
	for _, k := range del {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
