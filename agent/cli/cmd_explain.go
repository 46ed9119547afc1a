package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/msgguard/msgguard/agent/msg"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/localapi"
	"github.com/msgguard/msgguard/agent/store"
	"github.com/msgguard/msgguard/policy"
)

// explanation is `agent explain --json`: the rule as the policy in force
// describes it, and its findings and history on the device (from the
// running service or the database).
type explanation struct {
	Rule policy.RuleInfo `json:"rule"`
	apitype.RuleHistory
}

// cmdExplain is `agent explain RULE`: what the rule checks and why (from
// the policy in force), how to fix it on this device's platform, and what
// the agent saw here — the current findings with their evidence, and their
// history (drift events and the attestation/exemption log).
func cmdExplain(ctx context.Context, e *Env, args []string) int {
	c := e.flags("explain", flagJSON|flagLang|flagDB|flagSocket|flagPolicy)
	device := c.fs.String("device", "", msg.N("device `id` (a phone's id from 'agent status --json'; default: this computer)"))
	pos, code, ok := c.parseInterleaved(args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintln(e.stderr, msg.T(c.lang(), "usage:")+" agent explain RULE [--device ID] [--lang de|en] [--json]")
		return exitUsage
	}
	pol, err := policyInForce(e, c.policy)
	if err != nil {
		e.complain("explain", msg.Dynamic(c.lang(), err.Error()))
		return exitUsage
	}
	p := pol.Policy
	rule := pos[0]
	if a := p.Attestation(rule); a != nil {
		rule = a.Rule()
	}
	if !p.KnownRule(rule) {
		e.complain("explain", msg.Dynamic(c.lang(), p.UnknownRuleError(rule).Error()))
		return exitUsage
	}
	b := chooseBackend(ctx, e, c)
	defer b.Close()
	x := explanation{RuleHistory: deviceHistory(ctx, b, *device, rule)}
	if x.Platform == "" {
		x.Platform = e.goos
	}
	x.Rule, _ = p.Describe(rule, x.Platform)
	if c.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return encodeOrFail(e, "explain", enc.Encode(x))
	}
	writeExplanation(e.stdout, x, c.lang(), e.clock())
	printRedacted(e, x.Redacted, c.lang())
	return 0
}

// deviceHistory returns the device's findings for rule and their history.
// What cannot be read is said in Note, the same way from the service and
// the database.
func deviceHistory(ctx context.Context, b backend, device, rule string) apitype.RuleHistory {
	got, err := b.Explain(ctx, rule, device)
	if err == nil {
		return *got
	}
	h := apitype.NewRuleHistory()
	var api *localapi.APIError
	switch {
	case errors.As(err, &api) && api.Code == http.StatusInternalServerError:
		// The database's error, in the words the database path uses.
		h.Note = api.Msg
	case errors.As(err, &api) && (api.Code == http.StatusNotFound || api.Code == http.StatusNotImplemented):
		h.Note = errServiceTooOld.Error()
	case errors.Is(err, store.ErrNoDatabase):
		h.Note = "no scan recorded yet"
	case errors.Is(err, store.ErrLocked):
		h.Note = errServiceHoldsDBForRead.Error()
	default:
		h.Note = err.Error()
	}
	return h
}

// writeExplanation prints the explanation for people.
func writeExplanation(w io.Writer, x explanation, lang string, now time.Time) {
	info := x.Rule
	const ind = 4
	section := func(title string) { fmt.Fprintf(w, "\n%s\n", title) }
	para := func(label, s string) {
		if s == "" {
			return
		}
		fmt.Fprint(w, wrap(label+" "+s, ind, lineWidth))
	}
	fmt.Fprintf(w, "%s (%s)\n", info.Rule, kindLabel(info.Kind, lang))
	grace := msg.T(lang, "none")
	if info.Enforcement.Grace > 0 {
		grace = durationLabel(info.Enforcement.Grace, lang)
	}
	fmt.Fprint(w, wrap(fmt.Sprintf(msg.T(lang, "severity %s · stage: %s · grace period: %s"),
		severityLabel(info.Severity, lang), stageLabel(info.Enforcement.Stage, lang), grace), 0, lineWidth))

	section(msg.T(lang, "WHAT AND WHY"))
	if info.Decision != "" {
		named := msg.T(lang, "named in the policy")
		if !info.Named {
			named = msg.T(lang, "the policy's default for messengers it does not name")
		}
		para(msg.T(lang, "Decision:"), decisionLabel(info.Decision, lang)+" ("+named+")")
	}
	para(msg.T(lang, "Condition:"), info.Condition.In(lang))
	if info.Kind == "attestation" {
		para(msg.T(lang, "To confirm:"), info.Question.In(lang))
		para(msg.T(lang, "Confirmed by:"), info.Role.In(lang))
		para(msg.T(lang, "Valid for:"), durationLabel(info.Validity, lang))
		if len(info.AppliesWhen.Messengers) > 0 || info.AppliesWhen.DeviceKind != "" {
			cond := strings.Join(info.AppliesWhen.Messengers, ", ")
			if k := info.AppliesWhen.DeviceKind; k != "" {
				cond = strings.TrimSpace(cond + " (" + k + ")")
			}
			para(msg.T(lang, "Applies where found:"), cond)
		}
	}
	para(msg.T(lang, "Why:"), orDash(info.Rationale.In(lang)))
	para(fmt.Sprintf(msg.T(lang, "Fix (%s):"), x.Platform), orDash(info.Remediation.In(lang)))
	for _, ex := range info.Exemptions {
		scope := strings.TrimSpace(ex.Subject + " " + ex.User)
		if scope == "" {
			scope = msg.T(lang, "all subjects and users")
		}
		para(msg.T(lang, "Exemption in the policy:"), fmt.Sprintf(msg.T(lang, "%s, until %s, approved by %s: %s"),
			scope, compliance.FormatDay(ex.Expires.Time, lang), ex.Approver, ex.Reason.In(lang)))
	}

	if x.Device == "" {
		section(msg.T(lang, "ON THIS DEVICE"))
		fmt.Fprint(w, wrap(msg.T(lang, "No scan to show: ")+msg.Dynamic(lang, x.Note), ind, lineWidth))
		return
	}
	section(fmt.Sprintf(msg.T(lang, "ON THIS DEVICE (%s, scanned %s)"), x.Device, x.ScannedAt.Local().Format("2006-01-02 15:04")))
	if len(x.Findings) == 0 {
		fmt.Fprint(w, wrap(msg.T(lang, "The last scan produced no finding for this rule (it does not apply here)."), ind, lineWidth))
	}
	for _, f := range x.Findings {
		// The texts in lang, written at scan time (see withTexts).
		f.Finding = f.Finding.In(lang)
		head := strings.ToUpper(statusLabel(f.Status, lang)) + scope(f.Finding)
		fmt.Fprint(w, wrap(head, 2, lineWidth))
		// A German text ends in the probe's English reason.
		para("", msg.Dynamic(lang, f.Message))
		if f.Underlying != "" && f.Exemption != nil {
			para(msg.T(lang, "Exempt:"), fmt.Sprintf(msg.T(lang, "until %s, approved by %s: %s; real result: %s"),
				compliance.FormatDay(f.Exemption.Until, lang), f.Exemption.Approver, f.Exemption.Reason, statusLabel(f.Underlying, lang)))
		}
		if !f.Deadline.IsZero() && f.Status == policy.StatusFail {
			when := compliance.FormatDay(f.Deadline.Add(time.Nanosecond), lang)
			if f.DueAt(now) {
				when += " (" + policy.InDays(f.Deadline.Sub(now), lang) + ")"
			}
			para(msg.T(lang, "Deadline:"), when)
		}
		for _, ev := range f.Evidence {
			para(msg.T(lang, "Evidence:"), evidenceText(f.Rule, ev, lang))
		}
		para(msg.T(lang, "Since:"), fmt.Sprintf(msg.T(lang, "%s (first seen), last changed %s"),
			f.FirstSeen.Local().Format("2006-01-02 15:04"), f.LastChanged.Local().Format("2006-01-02 15:04")))
	}

	section(msg.T(lang, "HISTORY"))
	type line struct {
		at   time.Time
		text string
	}
	var lines []line
	for _, ev := range x.Drift {
		lines = append(lines, line{ev.Time, msg.Dynamic(lang, ev.Message)})
	}
	for _, l := range x.Log {
		lines = append(lines, line{l.Time, logText(l, lang, x.Redacted)})
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].at.Before(lines[j].at) })
	if len(lines) == 0 {
		text := msg.T(lang, "No changes recorded.")
		if x.Note != "" {
			text = msg.Dynamic(lang, x.Note)
		}
		fmt.Fprint(w, wrap(text, ind, lineWidth))
	}
	for _, l := range lines {
		fmt.Fprint(w, "  "+l.at.Local().Format("2006-01-02 15:04")+"  "+wrapRest(l.text, 20, lineWidth)+"\n")
	}
}

// logText phrases an audit log entry; redacted (the service withheld who
// and why), without the name and reason.
func logText(l compliance.LogEntry, lang string, redacted bool) string {
	until := compliance.FormatDay(l.Until, lang)
	if redacted {
		l.By = withheld(lang)
		if l.Kind == compliance.LogExempted {
			return fmt.Sprintf(msg.T(lang, "exempted until %s, approved by %s"), until, l.By)
		}
	}
	switch l.Kind {
	case compliance.LogAttested:
		return fmt.Sprintf(msg.T(lang, "attested by %s, valid until %s"), l.By, until)
	case compliance.LogAttestationExpired:
		return fmt.Sprintf(msg.T(lang, "attestation by %s expired (valid until %s)"), l.By, until)
	case compliance.LogExempted:
		return fmt.Sprintf(msg.T(lang, "exempted until %s, approved by %s: %s"), until, l.By, l.Reason)
	case compliance.LogExemptionExpired, compliance.LogPolicyExemptionExpired:
		return fmt.Sprintf(msg.T(lang, "exemption approved by %s expired (valid until %s)"), l.By, until)
	}
	return l.Kind
}

// kindLabel names the kind of rule (policy.RuleInfo.Kind) for people in
// German; English shows the kind's id, as it always has.
func kindLabel(kind, lang string) string {
	if msg.FromLocale(lang) != msg.DE {
		return kind
	}
	switch kind {
	case "screen-lock":
		return msg.T(lang, "screen lock")
	case "remote-wipe":
		return msg.T(lang, "remote wipe")
	case "disk-encryption":
		return msg.T(lang, "disk encryption")
	case "business-only":
		return msg.T(lang, "business use only")
	case "agent":
		return msg.T(lang, "the agent's own check")
	case "messenger":
		return msg.T(lang, "messenger")
	case "contacts":
		return msg.T(lang, "contact upload")
	case "separation":
		return msg.T(lang, "business/private separation")
	case "attestation":
		return msg.T(lang, "confirmation by a person")
	}
	return kind
}

func decisionLabel(d policy.Decision, lang string) string {
	switch d {
	case policy.DecisionAllow:
		return msg.T(lang, "allowed")
	case policy.DecisionDeny:
		return msg.T(lang, "not allowed")
	}
	return msg.T(lang, "allowed under a condition")
}

// durationLabel renders a policy duration for people: "7 days", "36 hours".
func durationLabel(d policy.Duration, lang string) string {
	if d.Std()%policy.Day == 0 {
		n := int(d.Std() / policy.Day)
		if n == 1 {
			return msg.T(lang, "1 day")
		}
		return fmt.Sprintf(msg.T(lang, "%d days"), n)
	}
	return fmt.Sprintf(msg.T(lang, "%d hours"), int(d.Std()/time.Hour))
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
