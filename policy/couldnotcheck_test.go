package policy

import (
	"strings"
	"testing"
	"time"
)

// An inventory whose accounts and package databases could not be read
// proves no absence: no messenger or separation rule passes, and the
// verdict is "could not check" (not compliant). It used to be compliant,
// with messenger.whatsapp passing.
func TestCoreProblemsMeanCouldNotCheck(t *testing.T) {
	p := Default()
	inv := &Inventory{
		Device: Device{ID: "d", Kind: "computer", Platform: "linux"},
		Problems: []Problem{
			{Probe: "users", Path: "/etc/passwd", Core: true, Message: "accounts not read: does not exist"},
			{Probe: "packages", Core: true, Message: "no package database could be read"},
			{Probe: "identify", Path: "/etc/hostname", Message: "hostname not read"},
		},
	}
	fs := Evaluate(p, inv, EvalOptions{Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	var cnc *Finding
	for i := range fs {
		f := &fs[i]
		if f.Status == StatusPass && (strings.HasPrefix(f.Rule, RuleMessengerPrefix) || strings.HasPrefix(f.Rule, RuleSeparationPrefix)) {
			t.Errorf("%s %s passes although nothing could be read", f.Rule, f.Subject)
		}
		if f.Rule == RuleMessengerPrefix+"whatsapp" && (f.Status != StatusUnknown || !strings.Contains(f.Message, "/etc/passwd")) {
			t.Errorf("messenger.whatsapp = %s %q; want unknown naming what was not read", f.Status, f.Message)
		}
		if f.Rule == RuleCouldNotCheck {
			cnc = f
		}
	}
	if cnc == nil || cnc.Status != StatusFail || !strings.Contains(cnc.Message, "/etc/passwd") || !strings.Contains(cnc.Message, "package database") {
		t.Fatalf("could-not-check finding = %+v", cnc)
	}
	if Compliant(fs) {
		t.Error("Compliant = true for a device that could not be checked")
	}

	// Problems that are not core keep absence findings passing.
	inv.Problems = inv.Problems[2:]
	fs = Evaluate(p, inv, EvalOptions{})
	for _, f := range fs {
		if f.Rule == RuleCouldNotCheck {
			t.Errorf("could-not-check without core problems: %+v", f)
		}
		if f.Rule == RuleMessengerPrefix+"whatsapp" && f.Status != StatusPass {
			t.Errorf("messenger.whatsapp = %s; want pass", f.Status)
		}
	}
}

func TestVerdictSaysCouldNotCheck(t *testing.T) {
	inv := &Inventory{Device: Device{ID: "d", Kind: "computer", Platform: "linux"},
		Problems: []Problem{{Probe: "users", Path: "/etc/passwd", Core: true, Message: "accounts not read"}}}
	fs := Evaluate(Default(), inv, EvalOptions{})
	v := Summarize(fs).Verdict("en")
	if !strings.HasPrefix(v, "could not check: not read: /etc/passwd accounts not read") {
		t.Errorf("verdict = %q", v)
	}
	if v := Summarize(fs).Verdict("de"); !strings.HasPrefix(v, "nicht prüfbar: nicht gelesen: /etc/passwd") {
		t.Errorf("German verdict = %q", v)
	}
}
