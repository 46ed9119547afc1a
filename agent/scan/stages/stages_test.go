package stages_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"

	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/report/outbox"
	"github.com/msgguard/msgguard/agent/scan"
	"github.com/msgguard/msgguard/agent/scan/stages"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/agent/store"
	"github.com/msgguard/msgguard/policy"
)

type fixture struct {
	st    *store.Store
	s     *scan.Scanner
	pol   scan.Policy
	now   time.Time
	whats bool
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{now: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return f.now }
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"), store.Options{Now: clock, Log: zerolog.New(zerolog.NewTestWriter(t))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := outbox.Register(st.DB(), []outbox.Spec{{Name: "hook"}}); err != nil {
		t.Fatal(err)
	}
	f.st = st
	f.s = &scan.Scanner{Store: st, Now: clock, Log: zerolog.Nop(),
		Stages: stages.For(st, compliance.Retention{}, drift.DefaultConfig()),
		Probe: func(context.Context, *policy.Catalog) (*policy.Inventory, error) {
			inv := &policy.Inventory{Device: policy.Device{ID: "dev1", Kind: "computer", Platform: "linux"}}
			if f.whats {
				inv.Messengers = []policy.Messenger{{ID: "whatsapp", Name: "WhatsApp", Variant: "consumer", Source: "deb", User: "alice"}}
			}
			return inv, nil
		}}
	p := policy.Default()
	f.pol = scan.Policy{Policy: p, Ref: status.PolicyRef{Name: p.Name, SHA256: p.SHA256}}
	return f
}

func (f *fixture) txid(t *testing.T) int {
	t.Helper()
	id, err := f.st.TxID()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func queued(t *testing.T, st *store.Store) int {
	t.Helper()
	stats, err := outbox.ReadStats(st.DB())
	if err != nil || len(stats) != 1 {
		t.Fatalf("outbox stats = %v, %v", stats, err)
	}
	return stats[0].Depth
}

// One scan is one commit (two fdatasyncs): compliance, record, drift and
// outbox share it. The former scanner committed compliance and the record
// separately (and the store wrote its schema at every open).
func TestOneScanIsOneCommit(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 4; i++ {
		f.whats = i%2 == 1
		f.now = f.now.Add(time.Hour)
		before := f.txid(t)
		if _, err := f.s.Scan(context.Background(), f.pol); err != nil {
			t.Fatal(err)
		}
		if got := f.txid(t) - before; got != 1 {
			t.Fatalf("scan %d committed %d transactions; want 1", i, got)
		}
	}
	// Scan 0 sets the baseline (one summary event), 1..3 each change the
	// WhatsApp finding: every event is queued for the sink.
	evs, err := drift.List(f.st.DB(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if n := queued(t, f.st); n != len(evs) || n < 4 {
		t.Errorf("queued %d events for %d recorded; want all of them (at least 4)", n, len(evs))
	}
}

// A stage that fails rolls the whole scan back: no scan record, no drift
// event, nothing queued.
func TestFailingStageRecordsNothing(t *testing.T) {
	f := newFixture(t)
	if _, err := f.s.Scan(context.Background(), f.pol); err != nil {
		t.Fatal(err)
	}
	evs0, _ := drift.List(f.st.DB(), time.Time{})
	q0 := queued(t, f.st)
	scans0, _ := f.st.Scans("dev1", time.Time{})
	boom := errors.New("disk said no")
	f.s.Stages = append(f.s.Stages, scan.Stage{Name: "boom", Run: func(*bolt.Tx, *scan.Cycle) error { return boom }})
	f.whats = true
	f.now = f.now.Add(time.Hour)
	if _, err := f.s.Scan(context.Background(), f.pol); !errors.Is(err, boom) {
		t.Fatalf("Scan = %v; want the stage's error", err)
	}
	evs1, _ := drift.List(f.st.DB(), time.Time{})
	scans1, _ := f.st.Scans("dev1", time.Time{})
	if len(evs1) != len(evs0) || queued(t, f.st) != q0 || len(scans1) != len(scans0) {
		t.Errorf("after a failed stage: %d→%d events, %d→%d queued, %d→%d scans; want no change",
			len(evs0), len(evs1), q0, queued(t, f.st), len(scans0), len(scans1))
	}
}

// A dry run (no store) runs the compliance workflow without records.
func TestDryRun(t *testing.T) {
	s := &scan.Scanner{Stages: stages.For(nil, compliance.Retention{}, drift.Config{}),
		Probe: func(context.Context, *policy.Catalog) (*policy.Inventory, error) {
			return &policy.Inventory{Device: policy.Device{ID: "dev1", Kind: "phone", Platform: "android"}}, nil
		}}
	p := policy.Default()
	r, err := s.Scan(context.Background(), scan.Policy{Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	if r.ScanID != "" || len(r.Findings) == 0 {
		t.Errorf("dry run: scan id %q, %d findings", r.ScanID, len(r.Findings))
	}
}
