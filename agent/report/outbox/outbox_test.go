package outbox

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/msgguard/msgguard/policy"
)

func openDB(t testing.TB) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "o.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func put(t testing.TB, db *bolt.DB, ids ...string) {
	t.Helper()
	err := db.Update(func(tx *bolt.Tx) error {
		for _, id := range ids {
			sev := policy.SeverityHigh
			if id[0] == 'l' {
				sev = policy.SeverityLow
			}
			if err := Enqueue(tx, Entry{ID: id, Severity: sev, Body: json.RawMessage(`{"id":"` + id + `"}`)}, time.Unix(0, 0)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func ids(items []Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

func noDrop(string, int, time.Time, time.Time) Entry { return Entry{ID: "dropped"} }

func TestRegisterFilterAndRemove(t *testing.T) {
	db := openDB(t)
	put(t, db, "h0") // no queues yet: nothing to enqueue into, no error
	if _, err := Register(db, []Spec{{Name: "all"}, {Name: "high", MinSeverity: policy.SeverityHigh}, {Name: "old"}}); err != nil {
		t.Fatal(err)
	}
	put(t, db, "h1", "l1")
	all, _ := Next(db, "all", 10, noDrop)
	high, _ := Next(db, "high", 10, noDrop)
	if diff := cmp.Diff([]string{"h1", "l1"}, ids(all)); diff != "" {
		t.Errorf("all (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"h1"}, ids(high)); diff != "" {
		t.Errorf("high (-want +got):\n%s", diff)
	}
	removed, err := Register(db, []Spec{{Name: "all"}, {Name: "high", MinSeverity: policy.SeverityHigh}})
	if err != nil || len(removed) != 1 || removed[0] != "old" {
		t.Errorf("Register removed %v, %v; want [old]", removed, err)
	}
	if _, err := Next(db, "old", 10, noDrop); err == nil {
		t.Error("queue of a removed sink still readable")
	}
	// Ack removes exactly the delivered items.
	if err := db.Update(func(tx *bolt.Tx) error { return Ack(tx, "all", all[:1], time.Unix(5, 0)) }); err != nil {
		t.Fatal(err)
	}
	rest, _ := Next(db, "all", 10, noDrop)
	stats, _ := ReadStats(db)
	if diff := cmp.Diff([]string{"l1"}, ids(rest)); diff != "" || stats[0].Depth != 1 || !stats[0].LastSuccess.Equal(time.Unix(5, 0)) {
		t.Errorf("after ack: %v, stats %+v", ids(rest), stats)
	}
}

func TestLoweredLimitDropsAtOnce(t *testing.T) {
	db := openDB(t)
	Register(db, []Spec{{Name: "q", MaxEvents: 100}})
	put(t, db, "h1", "l1", "h2", "l2", "h3")
	Register(db, []Spec{{Name: "q", MaxEvents: 2}})
	got, _ := Next(db, "q", 10, func(_ string, n int, _, _ time.Time) Entry { return Entry{ID: fmt.Sprintf("dropped-%d", n)} })
	if diff := cmp.Diff([]string{"dropped-3", "h2", "h3"}, ids(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// BenchmarkOutboxBatch measures one batch of 100 events through the outbox
// with real fsyncs: enqueued in one transaction (as the scan's hook does)
// and acknowledged in one (as the dispatcher does) — 2 commits per batch,
// each bbolt commit being two fdatasync calls (data pages, then meta page).
func BenchmarkOutboxBatch(b *testing.B) {
	db := openDB(b)
	Register(db, []Spec{{Name: "q"}})
	body := json.RawMessage(`{"schema_version":1,"id":"0123456789abcdef0123456789abcdef","kind":"finding_changed","severity":"high","message":"rule screen-lock: pass → fail"}`)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		err := db.Update(func(tx *bolt.Tx) error {
			for range 100 {
				n++
				if err := Enqueue(tx, Entry{ID: fmt.Sprint(n), Severity: policy.SeverityHigh, Body: body}, time.Now()); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		items, err := Next(db, "q", 100, noDrop)
		if err != nil || len(items) != 100 {
			b.Fatal(len(items), err)
		}
		if err := db.Update(func(tx *bolt.Tx) error { return Ack(tx, "q", items, time.Now()) }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(2, "commits/batch")
}
