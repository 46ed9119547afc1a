package policy

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRuleCommonKeys: the fields every rule shares live in the embedded
// RuleCommon/RuleNotes, yet the YAML keys, the decoded values and the JSON
// fields are those of the flat structs they replaced.
func TestRuleCommonKeys(t *testing.T) {
	p := Default()
	rw := p.Posture.RemoteWipe
	if rw.Severity != SeverityMedium || rw.Stage != StageReport || rw.Grace.String() != "14d" ||
		!rw.AcceptWorkProfile || rw.Rationale.EN == "" || rw.Remediation.EN == "" {
		t.Errorf("default remote_wipe = %+v; want severity medium, grace 14d, stage report, texts", rw)
	}
	b, err := json.Marshal(rw)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"required", "severity", "accept_work_profile", "rationale", "remediation", "grace", "stage"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON of remote_wipe lacks %q: %s", k, b)
		}
	}
	for _, k := range []string{"RuleCommon", "RuleNotes"} {
		if _, ok := m[k]; ok {
			t.Errorf("JSON of remote_wipe nests %q: %s", k, b)
		}
	}

	// A contacts rule has no severity key (one per decision instead), but
	// its notes decode; a typo of an embedded key gets a suggestion.
	y := string(DefaultYAML()) + "\n"
	_, err = Load("p.yaml", []byte(strings.Replace(y, "\ncontacts:\n", "\ncontacts:\n  severity: high\n  stage: report\n", 1)))
	if err == nil || !strings.Contains(err.Error(), `:3: contacts.severity: unknown key "severity"`) {
		t.Errorf("Load(contacts.severity) = %v; want unknown key", err)
	}
	_, err = Load("p.yaml", []byte(strings.Replace(y, "  remote_wipe:\n", "  remote_wipe:\n    rationalee: x\n", 1)))
	if err == nil || !strings.Contains(err.Error(), `did you mean "rationale"?`) {
		t.Errorf("Load(remote_wipe.rationalee) = %v; want a suggestion of rationale", err)
	}
}
