package policy

import (
	"fmt"
	"strings"
	"time"
)

// Compliant reports whether no finding failed. Unknown does not make a
// device non-compliant: "could not tell" is not evidence of a violation, and
// treating it as one would fail every device on a platform whose probes
// have not landed. It is not hidden either: Summarize counts unknowns and
// the verdict line names them ("compliant, 3 unknown"), so an admin sees
// what still needs a person to confirm. Exempt and attested findings (set
// by the compliance workflow) do not fail.
func Compliant(fs []Finding) bool {
	for i := range fs {
		if fs[i].Status == StatusFail {
			return false
		}
	}
	return true
}

// Summary counts findings for the verdict line and the JSON report.
type Summary struct {
	Compliant bool `json:"compliant"`
	Total     int  `json:"total"`
	// ByStatus counts every status that occurs.
	ByStatus map[Status]int `json:"by_status"`
	// FailedBySeverity counts failed findings per severity.
	FailedBySeverity map[Severity]int `json:"failed_by_severity"`
	// UnknownBySeverity counts unknown findings per severity.
	UnknownBySeverity map[Severity]int `json:"unknown_by_severity"`
	// Worst is the highest severity among failed findings; empty when none
	// failed.
	Worst Severity `json:"worst,omitempty"`
}

// Summarize counts fs by status and severity.
func Summarize(fs []Finding) Summary {
	s := Summary{
		Compliant:         Compliant(fs),
		Total:             len(fs),
		ByStatus:          map[Status]int{},
		FailedBySeverity:  map[Severity]int{},
		UnknownBySeverity: map[Severity]int{},
	}
	for i := range fs {
		f := &fs[i]
		s.ByStatus[f.Status]++
		switch f.Status {
		case StatusFail:
			s.FailedBySeverity[f.Severity]++
			if s.Worst == "" || f.Severity.Rank() > s.Worst.Rank() {
				s.Worst = f.Severity
			}
		case StatusUnknown:
			s.UnknownBySeverity[f.Severity]++
		}
	}
	return s
}

// Verdict renders the summary as one line in lang, e.g. "not compliant: 2
// failed (1 critical, 1 high), 3 unknown, 12 passed" or "nicht konform: ...".
func (s Summary) Verdict(lang string) string {
	de := NormalizeLang(lang) == "de"
	pick := func(en, deText string) string {
		if de {
			return deText
		}
		return en
	}
	var b strings.Builder
	if s.Compliant {
		b.WriteString(pick("compliant", "konform"))
	} else {
		b.WriteString(pick("not compliant", "nicht konform"))
	}
	var parts []string
	if n := s.ByStatus[StatusFail]; n > 0 {
		var sev []string
		for _, v := range []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInfo} {
			if c := s.FailedBySeverity[v]; c > 0 {
				sev = append(sev, fmt.Sprintf("%d %s", c, severityName(v, de)))
			}
		}
		parts = append(parts, fmt.Sprintf("%d %s (%s)", n, pick("failed", "nicht erfüllt"), strings.Join(sev, ", ")))
	}
	for _, c := range []struct {
		st     Status
		en, de string
	}{
		{StatusUnknown, "unknown", "unbekannt"},
		{StatusExempt, "exempt", "ausgenommen"},
		{StatusAttested, "attested", "bestätigt"},
		{StatusPass, "passed", "erfüllt"},
		{StatusNotApplicable, "not applicable", "nicht zutreffend"},
	} {
		if n := s.ByStatus[c.st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, pick(c.en, c.de)))
		}
	}
	if len(parts) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(parts, ", "))
	}
	return b.String()
}

func severityName(s Severity, de bool) string {
	if !de {
		return string(s)
	}
	switch s {
	case SeverityCritical:
		return "kritisch"
	case SeverityHigh:
		return "hoch"
	case SeverityMedium:
		return "mittel"
	case SeverityLow:
		return "niedrig"
	}
	return "Info"
}

// InvalidPolicyFinding turns a policy that does not load into a failing
// finding, so a scan with a broken policy file reports that instead of
// silently using another policy. Each *LoadError becomes evidence with its
// file:line:col.
func InvalidPolicyFinding(err error, now time.Time) Finding {
	f := Finding{
		Rule:        RulePolicyInvalid,
		Status:      StatusFail,
		Severity:    SeverityHigh,
		Subject:     "policy",
		Message:     "The policy file does not load, so the device was not checked against it.",
		Remediation: "Fix the policy file; `agent policy check FILE` lists every problem with its line.",
		EvaluatedAt: now,
	}
	if err == nil {
		return f
	}
	les := LoadErrors(err)
	if len(les) == 0 {
		f.Message += " " + err.Error()
		return f
	}
	for _, le := range les {
		loc := le.File
		if le.Line > 0 {
			loc = fmt.Sprintf("%s:%d", le.File, le.Line)
			if le.Column > 0 {
				loc = fmt.Sprintf("%s:%d", loc, le.Column)
			}
		}
		detail := le.Msg
		if le.Field != "" {
			detail = le.Field + ": " + le.Msg
		}
		f.Evidence = append(f.Evidence, Evidence{Source: "policy", Location: loc, Detail: detail})
	}
	f.Message += " " + les[0].Error()
	if n := len(les) - 1; n > 0 {
		f.Message += fmt.Sprintf(" (and %d more)", n)
	}
	return f
}
