package darwin

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/msgguard/msgguard/policy"
)

// TestFixtureMacFindings is the done-when check: the fixture Mac
// (alice: consumer WhatsApp and Telegram, screen lock off; bob: clean;
// MDM-enrolled; FileVault on) evaluated with the embedded default policy
// yields exactly these findings. Messages belong to the policy package; the
// rule, subject, user, status and severity are compared exactly, and the
// evidence of the failing WhatsApp findings in full.
func TestFixtureMacFindings(t *testing.T) {
	h, _ := macHost(t)
	inv, err := Scan(context.Background(), h, defaultCatalog(t))
	if err != nil {
		t.Fatalf("Scan() error: %v", err)
	}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	got := policy.Evaluate(policy.Default(), inv, policy.EvalOptions{Now: now, Lang: "en"})

	type key struct {
		Rule, Subject, User string
		Status              policy.Status
		Severity            policy.Severity
	}
	want := []key{
		{"disk-encryption", "/", "", policy.StatusPass, policy.SeverityHigh},
		{"messenger.discord", "discord", "", policy.StatusPass, policy.SeverityMedium},
		{"messenger.facebook-messenger", "facebook-messenger", "", policy.StatusPass, policy.SeverityHigh},
		{"messenger.instagram", "instagram", "", policy.StatusPass, policy.SeverityHigh},
		{"messenger.skype", "skype", "", policy.StatusPass, policy.SeverityHigh},
		{"messenger.teams-personal", "teams-personal", "", policy.StatusPass, policy.SeverityMedium},
		{"messenger.telegram", "telegram", "", policy.StatusUnknown, policy.SeverityMedium},
		{"messenger.telegram", "telegram", "alice", policy.StatusUnknown, policy.SeverityMedium},
		{"messenger.wechat", "wechat", "", policy.StatusPass, policy.SeverityMedium},
		{"messenger.whatsapp", "whatsapp", "", policy.StatusFail, policy.SeverityHigh},
		{"messenger.whatsapp", "whatsapp", "alice", policy.StatusFail, policy.SeverityHigh},
		{"remote-wipe", "device", "", policy.StatusPass, policy.SeverityMedium},
		{"screen-lock", "", "alice", policy.StatusFail, policy.SeverityHigh},
		{"screen-lock", "", "bob", policy.StatusPass, policy.SeverityHigh},
		{"separation.whatsapp", "device", "", policy.StatusPass, policy.SeverityHigh},
	}
	var keys []key
	for _, f := range got {
		keys = append(keys, key{f.Rule, f.Subject, f.User, f.Status, f.Severity})
		if !f.EvaluatedAt.Equal(now) {
			t.Errorf("finding %s: EvaluatedAt = %v; want %v", f.Key(), f.EvaluatedAt, now)
		}
	}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("findings mismatch (-want +got):\n%s", diff)
	}

	wantEvidence := map[string][]policy.Evidence{
		"messenger.whatsapp|whatsapp|":      {{Source: "app-bundle", Location: "/Applications/WhatsApp.app (Mac App Store)"}},
		"messenger.whatsapp|whatsapp|alice": {{Source: "data-dir", Location: "/Users/alice/Library/Containers/net.whatsapp.WhatsApp"}},
	}
	for _, f := range got {
		if w, ok := wantEvidence[f.Key()]; ok {
			if diff := cmp.Diff(w, f.Evidence, cmpopts.IgnoreFields(policy.Evidence{}, "Detail")); diff != "" {
				t.Errorf("evidence of %s mismatch (-want +got):\n%s", f.Key(), diff)
			}
		}
	}
}
