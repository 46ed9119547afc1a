package compliance

import (
	"strings"
	"testing"
	"time"

	"github.com/msgguard/msgguard/policy"
)

// TestTelegramConditionAttested runs the embedded default policy's real
// evaluation: Telegram is conditional (secret chats only, no contact sync),
// which the agent cannot check, so its finding asks for a confirmation until
// both Telegram attestations are recorded; with one of them it still asks,
// with both it is attested (valid as long as the earlier one), and when one
// expires it asks again.
func TestTelegramConditionAttested(t *testing.T) {
	p := policy.Default()
	inv := &policy.Inventory{
		Device:     policy.Device{ID: "dev1", Kind: "computer", Platform: "linux"},
		Messengers: []policy.Messenger{{ID: "telegram", Name: "Telegram Desktop", Variant: policy.VariantPrivate, Source: "package"}},
	}
	telegram := func(r Result) policy.Finding {
		t.Helper()
		for _, f := range r.Findings {
			if f.Rule == "messenger.telegram" {
				return f
			}
		}
		t.Fatalf("no messenger.telegram finding in %v", keys(r.Findings))
		return policy.Finding{}
	}
	st := NewState()
	if f := telegram(scan(t, p, inv, st, t0, "en")); f.Status != policy.StatusUnknown || !strings.Contains(f.Message, "has to confirm it") {
		t.Fatalf("without attestations: %s %q; want unknown, asking for a confirmation", f.Status, f.Message)
	}
	attest := func(id string, until time.Time) {
		t.Helper()
		a, err := NewAttestation(p, AttestRequest{Rule: id, Device: "dev1", By: "Erika Mustermann", Until: until}, t0)
		if err != nil {
			t.Fatal(err)
		}
		st.Attestations[a.Rule] = a
	}
	attest("telegram.secret-chats-only", policy.EndOfDay(t0.Add(60*policy.Day)))
	if f := telegram(scan(t, p, inv, st, t0, "en")); f.Status != policy.StatusUnknown {
		t.Errorf("with one of two attestations: %s; want still unknown", f.Status)
	}
	attest("telegram.contact-sync-off", policy.EndOfDay(t0.Add(30*policy.Day)))
	res := scan(t, p, inv, st, t0, "de")
	f := telegram(res)
	if f.Status != policy.StatusAttested || f.Attestation == nil || f.Remediation != "" {
		t.Fatalf("with both attestations: %s %+v remediation %q; want attested", f.Status, f.Attestation, f.Remediation)
	}
	if want := "gültig bis 01.04.2026"; !strings.Contains(f.Message, want) || !strings.Contains(f.Message, "telegram.contact-sync-off") {
		t.Errorf("message = %q; want the attestations and %q (the earlier end)", f.Message, want)
	}
	Localize(p, &f, "en")
	if !strings.Contains(f.Message, "valid until 2026-04-01") {
		t.Errorf("Localize(en) = %q", f.Message)
	}
	// The earlier attestation runs out: the condition is open again.
	if f := telegram(scan(t, p, inv, st, t0.Add(31*policy.Day), "en")); f.Status != policy.StatusUnknown {
		t.Errorf("after contact-sync-off expired: %s; want unknown again", f.Status)
	}
}
