package status

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/msgguard/msgguard/policy"
)

// TestRedactByData: the redacted report drops the personal and operational
// fields by what they are, whatever texts hold, leaves the input intact
// and encodes no list as null.
func TestRedactByData(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r := &Report{
		Policy: PolicyRef{Name: "p", Source: "/etc/secret-dir/policy.yaml", Errors: []string{"/etc/secret-dir/policy.yaml:1:1: bad"}},
		Findings: []Finding{
			{Finding: policy.Finding{Rule: "attestation.x", Status: policy.StatusAttested,
				Attestation: &policy.AttestationInfo{By: "Secret Person", Note: "secret note", At: now, Until: now},
				Evidence:    []policy.Evidence{{Source: "attestation", Detail: "secret note"}, {Source: "dpkg", Location: "/var/lib/dpkg/status"}}}},
			{Finding: policy.Finding{Rule: "messenger.x", Status: policy.StatusExempt, User: "alice",
				Exemption: &policy.ExemptionInfo{Source: "local", Approver: "Secret Approver", Reason: "secret reason", Until: now}}},
			{Finding: policy.Finding{Rule: policy.RulePolicyInvalid, Status: policy.StatusFail, Message: "bad: /etc/secret-dir/policy.yaml:1:1",
				Evidence: []policy.Evidence{{Source: "policy", Location: "/etc/secret-dir/policy.yaml:1"}}}},
			{Finding: policy.Finding{Rule: "messenger.y", Status: policy.StatusFail, User: "bob"}},
		},
		Inventory: &policy.Inventory{Problems: []policy.Problem{{Probe: "p", Path: "/etc/secret-dir/x"}}},
		Service: &Service{Health: Health{Problems: []string{"/etc/secret-dir/state.db.corrupt"},
			Sinks: []SinkHealth{{Name: "hq", QueueDepth: 2, LastError: "POST https://secret-host/x"}}}},
	}
	before, _ := json.Marshal(r)
	red := r.Redact("alice")
	after, _ := json.Marshal(r)
	if string(before) != string(after) {
		t.Error("Redact modified its input")
	}
	b, _ := json.Marshal(red)
	for _, s := range []string{"Secret", "secret", "bob", "null"} {
		if strings.Contains(string(b), s) {
			t.Errorf("redacted report carries %q:\n%s", s, b)
		}
	}
	if len(red.Findings) != 3 || len(red.Findings[0].Evidence) != 1 || red.Policy.Source != "file" ||
		red.Service.Health.ProblemCount != 1 || !red.Service.Health.Sinks[0].Failing || red.Service.Health.Sinks[0].QueueDepth != 2 {
		t.Errorf("redacted report lost what a user may see:\n%s", b)
	}
}
