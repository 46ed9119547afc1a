package policy

import (
	"fmt"
	"strings"
	"time"
)

// Compliant reports whether no finding failed past its deadline. Unknown
// does not make a device non-compliant: "could not tell" is not evidence of
// a violation, and treating it as one would fail every device on a platform
// whose probes have not landed. It is not hidden either: Summarize counts
// unknowns and the verdict line names them ("compliant, 3 unknown"), so an
// admin sees what still needs a person to confirm. Exempt and attested
// findings (set by the compliance workflow) do not fail.
//
// A failing finding still within its grace period (Finding.Due) does not
// fail the device yet: Intune's roll-up ranks InGracePeriod between
// Compliant and NonCompliant, and Conditional Access treats a device in its
// grace period as compliant until the deadline (anchors.md §4). The verdict
// says so ("in grace period: 1 due in 5 days"), so it is never silent.
func Compliant(fs []Finding) bool {
	for i := range fs {
		if fs[i].Status == StatusFail && !fs[i].Due() {
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
	// Due counts failing findings still within their grace period; they
	// are in ByStatus[fail] but not in FailedBySeverity or Worst.
	Due int `json:"due,omitempty"`
	// NextDeadline is the earliest deadline of a due finding.
	NextDeadline time.Time `json:"next_deadline,omitzero"`
	// DueIn is NextDeadline minus that finding's evaluation time.
	DueIn time.Duration `json:"-"`
	// CouldNotCheck names what could not be read when the scan's core
	// sources failed (a failing RuleCouldNotCheck finding); the verdict is
	// then "could not check", never compliant.
	CouldNotCheck string `json:"could_not_check,omitempty"`
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
		if f.Rule == RuleCouldNotCheck && f.Status == StatusFail {
			var what []string
			for _, ev := range f.Evidence {
				what = append(what, strings.TrimSpace(ev.Location+" "+ev.Detail))
			}
			s.CouldNotCheck = strings.Join(what, "; ")
		}
		switch f.Status {
		case StatusFail:
			if f.Due() {
				s.Due++
				if s.NextDeadline.IsZero() || f.Deadline.Before(s.NextDeadline) {
					s.NextDeadline, s.DueIn = f.Deadline, f.Deadline.Sub(f.EvaluatedAt)
				}
				continue
			}
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
// Due findings are counted from the scan's evaluation time; VerdictAt counts
// from another moment (when `agent status` shows an older scan).
func (s Summary) Verdict(lang string) string {
	return s.verdict(lang, s.DueIn)
}

// VerdictAt is Verdict with the days until the next deadline counted from
// now.
func (s Summary) VerdictAt(lang string, now time.Time) string {
	return s.verdict(lang, s.NextDeadline.Sub(now))
}

func (s Summary) verdict(lang string, dueIn time.Duration) string {
	de := NormalizeLang(lang) == "de"
	pick := func(en, deText string) string {
		if de {
			return deText
		}
		return en
	}
	var b strings.Builder
	var parts []string
	switch {
	case s.CouldNotCheck != "":
		// What could not be read comes first, before the counts.
		b.WriteString(pick("could not check: not read: ", "nicht prüfbar: nicht gelesen: ") + s.CouldNotCheck)
	case !s.Compliant:
		b.WriteString(pick("not compliant", "nicht konform"))
	case s.Due > 0:
		b.WriteString(pick("in grace period", "in der Übergangsfrist"))
	default:
		b.WriteString(pick("compliant", "konform"))
	}
	if n := s.ByStatus[StatusFail] - s.Due; n > 0 {
		var sev []string
		for _, v := range []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInfo} {
			if c := s.FailedBySeverity[v]; c > 0 {
				sev = append(sev, fmt.Sprintf("%d %s", c, severityName(v, de)))
			}
		}
		parts = append(parts, fmt.Sprintf("%d %s (%s)", n, pick("failed", "nicht erfüllt"), strings.Join(sev, ", ")))
	}
	if s.Due > 0 {
		parts = append(parts, DuePhrase(s.Due, dueIn, lang))
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
		if s.CouldNotCheck != "" {
			b.WriteString("; ")
		} else {
			b.WriteString(": ")
		}
		b.WriteString(strings.Join(parts, ", "))
	}
	return b.String()
}

// DuePhrase says how many findings are due and when the first deadline
// ends: "1 due in 5 days", "2 due, the first in 3 days", "1 Frist endet in
// 5 Tagen", "2 Fristen, die erste endet in 3 Tagen".
func DuePhrase(n int, in time.Duration, lang string) string {
	when := InDays(in, lang)
	if NormalizeLang(lang) == "de" {
		if n == 1 {
			return "1 Frist endet " + when
		}
		return fmt.Sprintf("%d Fristen, die erste endet %s", n, when)
	}
	if n == 1 {
		return "1 due " + when
	}
	return fmt.Sprintf("%d due, the first %s", n, when)
}

// InDays renders a time until a deadline as "in 5 days", "in 1 day" or "in
// less than a day" ("in 5 Tagen", "in 1 Tag", "in weniger als einem Tag");
// whole days are rounded up, so a deadline 4.2 days away is "in 5 days".
func InDays(d time.Duration, lang string) string {
	de := NormalizeLang(lang) == "de"
	days := int((d + Day - 1) / Day)
	switch {
	case d < Day && de:
		return "in weniger als einem Tag"
	case d < Day:
		return "in less than a day"
	case days == 1 && de:
		return "in 1 Tag"
	case days == 1:
		return "in 1 day"
	case de:
		return fmt.Sprintf("in %d Tagen", days)
	}
	return fmt.Sprintf("in %d days", days)
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
