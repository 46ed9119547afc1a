package linux

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/msgguard/msgguard/policy"
)

// TestScanBrowsersDebianDesktop is the done-when scenario: alice has
// WhatsApp Web in Chrome's Default profile and Slack in "Profile 1", bob
// has Telegram Web in Firefox, Teams (free) in a Firefox container tab and
// Discord in the Chromium snap. Both also visited www.example.org, which
// must never appear.
func TestScanBrowsersDebianDesktop(t *testing.T) {
	cat, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	h := fixtureHost(t, "debian-desktop")
	h.Browsers = true
	inv, err := Scan(context.Background(), h, cat)
	if err != nil {
		t.Fatal(err)
	}
	var got []policy.Messenger
	for _, m := range inv.Messengers {
		if m.Source == policy.SourceBrowser {
			got = append(got, m)
		}
	}
	b := func(id, user, loc string) policy.Messenger {
		e := cat.Messenger(id)
		return policy.Messenger{ID: id, Name: e.Name, Variant: e.Variant, Source: policy.SourceBrowser, User: user, Location: loc}
	}
	want := []policy.Messenger{
		b("discord", "bob", `Chromium (snap), profile "Default"`),
		b("slack", "alice", `Chrome, profile "Profile 1"`),
		b("teams-personal", "bob", `Firefox, profile "default-release"`),
		b("telegram", "bob", `Firefox, profile "default-release"`),
		b("whatsapp", "alice", `Chrome, profile "Default"`),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("browser evidence (-want +got):\n%s", diff)
	}
	for _, p := range inv.Problems {
		if p.Probe == "browsers" {
			t.Errorf("unexpected browser problem %+v", p)
		}
	}

	// A WhatsApp Web session fails messenger.whatsapp for alice, and says
	// that it cannot tell a Business account.
	fs := policy.Evaluate(policy.Default(), inv, policy.EvalOptions{})
	var wa *policy.Finding
	for i := range fs {
		if fs[i].Rule == "messenger.whatsapp" && fs[i].User == "alice" {
			wa = &fs[i]
		}
	}
	if wa == nil || wa.Status != policy.StatusFail || !strings.Contains(wa.Message, "Business") {
		t.Errorf("messenger.whatsapp for alice = %+v; want a fail that mentions Business", wa)
	}
	if s := strings.ToLower(jsonOf(t, inv) + jsonOf(t, fs)); strings.Contains(s, "example.org") {
		t.Errorf("an unrelated site was reported")
	}

	// Switched off, nothing is read.
	h.Browsers = false
	inv, err = Scan(context.Background(), h, cat)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range inv.Messengers {
		if m.Source == policy.SourceBrowser {
			t.Errorf("browser evidence with browsers off: %+v", m)
		}
	}
}

func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
