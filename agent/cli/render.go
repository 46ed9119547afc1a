package cli

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/msgguard/msgguard/agent/msg"

	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/jsonindent"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/policy"
)

// lineWidth is the terminal width the human report is wrapped to.
const lineWidth = 80

// printReport writes r as JSON or as the human report.
func printReport(e *Env, r *status.Report, asJSON bool, lang string) error {
	if asJSON {
		// The same bytes as json.Encoder with SetIndent, at a third of
		// the cost (agent/jsonindent).
		return jsonindent.Encode(e.stdout, r)
	}
	localize(r, lang)
	o := renderOptions{
		lang:    lang,
		verbose: e.verbose,
		// stage "report" findings are for IT: shown to administrators, and
		// to anyone who asks with --verbose. (On Windows the CLI cannot
		// tell an administrator; the database ACL already limits who reads
		// the full report.)
		forIT: e.verbose || e.euid == 0 || e.goos == "windows",
		color: colorFor(e),
		now:   e.clock(),
		width: lineWidth,
	}
	writeHuman(e.stdout, r, o)
	return nil
}

// localize shows the findings in lang: each takes the texts it carries
// for lang (written at scan time, see withTexts); a report recorded before
// findings carried them keeps its texts as recorded.
func localize(r *status.Report, lang string) {
	for i := range r.Phones {
		localize(&r.Phones[i], lang)
	}
	for i := range r.Findings {
		f := r.Findings[i].Finding.In(lang)
		// A German text ends in the probe's English reason, or in the
		// problems of unread core sources; the catalog knows them.
		if strings.Contains(f.Message, " Prüfdetail: ") || msg.NamesUnread(f.Message) {
			f.Message = msg.Dynamic(lang, f.Message)
		}
		r.Findings[i].Finding = f
	}
}

// colorFor reports whether to colour the output: only when stdout is a
// terminal (a character device), and never with NO_COLOR set
// (no-color.org) or TERM=dumb. Tests write to buffers: no colour.
func colorFor(e *Env) bool {
	f, ok := e.stdout.(*os.File)
	if !ok || e.getenv("NO_COLOR") != "" || e.getenv("TERM") == "dumb" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// renderOptions tune the human report.
type renderOptions struct {
	lang    string
	verbose bool
	forIT   bool
	color   bool
	now     time.Time
	width   int
}

// ANSI styles.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiDim    = "\x1b[2m"
)

func (o renderOptions) style(code, s string) string {
	if !o.color || s == "" {
		return s
	}
	return code + s + ansiReset
}

// writeHuman prints the verdict line, the device, then what needs doing:
// failing findings, then due ones (each sorted by severity, with a one-line
// fix), a short list of what could not be told, and exemptions with their
// real result. --verbose adds the full texts, evidence and attestations.
func writeHuman(w io.Writer, r *status.Report, o renderOptions) {
	t := texts(o.lang)
	fs := displayFindings(r.Findings, o.now)
	sum := policy.Summarize(fs)
	sum.CouldNotCheck = unreadText(fs, sum.CouldNotCheck, o.lang)
	verdict := sum.VerdictAt(o.lang, o.now)
	head, rest, _ := strings.Cut(verdict, ":")
	code := ansiGreen
	switch {
	case !sum.Compliant:
		code = ansiRed
	case sum.Due > 0:
		code = ansiYellow
	}
	fmt.Fprint(w, o.style(ansiBold+code, strings.ToUpper(head)))
	if rest != "" {
		fmt.Fprint(w, wrapPhrases(":"+rest, len(head), o.width))
	}
	fmt.Fprintln(w)
	host := orString(r.Device.Hostname, orString(r.Device.Label, r.Device.Model))
	label := func(s string) string { return fmt.Sprintf("%-12s", s+":") }
	if host == "" {
		host = r.Device.ID
	}
	fmt.Fprint(w, label(t.device)+wrapRest(fmt.Sprintf("%s (%s)", host, strings.TrimSpace(r.Device.Platform+" "+r.Device.OSVersion)), 12, o.width)+"\n")
	if host != r.Device.ID && r.Device.Kind == policy.DevicePhone {
		// A phone's id is what 'agent attest --device' takes.
		fmt.Fprintf(w, "%s%s\n", label(t.id), r.Device.ID)
	}
	fmt.Fprint(w, label(t.policy)+wrapRest(fmt.Sprintf("%s (sha256 %.12s, %s)", r.Policy.Name, r.Policy.SHA256, policySourceLabel(r.Policy.Source, o.lang)), 12, o.width)+"\n")
	for _, pe := range r.Policy.Errors {
		fmt.Fprint(w, wrap(t.policyRejected+": "+pe, 12, o.width))
	}
	fmt.Fprintf(w, "%s%s\n", label(t.scanned), r.ScannedAt.Local().Format("2006-01-02 15:04:05 MST"))

	var failing, due, unknown, exempt, attested, passed []policy.Finding
	hidden := 0
	for _, f := range fs {
		if f.Stage == policy.StageReport && !o.forIT && f.Status != policy.StatusPass {
			hidden++
			continue
		}
		switch {
		case f.Status == policy.StatusFail && f.DueAt(o.now):
			due = append(due, f)
		case f.Status == policy.StatusFail:
			failing = append(failing, f)
		case f.Status == policy.StatusUnknown:
			unknown = append(unknown, f)
		case f.Status == policy.StatusExempt:
			exempt = append(exempt, f)
		case f.Status == policy.StatusAttested:
			attested = append(attested, f)
		case f.Status == policy.StatusPass, f.Status == policy.StatusNotApplicable:
			passed = append(passed, f)
		}
	}
	writeSection(w, t.failingHeader, ansiRed, failing, o, t)
	writeSection(w, t.dueHeader, ansiYellow, due, o, t)
	writeSection(w, t.unknownHeader, "", unknown, o, t)
	writeSection(w, t.exemptHeader, "", exempt, o, t)
	if o.verbose {
		writeSection(w, t.attestedHeader, ansiGreen, attested, o, t)
		writeBrief(w, t.passHeader, passed, o)
	}
	if hidden > 0 {
		fmt.Fprintln(w)
		hiddenText := t.hiddenForIT
		if hidden == 1 {
			hiddenText = t.hiddenOneForIT
		}
		fmt.Fprint(w, wrap(fmt.Sprintf(hiddenText, hidden), 0, o.width))
	}
	for _, p := range r.Phones {
		fmt.Fprintln(w)
		fmt.Fprint(w, wrap(fmt.Sprintf("%s %s (%s %s)", t.phone, orString(p.Device.Label, p.Device.Model), p.Device.Platform, p.Device.OSVersion), 0, o.width))
		po := o
		po.width = o.width - 4
		var b strings.Builder
		writeHuman(&b, &p, po)
		io.WriteString(w, indentLines(b.String(), "    "))
	}
}

// indentLines prefixes every non-empty line of s.
func indentLines(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "")
}

func orString(s, alt string) string {
	if s != "" {
		return s
	}
	return alt
}

// displayFindings returns r's findings as they stand at now: a due finding
// whose deadline has passed since the scan counts as failing (the next scan
// records it so).
func displayFindings(fs []status.Finding, now time.Time) []policy.Finding {
	out := make([]policy.Finding, len(fs))
	for i, f := range fs {
		out[i] = f.Finding
		if now.After(out[i].EvaluatedAt) {
			out[i].EvaluatedAt = now
		}
	}
	return out
}

// sortBySeverity orders findings by severity (highest first), then key.
func sortBySeverity(fs []policy.Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		if a, b := fs[i].Severity.Rank(), fs[j].Severity.Rank(); a != b {
			return a > b
		}
		return fs[i].Key() < fs[j].Key()
	})
}

// writeBrief lists findings one line each, with their first sentence
// (--verbose's passed and not applicable findings).
func writeBrief(w io.Writer, header string, fs []policy.Finding, o renderOptions) {
	if len(fs) == 0 {
		return
	}
	sortBySeverity(fs)
	fmt.Fprintf(w, "\n%s\n", o.style(ansiBold+ansiGreen, header))
	for _, f := range fs {
		prefix := fmt.Sprintf("  %-9s ", strings.ToUpper(statusLabel(f.Status, o.lang)))
		fmt.Fprint(w, prefix+wrapRest(f.Rule+scope(f)+": "+firstSentence(f.Message), visibleLen(prefix), o.width)+"\n")
	}
}

// writeSection prints one group of findings. Failing and due findings get
// their first sentence and a one-line fix; unknown and exempt ones a single
// line; --verbose adds the full message, remediation and evidence.
func writeSection(w io.Writer, header, color string, fs []policy.Finding, o renderOptions, t text) {
	if len(fs) == 0 {
		return
	}
	sortBySeverity(fs)
	fmt.Fprintf(w, "\n%s\n", o.style(ansiBold+color, header))
	const ind = 12
	for _, f := range fs {
		sev := fmt.Sprintf("  %-9s ", strings.ToUpper(severityLabel(f.Severity, o.lang)))
		head := f.Rule + scope(f)
		switch {
		case f.Status == policy.StatusFail && f.DueAt(o.now):
			head += " — " + fmt.Sprintf(t.dueIn, policy.InDays(f.Deadline.Sub(o.now), o.lang), compliance.FormatDay(f.Deadline.Add(time.Nanosecond), o.lang))
		case f.Status == policy.StatusFail && !f.Deadline.IsZero():
			head += " — " + fmt.Sprintf(t.overdue, compliance.FormatDay(f.Deadline.Add(time.Nanosecond), o.lang))
		}
		if f.Stage == policy.StageEscalate && f.Status == policy.StatusFail && !f.DueAt(o.now) {
			head += " " + t.escalated
		}
		fmt.Fprint(w, o.style(color, sev)+wrapRest(head, ind, o.width))
		fmt.Fprintln(w)
		text := firstSentence(f.Message)
		if o.verbose {
			text = f.Message
		}
		fmt.Fprint(w, wrap(text, ind, o.width))
		// Who approved or attested is a structured field: empty in a
		// non-administrator's (redacted) report, so it is printed from
		// the field, never from message text.
		if x := f.Exemption; x != nil && x.Approver != "" {
			fmt.Fprint(w, wrap(fmt.Sprintf(t.exemptLine, compliance.FormatDay(x.Until, o.lang), x.Approver, x.Reason,
				statusLabel(f.Underlying, o.lang)), ind, o.width))
		} else if x != nil {
			fmt.Fprint(w, wrap(fmt.Sprintf(t.exemptLineRedacted, compliance.FormatDay(x.Until, o.lang),
				statusLabel(f.Underlying, o.lang)), ind, o.width))
		}
		if o.verbose && f.Attestation != nil && f.Attestation.By != "" {
			fmt.Fprint(w, wrap(fmt.Sprintf(t.attestedBy, f.Attestation.By), ind, o.width))
		}
		if o.verbose && f.Attestation != nil && f.Attestation.Note != "" {
			fmt.Fprint(w, wrap(t.note+" "+f.Attestation.Note, ind, o.width))
		}
		if strings.HasPrefix(f.Rule, policy.RuleAttestationPrefix) && f.Status == policy.StatusFail && o.forIT {
			// Who records the confirmation, and how.
			fmt.Fprint(w, wrap(fmt.Sprintf(msg.T(o.lang, "IT records it: agent attest %s --by NAME"), f.Rule), ind, o.width))
		}
		if f.Remediation != "" && (f.Status == policy.StatusFail || o.verbose) {
			fix := firstSentence(f.Remediation)
			if o.verbose {
				fix = f.Remediation
			}
			fmt.Fprint(w, wrap(o.style(ansiBold, t.fix)+" "+fix, ind, o.width))
		}
		if o.verbose {
			for _, ev := range f.Evidence {
				line := t.evidence + " " + evidenceText(f.Rule, ev, o.lang)
				fmt.Fprint(w, o.style(ansiDim, wrap(line, ind, o.width)))
			}
			if f.Stage != "" {
				fmt.Fprint(w, wrap(fmt.Sprintf("%s %s", t.stage, stageLabel(f.Stage, o.lang)), ind, o.width))
			}
		}
	}
}

// policySourceLabel names where the policy came from: a file's path, or the
// policy embedded in the agent.
func policySourceLabel(src, lang string) string {
	if src == "embedded" {
		return msg.T(lang, "embedded")
	}
	return src
}

// unreadText is the summary's list of unread core sources (policy's
// Summary.CouldNotCheck: location and problem of each piece of evidence
// of the failing scan.could-not-check finding) with the problems in lang.
func unreadText(fs []policy.Finding, en, lang string) string {
	if en == "" || msg.FromLocale(lang) == msg.EN {
		return en
	}
	for _, f := range fs {
		if f.Rule != policy.RuleCouldNotCheck || f.Status != policy.StatusFail {
			continue
		}
		what := make([]string, 0, len(f.Evidence))
		for _, ev := range f.Evidence {
			what = append(what, strings.TrimSpace(ev.Location+" "+msg.Problem(lang, ev.Detail)))
		}
		return strings.Join(what, "; ")
	}
	return en
}

// evidenceText is one piece of evidence of a finding of rule: source ·
// location · detail. The policy and the probes label the values in them in
// English ("version 4.6.5; profile work", `Chrome, profile "Default"`); the
// labels are the only words, so they are translated here and the values
// stay. The evidence of scan.incomplete and scan.could-not-check is the
// scan's problems, whose detail is the probe's message (msg.Problem).
func evidenceText(rule string, ev policy.Evidence, lang string) string {
	if rule == policy.RuleScanIncomplete || rule == policy.RuleCouldNotCheck {
		return strings.TrimSpace(strings.Join(nonEmpty(ev.Source, ev.Location, msg.Problem(lang, ev.Detail)), " · "))
	}
	loc := ev.Location
	for _, l := range []struct{ en, t string }{
		{`, profile "`, msg.T(lang, ", profile ") + `"`},
		{"; grace from ", msg.T(lang, "; grace from ")},
		{"lock on wake from ", msg.T(lang, "lock on wake from ")},
	} {
		loc = strings.ReplaceAll(loc, l.en, l.t)
	}
	labels := map[string]string{
		"version ":  msg.T(lang, "version "),
		"profile ":  msg.T(lang, "profile "),
		"services ": msg.T(lang, "services "),
		"desktop ":  msg.T(lang, "desktop "),
		"enforced ": msg.T(lang, "enforced "),
	}
	parts := strings.Split(ev.Detail, "; ")
	for i, d := range parts {
		if label, rest, ok := strings.Cut(d, " "); ok {
			if t, ok := labels[label+" "]; ok {
				parts[i] = t + rest
			}
		}
	}
	return strings.TrimSpace(strings.Join(nonEmpty(ev.Source, loc, strings.Join(parts, "; ")), " · "))
}

func nonEmpty(xs ...string) []string {
	var out []string
	for _, x := range xs {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

// scope renders a finding's subject and user after its rule: " · /home",
// " · alice". Device-wide findings add nothing.
func scope(f policy.Finding) string {
	var parts []string
	rule := f.Rule
	if f.Subject != "" && f.Subject != policy.SubjectDevice && !strings.HasSuffix(rule, "."+f.Subject) {
		parts = append(parts, f.Subject)
	}
	if f.User != "" {
		parts = append(parts, f.User)
	}
	if len(parts) == 0 {
		return ""
	}
	return " · " + strings.Join(parts, " · ")
}

// firstSentence returns s up to the end of its first sentence: a full stop,
// question or exclamation mark followed by a space and an upper-case letter
// or digit, skipping abbreviations such as "z. B." and "e.g.".
func firstSentence(s string) string {
	s = strings.TrimSpace(s)
	for i := 0; i < len(s)-2; i++ {
		c := s[i]
		if c != '.' && c != '!' && c != '?' {
			continue
		}
		if s[i+1] != ' ' {
			continue
		}
		next, _ := utf8.DecodeRuneInString(s[i+2:])
		if !unicode.IsUpper(next) && !unicode.IsDigit(next) {
			continue
		}
		if c == '.' && abbreviation(s[:i]) {
			continue
		}
		return s[:i+1]
	}
	return s
}

// abbreviation reports whether the word before a full stop is an
// abbreviation ("z", "B", "bzw", "e.g", "ca"), not the end of a sentence.
func abbreviation(before string) bool {
	word := before[strings.LastIndexAny(before, " (")+1:]
	if r, n := utf8.DecodeRuneInString(word); n > 0 && n == len(word) {
		return unicode.IsLetter(r) // "z. B.", "d. h.", "S. 4"
	}
	switch strings.ToLower(word) {
	case "bzw", "usw", "etc", "vgl", "e.g", "i.e", "inkl", "evtl", "ggf", "nr", "abs", "art":
		return true
	}
	return false
}

// wrap breaks s into lines of at most width columns, every line indented
// by ind spaces, and ends with a newline. Words longer than a line stay
// whole.
func wrap(s string, ind, width int) string {
	pad := strings.Repeat(" ", ind)
	return pad + wrapRest(s, ind, width) + "\n"
}

// wrapPhrases wraps s like wrapRest but breaks lines only between its
// comma-separated phrases ("2 failed, 11 passed"), never inside one.
func wrapPhrases(s string, col, width int) string {
	const glue = "\ue000" // a private-use rune: not a space to strings.Fields
	parts := strings.Split(s, ", ")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(p, " ", glue)
	}
	return strings.ReplaceAll(wrapRest(strings.Join(parts, ", "), col, width), glue, " ")
}

// wrapRest wraps s as if it started at column col; continuation lines are
// indented by col spaces. It returns no trailing newline.
func wrapRest(s string, col, width int) string {
	avail := max(width-col, 20)
	pad := strings.Repeat(" ", col)
	var b strings.Builder
	n := 0
	for i, line := range strings.Split(s, "\n") {
		if i > 0 {
			b.WriteString("\n" + pad)
			n = 0
		}
		for _, word := range strings.Fields(line) {
			wl := visibleLen(word)
			switch {
			case n == 0:
			case n+1+wl > avail:
				b.WriteString("\n" + pad)
				n = 0
			default:
				b.WriteByte(' ')
				n++
			}
			b.WriteString(word)
			n += wl
		}
	}
	return b.String()
}

// visibleLen counts the runes of s that take a column (ANSI escape
// sequences take none).
func visibleLen(s string) int {
	n, esc := 0, false
	for _, r := range s {
		switch {
		case r == '\x1b':
			esc = true
		case esc && r == 'm':
			esc = false
		case !esc:
			n++
		}
	}
	return n
}

func severityLabel(s policy.Severity, lang string) string {
	switch s {
	case policy.SeverityCritical:
		return msg.T(lang, "critical")
	case policy.SeverityHigh:
		return msg.T(lang, "high")
	case policy.SeverityMedium:
		return msg.T(lang, "medium")
	case policy.SeverityLow:
		return msg.T(lang, "low")
	case policy.SeverityInfo:
		return msg.T(lang, "info")
	}
	return string(s)
}

func statusLabel(s policy.Status, lang string) string {
	switch s {
	case policy.StatusFail:
		return msg.T(lang, "not met")
	case policy.StatusUnknown:
		return msg.T(lang, "could not tell")
	case policy.StatusPass:
		return msg.T(lang, "met")
	case policy.StatusNotApplicable:
		return msg.T(lang, "not applicable")
	case policy.StatusExempt:
		return msg.T(lang, "exempt")
	case policy.StatusAttested:
		return msg.T(lang, "attested")
	}
	return string(s)
}

func stageLabel(s policy.Stage, lang string) string {
	switch s {
	case policy.StageReport:
		return msg.T(lang, "report (IT only)")
	case policy.StageEscalate:
		return msg.T(lang, "escalate")
	}
	return msg.T(lang, "notify (shown to the user)")
}

// text holds the report's labels in one language, looked up once per
// report in the message catalog.
type text struct {
	device, id, policy, scanned, policyRejected, phone, fix, note, evidence, stage    string
	failingHeader, dueHeader, unknownHeader, exemptHeader, attestedHeader, passHeader string
	dueIn, overdue, escalated, exemptLine, hiddenForIT, hiddenOneForIT                string
	exemptLineRedacted, attestedBy                                                    string
}

func texts(lang string) text {
	return text{
		device: msg.T(lang, "Device"), id: msg.T(lang, "ID"), policy: msg.T(lang, "Policy"), scanned: msg.T(lang, "Scanned"), policyRejected: msg.T(lang, "rejected new policy"),
		phone: msg.T(lang, "Phone"), fix: msg.T(lang, "fix:"), note: msg.T(lang, "Note:"), evidence: msg.T(lang, "Evidence:"), stage: msg.T(lang, "Stage:"),
		failingHeader: msg.T(lang, "FAILING"), dueHeader: msg.T(lang, "DUE"), unknownHeader: msg.T(lang, "COULD NOT TELL"),
		exemptHeader: msg.T(lang, "EXEMPT"), attestedHeader: msg.T(lang, "ATTESTED"), passHeader: msg.T(lang, "PASSED AND NOT APPLICABLE"),
		dueIn: msg.T(lang, "due %s (%s)"), overdue: msg.T(lang, "deadline passed on %s"), escalated: msg.T(lang, "[escalated]"),
		exemptLine:         msg.T(lang, "Exempt until %s, approved by %s: %s (real result: %s)"),
		exemptLineRedacted: msg.T(lang, "Exempt until %s (real result: %s)"),
		attestedBy:         msg.T(lang, "Attested by %s."),
		hiddenForIT:        msg.T(lang, "%d more findings are for IT only (show them with --verbose or as root)."),
		hiddenOneForIT:     msg.T(lang, "%d more finding is for IT only (show it with --verbose or as root)."),
	}
}
