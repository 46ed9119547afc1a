package drift

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"

	"github.com/msgguard/msgguard/agent/report/outbox"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/agent/store"
	"github.com/msgguard/msgguard/policy"
)

var t0 = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

const policySHA = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"

// device is a mutable fake device whose scans the tests record.
type device struct {
	id         string
	messengers []policy.Messenger
	findings   []policy.Finding
	posture    policy.Posture
	policySHA  string
}

func newDevice() *device {
	idle := 300
	return &device{
		id:        "dev-1",
		policySHA: policySHA,
		findings: []policy.Finding{
			{Rule: "screen-lock.idle", Status: policy.StatusPass, Severity: policy.SeverityHigh, Subject: "device", User: "alice"},
			{Rule: "disk-encryption", Status: policy.StatusPass, Severity: policy.SeverityCritical, Subject: "/"},
			{Rule: "messenger.allowed", Status: policy.StatusPass, Severity: policy.SeverityInfo, Subject: "threema-work", User: "alice",
				Evidence: []policy.Evidence{{Source: "deb", Location: "var/lib/dpkg/status"}}},
		},
		messengers: []policy.Messenger{
			{ID: "threema-work", Name: "Threema Work", Variant: policy.VariantBusiness, Source: "deb", Version: "1.2.0"},
		},
		posture: policy.Posture{
			Inspected:  true,
			ScreenLock: []policy.ScreenLock{{User: "alice", Applicable: policy.Yes, Enabled: policy.Yes, IdleSeconds: &idle, LockOnSuspend: policy.Yes}},
			RemoteWipe: policy.RemoteWipe{Capable: policy.No},
			Encryption: policy.DiskEncryption{Volumes: []policy.Volume{{Mount: "/", Encrypted: policy.Yes, Method: "LUKS2"}}},
		},
	}
}

func (d *device) report(at time.Time) *status.Report {
	inv := &policy.Inventory{
		Device:     policy.Device{ID: d.id, Kind: "computer", Platform: "linux", Hostname: "laptop-7"},
		Messengers: append([]policy.Messenger(nil), d.messengers...),
		Posture:    d.posture,
	}
	r := &status.Report{SchemaVersion: status.SchemaVersion, ScannedAt: at, Device: inv.Device,
		Policy: status.PolicyRef{Name: "default", SHA256: d.policySHA}, Inventory: inv}
	compliant := true
	for _, f := range d.findings {
		f.EvaluatedAt = at
		r.Findings = append(r.Findings, status.Finding{Finding: f})
		if f.Status == policy.StatusFail {
			compliant = false
		}
	}
	r.Summary = status.Summarize(r.Findings)
	r.Compliant = compliant
	return r
}

func (d *device) setFinding(rule, subject, user string, st policy.Status, sev policy.Severity, ev ...policy.Evidence) {
	for i, f := range d.findings {
		if f.Rule == rule && f.Subject == subject && f.User == user {
			d.findings[i].Status, d.findings[i].Evidence = st, ev
			return
		}
	}
	d.findings = append(d.findings, policy.Finding{Rule: rule, Subject: subject, User: user, Status: st, Severity: sev, Evidence: ev})
}

type harness struct {
	t   *testing.T
	st  *store.Store
	cfg Config
	dev *device
	now time.Time
}

func openStore(t testing.TB, path string) *store.Store {
	t.Helper()
	st, err := store.Open(path, store.Options{Log: zerolog.Nop(), Retention: store.Retention{MaxAge: 400 * 24 * time.Hour, MaxScans: 100000}})
	if err != nil {
		t.Fatal(err)
	}
	st.DB().NoSync = true // tests only: speed, not durability
	return st
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	st := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	t.Cleanup(func() { st.Close() })
	return &harness{t: t, st: st, cfg: withOutbox(cfg), dev: newDevice(), now: t0}
}

// scan records the device's current state and returns the events it
// produced (excluding summaries unless all is set).
func (h *harness) scan() []Event {
	h.t.Helper()
	var last uint64
	if before := h.events(); len(before) > 0 {
		last = before[len(before)-1].Seq
	}
	r := h.dev.report(h.now)
	if _, err := h.st.Record(r, Hook(h.st, h.cfg)); err != nil {
		h.t.Fatalf("Record: %v", err)
	}
	h.now = h.now.Add(time.Hour)
	var out []Event
	for _, e := range h.events() {
		if e.Seq > last && e.Kind != KindSummary {
			out = append(out, e)
		}
	}
	return out
}

func (h *harness) events() []Event {
	h.t.Helper()
	evs, err := List(h.st.DB(), time.Time{})
	if err != nil {
		h.t.Fatalf("List: %v", err)
	}
	return evs
}

// brief is the comparable part of an event.
type brief struct {
	Kind                      Kind
	Rule, Subject, User, Attr string
	Before, After             string
	SBefore, SAfter           policy.Status
	Severity                  policy.Severity
	Direction                 Direction
}

func briefs(evs []Event) []brief {
	var out []brief
	for _, e := range evs {
		out = append(out, brief{e.Kind, e.Rule, e.Subject, e.User, e.Attribute, e.Before, e.After,
			e.StatusBefore, e.StatusAfter, e.Severity, e.Direction})
	}
	return out
}

func TestFirstScanSetsBaselineSilently(t *testing.T) {
	h := newHarness(t, DefaultConfig())
	if got := h.scan(); len(got) != 0 {
		t.Fatalf("first scan produced drift events: %+v", got)
	}
	all := h.events()
	if len(all) != 1 || all[0].Kind != KindSummary || all[0].Reason != "first scan: baseline set" {
		t.Fatalf("first scan events = %+v; want one summary marked as baseline", all)
	}
	bs, err := Baselines(h.st.DB(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 1 || bs[0].Info.Reason != "first_scan" || !bs[0].Info.SetAt.Equal(t0) || len(bs[0].Differences) != 0 {
		t.Fatalf("Baselines = %+v; want first_scan baseline at %v without differences", bs, t0)
	}
	if got := h.scan(); len(got) != 0 {
		t.Errorf("unchanged second scan produced events: %+v", got)
	}
}

func TestTransitions(t *testing.T) {
	tests := []struct {
		name   string
		cfg    func(*Config)
		change func(d *device)
		want   []brief
	}{
		{
			name: "new private messenger deb that fails a rule is one event",
			change: func(d *device) {
				d.messengers = append(d.messengers, policy.Messenger{ID: "whatsapp", Name: "WhatsApp", Variant: policy.VariantPrivate, Source: "deb", Version: "2.2"})
				d.setFinding("messenger.private-denied", "whatsapp", "", policy.StatusFail, policy.SeverityHigh, policy.Evidence{Source: "deb"})
			},
			want: []brief{{Kind: KindMessengerAppeared, Rule: "messenger.private-denied", Subject: "whatsapp", After: "private",
				SAfter: policy.StatusFail, Severity: policy.SeverityHigh, Direction: Away}},
		},
		{
			name: "messenger the policy does not judge is a neutral low event",
			change: func(d *device) {
				d.messengers = append(d.messengers, policy.Messenger{ID: "signal", Name: "Signal", Variant: policy.VariantPrivate, Source: "flatpak", User: "alice"})
			},
			want: []brief{{Kind: KindMessengerAppeared, Subject: "signal", User: "alice", After: "private", Severity: policy.SeverityLow}},
		},
		{
			name: "running process alone makes no event",
			change: func(d *device) {
				d.messengers = append(d.messengers, policy.Messenger{ID: "telegram", Variant: policy.VariantPrivate, Source: policy.SourceProcess, User: "alice"})
				d.setFinding("messenger.private-denied", "telegram", "alice", policy.StatusFail, policy.SeverityHigh, policy.Evidence{Source: policy.SourceProcess})
			},
			want: nil,
		},
		{
			name: "idle timeout raised past the limit is one posture event",
			change: func(d *device) {
				idle := 900
				d.posture.ScreenLock[0].IdleSeconds = &idle
				d.setFinding("screen-lock.idle", "device", "alice", policy.StatusFail, policy.SeverityHigh)
			},
			want: []brief{{Kind: KindPostureChanged, Rule: "screen-lock.idle", User: "alice", Attr: "screen_lock.idle_seconds",
				Before: "300", After: "900", SBefore: policy.StatusPass, SAfter: policy.StatusFail, Severity: policy.SeverityHigh, Direction: Away}},
		},
		{
			name: "idle timeout lowered within policy is neutral",
			change: func(d *device) {
				idle := 120
				d.posture.ScreenLock[0].IdleSeconds = &idle
			},
			want: []brief{{Kind: KindPostureChanged, User: "alice", Attr: "screen_lock.idle_seconds", Before: "300", After: "120", Severity: policy.SeverityLow}},
		},
		{
			name: "disk encryption turned unknown folds into its finding",
			change: func(d *device) {
				d.posture.Encryption.Volumes[0].Encrypted = policy.Unknown
				d.setFinding("disk-encryption", "/", "", policy.StatusUnknown, policy.SeverityCritical)
			},
			want: []brief{{Kind: KindPostureChanged, Rule: "disk-encryption", Subject: "/", Attr: "encryption.encrypted", Before: "true", After: "unknown",
				SBefore: policy.StatusPass, SAfter: policy.StatusUnknown, Severity: policy.SeverityCritical, Direction: Away}},
		},
		{
			name: "finding change without inventory change",
			change: func(d *device) {
				d.setFinding("messenger.allowed", "threema-work", "alice", policy.StatusFail, policy.SeverityInfo, policy.Evidence{Source: "deb"})
			},
			want: []brief{{Kind: KindFindingChanged, Rule: "messenger.allowed", Subject: "threema-work", User: "alice", Before: "pass", After: "fail",
				SBefore: policy.StatusPass, SAfter: policy.StatusFail, Severity: policy.SeverityInfo, Direction: Away}},
		},
		{
			name:   "version bump is its own low-severity kind",
			change: func(d *device) { d.messengers[0].Version = "1.3.0" },
			want: []brief{{Kind: KindVersionChanged, Subject: "threema-work", Attr: "version", Before: "1.2.0", After: "1.3.0",
				Severity: policy.SeverityLow}},
		},
		{
			name:   "version bump ignored when versions are off",
			cfg:    func(c *Config) { c.Versions = false },
			change: func(d *device) { d.messengers[0].Version = "1.3.0" },
			want:   nil,
		},
		{
			name: "variant change",
			change: func(d *device) {
				d.messengers[0].Variant = policy.VariantDual
			},
			want: []brief{{Kind: KindMessengerChanged, Subject: "threema-work", Attr: "variant", Before: "business", After: "dual", Severity: policy.SeverityLow}},
		},
		{
			name: "messenger moved between users is one event",
			change: func(d *device) {
				d.messengers[0].User = "bob"
			},
			want: []brief{{Kind: KindMessengerChanged, Subject: "threema-work", User: "bob", Attr: "user", Before: "", After: "bob", Severity: policy.SeverityLow}},
		},
		{
			name: "messenger removed and its failing finding passes",
			cfg:  nil,
			change: func(d *device) {
				d.messengers = nil
				d.setFinding("messenger.allowed", "threema-work", "alice", policy.StatusNotApplicable, policy.SeverityInfo)
			},
			want: []brief{{Kind: KindMessengerGone, Rule: "messenger.allowed", Subject: "threema-work", Before: "business",
				SBefore: policy.StatusPass, SAfter: policy.StatusNotApplicable, Severity: policy.SeverityInfo}},
		},
		{
			name: "finding disappears",
			change: func(d *device) {
				d.findings = d.findings[:2]
			},
			want: []brief{{Kind: KindFindingDisappeared, Rule: "messenger.allowed", Subject: "threema-work", User: "alice", Before: "pass",
				SBefore: policy.StatusPass, Severity: policy.SeverityInfo}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			h := newHarness(t, cfg)
			h.scan()
			tt.change(h.dev)
			got := h.scan()
			if diff := cmp.Diff(tt.want, briefs(got)); diff != "" {
				t.Errorf("events mismatch (-want +got):\n%s\nmessages: %v", diff, messages(got))
			}
			if again := h.scan(); len(again) != 0 {
				t.Errorf("unchanged scan after the change produced %+v", briefs(again))
			}
		})
	}
}

func messages(evs []Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Message)
	}
	return out
}

func TestProcessOnlyFindingKeepsConfirmedState(t *testing.T) {
	h := newHarness(t, DefaultConfig())
	h.dev.setFinding("messenger.private-denied", "whatsapp", "", policy.StatusFail, policy.SeverityHigh, policy.Evidence{Source: "deb"})
	h.scan()
	// The package is removed but the app still runs: no event while only
	// the process speaks for it.
	h.dev.setFinding("messenger.private-denied", "whatsapp", "", policy.StatusFail, policy.SeverityHigh, policy.Evidence{Source: policy.SourceProcess})
	if got := h.scan(); len(got) != 0 {
		t.Fatalf("process-only evidence produced %+v", briefs(got))
	}
	h.dev.setFinding("messenger.private-denied", "whatsapp", "", policy.StatusPass, policy.SeverityHigh)
	got := h.scan()
	want := []brief{{Kind: KindFindingChanged, Rule: "messenger.private-denied", Subject: "whatsapp", Before: "fail", After: "pass",
		SBefore: policy.StatusFail, SAfter: policy.StatusPass, Severity: policy.SeverityHigh, Direction: Back}}
	if diff := cmp.Diff(want, briefs(got)); diff != "" {
		t.Errorf("events mismatch (-want +got):\n%s", diff)
	}
}

// The policy reports a denied messenger that is absent as one system-wide
// pass; when it appears in one user's home that pass gives way to the
// user's fail. Still one event.
func TestUserMessengerReplacesAbsentPass(t *testing.T) {
	h := newHarness(t, DefaultConfig())
	h.dev.setFinding("messenger.whatsapp", "whatsapp", "", policy.StatusPass, policy.SeverityHigh)
	h.scan()
	h.dev.findings = slices.DeleteFunc(h.dev.findings, func(f policy.Finding) bool { return f.Rule == "messenger.whatsapp" })
	h.dev.setFinding("messenger.whatsapp", "whatsapp", "alice", policy.StatusFail, policy.SeverityHigh, policy.Evidence{Source: "flatpak"})
	h.dev.messengers = append(h.dev.messengers, policy.Messenger{ID: "whatsapp", Name: "WhatsApp", Variant: policy.VariantPrivate, Source: "flatpak", User: "alice"})
	got := h.scan()
	want := []brief{{Kind: KindMessengerAppeared, Rule: "messenger.whatsapp", Subject: "whatsapp", User: "alice", After: "private",
		SAfter: policy.StatusFail, Severity: policy.SeverityHigh, Direction: Away}}
	if diff := cmp.Diff(want, briefs(got)); diff != "" {
		t.Errorf("events mismatch (-want +got):\n%s\n%v", diff, messages(got))
	}
}

func TestDebounce(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Debounce = 3
	h := newHarness(t, cfg)
	h.scan()
	fail := func() { h.dev.setFinding("disk-encryption", "/", "", policy.StatusFail, policy.SeverityCritical) }
	pass := func() { h.dev.setFinding("disk-encryption", "/", "", policy.StatusPass, policy.SeverityCritical) }
	// Flapping never holds for three scans: nothing is reported.
	for _, step := range []func(){fail, fail, pass, fail, pass, fail, fail, pass} {
		step()
		if got := h.scan(); len(got) != 0 {
			t.Fatalf("flapping produced %+v", briefs(got))
		}
	}
	fail()
	for i := 1; i <= 3; i++ {
		got := h.scan()
		if i < 3 && len(got) != 0 {
			t.Fatalf("scan %d of 3 already reported %+v", i, briefs(got))
		}
		if i == 3 && (len(got) != 1 || got[0].Kind != KindFindingChanged || got[0].Direction != Away) {
			t.Fatalf("third failing scan = %+v; want one finding_changed away", briefs(got))
		}
	}
	if got := h.scan(); len(got) != 0 {
		t.Errorf("fourth scan repeated the event: %+v", briefs(got))
	}
}

func TestPolicyChangeIsOneReset(t *testing.T) {
	h := newHarness(t, DefaultConfig())
	h.scan()
	h.dev.policySHA = "ffff" + policySHA[4:]
	for i := range h.dev.findings {
		h.dev.findings[i].Status = policy.StatusFail // a new policy judges everything differently
	}
	got := h.scan()
	if len(got) != 1 || got[0].Kind != KindReset || got[0].Reason != "policy changed from a1b2c3d4e5f6 to ffffc3d4e5f6" {
		t.Fatalf("policy change events = %+v; want exactly one reset", got)
	}
	bs, _ := Baselines(h.st.DB(), "")
	if bs[0].Info.Reason != "reset" || len(bs[0].Differences) != 0 {
		t.Errorf("baseline after reset = %+v", bs[0])
	}
	if got := h.scan(); len(got) != 0 {
		t.Errorf("scan after reset produced %+v", briefs(got))
	}
}

func TestRebuiltDatabaseIsOneReset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	if err := os.WriteFile(path, []byte("this is not a bbolt file, it was damaged by a power cut"), 0o600); err != nil {
		t.Fatal(err)
	}
	st := openStore(t, path)
	defer st.Close()
	if st.Recovered == "" {
		t.Fatal("store did not rebuild the damaged file")
	}
	d := newDevice()
	phone := newDevice()
	phone.id = "phone-1"
	for i, dv := range []*device{d, phone} {
		if _, err := st.Record(dv.report(t0.Add(time.Duration(i)*time.Minute)), Hook(st, DefaultConfig())); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := List(st.DB(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var resets int
	for _, e := range evs {
		if e.Kind == KindReset {
			resets++
			if e.Device != "dev-1" || e.Reason == "" {
				t.Errorf("reset event = %+v", e)
			}
		} else if e.Kind != KindSummary {
			t.Errorf("unexpected event after rebuild: %+v", e)
		}
	}
	if resets != 1 {
		t.Errorf("got %d reset events; want exactly 1", resets)
	}
}

func TestSummaryDailyWithChecksum(t *testing.T) {
	h := newHarness(t, DefaultConfig())
	for range 49 { // 48 hours of hourly scans
		h.scan()
	}
	var sums []Event
	for _, e := range h.events() {
		if e.Kind == KindSummary {
			sums = append(sums, e)
		}
	}
	if len(sums) != 3 {
		t.Fatalf("got %d summaries in 48 h; want 3 (start, +24 h, +48 h)", len(sums))
	}
	var fs []policy.Finding
	fs = append(fs, h.dev.findings...)
	if want := Checksum(fs); sums[2].Checksum != want {
		t.Errorf("summary checksum = %s; want %s (what a collector computes from the findings)", sums[2].Checksum, want)
	}
	if sums[2].Counts["pass"] != 3 || sums[2].Compliant == nil || !*sums[2].Compliant {
		t.Errorf("summary = %+v", sums[2])
	}
	if !sums[1].Time.Equal(t0.Add(24 * time.Hour)) {
		t.Errorf("second summary at %v; want %v", sums[1].Time, t0.Add(24*time.Hour))
	}
}

func TestRetention(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxEvents = 5
	cfg.SummaryInterval = 0
	h := newHarness(t, cfg)
	h.scan()
	for i := range 12 {
		h.dev.messengers[0].Version = "1." + strconv.Itoa(i)
		h.scan()
	}
	evs := h.events()
	if len(evs) != 5 || evs[4].After != "1.11" || evs[0].After != "1.7" {
		t.Fatalf("kept %d events (%v); want the newest 5", len(evs), messages(evs))
	}
	cfg.MaxEvents, cfg.MaxAge = 100, 2*time.Hour
	h.cfg = cfg
	h.dev.messengers[0].Version = "2.0"
	h.scan()
	if evs := h.events(); len(evs) != 3 || evs[0].After != "1.10" {
		t.Errorf("after age pruning kept %v; want the 3 events from hours 11, 12 and 13", messages(evs))
	}
}

func TestAcceptBaseline(t *testing.T) {
	h := newHarness(t, DefaultConfig())
	h.scan()
	h.dev.messengers = append(h.dev.messengers, policy.Messenger{ID: "signal", Variant: policy.VariantPrivate, Source: "deb"})
	h.scan()
	bs, _ := Baselines(h.st.DB(), "dev-1")
	if len(bs) != 1 || len(bs[0].Differences) != 1 || bs[0].Differences[0].Kind != KindMessengerAppeared {
		t.Fatalf("differences before accept = %+v", bs)
	}
	if _, err := Accept(h.st.DB(), h.cfg, "", "", "why"); err == nil {
		t.Error("Accept without --by succeeded")
	}
	if _, err := Accept(h.st.DB(), h.cfg, "nope", "it", "why"); err == nil {
		t.Error("Accept for an unknown device succeeded")
	}
	cfg := h.cfg
	cfg.Now = func() time.Time { return t0.Add(5 * time.Hour) }
	evs, err := Accept(h.st.DB(), cfg, "", "Petra (IT)", "Signal approved for the on-call team")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Kind != KindBaselineAccepted || evs[0].By != "Petra (IT)" || evs[0].ID == "" {
		t.Fatalf("Accept events = %+v", evs)
	}
	bs, _ = Baselines(h.st.DB(), "")
	want := BaselineInfo{SetAt: t0.Add(5 * time.Hour), Reason: "accepted", By: "Petra (IT)", Why: "Signal approved for the on-call team",
		ScanID: bs[0].Info.ScanID, PolicySHA: policySHA}
	if diff := cmp.Diff(want, bs[0].Info); diff != "" || len(bs[0].Differences) != 0 || bs[0].Info.ScanID == "" {
		t.Errorf("baseline after accept (-want +got):\n%s\ndifferences: %+v", diff, bs[0].Differences)
	}
	listed, _ := List(h.st.DB(), t0.Add(4*time.Hour))
	if len(listed) != 1 || listed[0].Kind != KindBaselineAccepted {
		t.Errorf("List since accept = %+v", listed)
	}
}

func TestEventIDsStableAndUnique(t *testing.T) {
	run := func() []Event {
		h := newHarness(t, DefaultConfig())
		h.scan()
		h.dev.messengers[0].Version = "9"
		h.dev.setFinding("disk-encryption", "/", "", policy.StatusFail, policy.SeverityCritical)
		h.scan()
		return h.events()
	}
	a, b := run(), run()
	seen := map[string]bool{}
	for i := range a {
		if a[i].ID != b[i].ID {
			t.Errorf("event %d id differs between identical runs: %s vs %s", i, a[i].ID, b[i].ID)
		}
		if seen[a[i].ID] {
			t.Errorf("duplicate id %s", a[i].ID)
		}
		seen[a[i].ID] = true
	}
}

func TestEventsEnqueuedInScanTransaction(t *testing.T) {
	h := newHarness(t, DefaultConfig())
	if _, err := outbox.Register(h.st.DB(), []outbox.Spec{{Name: "all"}, {Name: "high", MinSeverity: policy.SeverityHigh}}); err != nil {
		t.Fatal(err)
	}
	h.scan()
	h.dev.messengers[0].Version = "9"
	h.dev.setFinding("disk-encryption", "/", "", policy.StatusFail, policy.SeverityCritical)
	h.scan()
	nop := func(string, int, time.Time, time.Time) outbox.Entry { return outbox.Entry{} }
	all, err := outbox.Next(h.st.DB(), "all", 100, nop)
	if err != nil {
		t.Fatal(err)
	}
	high, _ := outbox.Next(h.st.DB(), "high", 100, nop)
	stored := h.events()
	if len(all) != len(stored) {
		t.Fatalf("outbox holds %d entries; %d events stored", len(all), len(stored))
	}
	for i, it := range all {
		if it.ID != stored[i].ID {
			t.Errorf("outbox entry %d = %s; want %s (same order as stored)", i, it.ID, stored[i].ID)
		}
	}
	if len(high) != 1 || high[0].Severity != policy.SeverityCritical {
		t.Errorf("high-severity outbox = %+v; want only the critical encryption event", high)
	}
}

// A hook error rolls back the scan: the events and the outbox entries
// are never half-written.
func TestHookFailureRollsBack(t *testing.T) {
	h := newHarness(t, DefaultConfig())
	h.scan()
	h.dev.setFinding("disk-encryption", "/", "", policy.StatusFail, policy.SeverityCritical)
	boom := func(*bolt.Tx, *status.Report, *status.Report) error { return fmt.Errorf("disk full") }
	if _, err := h.st.Record(h.dev.report(h.now), Hook(h.st, h.cfg), boom); err == nil {
		t.Fatal("Record succeeded despite a failing hook")
	}
	if evs := h.events(); len(evs) != 1 {
		t.Fatalf("events after rolled-back scan: %v", messages(evs))
	}
	if got := h.scan(); len(got) != 1 {
		t.Errorf("retried scan events = %+v; want the change reported once", briefs(got))
	}
}

func FuzzDecodeItem(f *testing.F) {
	it := item{kind: itemPosture, rule: areaScreenLock, user: "alice", attr: "idle_seconds", value: "300"}
	f.Add([]byte(it.key()), it.encode())
	f.Add([]byte("f\x00r\x00s\x00u\x00\x00"), []byte("fail\x00high\x00"))
	f.Add([]byte("x"), []byte(""))
	f.Fuzz(func(t *testing.T, k, v []byte) {
		got, err := decodeItem(k, v)
		if err != nil {
			return
		}
		if got.key() != string(k) {
			t.Errorf("key round trip: %q -> %q", k, got.key())
		}
	})
}

func FuzzDecodePending(f *testing.F) {
	f.Add(pending{present: true, value: "fail", n: 2}.encode())
	f.Add([]byte("0"))
	f.Add([]byte("19999999999\x00x"))
	f.Fuzz(func(t *testing.T, v []byte) {
		p, err := decodePending(v)
		if err != nil {
			return
		}
		again, err := decodePending(p.encode())
		if err != nil || again != p {
			t.Errorf("round trip %+v -> %+v, %v", p, again, err)
		}
	})
}

// benchReport builds a device with 200 inventory items (150 messenger
// entries, 40 users' screen-lock settings, remote wipe and a volume) and 50
// findings. changed > 0 applies a typical day's drift: a new messenger, a
// version bump, a raised idle timeout and a failing finding; changed < 0
// changes every item (the worst case).
func benchReport(at time.Time, changed int) *status.Report {
	d := newDevice()
	d.messengers = nil
	d.findings = nil
	all := 0
	if changed < 0 {
		all = 1
	}
	for i := range 150 {
		v := fmt.Sprintf("1.%d", all)
		if changed > 0 && i == 7 {
			v = "1.1"
		}
		d.messengers = append(d.messengers, policy.Messenger{ID: fmt.Sprintf("m%03d", i), Name: "M", Variant: policy.VariantBusiness,
			Source: "deb", User: fmt.Sprintf("user%d", i%5), Version: v})
	}
	if changed > 0 {
		d.messengers[149] = policy.Messenger{ID: "whatsapp", Name: "WhatsApp", Variant: policy.VariantPrivate, Source: "deb", Version: "2.2"}
	}
	for i := range 40 {
		idle := 300 + all
		if changed > 0 && i == 3 {
			idle = 900
		}
		d.posture.ScreenLock = append(d.posture.ScreenLock, policy.ScreenLock{User: fmt.Sprintf("u%02d", i), Applicable: policy.Yes, Enabled: policy.Yes, IdleSeconds: &idle})
	}
	for i := range 50 {
		st := policy.StatusPass
		if (i+all)%7 == 0 || changed > 0 && i == 20 {
			st = policy.StatusFail
		}
		d.findings = append(d.findings, policy.Finding{Rule: fmt.Sprintf("rule.%02d", i), Subject: fmt.Sprintf("m%03d", i), Status: st, Severity: policy.SeverityMedium})
	}
	return d.report(at)
}

// BenchmarkDrift measures drift between two scans of a device with 200
// inventory items and 50 findings and a typical day's changes: snapshot,
// diff and event construction (the pure part; BenchmarkDriftHook adds the
// database work).
func BenchmarkDrift(b *testing.B) {
	benchDrift(b, benchReport(t0, 0), benchReport(t0.Add(time.Hour), 1), 5)
}

// BenchmarkDriftAllChanged is the worst case: every item changed.
func BenchmarkDriftAllChanged(b *testing.B) {
	benchDrift(b, benchReport(t0, 0), benchReport(t0.Add(time.Hour), -1), 0)
}

func benchDrift(b *testing.B, a, c *status.Report, wantEvents int) {
	state := takeSnapshot(a, snapshotOptions{versions: true}).items
	b.ReportAllocs()
	for b.Loop() {
		snap := takeSnapshot(c, snapshotOptions{versions: true})
		res := diff(state, nil, snap, 1)
		evs := buildEvents(res.changes, eventMeta{device: "d", scanID: "s", at: t0})
		if wantEvents > 0 && len(evs) != wantEvents || len(evs) == 0 {
			b.Fatalf("got %d events: %v", len(evs), messages(evs))
		}
	}
}

// BenchmarkDriftHook is the same change through the store hook inside a
// bbolt write transaction (state read, writes, events, outbox), rolled back
// each time so every iteration sees the same two scans.
func BenchmarkDriftHook(b *testing.B) {
	st := openStore(b, filepath.Join(b.TempDir(), "state.db"))
	defer st.Close()
	if _, err := outbox.Register(st.DB(), []outbox.Spec{{Name: "jsonl"}}); err != nil {
		b.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.SummaryInterval = 0
	first := benchReport(t0, 0)
	first.ScanID = "s1"
	if err := st.DB().Update(func(tx *bolt.Tx) error { _, err := apply(tx, cfg, first, "", testEmit); return err }); err != nil {
		b.Fatal(err)
	}
	second := benchReport(t0.Add(time.Hour), 1)
	second.ScanID = "s2"
	errRollback := fmt.Errorf("rollback")
	b.ReportAllocs()
	for b.Loop() {
		err := st.DB().Update(func(tx *bolt.Tx) error {
			evs, err := apply(tx, cfg, second, "", testEmit)
			if err != nil {
				return err
			}
			if len(evs) == 0 {
				return fmt.Errorf("no events")
			}
			return errRollback
		})
		if err != errRollback {
			b.Fatal(err)
		}
	}
}

func TestRedactEvents(t *testing.T) {
	// The move event as pairUserMoves phrases it.
	moved, _ := pairUserMoves([]Event{
		{Kind: KindMessengerGone, Subject: "whatsapp", User: "bob", Before: "consumer"},
		{Kind: KindMessengerAppeared, Subject: "whatsapp", User: "alice", After: "consumer"},
	}, map[int]string{})
	if len(moved) != 1 || moved[0].Before != "bob" {
		t.Fatalf("pairUserMoves = %+v; want one move from bob", moved)
	}
	moved[0].ID = "moved"
	in := []Event{
		{ID: "device", Kind: KindPostureChanged},
		{ID: "alice", Kind: KindMessengerAppeared, User: "alice"},
		{ID: "bob", Kind: KindMessengerAppeared, User: "bob"},
		moved[0],
		{ID: "accept", Kind: KindBaselineAccepted, By: "Petra", Reason: "ticket 9 for Bob's laptop",
			Message: "baseline accepted by Petra: ticket 9 for Bob's laptop"},
	}
	var got []Event
	for _, e := range in {
		if e, ok := RedactEvent(e, "alice"); ok {
			got = append(got, e)
		}
	}
	var ids []string
	for _, e := range got {
		ids = append(ids, e.ID)
		if e.By != "" || e.Reason != "" || e.Before == "bob" || strings.Contains(e.Message, "bob") ||
			strings.Contains(e.Message, "Bob") || strings.Contains(e.Message, "Petra") {
			t.Errorf("redacted event leaks another person: %+v", e)
		}
	}
	if got[2].Message != "messenger whatsapp (consumer) moved from another user to user alice" {
		t.Errorf("redacted move message = %q", got[2].Message)
	}
	if diff := cmp.Diff([]string{"device", "alice", "moved", "accept"}, ids); diff != "" {
		t.Errorf("Redact(alice) (-want +got):\n%s", diff)
	}
}

func testEmit(tx *bolt.Tx) emitFunc { return enqueueIn(tx, outbox.EnqueueEvent, time.Now()) }

// withOutbox delivers Hook's and Accept's events to the sink outboxes,
// as the agent configures drift.
func withOutbox(c Config) Config {
	c.Enqueue = outbox.EnqueueEvent
	return c
}

// TestRedactEventByData: every event kind that carries a personal field
// (who accepted a baseline, reasons) or an operational one (a moved-aside
// database's path in a reset's or summary's reason), or an administrator's
// message quoting them, reaches a non-administrator without them: the view
// is built from the structured fields, whatever the message says.
func TestRedactEventByData(t *testing.T) {
	const path = "/var/lib/msgguard/state.db.corrupt-planted"
	yes := true
	in := []Event{
		{ID: "accept", Kind: KindBaselineAccepted, By: "Planted Approver", Reason: "planted-reason-5512",
			Message: "baseline accepted by Planted Approver: planted-reason-5512"},
		{ID: "reset", Kind: KindReset, Reason: "database rebuilt after corruption; damaged file kept at " + path,
			Message: "drift state reset, new baseline set: database rebuilt after corruption; damaged file kept at " + path},
		{ID: "summary", Kind: KindSummary, Reason: "after reset: damaged file kept at " + path, Compliant: &yes,
			Counts: map[string]int{"pass": 3}, Message: "state summary after " + path},
		{ID: "profile", Kind: KindMessengerAppeared, Subject: "whatsapp", User: "alice", Variant: "private", After: "private",
			Message: "messenger WhatsApp (private) appeared for user alice (Planted Approver's profile)"},
		{ID: "finding", Kind: KindFindingChanged, Rule: "messenger.whatsapp", StatusBefore: "fail", StatusAfter: "pass",
			Before: "fail", After: "pass", Message: "rule messenger.whatsapp: fail → pass (exempted by Planted Approver)"},
	}
	want := map[string]string{
		"accept":  "baseline accepted",
		"reset":   "drift state reset, new baseline set",
		"summary": "state summary: compliant; 0 failing, 0 unknown, 3 passing findings",
		"profile": "messenger whatsapp (private) appeared for user alice",
		"finding": "rule messenger.whatsapp: fail → pass",
	}
	for _, e := range in {
		got, ok := RedactEvent(e, "alice")
		if !ok {
			t.Fatalf("%s: dropped", e.ID)
		}
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"Planted", "planted", "/var/lib", "msgguard"} {
			if strings.Contains(string(b), s) {
				t.Errorf("%s: redacted event carries %q: %s", e.ID, s, b)
			}
		}
		if got.Message != want[e.ID] {
			t.Errorf("%s: message = %q; want %q", e.ID, got.Message, want[e.ID])
		}
		if got.ID != e.ID || got.Kind != e.Kind || got.Rule != e.Rule || got.Subject != e.Subject {
			t.Errorf("%s: structured fields lost: %+v", e.ID, got)
		}
	}
}
