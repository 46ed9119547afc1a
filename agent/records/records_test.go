package records_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/records"
	"github.com/msgguard/msgguard/agent/scan"
	"github.com/msgguard/msgguard/agent/scan/stages"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/agent/store"
	"github.com/msgguard/msgguard/policy"
)

const consent = "attestation.whatsapp-business.group-consent"

// phone is a WhatsApp Business phone, which the default policy's
// attestations are written for.
func phone(context.Context, *policy.Catalog) (*policy.Inventory, error) {
	return &policy.Inventory{
		Device: policy.Device{ID: "phone-1", Kind: "phone", Platform: "android"},
		Users:  []policy.User{{Name: "owner", Profile: "personal"}},
		Messengers: []policy.Messenger{
			{ID: "whatsapp-business", Name: "WhatsApp Business", Variant: policy.VariantBusiness, Source: "package", User: "owner", Contacts: policy.Yes},
		},
		Posture: policy.Posture{Inspected: true,
			RemoteWipe: policy.RemoteWipe{Capable: policy.No}},
	}, nil
}

// world is a database with the phone scanned, attested, exempted and
// scanned again through the real scan cycle, compliance workflow and drift
// hook.
func world(t testing.TB) *store.Store {
	t.Helper()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"), store.Options{Now: clock, Log: zerolog.New(zerolog.NewTestWriter(t))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cs := compliance.NewStore(st.DB(), compliance.Retention{})
	p := policy.Default()
	s := &scan.Scanner{Probe: phone, Store: st, Now: clock,
		Stages: stages.For(st, compliance.Retention{}, drift.DefaultConfig())}
	if _, err := s.Scan(context.Background(), scan.Policy{Policy: p}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	a, err := compliance.NewAttestation(p, compliance.AttestRequest{Rule: consent, Device: "phone-1", By: "Erika", Note: "ticket 7"}, now)
	if err != nil {
		t.Fatal(err)
	}
	x, err := compliance.NewExemption(p, compliance.ExemptRequest{Rule: "remote-wipe", Device: "phone-1", Reason: "MDM rollout",
		Approver: "DPO", Until: now.AddDate(0, 1, 0)}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.Attest(a); err != nil {
		t.Fatal(err)
	}
	if err := cs.Exempt(x); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	if _, err := s.Scan(context.Background(), scan.Policy{Policy: p}); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestEmptyDatabase(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"), store.Options{Log: zerolog.New(zerolog.NewTestWriter(t))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db := st.DB()
	a, err := records.Attestations(db, "")
	if err != nil || a.Attestations == nil || len(a.Attestations) != 0 {
		t.Errorf("Attestations = %+v, %v; want an empty list", a, err)
	}
	x, err := records.Exemptions(db, "")
	if err != nil || x.Exemptions == nil || len(x.Exemptions) != 0 {
		t.Errorf("Exemptions = %+v, %v; want an empty list", x, err)
	}
	b, err := records.Baselines(db, "")
	if err != nil || b.Baselines == nil || len(b.Baselines) != 0 {
		t.Errorf("Baselines = %+v, %v; want an empty list", b, err)
	}
	h, err := records.Explain(db, "remote-wipe", "")
	want := &apitype.RuleHistory{Findings: []status.Finding{}, Drift: []drift.Event{}, Log: []compliance.LogEntry{}, Note: store.ErrNoScan.Error()}
	if err != nil || !cmp.Equal(h, want) {
		t.Errorf("Explain on an empty database = %+v, %v; want %+v", h, err, want)
	}
}

func TestLists(t *testing.T) {
	db := world(t).DB()
	for _, tt := range []struct {
		device string
		want   int
	}{{"", 1}, {"phone-1", 1}, {"phone-2", 0}} {
		a, err := records.Attestations(db, tt.device)
		if err != nil || len(a.Attestations) != tt.want {
			t.Fatalf("Attestations(%q) = %+v, %v; want %d", tt.device, a, err, tt.want)
		}
		if tt.want > 0 && (a.Attestations[0].Rule != consent || a.Attestations[0].By != "Erika" || a.Attestations[0].Note != "ticket 7") {
			t.Errorf("Attestations(%q) = %+v", tt.device, a.Attestations)
		}
		x, err := records.Exemptions(db, tt.device)
		if err != nil || len(x.Exemptions) != tt.want {
			t.Fatalf("Exemptions(%q) = %+v, %v; want %d", tt.device, x, err, tt.want)
		}
		if tt.want > 0 && (x.Exemptions[0].Rule != "remote-wipe" || x.Exemptions[0].Approver != "DPO") {
			t.Errorf("Exemptions(%q) = %+v", tt.device, x.Exemptions)
		}
		b, err := records.Baselines(db, tt.device)
		if err != nil || len(b.Baselines) != tt.want {
			t.Fatalf("Baselines(%q) = %+v, %v; want %d", tt.device, b, err, tt.want)
		}
		if tt.want > 0 && (b.Baselines[0].Device != "phone-1" || b.Baselines[0].Info.Reason != "first_scan" || len(b.Baselines[0].Differences) == 0) {
			t.Errorf("Baselines(%q) = %+v; want the first scan's with the attested and exempted changes", tt.device, b.Baselines)
		}
	}
}

// TestExplain: the rule's findings on the device, its drift events and
// audit log, and nothing about other rules.
func TestExplain(t *testing.T) {
	db := world(t).DB()
	h, err := records.Explain(db, consent, "phone-1") // a phone is never the primary device
	if err != nil {
		t.Fatal(err)
	}
	if h.Device != "phone-1" || h.Platform != "android" || h.ScannedAt.IsZero() || h.Note != "" {
		t.Errorf("Explain device part = %q %q %v %q", h.Device, h.Platform, h.ScannedAt, h.Note)
	}
	if len(h.Findings) != 1 || h.Findings[0].Rule != consent || h.Findings[0].Status != policy.StatusAttested {
		t.Errorf("Explain findings = %+v; want %s attested", h.Findings, consent)
	}
	if len(h.Log) != 1 || h.Log[0].Kind != compliance.LogAttested || h.Log[0].By != "Erika" {
		t.Errorf("Explain log = %+v; want the attestation by Erika", h.Log)
	}
	if len(h.Drift) == 0 {
		t.Error("Explain has no drift event for the attested rule")
	}
	for _, ev := range h.Drift {
		if ev.Rule != consent || ev.Device != "phone-1" {
			t.Errorf("Explain drift has an event about %s on %s", ev.Rule, ev.Device)
		}
	}
	other, err := records.Explain(db, "remote-wipe", "phone-1")
	if err != nil || len(other.Log) != 1 || other.Log[0].Kind != compliance.LogExempted || len(other.Findings) != 1 ||
		other.Findings[0].Status != policy.StatusExempt {
		t.Errorf("Explain(remote-wipe) = %+v, %v; want the exempt finding and its log entry", other, err)
	}
	none, err := records.Explain(db, consent, "phone-2")
	if err != nil || none.Device != "" || none.Note != store.ErrNoScan.Error() || len(none.Findings)+len(none.Log)+len(none.Drift) != 0 {
		t.Errorf("Explain on an unknown device = %+v, %v; want its note only", none, err)
	}
}

// BenchmarkExplain measures one `agent explain` read (latest report, drift
// events and audit log in one read transaction) on a scanned database.
func BenchmarkExplain(b *testing.B) {
	db := world(b).DB()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := records.Explain(db, consent, "phone-1"); err != nil {
			b.Fatal(err)
		}
	}
}
