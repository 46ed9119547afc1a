package policy

import "time"

// Status is the outcome of one rule for one subject.
type Status string

const (
	StatusPass          Status = "pass"
	StatusFail          Status = "fail"
	StatusUnknown       Status = "unknown"
	StatusNotApplicable Status = "not_applicable"
	// StatusExempt and StatusAttested are set by the compliance workflow.
	StatusExempt   Status = "exempt"
	StatusAttested Status = "attested"
)

// Severity orders findings; the zero value is SeverityInfo.
type Severity string

const (
	SeverityInfo     Severity = "info"
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Rank orders severities from info (0) to critical (4); unknown strings rank 0.
func (s Severity) Rank() int {
	switch s {
	case SeverityLow:
		return 1
	case SeverityMedium:
		return 2
	case SeverityHigh:
		return 3
	case SeverityCritical:
		return 4
	}
	return 0
}

// Valid reports whether s is one of the defined severities.
func (s Severity) Valid() bool {
	switch s {
	case SeverityInfo, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical:
		return true
	}
	return false
}

// Finding is the result of evaluating one rule for one subject.
type Finding struct {
	Rule        string     `json:"rule"`
	Status      Status     `json:"status"`
	Severity    Severity   `json:"severity"`
	Subject     string     `json:"subject,omitempty"` // messenger id, volume, "device", ...
	User        string     `json:"user,omitempty"`
	Message     string     `json:"message"`
	Remediation string     `json:"remediation,omitempty"`
	Evidence    []Evidence `json:"evidence,omitempty"`
	EvaluatedAt time.Time  `json:"evaluated_at"`

	// The compliance workflow (agent/compliance) adds these.

	// Underlying is the real result of an exempt finding (fail or
	// unknown): an exemption never hides what the agent saw.
	Underlying Status `json:"underlying,omitempty"`
	// Exemption names the exemption behind StatusExempt.
	Exemption *ExemptionInfo `json:"exemption,omitempty"`
	// Attestation records who confirmed an attestation finding (attested,
	// or failing because it expired).
	Attestation *AttestationInfo `json:"attestation,omitempty"`
	// Deadline is first failure + the rule's grace period on a failing
	// finding; before it the finding is "due", not yet a violation.
	Deadline time.Time `json:"deadline,omitzero"`
	// Stage is the rule's enforcement stage (report, notify, escalate).
	Stage Stage `json:"stage,omitempty"`
	// Texts holds the finding's texts in the other languages the agent
	// speaks, by language ("de", "en"), written at scan time so that a
	// report recorded in one language is shown in another without
	// evaluating the policy again. Absent languages show Message.
	Texts map[string]FindingText `json:"texts,omitempty"`
}

// FindingText is a finding's texts in one language.
type FindingText struct {
	Message     string `json:"message"`
	Remediation string `json:"remediation,omitempty"`
	// ExemptionReason is the reason of a policy exemption (Exemption.Reason)
	// in this language.
	ExemptionReason string `json:"exemption_reason,omitempty"`
}

// In returns f with its texts in lang, when the finding carries them.
func (f Finding) In(lang string) Finding {
	t, ok := f.Texts[NormalizeLang(lang)]
	if !ok {
		return f
	}
	f.Message, f.Remediation = t.Message, t.Remediation
	if f.Exemption != nil && t.ExemptionReason != "" {
		x := *f.Exemption
		x.Reason = t.ExemptionReason
		f.Exemption = &x
	}
	return f
}

// Key identifies a finding across scans: the same rule for the same subject
// and user. The store and drift track first_seen/last_changed by it.
func (f Finding) Key() string {
	return f.Rule + "|" + f.Subject + "|" + f.User
}

// Evidence is an inventory item (or probe result) that led to a finding.
type Evidence struct {
	Source   string `json:"source"`
	Location string `json:"location,omitempty"`
	Detail   string `json:"detail,omitempty"`
}
