package compliance_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/scan"
	"github.com/msgguard/msgguard/agent/scan/stages"
	"github.com/msgguard/msgguard/agent/store"
	"github.com/msgguard/msgguard/policy"
)

var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func openStore(t *testing.T, c *clock) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"), store.Options{Now: c.now, Log: zerolog.New(zerolog.NewTestWriter(t))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// phone is the article's separate WhatsApp Business phone, with Telegram
// beside it: the device the default policy's attestations are written for.
func phone(context.Context, *policy.Catalog) (*policy.Inventory, error) {
	return &policy.Inventory{
		Device: policy.Device{ID: "phone-1", Kind: "phone", Platform: "android"},
		Users:  []policy.User{{Name: "owner", Profile: "personal"}},
		Messengers: []policy.Messenger{
			{ID: "whatsapp-business", Name: "WhatsApp Business", Variant: policy.VariantBusiness, Source: "package", User: "owner", Contacts: policy.Yes},
			{ID: "telegram", Name: "Telegram", Variant: policy.VariantDual, Source: "package", User: "owner", Contacts: policy.No},
		},
		Posture: policy.Posture{Inspected: true,
			ScreenLock: []policy.ScreenLock{{User: "owner", Applicable: policy.Yes, Enabled: policy.Yes, LockOnSuspend: policy.Yes}},
			RemoteWipe: policy.RemoteWipe{Capable: policy.Yes, Scope: "device", Provider: "Android Device Policy"},
			Encryption: policy.DiskEncryption{Volumes: []policy.Volume{{Mount: "data", Encrypted: policy.Yes}}}},
	}, nil
}

var articleAttestations = []string{
	"attestation.whatsapp-business.customer-contacts-only",
	"attestation.whatsapp-business.no-extra-contact-data",
	"attestation.whatsapp-business.group-consent",
}

// TestDoneWhenAttestationsAndDrift is the compliance workflow's acceptance scenario through the real
// scan cycle, store and drift stage: the three article attestations fail
// until attested, turn attested, and expiring them makes exactly one drift
// event each; a clock jump back does not bring them back.
func TestDoneWhenAttestationsAndDrift(t *testing.T) {
	c := &clock{t: start}
	st := openStore(t, c)
	cs := compliance.NewStore(st.DB(), compliance.Retention{})
	p := policy.Default()
	s := &scan.Scanner{Probe: phone, Store: st, Now: c.now,
		Stages: stages.For(st, compliance.Retention{}, drift.DefaultConfig())}
	pol := scan.Policy{Policy: p}
	statusOf := func() map[string]policy.Status {
		t.Helper()
		r, err := s.Scan(context.Background(), pol)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]policy.Status{}
		for _, f := range r.Findings {
			out[f.Rule] = f.Status
		}
		return out
	}

	got := statusOf()
	for _, rule := range articleAttestations {
		if got[rule] != policy.StatusFail {
			t.Errorf("first scan: %s = %q; want fail (not yet attested)", rule, got[rule])
		}
	}

	c.t = start.Add(time.Hour)
	for _, rule := range articleAttestations {
		a, err := compliance.NewAttestation(p, compliance.AttestRequest{Rule: rule, Device: "phone-1", By: "Erika Mustermann"}, c.t)
		if err != nil {
			t.Fatal(err)
		}
		if err := cs.Attest(a); err != nil {
			t.Fatal(err)
		}
	}
	c.t = start.Add(2 * time.Hour)
	got = statusOf()
	for _, rule := range articleAttestations {
		if got[rule] != policy.StatusAttested {
			t.Errorf("after attest: %s = %q; want attested", rule, got[rule])
		}
	}
	c.t = start.Add(181 * policy.Day)
	got = statusOf()
	for _, rule := range articleAttestations {
		if got[rule] != policy.StatusFail {
			t.Errorf("after expiry: %s = %q; want fail", rule, got[rule])
		}
	}
	expiredAt := c.t
	after, _ := drift.List(st.DB(), expiredAt)
	perRule := map[string]int{}
	for _, e := range after {
		if e.Kind.IsDrift() {
			perRule[e.Rule]++
			if e.StatusBefore != "" && (e.StatusBefore != policy.StatusAttested || e.StatusAfter != policy.StatusFail || e.Direction != drift.Away) {
				t.Errorf("expiry event %+v; want attested → fail, away", e)
			}
		}
	}
	for _, rule := range articleAttestations {
		if perRule[rule] != 1 {
			t.Errorf("drift events for %s on expiry = %d; want exactly 1 (all: %v)", rule, perRule[rule], perRule)
		}
	}

	// The clock goes back into the validity: still failing, no new event.
	c.t = start.Add(3 * time.Hour)
	got = statusOf()
	for _, rule := range articleAttestations {
		if got[rule] != policy.StatusFail {
			t.Errorf("after the clock went back: %s = %q; want fail (no resurrection)", rule, got[rule])
		}
	}
	again, _ := drift.List(st.DB(), time.Time{})
	for _, e := range again {
		if e.Kind.IsDrift() && !e.Time.Equal(expiredAt) && e.Time.After(start.Add(2*time.Hour)) {
			t.Errorf("drift event after the clock went back: %+v", e)
		}
	}
	hist, err := compliance.History(st.DB(), "phone-1", articleAttestations[0])
	if err != nil || len(hist) != 2 || hist[0].Kind != compliance.LogAttested || hist[1].Kind != compliance.LogAttestationExpired {
		t.Errorf("History = %+v, %v; want attested then attestation_expired", hist, err)
	}
}

// TestStoreRetention checks that expired records and old audit entries go
// after the retention period, and that valid ones stay.
func TestStoreRetention(t *testing.T) {
	c := &clock{t: start}
	st := openStore(t, c)
	cs := compliance.NewStore(st.DB(), compliance.Retention{MaxAge: 30 * policy.Day, MaxLog: 3})
	p := policy.Default()
	rule := articleAttestations[0]
	short, err := compliance.NewAttestation(p, compliance.AttestRequest{Rule: rule, Device: "phone-1", By: "A", Until: start.Add(2 * policy.Day)}, start)
	if err != nil {
		t.Fatal(err)
	}
	long, err := compliance.NewAttestation(p, compliance.AttestRequest{Rule: articleAttestations[1], Device: "phone-1", By: "B"}, start)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []compliance.Attestation{short, long} {
		if err := cs.Attest(a); err != nil {
			t.Fatal(err)
		}
	}
	apply := func(at time.Time) {
		t.Helper()
		inv, _ := phone(context.Background(), nil)
		if _, err := cs.Apply(context.Background(), p, inv, policy.Evaluate(p, inv, policy.EvalOptions{Now: at}), at, "en"); err != nil {
			t.Fatal(err)
		}
	}
	apply(start.Add(3 * policy.Day)) // short expires: recorded
	recs, _ := compliance.List(st.DB(), "phone-1")
	if len(recs.Attestations) != 2 || recs.Attestations[0].ExpiredAt.IsZero() {
		t.Fatalf("records after expiry = %+v", recs.Attestations)
	}
	apply(start.Add(20 * policy.Day)) // within retention: kept
	if recs, _ := compliance.List(st.DB(), "phone-1"); len(recs.Attestations) != 2 {
		t.Errorf("expired record pruned before the retention period: %+v", recs.Attestations)
	}
	apply(start.Add(40 * policy.Day)) // 37 days after it was seen expired
	recs, _ = compliance.List(st.DB(), "phone-1")
	if len(recs.Attestations) != 1 || recs.Attestations[0].Rule != long.Rule {
		t.Errorf("records after retention = %+v; want only the valid one", recs.Attestations)
	}
	// The audit log is capped at MaxLog entries (attested ×2, expired ×1
	// are older than 30 days now and pruned too).
	for i := 0; i < 5; i++ {
		a := long
		a.At = start.Add(40 * policy.Day)
		if err := cs.Attest(a); err != nil {
			t.Fatal(err)
		}
	}
	apply(start.Add(41 * policy.Day))
	hist, _ := compliance.History(st.DB(), "", "")
	if len(hist) != 3 {
		t.Errorf("audit log has %d entries; want MaxLog = 3", len(hist))
	}
	for _, e := range hist {
		if e.Time.Before(start.Add(11 * policy.Day)) {
			t.Errorf("entry older than the retention period kept: %+v", e)
		}
	}
}

// TestAttestIsAtomic checks that a failed write records nothing: a
// read-only database refuses, and no half record or audit entry appears.
func TestAttestIsAtomic(t *testing.T) {
	c := &clock{t: start}
	dir := t.TempDir()
	path := filepath.Join(dir, "state.db")
	st, err := store.Open(path, store.Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	ro, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	a, _ := compliance.NewAttestation(policy.Default(), compliance.AttestRequest{Rule: articleAttestations[0], Device: "d", By: "x"}, start)
	if err := compliance.NewStore(ro.DB(), compliance.Retention{}).Attest(a); err == nil {
		t.Fatal("Attest on a read-only database succeeded")
	}
	recs, _ := compliance.List(ro.DB(), "")
	hist, _ := compliance.History(ro.DB(), "", "")
	if len(recs.Attestations) != 0 || len(hist) != 0 {
		t.Errorf("half-recorded: %+v %+v", recs, hist)
	}
}

// TestDryRun applies the workflow without a database: nothing attested,
// nothing persisted.
func TestDryRun(t *testing.T) {
	inv, _ := phone(context.Background(), nil)
	p := policy.Default()
	var cs *compliance.Store
	fs, err := cs.Apply(context.Background(), p, inv, policy.Evaluate(p, inv, policy.EvalOptions{Now: start}), start, "en")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range fs {
		if f.Attestation == nil && f.Status == policy.StatusFail && f.Rule != "" && len(f.Rule) > 12 && f.Rule[:12] == "attestation." {
			n++
		}
	}
	if n != 5 {
		t.Errorf("dry run: %d failing attestations; want 5 (three WhatsApp Business, two Telegram)", n)
	}
}

// BenchmarkStoreApply measures the workflow's cost per scan with its
// bbolt transaction (read the device's records, apply, write what changed)
// on the default policy and the WhatsApp Business phone.
func BenchmarkStoreApply(b *testing.B) {
	c := &clock{t: start}
	st, err := store.Open(filepath.Join(b.TempDir(), "state.db"), store.Options{Now: c.now})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	cs := compliance.NewStore(st.DB(), compliance.Retention{})
	p := policy.Default()
	inv, _ := phone(context.Background(), nil)
	fs := policy.Evaluate(p, inv, policy.EvalOptions{Now: start})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cs.Apply(context.Background(), p, inv, fs, start, "en"); err != nil {
			b.Fatal(err)
		}
	}
}
