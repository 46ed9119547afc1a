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

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/localapi"
	"github.com/msgguard/msgguard/agent/records"
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
	fs := newFlags(e, "explain")
	polFile := fs.String("policy", "", "policy `file` (default: the installed policy, else the embedded one)")
	dbPath := fs.String("db", e.defaultDB(), "database `file` (given: read it instead of asking the running service)")
	device := fs.String("device", "", "device `id` (a phone's id from 'agent status --json'; default: this computer)")
	lang := fs.String("lang", "", "output language: en or de (default from LANG)")
	jsonOut := fs.Bool("json", false, "print the explanation as JSON")
	socket := fs.String("socket", e.paths().Socket, "local API `socket` (named pipe on Windows) of the running service, asked first for the findings and history; empty: read the database")
	pos, code, ok := parseInterleaved(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintln(e.stderr, "usage: agent explain RULE [--device ID] [--lang de|en] [--json]")
		return exitUsage
	}
	pol, err := policyInForce(e, *polFile)
	if err != nil {
		fmt.Fprintf(e.stderr, "agent explain: %v\n", err)
		return exitUsage
	}
	p := pol.Policy
	rule := pos[0]
	if a := p.Attestation(rule); a != nil {
		rule = a.Rule()
	}
	if !p.KnownRule(rule) {
		fmt.Fprintf(e.stderr, "agent explain: %v\n", p.UnknownRuleError(rule))
		return exitUsage
	}
	x := explanation{RuleHistory: deviceHistory(ctx, e, *dbPath, *device, serviceSocket(fs, *socket), rule)}
	if x.Platform == "" {
		x.Platform = e.goos
	}
	x.Rule, _ = p.Describe(rule, x.Platform)
	if *jsonOut {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return encodeOrFail(e, "explain", enc.Encode(x))
	}
	writeExplanation(e.stdout, x, e.lang(*lang), e.clock())
	printRedacted(e, x.Redacted, e.lang(*lang))
	return 0
}

// deviceHistory returns the device's findings for rule and their history:
// from the running service, which holds the database, else from the
// database read-only. What cannot be read is said in Note, the same way on
// both paths.
func deviceHistory(ctx context.Context, e *Env, path, device, socket, rule string) apitype.RuleHistory {
	h := apitype.NewRuleHistory()
	var api *localapi.APIError
	if _, ok := readViaService(ctx, e, "explain", socket, func(c *localapi.Client) (int, error) {
		got, err := c.Explain(ctx, rule, device)
		switch {
		case err == nil:
			h = *got
		case errors.As(err, &api) && api.Code == http.StatusInternalServerError:
			// The database's error, in the words the database path uses.
			h.Note = api.Msg
		case errors.As(err, &api) && (api.Code == http.StatusNotFound || api.Code == http.StatusNotImplemented):
			h.Note = "the running service cannot answer this (an older version?); " + errServiceHoldsDBForRead.Error()
		default:
			h.Note = err.Error()
		}
		return 0, nil
	}); ok {
		return h
	}
	st, err := store.Open(path, store.Options{ReadOnly: true, Timeout: time.Second})
	switch {
	case errors.Is(err, store.ErrNoDatabase):
		h.Note = "no scan recorded yet"
		return h
	case errors.Is(err, store.ErrLocked):
		h.Note = errServiceHoldsDBForRead.Error()
		return h
	case err != nil:
		h.Note = err.Error()
		return h
	}
	defer st.Close()
	got, err := records.Explain(st.DB(), rule, device)
	if err != nil {
		h.Note = err.Error()
		return h
	}
	return *got
}

// writeExplanation prints the explanation for people.
func writeExplanation(w io.Writer, x explanation, lang string, now time.Time) {
	tr := func(en, de string) string { return pick(lang, en, de) }
	info := x.Rule
	const ind = 4
	section := func(title string) { fmt.Fprintf(w, "\n%s\n", title) }
	para := func(label, s string) {
		if s == "" {
			return
		}
		fmt.Fprint(w, wrap(label+" "+s, ind, lineWidth))
	}
	fmt.Fprintf(w, "%s (%s)\n", info.Rule, info.Kind)
	grace := tr("none", "keine")
	if info.Enforcement.Grace > 0 {
		grace = durationLabel(info.Enforcement.Grace, lang)
	}
	fmt.Fprint(w, wrap(fmt.Sprintf(tr("severity %s · stage: %s · grace period: %s", "Schweregrad %s · Stufe: %s · Übergangsfrist: %s"),
		severityLabel(info.Severity, lang), stageLabel(info.Enforcement.Stage, lang), grace), 0, lineWidth))

	section(tr("WHAT AND WHY", "WAS UND WARUM"))
	if info.Decision != "" {
		named := tr("named in the policy", "in der Richtlinie genannt")
		if !info.Named {
			named = tr("the policy's default for messengers it does not name", "Vorgabe der Richtlinie für nicht genannte Messenger")
		}
		para(tr("Decision:", "Entscheidung:"), decisionLabel(info.Decision, lang)+" ("+named+")")
	}
	para(tr("Condition:", "Bedingung:"), info.Condition.In(lang))
	if info.Kind == "attestation" {
		para(tr("To confirm:", "Zu bestätigen:"), info.Question.In(lang))
		para(tr("Confirmed by:", "Zuständig:"), info.Role.In(lang))
		para(tr("Valid for:", "Gültig für:"), durationLabel(info.Validity, lang))
		if len(info.AppliesWhen.Messengers) > 0 || info.AppliesWhen.DeviceKind != "" {
			cond := strings.Join(info.AppliesWhen.Messengers, ", ")
			if k := info.AppliesWhen.DeviceKind; k != "" {
				cond = strings.TrimSpace(cond + " (" + k + ")")
			}
			para(tr("Applies where found:", "Gilt, wo gefunden:"), cond)
		}
	}
	para(tr("Why:", "Warum:"), orDash(info.Rationale.In(lang)))
	para(fmt.Sprintf(tr("Fix (%s):", "Abhilfe (%s):"), x.Platform), orDash(info.Remediation.In(lang)))
	for _, ex := range info.Exemptions {
		scope := strings.TrimSpace(ex.Subject + " " + ex.User)
		if scope == "" {
			scope = tr("all subjects and users", "alle Gegenstände und Benutzer")
		}
		para(tr("Exemption in the policy:", "Ausnahme in der Richtlinie:"), fmt.Sprintf(tr("%s, until %s, approved by %s: %s", "%s, bis %s, genehmigt von %s: %s"),
			scope, compliance.FormatDay(ex.Expires.Time, lang), ex.Approver, ex.Reason.In(lang)))
	}

	if x.Device == "" {
		section(tr("ON THIS DEVICE", "AUF DIESEM GERÄT"))
		fmt.Fprint(w, wrap(tr("No scan to show: ", "Kein Scan vorhanden: ")+x.Note, ind, lineWidth))
		return
	}
	section(fmt.Sprintf(tr("ON THIS DEVICE (%s, scanned %s)", "AUF DIESEM GERÄT (%s, geprüft %s)"), x.Device, x.ScannedAt.Local().Format("2006-01-02 15:04")))
	if len(x.Findings) == 0 {
		fmt.Fprint(w, wrap(tr("The last scan produced no finding for this rule (it does not apply here).",
			"Der letzte Scan hat zu dieser Regel kein Ergebnis geliefert (sie trifft hier nicht zu)."), ind, lineWidth))
	}
	for _, f := range x.Findings {
		head := strings.ToUpper(statusLabel(f.Status, lang)) + scope(f.Finding)
		fmt.Fprint(w, wrap(head, 2, lineWidth))
		para("", f.Message)
		if f.Underlying != "" && f.Exemption != nil {
			para(tr("Exempt:", "Ausnahme:"), fmt.Sprintf(tr("until %s, approved by %s: %s; real result: %s", "bis %s, genehmigt von %s: %s; tatsächliches Ergebnis: %s"),
				compliance.FormatDay(f.Exemption.Until, lang), f.Exemption.Approver, f.Exemption.Reason, statusLabel(f.Underlying, lang)))
		}
		if !f.Deadline.IsZero() && f.Status == policy.StatusFail {
			when := fmt.Sprintf(tr("deadline %s", "Frist bis %s"), compliance.FormatDay(f.Deadline.Add(time.Nanosecond), lang))
			if f.DueAt(now) {
				when += " (" + policy.InDays(f.Deadline.Sub(now), lang) + ")"
			}
			para(tr("Deadline:", "Frist:"), when)
		}
		for _, ev := range f.Evidence {
			para(tr("Evidence:", "Nachweis:"), strings.Join(nonEmpty(ev.Source, ev.Location, ev.Detail), " · "))
		}
		para(tr("Since:", "Seit:"), fmt.Sprintf(tr("%s (first seen), last changed %s", "%s (zuerst gesehen), zuletzt geändert %s"),
			f.FirstSeen.Local().Format("2006-01-02 15:04"), f.LastChanged.Local().Format("2006-01-02 15:04")))
	}

	section(tr("HISTORY", "VERLAUF"))
	type line struct {
		at   time.Time
		text string
	}
	var lines []line
	for _, ev := range x.Drift {
		lines = append(lines, line{ev.Time, ev.Message})
	}
	for _, l := range x.Log {
		lines = append(lines, line{l.Time, logText(l, lang, x.Redacted)})
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].at.Before(lines[j].at) })
	if len(lines) == 0 {
		msg := tr("No changes recorded.", "Keine Änderungen verzeichnet.")
		if x.Note != "" {
			msg = x.Note
		}
		fmt.Fprint(w, wrap(msg, ind, lineWidth))
	}
	for _, l := range lines {
		fmt.Fprint(w, "  "+l.at.Local().Format("2006-01-02 15:04")+"  "+wrapRest(l.text, 20, lineWidth)+"\n")
	}
}

// logText phrases an audit log entry; redacted (the service withheld who
// and why), without the name and reason.
func logText(l compliance.LogEntry, lang string, redacted bool) string {
	tr := func(en, de string) string { return pick(lang, en, de) }
	until := compliance.FormatDay(l.Until, lang)
	if redacted {
		l.By = withheld(lang)
		if l.Kind == compliance.LogExempted {
			return fmt.Sprintf(tr("exempted until %s, approved by %s", "ausgenommen bis %s, genehmigt von %s"), until, l.By)
		}
	}
	switch l.Kind {
	case compliance.LogAttested:
		return fmt.Sprintf(tr("attested by %s, valid until %s", "bestätigt von %s, gültig bis %s"), l.By, until)
	case compliance.LogAttestationExpired:
		return fmt.Sprintf(tr("attestation by %s expired (valid until %s)", "Bestätigung von %s abgelaufen (gültig bis %s)"), l.By, until)
	case compliance.LogExempted:
		return fmt.Sprintf(tr("exempted until %s, approved by %s: %s", "ausgenommen bis %s, genehmigt von %s: %s"), until, l.By, l.Reason)
	case compliance.LogExemptionExpired, compliance.LogPolicyExemptionExpired:
		return fmt.Sprintf(tr("exemption approved by %s expired (valid until %s)", "Ausnahme, genehmigt von %s, abgelaufen (gültig bis %s)"), l.By, until)
	}
	return l.Kind
}

func decisionLabel(d policy.Decision, lang string) string {
	switch d {
	case policy.DecisionAllow:
		return pick(lang, "allowed", "erlaubt")
	case policy.DecisionDeny:
		return pick(lang, "not allowed", "nicht erlaubt")
	}
	return pick(lang, "allowed under a condition", "unter einer Bedingung erlaubt")
}

// durationLabel renders a policy duration for people: "7 days", "36 hours".
func durationLabel(d policy.Duration, lang string) string {
	if d.Std()%policy.Day == 0 {
		n := int(d.Std() / policy.Day)
		if n == 1 {
			return pick(lang, "1 day", "1 Tag")
		}
		return fmt.Sprintf(pick(lang, "%d days", "%d Tage"), n)
	}
	return fmt.Sprintf(pick(lang, "%d hours", "%d Stunden"), int(d.Std()/time.Hour))
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
