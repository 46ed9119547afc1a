package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"

	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/policy"
)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func newReport(at time.Time, findings ...policy.Finding) *status.Report {
	r := &status.Report{
		SchemaVersion: status.SchemaVersion,
		ScannedAt:     at,
		Device:        policy.Device{ID: "dev1", Kind: "computer", Platform: "linux"},
		Policy:        status.PolicyRef{Name: "p", SHA256: "abc"},
		Inventory:     &policy.Inventory{},
	}
	for _, f := range findings {
		f.EvaluatedAt = at
		r.Findings = append(r.Findings, status.Finding{Finding: f})
	}
	r.Summary = status.Summarize(r.Findings)
	r.Compliant = r.Summary.ByStatus[policy.StatusFail] == 0
	return r
}

func open(t *testing.T, path string, c *clock) *Store {
	t.Helper()
	s, err := Open(path, Options{Now: c.Now, Log: zerolog.New(zerolog.NewTestWriter(t))})
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return s
}

func TestRecordCarriesHistory(t *testing.T) {
	c := &clock{time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)}
	s := open(t, filepath.Join(t.TempDir(), "state.db"), c)
	defer s.Close()

	fail := policy.Finding{Rule: "messenger.whatsapp", Status: policy.StatusFail, Subject: "whatsapp", User: "alice"}
	t0 := c.t
	if prev, err := s.Record(newReport(t0, fail)); err != nil || prev != nil {
		t.Fatalf("first Record = %v, %v; want nil prev", prev, err)
	}
	t1 := t0.Add(time.Hour)
	if _, err := s.Record(newReport(t1, fail)); err != nil {
		t.Fatal(err)
	}
	t2 := t1.Add(time.Hour)
	pass := fail
	pass.Status = policy.StatusPass
	prev, err := s.Record(newReport(t2, pass))
	if err != nil {
		t.Fatal(err)
	}
	if prev == nil || prev.Findings[0].Status != policy.StatusFail || !prev.ScannedAt.Equal(t1) {
		t.Fatalf("prev = %+v; want the t1 report with a failing finding", prev)
	}
	got, err := s.Latest("")
	if err != nil {
		t.Fatal(err)
	}
	f := got.Findings[0]
	if !f.FirstSeen.Equal(t0) || !f.LastChanged.Equal(t2) || f.Status != policy.StatusPass {
		t.Errorf("finding history = first %v changed %v status %s; want first %v changed %v pass", f.FirstSeen, f.LastChanged, f.Status, t0, t2)
	}
	if !got.ScannedAt.Equal(t2) {
		t.Errorf("ScannedAt = %v; want %v", got.ScannedAt, t2)
	}
	recs, err := s.Scans("dev1", time.Time{})
	if err != nil || len(recs) != 3 {
		t.Fatalf("Scans = %d, %v; want 3", len(recs), err)
	}
	if !recs[0].Changed || recs[1].Changed || !recs[2].Changed {
		t.Errorf("Changed flags = %v %v %v; want true false true", recs[0].Changed, recs[1].Changed, recs[2].Changed)
	}
}

func TestUnchangedScanIsOneSmallWrite(t *testing.T) {
	c := &clock{time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)}
	s := open(t, filepath.Join(t.TempDir(), "state.db"), c)
	defer s.Close()
	f := policy.Finding{Rule: "screen-lock", Status: policy.StatusFail, User: "bob"}
	if _, err := s.Record(newReport(c.t, f)); err != nil {
		t.Fatal(err)
	}
	before := s.db.Stats().TxStats
	if _, err := s.Record(newReport(c.t.Add(time.Hour), f)); err != nil {
		t.Fatal(err)
	}
	after := s.db.Stats().TxStats
	d := after.Sub(&before)
	// One transaction: the meta page plus the path down to the scans leaf
	// (root, devices, device, scans); the latest report is not rewritten.
	if got := d.GetWrite(); got > 6 {
		t.Errorf("unchanged scan wrote %d pages; want a small write (≤ 6)", got)
	}
	st := s.db.Stats()
	if st.TxN != 0 && st.OpenTxN != 0 {
		t.Errorf("open transactions left: %d", st.OpenTxN)
	}
}

func TestRetention(t *testing.T) {
	c := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path, Options{Now: c.Now, Retention: Retention{MaxAge: 48 * time.Hour, MaxScans: 10}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < 30; i++ {
		c.t = c.t.Add(time.Hour)
		if _, err := s.Record(newReport(c.t)); err != nil {
			t.Fatal(err)
		}
	}
	recs, _ := s.Scans("dev1", time.Time{})
	if len(recs) != 10 {
		t.Fatalf("kept %d scans; want 10 (MaxScans)", len(recs))
	}
	c.t = c.t.Add(47 * time.Hour) // scans at hours 29 and 30 are within 48 h of hour 77
	if _, err := s.Record(newReport(c.t)); err != nil {
		t.Fatal(err)
	}
	recs, _ = s.Scans("dev1", time.Time{})
	if len(recs) != 3 {
		t.Errorf("kept %d scans after aging; want 3", len(recs))
	}
}

func TestCorruptDatabaseIsMovedAside(t *testing.T) {
	cases := map[string]func(t *testing.T, path string){
		"garbage": func(t *testing.T, path string) {
			os.WriteFile(path, []byte(strings.Repeat("not a bbolt file ", 1000)), 0o600)
		},
		"truncated": func(t *testing.T, path string) {
			writeValid(t, path)
			os.Truncate(path, 5000)
		},
		"damaged data page": func(t *testing.T, path string) {
			writeValid(t, path)
			b, _ := os.ReadFile(path)
			// Pages 0/1 are meta pages; scribble over everything after them
			// so the meta checksums still pass but the tree is garbage.
			page := 4096
			for i := 2 * page; i < len(b); i++ {
				b[i] = 0xA5
			}
			os.WriteFile(path, b, 0o600)
		},
	}
	for name, damage := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "state.db")
			damage(t, path)
			c := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
			s := open(t, path, c)
			defer s.Close()
			if s.Recovered == "" {
				t.Fatal("Recovered is empty; want the corrupt file moved aside")
			}
			if _, err := os.Stat(s.Recovered); err != nil {
				t.Errorf("moved-aside file: %v", err)
			}
			if !strings.HasPrefix(filepath.Base(s.Recovered), "state.db.corrupt-20260301T120000Z") {
				t.Errorf("moved-aside name = %s", s.Recovered)
			}
			if _, err := s.Record(newReport(c.t)); err != nil {
				t.Fatalf("Record after recovery: %v", err)
			}
			var reset string
			s.db.Update(func(tx *bolt.Tx) error { reset = s.TakeReset(tx); return nil })
			if !strings.Contains(reset, "rebuilt after corruption") {
				t.Errorf("reset marker = %q", reset)
			}
		})
	}
}

func writeValid(t *testing.T, path string) {
	t.Helper()
	c := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := open(t, path, c)
	for i := 0; i < 50; i++ {
		c.t = c.t.Add(time.Minute)
		f := policy.Finding{Rule: "r", Status: policy.StatusFail, Subject: strings.Repeat("x", i*10)}
		if _, err := s.Record(newReport(c.t, f)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
}

func TestLockedDatabaseFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	c := &clock{time.Now()}
	s := open(t, path, c)
	defer s.Close()
	start := time.Now()
	_, err := Open(path, Options{Timeout: 300 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v; want ErrLocked", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("locked open took %v", time.Since(start))
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("locked database was touched: %v", err)
	}
	matches, _ := filepath.Glob(path + ".corrupt-*")
	if len(matches) != 0 {
		t.Errorf("a locked database must not be moved aside: %v", matches)
	}
}

func TestReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	if _, err := Open(path, Options{ReadOnly: true}); !errors.Is(err, ErrNoDatabase) {
		t.Fatalf("read-only Open of missing file = %v; want ErrNoDatabase", err)
	}
	c := &clock{time.Now()}
	s := open(t, path, c)
	if _, err := s.Latest(""); !errors.Is(err, ErrNoScan) {
		t.Errorf("Latest on empty store = %v; want ErrNoScan", err)
	}
	s.Record(newReport(c.t))
	s.Close()
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if r, err := ro.Latest(""); err != nil || r.Device.ID != "dev1" {
		t.Errorf("read-only Latest = %v, %v", r, err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("database mode = %v; want 0600", st.Mode().Perm())
	}
}

// BenchmarkRecordUnchanged measures recording a scan whose content did not
// change (the common case): one small write transaction with fsync.
func BenchmarkRecordUnchanged(b *testing.B) {
	c := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, err := Open(filepath.Join(b.TempDir(), "state.db"), Options{Now: c.Now})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var fs []policy.Finding
	for i := 0; i < 50; i++ {
		fs = append(fs, policy.Finding{Rule: "messenger.x", Status: policy.StatusPass, Subject: strings.Repeat("s", i)})
	}
	if _, err := s.Record(newReport(c.t, fs...)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.t = c.t.Add(time.Hour)
		if _, err := s.Record(newReport(c.t, fs...)); err != nil {
			b.Fatal(err)
		}
	}
}
