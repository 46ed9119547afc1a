// Package store keeps the agent's state in a bbolt database: every scan (a
// small time-ordered record), the latest report per device, and the buckets
// that other parts of the agent (drift, outbox, attestations) add in the same
// transactions. It survives corruption by moving a damaged file aside and
// starting afresh, and it never holds the database longer than a call.
package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/msgguard/msgguard/agent/status"
)

// SchemaVersion is the on-disk layout version kept in the meta bucket.
const SchemaVersion = 1

// Bucket names. Devices hold one sub-bucket per device ID with the
// per-device buckets below.
var (
	bucketMeta    = []byte("meta")
	bucketDevices = []byte("devices")
	bucketScans   = []byte("scans")
	bucketLatest  = []byte("latest")

	keySchema  = []byte("schema")
	keyCreated = []byte("created")
	keyReset   = []byte("reset")
	keyPrimary = []byte("primary_device")
	keyReport  = []byte("report")
	keyHash    = []byte("hash")
)

// Errors callers turn into exit codes and hints.
var (
	// ErrNoScan means no scan has been recorded for the device yet.
	ErrNoScan = errors.New("no scan recorded yet")
	// ErrNoDatabase means the database file does not exist (read-only open).
	ErrNoDatabase = errors.New("no database")
	// ErrLocked means another process (normally the running service) holds
	// the database.
	ErrLocked = errors.New("database is locked by another process")
)

// Retention bounds the scan history.
type Retention struct {
	MaxAge   time.Duration
	MaxScans int
}

// DefaultRetention keeps 90 days or 2,000 scans, whichever is fewer.
var DefaultRetention = Retention{MaxAge: 90 * 24 * time.Hour, MaxScans: 2000}

// Options configure Open.
type Options struct {
	// Timeout bounds the wait for the file lock; default 2 s.
	Timeout   time.Duration
	ReadOnly  bool
	Retention Retention
	// Now is the clock; default time.Now.
	Now func() time.Time
	Log zerolog.Logger
}

// Store is an open state database.
type Store struct {
	db   *bolt.DB
	path string
	opts Options
	// Recovered names the file a corrupt database was moved to, if Open had
	// to rebuild it.
	Recovered string
}

// Open opens (creating if needed) the database at path. A corrupt or
// unreadable database file is moved aside as "<path>.corrupt-<time>" and a
// fresh one is created, with a warning logged and a reset marker stored, so
// that a damaged file can never put the service into a crash loop. A file
// locked by another process yields ErrLocked after opts.Timeout; it is never
// moved aside.
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Retention == (Retention{}) {
		opts.Retention = DefaultRetention
	}
	if opts.ReadOnly {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("opening %s: %w", path, ErrNoDatabase)
		}
		db, err := openChecked(path, opts)
		if err != nil {
			return nil, err
		}
		return &Store{db: db, path: path, opts: opts}, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating database directory: %w", err)
	}
	s := &Store{path: path, opts: opts}
	db, err := openChecked(path, opts)
	var corrupt *corruptError
	if errors.As(err, &corrupt) {
		aside := fmt.Sprintf("%s.corrupt-%s", path, opts.Now().UTC().Format("20060102T150405Z"))
		if rerr := os.Rename(path, aside); rerr != nil {
			return nil, fmt.Errorf("moving corrupt database %s aside: %w (corruption: %v)", path, rerr, err)
		}
		opts.Log.Warn().Str("path", path).Str("moved_to", aside).Str("reason", corrupt.Error()).
			Msg("database_corrupt_rebuilt")
		s.Recovered = aside
		db, err = openChecked(path, opts)
	}
	if err != nil {
		return nil, err
	}
	s.db = db
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// corruptError marks an open failure that means the file is damaged (as
// opposed to locked or not permitted).
type corruptError struct{ err error }

func (e *corruptError) Error() string { return e.err.Error() }
func (e *corruptError) Unwrap() error { return e.err }

// openChecked opens the file and runs bbolt's consistency check. bbolt may
// panic on a corrupt page; the panic is turned into a corruptError.
func openChecked(path string, opts Options) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			if db != nil {
				db.Close()
			}
			db, err = nil, &corruptError{fmt.Errorf("opening %s: bbolt panicked: %v", path, r)}
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout, ReadOnly: opts.ReadOnly})
	if err != nil {
		return nil, classify(path, err)
	}
	var checkErr error
	err = db.View(func(tx *bolt.Tx) error {
		for e := range tx.Check() {
			if checkErr == nil {
				checkErr = e
			}
		}
		return nil
	})
	if err == nil && checkErr != nil {
		err = &corruptError{fmt.Errorf("checking %s: %w", path, checkErr)}
	}
	if err == nil {
		err = checkSchema(db, path)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func classify(path string, err error) error {
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return fmt.Errorf("opening %s: %w", path, ErrLocked)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("opening %s: %w", path, err)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrVersionMismatch),
		errors.Is(err, bolterrors.ErrChecksum):
		return &corruptError{fmt.Errorf("opening %s: %w", path, err)}
	}
	// Anything else from a file that exists and is a regular file (short
	// file, bad mmap size, unreadable meta page) is treated as damage.
	if st, serr := os.Lstat(path); serr == nil && st.Mode().IsRegular() {
		return &corruptError{fmt.Errorf("opening %s: %w", path, err)}
	}
	return fmt.Errorf("opening %s: %w", path, err)
}

// checkSchema refuses a database written by a newer agent (treated as
// foreign, not corrupt: it is returned as an error and left alone).
func checkSchema(db *bolt.DB, path string) error {
	return db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if m == nil {
			return nil
		}
		v := m.Get(keySchema)
		if v == nil {
			return nil
		}
		if len(v) != 8 {
			return &corruptError{fmt.Errorf("%s: meta/schema has %d bytes", path, len(v))}
		}
		if n := binary.BigEndian.Uint64(v); n > SchemaVersion {
			return fmt.Errorf("%s: schema version %d is newer than this agent's %d", path, n, SchemaVersion)
		}
		return nil
	})
}

func (s *Store) init() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		m, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucketIfNotExists(bucketDevices); err != nil {
			return err
		}
		if m.Get(keySchema) == nil {
			if err := m.Put(keySchema, binary.BigEndian.AppendUint64(nil, SchemaVersion)); err != nil {
				return err
			}
			if err := m.Put(keyCreated, []byte(s.opts.Now().UTC().Format(time.RFC3339Nano))); err != nil {
				return err
			}
		}
		if s.Recovered != "" {
			return m.Put(keyReset, []byte("database rebuilt after corruption; damaged file kept at "+s.Recovered))
		}
		return nil
	})
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Path returns the database file path.
func (s *Store) Path() string { return s.path }

// DB exposes the bbolt handle to sibling packages (drift, outbox) that keep
// buckets of their own.
func (s *Store) DB() *bolt.DB { return s.db }

// TakeReset returns and clears the reset marker (set when the database was
// rebuilt), so that drift can emit one explicit reset event.
func (s *Store) TakeReset(tx *bolt.Tx) string {
	m := tx.Bucket(bucketMeta)
	if m == nil {
		return ""
	}
	v := string(m.Get(keyReset))
	if v != "" && tx.Writable() {
		_ = m.Delete(keyReset)
	}
	return v
}

// ScanRecord is the small per-scan history entry.
type ScanRecord struct {
	ID          string        `json:"id"`
	ScannedAt   time.Time     `json:"scanned_at"`
	Duration    time.Duration `json:"duration_ns"`
	PolicySHA   string        `json:"policy_sha256"`
	Compliant   bool          `json:"compliant"`
	Failing     int           `json:"failing"`
	Unknown     int           `json:"unknown"`
	ContentHash string        `json:"content_hash"`
	// Changed is true when the report differed from the previous one.
	Changed bool `json:"changed"`
}

// Hook runs inside Record's write transaction with the previous report (nil
// on the device's first scan) and the new one, so that drift events and
// outbox entries commit atomically with the scan.
type Hook func(tx *bolt.Tx, prev, cur *status.Report) error

// Record stores a scan of r.Device. It carries first_seen/last_changed over
// from the previous report, appends a scan record, rewrites the latest
// report only when its content changed, applies retention, and runs hooks —
// all in one transaction. It returns the previous report (nil if none).
func (s *Store) Record(r *status.Report, hooks ...Hook) (prev *status.Report, err error) {
	if r.Device.ID == "" {
		return nil, errors.New("recording scan: report has no device id")
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		dev, err := deviceBucket(tx, r.Device.ID)
		if err != nil {
			return err
		}
		latest := dev.Bucket(bucketLatest)
		if b := latest.Get(keyReport); b != nil {
			prev = new(status.Report)
			if err := json.Unmarshal(b, prev); err != nil {
				s.opts.Log.Warn().Err(err).Str("device", r.Device.ID).Msg("latest_report_unreadable")
				prev = nil
			} else {
				applyLastScan(dev, prev)
			}
		}
		carryHistory(prev, r)
		hash, err := contentHash(r)
		if err != nil {
			return err
		}
		changed := !bytes.Equal(latest.Get(keyHash), []byte(hash))
		key := scanKey(dev.Bucket(bucketScans), r.ScannedAt)
		r.ScanID = hex.EncodeToString(key)
		rec := ScanRecord{ID: r.ScanID, ScannedAt: r.ScannedAt, Duration: r.Duration, PolicySHA: r.Policy.SHA256,
			Compliant: r.Compliant, Failing: r.Summary.ByStatus["fail"], Unknown: r.Summary.ByStatus["unknown"],
			ContentHash: hash, Changed: changed}
		if err := putJSON(dev.Bucket(bucketScans), key, rec); err != nil {
			return err
		}
		if changed {
			if err := putJSON(latest, keyReport, r); err != nil {
				return err
			}
			if err := latest.Put(keyHash, []byte(hash)); err != nil {
				return err
			}
		}
		if r.Device.Kind == "computer" {
			m := tx.Bucket(bucketMeta)
			if !bytes.Equal(m.Get(keyPrimary), []byte(r.Device.ID)) {
				if err := m.Put(keyPrimary, []byte(r.Device.ID)); err != nil {
					return err
				}
			}
		}
		if err := s.prune(dev.Bucket(bucketScans)); err != nil {
			return err
		}
		for _, h := range hooks {
			if err := h(tx, prev, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recording scan in %s: %w", s.path, err)
	}
	return prev, nil
}

func deviceBucket(tx *bolt.Tx, id string) (*bolt.Bucket, error) {
	devs := tx.Bucket(bucketDevices)
	if devs == nil {
		return nil, errors.New("devices bucket missing")
	}
	dev, err := devs.CreateBucketIfNotExists([]byte(id))
	if err != nil {
		return nil, fmt.Errorf("device %s: %w", id, err)
	}
	for _, name := range [][]byte{bucketScans, bucketLatest} {
		if _, err := dev.CreateBucketIfNotExists(name); err != nil {
			return nil, fmt.Errorf("device %s bucket %s: %w", id, name, err)
		}
	}
	return dev, nil
}

// carryHistory sets FirstSeen/LastChanged on cur's findings from prev.
func carryHistory(prev, cur *status.Report) {
	old := map[string]status.Finding{}
	if prev != nil {
		for _, f := range prev.Findings {
			old[f.Key()] = f
		}
	}
	for i := range cur.Findings {
		f := &cur.Findings[i]
		p, ok := old[f.Key()]
		switch {
		case !ok || p.FirstSeen.IsZero():
			f.FirstSeen, f.LastChanged = cur.ScannedAt, cur.ScannedAt
		case p.Status != f.Status:
			f.FirstSeen, f.LastChanged = p.FirstSeen, cur.ScannedAt
		default:
			f.FirstSeen, f.LastChanged = p.FirstSeen, p.LastChanged
		}
	}
}

// contentHash hashes what a scan found, ignoring the times that change on
// every scan, so that an unchanged device costs one small write.
func contentHash(r *status.Report) (string, error) {
	c := *r
	c.ScannedAt, c.Duration, c.ScanID, c.Service = time.Time{}, 0, "", nil
	c.Findings = make([]status.Finding, len(r.Findings))
	for i, f := range r.Findings {
		f.EvaluatedAt = time.Time{}
		c.Findings[i] = f
	}
	b, err := json.Marshal(&c)
	if err != nil {
		return "", fmt.Errorf("hashing report: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// scanKey returns a big-endian nanosecond key that sorts by time and is
// unique within the bucket (a clock that repeats itself gets +1 ns).
func scanKey(b *bolt.Bucket, t time.Time) []byte {
	n := uint64(t.UnixNano())
	for {
		k := binary.BigEndian.AppendUint64(nil, n)
		if b.Get(k) == nil {
			return k
		}
		n++
	}
}

func (s *Store) prune(scans *bolt.Bucket) error {
	cutoff := uint64(0)
	if s.opts.Retention.MaxAge > 0 {
		cutoff = uint64(s.opts.Now().Add(-s.opts.Retention.MaxAge).UnixNano())
	}
	c := scans.Cursor()
	excess := 0
	if s.opts.Retention.MaxScans > 0 {
		// Count with the cursor: Bucket.Stats does not see keys put in
		// this still-open transaction.
		n := 0
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			n++
		}
		excess = n - s.opts.Retention.MaxScans
	}
	for k, _ := c.First(); k != nil; k, _ = c.First() {
		old := len(k) == 8 && binary.BigEndian.Uint64(k) < cutoff
		if !old && excess <= 0 {
			break
		}
		if err := c.Delete(); err != nil {
			return err
		}
		excess--
	}
	return nil
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	buf, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", key, err)
	}
	return b.Put(key, buf)
}

// applyLastScan sets the per-scan fields of a stored latest report from the
// newest scan record (the report body is only rewritten when it changed).
func applyLastScan(dev *bolt.Bucket, r *status.Report) {
	k, v := dev.Bucket(bucketScans).Cursor().Last()
	if k == nil {
		return
	}
	var rec ScanRecord
	if json.Unmarshal(v, &rec) != nil {
		return
	}
	r.ScanID, r.ScannedAt, r.Duration = rec.ID, rec.ScannedAt, rec.Duration
	for i := range r.Findings {
		r.Findings[i].EvaluatedAt = rec.ScannedAt
	}
}

// Latest returns the newest report of a device; an empty id means the
// primary (computer) device.
func (s *Store) Latest(id string) (*status.Report, error) {
	var out *status.Report
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		out, err = LatestTx(tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// LatestTx is Latest inside the caller's transaction, so that a reader can
// take a device's report and other packages' records from one consistent
// view of the database (agent/records).
func LatestTx(tx *bolt.Tx, id string) (*status.Report, error) {
	if id == "" {
		if m := tx.Bucket(bucketMeta); m != nil {
			id = string(m.Get(keyPrimary))
		}
	}
	dev := deviceRead(tx, id)
	if dev == nil {
		return nil, ErrNoScan
	}
	b := dev.Bucket(bucketLatest).Get(keyReport)
	if b == nil {
		return nil, ErrNoScan
	}
	out := new(status.Report)
	if err := json.Unmarshal(b, out); err != nil {
		return nil, fmt.Errorf("decoding latest report of %s: %w", id, err)
	}
	applyLastScan(dev, out)
	return out, nil
}

// Devices returns the ids of every device with a recorded scan, primary first.
func (s *Store) Devices() ([]string, error) {
	var ids []string
	err := s.db.View(func(tx *bolt.Tx) error {
		primary := ""
		if m := tx.Bucket(bucketMeta); m != nil {
			primary = string(m.Get(keyPrimary))
		}
		if primary != "" {
			ids = append(ids, primary)
		}
		devs := tx.Bucket(bucketDevices)
		if devs == nil {
			return nil
		}
		return devs.ForEachBucket(func(k []byte) error {
			if string(k) != primary {
				ids = append(ids, string(k))
			}
			return nil
		})
	})
	return ids, err
}

// Scans returns a device's scan records from since on, oldest first.
func (s *Store) Scans(id string, since time.Time) ([]ScanRecord, error) {
	var out []ScanRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		dev := deviceRead(tx, id)
		if dev == nil {
			return nil
		}
		c := dev.Bucket(bucketScans).Cursor()
		start := binary.BigEndian.AppendUint64(nil, uint64(max(since.UnixNano(), 0)))
		for k, v := c.Seek(start); k != nil; k, v = c.Next() {
			var rec ScanRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decoding scan %x: %w", k, err)
			}
			out = append(out, rec)
		}
		return nil
	})
	return out, err
}

func deviceRead(tx *bolt.Tx, id string) *bolt.Bucket {
	devs := tx.Bucket(bucketDevices)
	if devs == nil || id == "" {
		return nil
	}
	dev := devs.Bucket([]byte(id))
	if dev == nil || dev.Bucket(bucketScans) == nil || dev.Bucket(bucketLatest) == nil {
		return nil
	}
	return dev
}
