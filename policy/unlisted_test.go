package policy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestUnlistedDefault: an app the catalog does not know is unknown with
// "not yet assessed by IT", one finding per app and user, never a pass.
func TestUnlistedDefault(t *testing.T) {
	inv := &Inventory{Device: Device{Kind: "computer", Platform: "linux"}, Messengers: []Messenger{
		{ID: UnlistedID, Name: "Dino", Source: "desktop", Location: "im.dino.Dino"},
		{ID: UnlistedID, Name: "Pidgin", Source: "desktop", Location: "pidgin"},
		{ID: UnlistedID, Name: "Pidgin", Source: "desktop", User: "alice", Location: "pidgin"},
	}}
	fs := Evaluate(defaultPolicy(), inv, EvalOptions{Now: testNow})
	got := briefs(fs, RuleMessengerPrefix+UnlistedID)
	want := []brief{
		{"messenger.unlisted", "im.dino.Dino", "", StatusUnknown, SeverityLow},
		{"messenger.unlisted", "pidgin", "", StatusUnknown, SeverityLow},
		{"messenger.unlisted", "pidgin", "alice", StatusUnknown, SeverityLow},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("findings (-want +got):\n%s", diff)
	}
	f := find(t, fs, "messenger.unlisted", "im.dino.Dino", "")
	for _, s := range []string{"Dino", "im.dino.Dino", "Not yet assessed by IT"} {
		if !strings.Contains(f.Message, s) {
			t.Errorf("message %q lacks %q", f.Message, s)
		}
	}
	if len(f.Evidence) != 1 || f.Evidence[0].Location != "im.dino.Dino" {
		t.Errorf("evidence = %+v", f.Evidence)
	}
	de := Evaluate(defaultPolicy(), inv, EvalOptions{Now: testNow, Lang: "de"})
	if f := find(t, de, "messenger.unlisted", "pidgin", ""); !strings.Contains(f.Message, "Von der IT noch nicht bewertet") {
		t.Errorf("German message = %q", f.Message)
	}
}

func TestUnlistedNamedApps(t *testing.T) {
	p := mustLoad(t, `
name: t
unlisted:
  default: {decision: deny, severity: medium}
  apps:
    im.dino.Dino: {decision: allow}
    pidgin: {decision: deny, severity: critical, stage: escalate}
    org.example.Chat: {decision: conditional, condition: only for the support team}
`)
	inv := &Inventory{Messengers: []Messenger{
		{ID: UnlistedID, Name: "Dino", Source: "desktop", Location: "im.dino.Dino"},
		{ID: UnlistedID, Name: "Pidgin", Source: "desktop", Location: "pidgin"},
		{ID: UnlistedID, Name: "Chat", Source: "desktop", Location: "org.example.Chat"},
		{ID: UnlistedID, Name: "Hexchat", Source: "desktop", Location: "io.github.Hexchat"},
	}}
	fs := Evaluate(p, inv, EvalOptions{Now: testNow})
	want := []brief{
		{"messenger.unlisted", "im.dino.Dino", "", StatusPass, SeverityInfo},
		{"messenger.unlisted", "io.github.Hexchat", "", StatusFail, SeverityMedium},
		{"messenger.unlisted", "org.example.Chat", "", StatusUnknown, SeverityMedium},
		{"messenger.unlisted", "pidgin", "", StatusFail, SeverityCritical},
	}
	if diff := cmp.Diff(want, briefs(fs, "messenger.unlisted")); diff != "" {
		t.Fatalf("findings (-want +got):\n%s", diff)
	}
	f := find(t, fs, "messenger.unlisted", "pidgin", "")
	if got := p.EnforcementFor(&f).Stage; got != StageEscalate {
		t.Errorf("stage of pidgin = %q, want escalate (from unlisted.apps)", got)
	}
	if !p.KnownRule("messenger.unlisted") {
		t.Error("messenger.unlisted is not a known rule (exemptions must be able to name it)")
	}
}

func TestUnlistedLoadErrors(t *testing.T) {
	tests := []struct{ yml, want string }{
		{"name: t\nunlisted:\n  default: {decision: allow}\n",
			`test.yaml:3:23: unlisted.default.decision: allow would pass every app`},
		{"name: t\nunlisted:\n  apps:\n    org.telegram.desktop: {decision: allow}\n",
			`test.yaml:4:5: unlisted.apps.org.telegram.desktop: "org.telegram.desktop" belongs to the catalog messenger "telegram"`},
		{"name: t\nunlisted:\n  apps:\n    \"../etc\": {decision: deny}\n",
			`test.yaml:4:5: unlisted.apps.../etc: "../etc" is not a desktop file id or bundle id`},
		{"name: t\nunlisted:\n  apps:\n    pidgin: {decision: conditional}\n",
			`test.yaml:4:13: unlisted.apps.pidgin.condition: a conditional decision needs a condition`},
		{"name: t\nunlisted:\n  apps:\n    pidgin: {decison: deny}\n",
			`test.yaml:4:14: unlisted.apps.pidgin.decison: unknown key "decison"; did you mean "decision"?`},
		{"name: t\nunlisted:\n  defaults: {}\n",
			`test.yaml:3:3: unlisted.defaults: unknown key "defaults"; did you mean "default"?`},
		{"name: t\nmessengers:\n  unlisted: {decision: deny}\n",
			`test.yaml:3:3: messengers.unlisted: "unlisted" is not a catalog id; decide unlisted apps under unlisted.default and unlisted.apps`},
		{"name: t\ncatalog:\n  messengers:\n    - {id: unlisted, name: X, variant: dual, android: {packages: [x.y]}}\n",
			`catalog.messengers[0].id: id "unlisted" is reserved`},
		{"name: t\naggregators: {decision: conditional}\n",
			`test.yaml:2:14: aggregators.condition: a conditional decision needs a condition`},
	}
	for _, tt := range tests {
		_, err := Load("test.yaml", []byte(tt.yml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%q) = %v\nwant an error containing %q", tt.yml, err, tt.want)
		}
	}
}

func TestAggregatorRule(t *testing.T) {
	inv := &Inventory{Messengers: []Messenger{
		{ID: "ferdium", Name: "Ferdium", Source: "data-dir", User: "alice", Location: "/home/alice/.config/Ferdium/recipes", Services: "slack, whatsapp"},
	}}
	fs := Evaluate(defaultPolicy(), inv, EvalOptions{Now: testNow})
	f := find(t, fs, "messenger.ferdium", "ferdium", "alice")
	if f.Status != StatusUnknown || f.Severity != SeverityMedium {
		t.Errorf("ferdium = %s/%s, want unknown/medium", f.Status, f.Severity)
	}
	if !strings.Contains(f.Message, "wraps other messengers in one window") || !strings.Contains(f.Message, "(data-dir; services set up in it: slack, whatsapp)") {
		t.Errorf("message %q does not say why or which services", f.Message)
	}
	if len(f.Evidence) != 1 || f.Evidence[0].Detail != "services slack, whatsapp" {
		t.Errorf("evidence = %+v", f.Evidence)
	}
	// A policy without an aggregators section still never passes one.
	p := mustLoad(t, "name: t\n")
	if r, _ := p.RuleFor("rambox"); r.Decision != DecisionConditional || !strings.Contains(r.Condition.EN, "services IT has approved") {
		t.Errorf("built-in aggregators rule = %+v", r)
	}
	// Named under messengers, the policy's own rule wins.
	p = mustLoad(t, "name: t\nmessengers:\n  franz: {decision: deny}\n")
	if r, explicit := p.RuleFor("franz"); r.Decision != DecisionDeny || !explicit {
		t.Errorf("franz = %+v, %v", r, explicit)
	}
}
