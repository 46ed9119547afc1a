package drift

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"

	"github.com/msgguard/msgguard/agent/report/outbox"
	"github.com/msgguard/msgguard/agent/store"
	"github.com/msgguard/msgguard/policy"
)

// TestYearOfHourlyScans records a simulated year of hourly scans (8,760)
// of a device with a small change every day, with the production
// retention settings, drift, and two sink outboxes — one delivered daily,
// one whose collector is down all year — and checks that the database
// stays within 20 MB. The size is logged for BENCHMARKS.md.
func TestYearOfHourlyScans(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("simulated year skipped in -short and -race mode (run: go test -run TestYearOfHourlyScans ./agent/drift/)")
	}
	path := filepath.Join(t.TempDir(), "state.db")
	now := t0
	st, err := store.Open(path, store.Options{Log: zerolog.Nop(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	st.DB().NoSync = true // simulation speed; sizes are unaffected
	if _, err := outbox.Register(st.DB(), []outbox.Spec{{Name: "daily"}, {Name: "down"}}); err != nil {
		t.Fatal(err)
	}
	d := yearDevice()
	hook := Hook(st, withOutbox(DefaultConfig()))
	nop := func(string, int, time.Time, time.Time) outbox.Entry {
		return outbox.Entry{ID: "dropped", Body: []byte("{}")}
	}
	start := time.Now()
	for h := range 8760 {
		if h%24 == 9 { // one small change a day: an update, a setting, a messenger
			day := h / 24
			d.messengers[day%len(d.messengers)].Version = fmt.Sprintf("1.%d", day)
			if day%7 == 3 {
				idle := 300 + 300*(day%2)
				d.posture.ScreenLock[0].IdleSeconds = &idle
				st := policy.StatusPass
				if day%2 == 1 {
					st = policy.StatusFail
				}
				d.setFinding("screen-lock.idle", "device", "alice", st, policy.SeverityHigh)
			}
		}
		if _, err := st.Record(d.report(now), hook); err != nil {
			t.Fatalf("hour %d: %v", h, err)
		}
		if h%24 == 23 {
			items, err := outbox.Next(st.DB(), "daily", 10_000, nop)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.DB().Update(func(tx *bolt.Tx) error { return outbox.Ack(tx, "daily", items, now) }); err != nil {
				t.Fatal(err)
			}
		}
		now = now.Add(time.Hour)
	}
	elapsed := time.Since(start)
	evs, _ := List(st.DB(), time.Time{})
	stats, _ := outbox.ReadStats(st.DB())
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	mb := float64(fi.Size()) / (1 << 20)
	t.Logf("simulated year: 8760 scans in %v; database %.2f MiB (%d bytes); %d events kept (90-day retention); outboxes %+v",
		elapsed.Round(time.Millisecond), mb, fi.Size(), len(evs), stats)
	if fi.Size() > 20_000_000 {
		t.Errorf("database is %.2f MiB after a year; budget 20 MB", mb)
	}
	if len(evs) == 0 || len(evs) > DefaultConfig().MaxEvents {
		t.Errorf("%d events kept", len(evs))
	}
}

// yearDevice is a laptop with a realistic inventory: 12 messenger entries
// for 3 users, posture and 25 findings.
func yearDevice() *device {
	d := newDevice()
	ids := []string{"signal", "threema-work", "slack", "teams"}
	for i := range 12 {
		d.messengers = append(d.messengers, policy.Messenger{ID: ids[i%4], Name: ids[i%4], Variant: policy.VariantBusiness,
			Source: "deb", User: []string{"", "alice", "bob"}[i%3], Version: "1.0", Location: "var/lib/dpkg/status"})
	}
	for i := range 22 {
		d.findings = append(d.findings, policy.Finding{Rule: fmt.Sprintf("messenger.m%02d", i), Subject: fmt.Sprintf("m%02d", i),
			Status: policy.StatusPass, Severity: policy.SeverityHigh,
			Message: "WhatsApp was not found on this device; this is the kind of sentence a finding carries."})
	}
	return d
}
