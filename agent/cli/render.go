package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/policy"
)

// lineWidth is the terminal width the human report is wrapped to.
const lineWidth = 80

// printReport writes r as JSON or as the human report.
func printReport(e *Env, r *status.Report, asJSON bool, lang string) error {
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
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

// localize re-renders the findings' messages and remediation in lang. A
// report is recorded in the language of whoever scanned (the service runs
// with the system locale, usually C), but `agent status` speaks the
// reader's language: the policy that produced the report (the embedded one
// or the file it names, if its SHA-256 still matches) is evaluated again on
// the recorded inventory in lang, and each finding whose real status is the
// same takes the new texts. Statuses, evidence and history are never
// changed; without the policy or inventory the texts stay as recorded.
func localize(r *status.Report, lang string) {
	for i := range r.Phones {
		localize(&r.Phones[i], lang)
	}
	p := policyOf(r.Policy)
	if p == nil || r.Inventory == nil {
		return
	}
	fresh := map[string]policy.Finding{}
	for _, f := range policy.Evaluate(p, r.Inventory, policy.EvalOptions{Now: r.ScannedAt, Lang: lang}) {
		fresh[f.Key()] = f
	}
	for i := range r.Findings {
		f := &r.Findings[i].Finding
		real := f.Status
		if real == policy.StatusExempt {
			real = f.Underlying
		}
		if g, ok := fresh[f.Key()]; ok && g.Status == real {
			f.Message, f.Remediation = g.Message, g.Remediation
		}
		if f.Rule == policy.RuleScanIncomplete && policy.NormalizeLang(lang) == "de" {
			f.Message = fmt.Sprintf("%d Elemente konnten nicht geprüft werden (%s); die Ergebnisse sind möglicherweise unvollständig.",
				len(r.Inventory.Problems), probeNames(r.Inventory.Problems))
			f.Remediation = "Im Nachweis steht, was übersprungen wurde; die genannten Dateien reparieren oder entfernen oder die fehlenden Programme installieren."
		}
		compliance.Localize(p, f, lang)
	}
}

func probeNames(ps []policy.Problem) string {
	seen := map[string]bool{}
	var out []string
	for _, p := range ps {
		if !seen[p.Probe] {
			seen[p.Probe] = true
			out = append(out, p.Probe)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// policyOf loads the policy a report names, if it is still the same
// (SHA-256): the embedded default, or the file it was read from.
func policyOf(ref status.PolicyRef) *policy.Policy {
	var p *policy.Policy
	switch ref.Source {
	case "":
		return nil
	case "embedded":
		p = policy.Default()
	default:
		pol, err := loadPolicy(ref.Source)
		if err != nil {
			return nil
		}
		p = pol.Policy
	}
	if p.SHA256 != ref.SHA256 {
		return nil
	}
	return p
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
		fmt.Fprint(w, wrapRest(":"+rest, len(head), o.width))
	}
	fmt.Fprintln(w)
	host := orString(r.Device.Hostname, orString(r.Device.Label, r.Device.Model))
	label := func(s string) string { return fmt.Sprintf("%-12s", s+":") }
	if host == "" {
		host = r.Device.ID
	}
	fmt.Fprint(w, label(t.device)+wrapRest(fmt.Sprintf("%s (%s)", host, strings.TrimSpace(r.Device.Platform+" "+r.Device.OSVersion)), 12, o.width)+"\n")
	if host != r.Device.ID && r.Device.Kind == "phone" {
		// A phone's id is what 'agent attest --device' takes.
		fmt.Fprintf(w, "%s%s\n", label(t.id), r.Device.ID)
	}
	fmt.Fprint(w, label(t.policy)+wrapRest(fmt.Sprintf("%s (sha256 %.12s, %s)", r.Policy.Name, r.Policy.SHA256, r.Policy.Source), 12, o.width)+"\n")
	for _, pe := range r.Policy.Errors {
		fmt.Fprint(w, wrap(t.policyRejected+": "+pe, 12, o.width))
	}
	fmt.Fprintf(w, "%s%s\n", label(t.scanned), r.ScannedAt.Local().Format("2006-01-02 15:04:05 MST"))

	var failing, due, unknown, exempt, attested []policy.Finding
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
		}
	}
	writeSection(w, t.failingHeader, ansiRed, failing, o, t)
	writeSection(w, t.dueHeader, ansiYellow, due, o, t)
	writeSection(w, t.unknownHeader, "", unknown, o, t)
	writeSection(w, t.exemptHeader, "", exempt, o, t)
	if o.verbose {
		writeSection(w, t.attestedHeader, ansiGreen, attested, o, t)
	}
	if hidden > 0 {
		fmt.Fprintln(w)
		fmt.Fprint(w, wrap(fmt.Sprintf(t.hiddenForIT, hidden), 0, o.width))
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
		msg := firstSentence(f.Message)
		if o.verbose {
			msg = f.Message
		}
		fmt.Fprint(w, wrap(msg, ind, o.width))
		if x := f.Exemption; x != nil {
			fmt.Fprint(w, wrap(fmt.Sprintf(t.exemptLine, compliance.FormatDay(x.Until, o.lang), x.Approver, x.Reason,
				statusLabel(f.Underlying, o.lang)), ind, o.width))
		}
		if o.verbose && f.Attestation != nil && f.Attestation.Note != "" {
			fmt.Fprint(w, wrap(t.note+" "+f.Attestation.Note, ind, o.width))
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
				line := t.evidence + " " + strings.TrimSpace(strings.Join(nonEmpty(ev.Source, ev.Location, ev.Detail), " · "))
				fmt.Fprint(w, o.style(ansiDim, wrap(line, ind, o.width)))
			}
			if f.Stage != "" {
				fmt.Fprint(w, wrap(fmt.Sprintf("%s %s", t.stage, stageLabel(f.Stage, o.lang)), ind, o.width))
			}
		}
	}
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
	if policy.NormalizeLang(lang) != "de" {
		return string(s)
	}
	switch s {
	case policy.SeverityCritical:
		return "kritisch"
	case policy.SeverityHigh:
		return "hoch"
	case policy.SeverityMedium:
		return "mittel"
	case policy.SeverityLow:
		return "niedrig"
	}
	return "Info"
}

func statusLabel(s policy.Status, lang string) string {
	de := policy.NormalizeLang(lang) == "de"
	labels := map[policy.Status][2]string{
		policy.StatusFail:          {"not met", "nicht erfüllt"},
		policy.StatusUnknown:       {"could not tell", "nicht feststellbar"},
		policy.StatusPass:          {"met", "erfüllt"},
		policy.StatusNotApplicable: {"not applicable", "nicht zutreffend"},
		policy.StatusExempt:        {"exempt", "ausgenommen"},
		policy.StatusAttested:      {"attested", "bestätigt"},
	}
	l, ok := labels[s]
	if !ok {
		return string(s)
	}
	if de {
		return l[1]
	}
	return l[0]
}

func stageLabel(s policy.Stage, lang string) string {
	de := policy.NormalizeLang(lang) == "de"
	switch s {
	case policy.StageReport:
		return pick(lang, "report (IT only)", "nur an die IT melden")
	case policy.StageEscalate:
		if de {
			return "eskalieren"
		}
		return "escalate"
	}
	return pick(lang, "notify (shown to the user)", "Benutzer benachrichtigen")
}

// text holds the report's labels in one language.
type text struct {
	device, id, policy, scanned, policyRejected, phone, fix, note, evidence, stage string
	failingHeader, dueHeader, unknownHeader, exemptHeader, attestedHeader          string
	dueIn, overdue, escalated, exemptLine, hiddenForIT                             string
}

func texts(lang string) text {
	if policy.NormalizeLang(lang) == "de" {
		return text{
			device: "Gerät", id: "Kennung", policy: "Richtlinie", scanned: "Geprüft", policyRejected: "abgelehnte neue Richtlinie",
			phone: "Smartphone", fix: "Abhilfe:", note: "Notiz:", evidence: "Nachweis:", stage: "Stufe:",
			failingHeader: "NICHT ERFÜLLT", dueHeader: "FRIST LÄUFT", unknownHeader: "NICHT FESTSTELLBAR",
			exemptHeader: "AUSGENOMMEN", attestedHeader: "BESTÄTIGT",
			dueIn: "Frist endet %s (%s)", overdue: "Frist seit %s abgelaufen", escalated: "[eskaliert]",
			exemptLine:  "Ausnahme bis %s, genehmigt von %s: %s (tatsächliches Ergebnis: %s)",
			hiddenForIT: "%d weitere Ergebnisse sind nur für die IT bestimmt (mit --verbose oder als root anzeigen).",
		}
	}
	return text{
		device: "Device", id: "ID", policy: "Policy", scanned: "Scanned", policyRejected: "rejected new policy",
		phone: "Phone", fix: "fix:", note: "Note:", evidence: "Evidence:", stage: "Stage:",
		failingHeader: "FAILING", dueHeader: "DUE", unknownHeader: "COULD NOT TELL",
		exemptHeader: "EXEMPT", attestedHeader: "ATTESTED",
		dueIn: "due %s (%s)", overdue: "deadline passed on %s", escalated: "[escalated]",
		exemptLine:  "Exempt until %s, approved by %s: %s (real result: %s)",
		hiddenForIT: "%d more findings are for IT only (show them with --verbose or as root).",
	}
}
