// Package store keeps the agent's state in a bbolt database: every scan (a
// small time-ordered record), the latest report per device, and the buckets
// that other parts of the agent (drift, outbox, attestations) add in the same
// transactions. It survives corruption by moving a damaged file aside and
// starting afresh, and it never holds the database longer than a call.
package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/policy"
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
	// keyLastReset holds a ResetInfo (JSON); keyChecked the time of the last
	// full consistency check.
	keyLastReset = []byte("last_reset")
	keyChecked   = []byte("checked_at")
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
	// ErrCorrupt matches every *CorruptError (errors.Is).
	ErrCorrupt = errors.New("database is corrupt")
)

// CorruptError is positive proof that the database file is damaged: a page,
// element or value outside the file or its page, no valid meta page, or an
// inconsistency found by bbolt's Tx.Check. Only this error moves a file
// aside.
type CorruptError struct {
	Reason string
}

func (e *CorruptError) Error() string { return "database is corrupt: " + e.Reason }

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// UnavailableError means the database could not be opened, read or written
// for a reason that says nothing about its content: the lock is held
// (ErrLocked), too many open files, a full disk, a read-only file system,
// no permission, an I/O error. The file is kept as it is; the operation may
// succeed later (the service retries with backoff and reports itself
// unhealthy meanwhile).
type UnavailableError struct {
	Path string
	Err  error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("database %s unavailable: %v", e.Path, e.Err)
}
func (e *UnavailableError) Unwrap() error { return e.Err }

// IsUnavailable reports whether err is an *UnavailableError: retry later,
// the file was kept.
func IsUnavailable(err error) bool {
	var u *UnavailableError
	return errors.As(err, &u)
}

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
	// CheckInterval, when positive, runs bbolt's full consistency check
	// (Tx.Check, whose cost grows with the database) when the last one is
	// older than this — at Open and before a scan (CheckIfDue). The service
	// sets a day; the CLI leaves it zero. A full check always runs after an
	// unclean shutdown (see Open).
	CheckInterval time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	Log zerolog.Logger
}

// ResetInfo records the last time the database was rebuilt: when, which
// file the damaged one was moved to, and why. It is kept in the new
// database (meta/last_reset) until the next rebuild, so that `agent status`
// and the service's health can name it.
type ResetInfo struct {
	At      time.Time `json:"at"`
	MovedTo string    `json:"moved_to"`
	Reason  string    `json:"reason"`
}

// Store is an open state database.
type Store struct {
	db   *bolt.DB
	path string
	opts Options
	// Recovered names the file a corrupt database was moved to, if Open had
	// to rebuild it.
	Recovered string
	// Reset describes that rebuild (zero when Open did not rebuild).
	Reset ResetInfo
	// checkedAt is when the last full check passed (zero: unknown).
	checkedAt time.Time
	// suspect is set when a read failed in a way that may be damage: the
	// unclean-shutdown marker is then kept so that the next Open checks.
	suspect bool
}

// markerSuffix names the file that exists while a writer has the database
// open. Found at Open, it means the last writer did not close the database
// (killed, crashed, power lost) and triggers a full check. It costs a
// create and an unlink, no fsync: bbolt's own commits are atomic, so a
// marker lost in a power cut only skips one check.
const markerSuffix = ".open"

// Open opens (creating if needed) the database at path.
//
// Every open first walks the file's page tree with plain reads (verifyFile,
// cheap: page headers and element bounds), so that bbolt never reads
// outside its mmap — a fault there kills a Go process whatever recover()
// does. bbolt's full Tx.Check runs after an unclean shutdown and when
// opts.CheckInterval says so. Reads run with debug.SetPanicOnFault, and
// every failure is diagnosed again with verifyFile before a verdict.
//
// A file proven corrupt (*CorruptError) is moved aside as
// "<path>.corrupt-<time>" and a new database created, with a warning
// logged, a reset marker for drift and a ResetInfo stored. Any other
// failure (*UnavailableError: locked, EMFILE, ENOSPC, EROFS, EACCES, EIO)
// keeps the file and is returned. A read-only Open never moves anything; it
// returns the *CorruptError.
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
	s := &Store{path: path, opts: opts}
	if opts.ReadOnly {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("opening %s: %w", path, ErrNoDatabase)
		}
		db, err := s.openChecked(false)
		if err != nil {
			return nil, err
		}
		s.db = db
		return s, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, &UnavailableError{Path: path, Err: fmt.Errorf("creating database directory: %w", err)}
	}
	_, err := os.Lstat(path + markerSuffix)
	unclean := err == nil
	db, err := s.openChecked(unclean)
	var corrupt *CorruptError
	if errors.As(err, &corrupt) {
		now := opts.Now().UTC()
		aside := fmt.Sprintf("%s.corrupt-%s", path, now.Format("20060102T150405Z"))
		if rerr := os.Rename(path, aside); rerr != nil {
			return nil, &UnavailableError{Path: path, Err: fmt.Errorf("moving corrupt database aside: %w (%v)", rerr, corrupt)}
		}
		opts.Log.Warn().Str("path", path).Str("moved_to", aside).Str("reason", corrupt.Reason).
			Msg("database_corrupt_rebuilt")
		s.Recovered = aside
		s.Reset = ResetInfo{At: now, MovedTo: aside, Reason: corrupt.Reason}
		db, err = s.openChecked(false)
	}
	if err != nil {
		return nil, err
	}
	s.db = db
	if unclean {
		opts.Log.Info().Str("path", path).Msg("database_unclean_shutdown_checked")
	}
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	if f, err := os.OpenFile(path+markerSuffix, os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
		f.Close()
	} else {
		opts.Log.Warn().Err(err).Msg("database_marker_not_created")
	}
	return s, nil
}

// openChecked verifies the file, opens it and, when full is set or the
// last check is older than CheckInterval, runs bbolt's Tx.Check. Failures
// come back as *CorruptError only with positive proof, as
// *UnavailableError otherwise.
func (s *Store) openChecked(full bool) (*bolt.DB, error) {
	path := s.path
	// bbolt takes the file lock first (and reads the meta and freelist
	// pages, with faults caught): verifying a file that another process may
	// be writing could see pages being reused and call a healthy file
	// corrupt.
	_, serr := os.Stat(path)
	existed := serr == nil
	var db *bolt.DB
	err := guard(func() (err error) {
		db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: s.opts.Timeout, ReadOnly: s.opts.ReadOnly})
		return err
	})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, &UnavailableError{Path: path, Err: ErrLocked}
		}
		if !existed {
			// A database this call was creating (a full disk cut its first
			// pages short): nothing to diagnose, and a partial file must not
			// look like a damaged database to the next start.
			os.Remove(path)
			return nil, &UnavailableError{Path: path, Err: err}
		}
		return nil, s.diagnose(err)
	}
	if err := verifyFile(path); err != nil {
		db.Close()
		if isCorrupt(err) {
			return nil, err
		}
		return nil, &UnavailableError{Path: path, Err: err}
	}
	if !full && s.opts.CheckInterval > 0 {
		full = s.checkDue(db)
	}
	if full {
		if err := s.fullCheck(db); err != nil {
			db.Close()
			return nil, err
		}
	}
	if err := guard(func() error { return checkSchema(db, path) }); err != nil {
		db.Close()
		if isCorrupt(err) {
			return nil, err
		}
		return nil, s.diagnose(err)
	}
	return db, nil
}

// guard runs fn with faults turned into panics (runtime/debug.SetPanicOnFault:
// bbolt reads its file through an mmap, and a damaged page makes it read
// outside it) and turns a panic into an error. It covers only the calling
// goroutine, which is why bbolt's Tx.Check (run on a goroutine of its own)
// is preceded by verifyFile.
func guard(fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			err = &panicError{v: r}
		}
	}()
	return fn()
}

// panicError is a panic (or fault) caught by guard: not proof of anything
// until diagnose has looked at the file.
type panicError struct{ v any }

func (e *panicError) Error() string { return fmt.Sprintf("bbolt failed: %v", e.v) }

// diagnose decides what a failure means: corruption only when verifyFile
// proves it; otherwise the file is kept and the error is an
// *UnavailableError (EMFILE, ENOSPC, EROFS, EACCES, EIO, or anything
// unexplained).
func (s *Store) diagnose(cause error) error {
	if isCorrupt(cause) {
		return cause
	}
	if errors.Is(cause, bolterrors.ErrTimeout) {
		return &UnavailableError{Path: s.path, Err: ErrLocked}
	}
	var pe *panicError
	if errors.As(cause, &pe) {
		s.suspect = true
	}
	if st, err := os.Stat(s.path); err == nil && st.Size() > 0 {
		// An empty file holds nothing to lose and proves nothing.
		if verr := verifyFile(s.path); isCorrupt(verr) {
			return verr
		}
	}
	return &UnavailableError{Path: s.path, Err: cause}
}

// fullCheck runs bbolt's Tx.Check (after verifyFile, so that its goroutine
// cannot fault). Any problem it reports is proof of corruption.
func (s *Store) fullCheck(db *bolt.DB) error {
	var problems []string
	err := guard(func() error {
		return db.View(func(tx *bolt.Tx) error {
			for e := range tx.Check() {
				if len(problems) < 5 {
					problems = append(problems, e.Error())
				}
			}
			return nil
		})
	})
	if err != nil {
		return s.diagnose(err)
	}
	if len(problems) > 0 {
		return &CorruptError{Reason: "consistency check: " + strings.Join(problems, "; ")}
	}
	s.checkedAt = s.opts.Now()
	if !s.opts.ReadOnly {
		// Rare (after an unclean shutdown, or daily in the service): one
		// small write so that the next start knows.
		err := db.Update(func(tx *bolt.Tx) error {
			m, err := tx.CreateBucketIfNotExists(bucketMeta)
			if err != nil {
				return err
			}
			return m.Put(keyChecked, []byte(s.checkedAt.UTC().Format(time.RFC3339Nano)))
		})
		if err != nil {
			return s.diagnose(err)
		}
	}
	return nil
}

// checkDue reports whether the last full check is older than
// CheckInterval.
func (s *Store) checkDue(db *bolt.DB) bool {
	if s.checkedAt.IsZero() {
		_ = guard(func() error {
			return db.View(func(tx *bolt.Tx) error {
				if m := tx.Bucket(bucketMeta); m != nil {
					s.checkedAt, _ = time.Parse(time.RFC3339Nano, string(m.Get(keyChecked)))
				}
				return nil
			})
		})
	}
	now := s.opts.Now()
	return s.checkedAt.IsZero() || now.Sub(s.checkedAt) >= s.opts.CheckInterval || now.Before(s.checkedAt)
}

// CheckIfDue runs the full consistency check when CheckInterval says so (a
// long-running service calls it before each scan). A *CorruptError leaves
// the unclean-shutdown marker in place, so that the next Open checks again
// and rebuilds.
func (s *Store) CheckIfDue() error {
	if s.opts.CheckInterval <= 0 || !s.checkDue(s.db) {
		return nil
	}
	err := s.fullCheck(s.db)
	if err != nil {
		s.suspect = true
		s.opts.Log.Error().Err(err).Str("path", s.path).Msg("database_check_failed")
	}
	return err
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
			return &CorruptError{Reason: fmt.Sprintf("%s: meta/schema has %d bytes", path, len(v))}
		}
		if n := binary.BigEndian.Uint64(v); n > SchemaVersion {
			return fmt.Errorf("%s: schema version %d is newer than this agent's %d", path, n, SchemaVersion)
		}
		return nil
	})
}

// init creates the buckets and the schema version of a new database, and
// records a rebuild. An existing, complete database is not written to:
// opening costs no commit (and no fsync).
func (s *Store) init() error {
	ready := false
	err := s.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		ready = m != nil && m.Get(keySchema) != nil && tx.Bucket(bucketDevices) != nil
		return nil
	})
	if err != nil {
		return err
	}
	if ready && s.Recovered == "" {
		return nil
	}
	return s.Update(func(tx *bolt.Tx) error {
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
			if err := putJSON(m, keyLastReset, s.Reset); err != nil {
				return err
			}
			return m.Put(keyReset, []byte("database rebuilt after corruption; damaged file kept at "+s.Recovered))
		}
		return nil
	})
}

// View runs fn in a read transaction with faults caught (see guard); a
// failure that proves corruption comes back as a *CorruptError.
func (s *Store) View(fn func(tx *bolt.Tx) error) error {
	return s.run(false, fn)
}

// Update runs fn in a write transaction with faults caught (see guard).
// Errors fn returns come back as they are; bbolt's own failures (a full
// disk, an I/O error) as an *UnavailableError, and a fault as a
// *CorruptError when the file proves damaged.
func (s *Store) Update(fn func(tx *bolt.Tx) error) error {
	return s.run(true, fn)
}

// fnError marks an error returned by the caller's function, so that run
// does not diagnose it.
type fnError struct{ err error }

func (e *fnError) Error() string { return e.err.Error() }
func (e *fnError) Unwrap() error { return e.err }

func (s *Store) run(write bool, fn func(tx *bolt.Tx) error) error {
	err := guard(func() error {
		wrapped := func(tx *bolt.Tx) error {
			if err := fn(tx); err != nil {
				return &fnError{err}
			}
			return nil
		}
		if write {
			return s.db.Update(wrapped)
		}
		return s.db.View(wrapped)
	})
	if err == nil {
		return nil
	}
	var fe *fnError
	if errors.As(err, &fe) {
		return fe.err
	}
	return s.diagnose(err)
}

// LastReset returns the last rebuild of the database, if there was one.
func (s *Store) LastReset() (ResetInfo, bool, error) {
	var out ResetInfo
	found := false
	err := s.View(func(tx *bolt.Tx) error {
		out, found = LastResetTx(tx)
		return nil
	})
	return out, found, err
}

// LastResetTx is LastReset inside the caller's transaction.
func LastResetTx(tx *bolt.Tx) (ResetInfo, bool) {
	var out ResetInfo
	m := tx.Bucket(bucketMeta)
	if m == nil {
		return out, false
	}
	v := m.Get(keyLastReset)
	if v == nil || json.Unmarshal(v, &out) != nil {
		return ResetInfo{}, false
	}
	return out, true
}

// TxID returns the id of the last committed write transaction (a test and
// benchmark aid: each commit costs two fdatasyncs).
func (s *Store) TxID() (int, error) {
	id := 0
	err := s.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil })
	return id, err
}

// Close closes the database. The unclean-shutdown marker goes with a clean
// close, unless a read failed in a way that may be damage.
func (s *Store) Close() error {
	err := s.db.Close()
	if !s.opts.ReadOnly && !s.suspect && err == nil {
		if rerr := os.Remove(s.path + markerSuffix); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			s.opts.Log.Warn().Err(rerr).Msg("database_marker_not_removed")
		}
	}
	return err
}

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
	err = s.Update(func(tx *bolt.Tx) error {
		if r.Device.ID != "" {
			if prev, err = previousTx(tx, r.Device.ID); err != nil {
				s.opts.Log.Warn().Err(err).Str("device", r.Device.ID).Msg("latest_report_unreadable")
				prev = nil
			}
		}
		if err := s.RecordTx(tx, r); err != nil {
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

// previousTx decodes the device's latest report, before a new one
// replaces it; nil when there is none.
func previousTx(tx *bolt.Tx, id string) (*status.Report, error) {
	devs := tx.Bucket(bucketDevices)
	if devs == nil {
		return nil, nil
	}
	dev := devs.Bucket([]byte(id))
	if dev == nil || dev.Bucket(bucketLatest) == nil {
		return nil, nil
	}
	b := dev.Bucket(bucketLatest).Get(keyReport)
	if b == nil {
		return nil, nil
	}
	prev := new(status.Report)
	if err := json.Unmarshal(b, prev); err != nil {
		return nil, err
	}
	if dev.Bucket(bucketScans) != nil {
		applyLastScan(dev, prev)
	}
	return prev, nil
}

// findingHistory is what carryHistory needs of each finding of the
// previous report. Decoding only these fields of a report whose findings
// carry their texts in two languages costs a fraction of decoding it all,
// on every scan.
type findingHistory struct {
	Findings []struct {
		Rule        string        `json:"rule"`
		Status      policy.Status `json:"status"`
		Subject     string        `json:"subject"`
		User        string        `json:"user"`
		FirstSeen   time.Time     `json:"first_seen"`
		LastChanged time.Time     `json:"last_changed"`
	} `json:"findings"`
}

// RecordTx is Record's work inside the caller's write transaction: the
// scan cycle (agent/scan) records its report as one stage of the scan's
// single transaction.
func (s *Store) RecordTx(tx *bolt.Tx, r *status.Report) error {
	if r.Device.ID == "" {
		return errors.New("recording scan: report has no device id")
	}
	dev, err := deviceBucket(tx, r.Device.ID)
	if err != nil {
		return err
	}
	latest := dev.Bucket(bucketLatest)
	var prev *findingHistory
	if b := latest.Get(keyReport); b != nil {
		prev = new(findingHistory)
		if err := json.Unmarshal(b, prev); err != nil {
			s.opts.Log.Warn().Err(err).Str("device", r.Device.ID).Msg("latest_report_unreadable")
			prev = nil
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
	if r.Device.Kind == policy.DeviceComputer {
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
	return nil
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
func carryHistory(prev *findingHistory, cur *status.Report) {
	type past struct {
		Status                 policy.Status
		FirstSeen, LastChanged time.Time
	}
	old := map[string]past{}
	if prev != nil {
		for _, f := range prev.Findings {
			k := policy.Finding{Rule: f.Rule, Subject: f.Subject, User: f.User}.Key()
			old[k] = past{f.Status, f.FirstSeen, f.LastChanged}
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
	err := s.View(func(tx *bolt.Tx) (err error) {
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
	err := s.View(func(tx *bolt.Tx) error {
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
	err := s.View(func(tx *bolt.Tx) error {
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

// Backoff bounds OpenRetry's waits: the first wait, doubling up to Max.
type Backoff struct {
	First, Max time.Duration
}

// DefaultBackoff waits 1 s, 2 s, 4 s ... up to 5 minutes.
var DefaultBackoff = Backoff{First: time.Second, Max: 5 * time.Minute}

// OpenRetry is Open for the service: while the database is unavailable
// (*UnavailableError: EMFILE, ENOSPC, EROFS, EACCES, EIO) it keeps
// the file, calls onRetry with the error and the wait, and tries again
// with exponential backoff until ctx ends. Other errors return at once. A
// service that exits instead would be restarted by its manager every few
// seconds without backoff, and a healthy file must never be given up on.
func OpenRetry(ctx context.Context, path string, opts Options, b Backoff, onRetry func(err error, wait time.Duration)) (*Store, error) {
	if b.First <= 0 {
		b = DefaultBackoff
	}
	wait := b.First
	for {
		s, err := Open(path, opts)
		// A lock held by another process is returned at once: that is a
		// second agent on the same database, which its operator must hear
		// about now (agent run prints a hint), not a fault that passes.
		if err == nil || !IsUnavailable(err) || errors.Is(err, ErrLocked) {
			return s, err
		}
		if onRetry != nil {
			onRetry(err, wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w (gave up: %v)", err, ctx.Err())
		case <-t.C:
		}
		wait = min(wait*2, b.Max)
	}
}
