package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/policy"
)

// statuses and severities are always written, with 0 where there is none,
// so that the series exist from the first scan on (a missing series is
// harder to alert on than a zero).
var (
	allStatuses = []policy.Status{policy.StatusPass, policy.StatusFail, policy.StatusUnknown,
		policy.StatusNotApplicable, policy.StatusExempt, policy.StatusAttested}
	allSeverities = []policy.Severity{policy.SeverityInfo, policy.SeverityLow, policy.SeverityMedium,
		policy.SeverityHigh, policy.SeverityCritical}
)

// Textfile writes the Prometheus text exposition format to a *.prom file
// in node_exporter's textfile collector directory
// (--collector.textfile.directory). The file is written to a temporary
// name and renamed, as the collector's README asks ("To atomically push …
// echo … > file.prom.$$; mv file.prom.$$ file.prom"), so a scrape never
// sees half a file. The temporary name starts with a dot and does not end
// in .prom, so the collector's *.prom glob ignores it.
type Textfile struct {
	name, path string
	mu         sync.Mutex
	last       []byte
}

// NewTextfile returns a node_exporter textfile sink.
func NewTextfile(name, path string) *Textfile { return &Textfile{name: name, path: path} }

// Name implements StateSink.
func (t *Textfile) Name() string { return t.name }

// Write implements StateSink.
func (t *Textfile) Write(s State) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := PrometheusText(s)
	if bytes.Equal(b, t.last) {
		return nil
	}
	if err := writeAtomic(t.path, b, 0o644); err != nil {
		return err
	}
	t.last = b
	return nil
}

// PrometheusText renders the state as Prometheus text format 0.0.4.
func PrometheusText(s State) []byte {
	var b bytes.Buffer
	metric := func(name, typ, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	metric("msgguard_compliant", "gauge", "1 if the device complied with the policy at its last scan, 0 if not.")
	for _, r := range s.Reports {
		fmt.Fprintf(&b, "msgguard_compliant{device=%s} %d\n", promLabel(r.Device.ID), boolInt(r.Compliant))
	}
	metric("msgguard_device_info", "gauge", "Identity of each scanned device (value always 1).")
	for _, r := range s.Reports {
		fmt.Fprintf(&b, "msgguard_device_info{device=%s,hostname=%s,kind=%s,platform=%s,policy=%s,policy_sha256=%s} 1\n",
			promLabel(r.Device.ID), promLabel(r.Device.Hostname), promLabel(r.Device.Kind), promLabel(r.Device.Platform),
			promLabel(r.Policy.Name), promLabel(r.Policy.SHA256))
	}
	metric("msgguard_findings", "gauge", "Findings of the device's last scan by status.")
	for _, r := range s.Reports {
		sum := status.Summarize(r.Findings)
		for _, st := range allStatuses {
			fmt.Fprintf(&b, "msgguard_findings{device=%s,status=%s} %d\n", promLabel(r.Device.ID), promLabel(string(st)), sum.ByStatus[st])
		}
	}
	metric("msgguard_failing_findings", "gauge", "Failing findings of the device's last scan by severity.")
	for _, r := range s.Reports {
		sum := status.Summarize(r.Findings)
		for _, sv := range allSeverities {
			fmt.Fprintf(&b, "msgguard_failing_findings{device=%s,severity=%s} %d\n", promLabel(r.Device.ID), promLabel(string(sv)), sum.BySeverity[sv])
		}
	}
	// Alerting on a denied messenger needs it apart from other high
	// findings: a failing messenger.* finding is one the policy denies
	// (install/prometheus/msgguard.rules.yml).
	metric("msgguard_denied_messengers", "gauge", "Failing messenger findings of the device's last scan: a messenger the policy denies, per user or profile (exempted ones not counted).")
	for _, r := range s.Reports {
		n := 0
		for _, f := range r.Findings {
			if f.Status == policy.StatusFail && strings.HasPrefix(f.Rule, policy.RuleMessengerPrefix) {
				n++
			}
		}
		fmt.Fprintf(&b, "msgguard_denied_messengers{device=%s} %d\n", promLabel(r.Device.ID), n)
	}
	metric("msgguard_last_scan_timestamp_seconds", "gauge", "Unix time of the device's last scan.")
	for _, r := range s.Reports {
		fmt.Fprintf(&b, "msgguard_last_scan_timestamp_seconds{device=%s} %s\n", promLabel(r.Device.ID), unixSeconds(r.ScannedAt.UnixMilli()))
	}
	metric("msgguard_outbox_depth", "gauge", "Events waiting for delivery, per reporting sink.")
	for _, h := range s.Sinks {
		if h.Name != "(not started)" {
			fmt.Fprintf(&b, "msgguard_outbox_depth{sink=%s} %d\n", promLabel(h.Name), h.QueueDepth)
		}
	}
	metric("msgguard_sink_last_success_timestamp_seconds", "gauge", "Unix time of each sink's last successful delivery (0 = never).")
	for _, h := range s.Sinks {
		if h.Name != "(not started)" {
			v := "0"
			if !h.LastSuccess.IsZero() {
				v = unixSeconds(h.LastSuccess.UnixMilli())
			}
			fmt.Fprintf(&b, "msgguard_sink_last_success_timestamp_seconds{sink=%s} %s\n", promLabel(h.Name), v)
		}
	}
	metric("msgguard_sink_errors", "gauge", "1 if a sink's last attempt failed or the sink could not be started.")
	for i, h := range s.Sinks {
		name := h.Name
		if name == "(not started)" {
			name = "not_started_" + strconv.Itoa(i)
		}
		fmt.Fprintf(&b, "msgguard_sink_errors{sink=%s} %d\n", promLabel(name), boolInt(h.LastError != ""))
	}
	return b.Bytes()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func unixSeconds(ms int64) string {
	return strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)
}

// promLabel quotes a label value; the exposition format escapes backslash,
// double quote and line feed.
func promLabel(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(v) + `"`
}

// Checkmk writes a Checkmk local-check section to a file in the agent's
// spool directory (/var/lib/check_mk_agent/spool on Linux). The Checkmk
// agent appends spool files to its output; a name starting with a number
// ("7200_msgguard") is that file's maximum age in seconds, after which the
// agent ignores it and the services go stale — which is how a stopped
// msgguard shows up in Checkmk (Checkmk Werk #0016, docs.checkmk.com
// "spool_directory"). Each line is a local check: "<status> <service name>
// <metrics> <status detail>" with status 0 OK, 1 WARN, 2 CRIT, 3 UNKNOWN and
// metrics "name=value;warn;crit;min;max" joined by "|" or "-" for none
// (docs.checkmk.com "localchecks"). Files starting with a dot are ignored,
// so the temporary file is one.
type Checkmk struct {
	name, path string
	mu         sync.Mutex
	last       []byte
}

// NewCheckmk returns a Checkmk local-check spool sink.
func NewCheckmk(name, path string) *Checkmk { return &Checkmk{name: name, path: path} }

// Name implements StateSink.
func (c *Checkmk) Name() string { return c.name }

// Write implements StateSink.
func (c *Checkmk) Write(s State) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := CheckmkLocal(s)
	if bytes.Equal(b, c.last) {
		return nil
	}
	// 0644: the Checkmk agent may run as an unprivileged user.
	if err := writeAtomic(c.path, b, 0o644); err != nil {
		return err
	}
	c.last = b
	return nil
}

var cmkName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^A-Za-z0-9_.-]`) })

// CheckmkLocal renders the state as a <<<local>>> section: one compliance
// service per device and one reporting service.
func CheckmkLocal(s State) []byte {
	var b bytes.Buffer
	b.WriteString("<<<local:sep(0)>>>\n")
	for i, r := range s.Reports {
		name := "msgguard_compliance"
		if i > 0 {
			label := r.Device.Label
			if label == "" {
				label = r.Device.ID
			}
			name += "_" + r.Device.Kind + "_" + cmkName().ReplaceAllString(label, "_")
		}
		st, text := complianceCheck(r)
		sum := status.Summarize(r.Findings)
		fmt.Fprintf(&b, "%d %s failing=%d;;1;0|unknown=%d;;;0|failing_critical=%d;;1;0 %s\n", st, name,
			sum.ByStatus[policy.StatusFail], sum.ByStatus[policy.StatusUnknown], sum.BySeverity[policy.SeverityCritical], text)
	}
	st, text, depth := reportingCheck(s.Sinks)
	fmt.Fprintf(&b, "%d msgguard_reporting outbox=%d;100;1000;0 %s\n", st, depth, text)
	return b.Bytes()
}

// complianceCheck: CRIT for a failing high or critical finding, WARN for
// other failing or unknown findings, OK when compliant and fully known.
func complianceCheck(r *status.Report) (int, string) {
	sum := status.Summarize(r.Findings)
	fail, unknown := sum.ByStatus[policy.StatusFail], sum.ByStatus[policy.StatusUnknown]
	scanned := r.ScannedAt.UTC().Format("2006-01-02 15:04 UTC")
	var worst []string
	for _, f := range r.Findings {
		if f.Status == policy.StatusFail && len(worst) < 3 {
			worst = append(worst, f.Rule+subjectSuffix(f.Subject))
		}
	}
	switch {
	case sum.BySeverity[policy.SeverityCritical]+sum.BySeverity[policy.SeverityHigh] > 0:
		return 2, fmt.Sprintf("not compliant: %d failing finding(s) (%d critical, %d high): %s; scanned %s",
			fail, sum.BySeverity[policy.SeverityCritical], sum.BySeverity[policy.SeverityHigh], strings.Join(worst, ", "), scanned)
	case fail > 0:
		return 1, fmt.Sprintf("not compliant: %d failing finding(s): %s; scanned %s", fail, strings.Join(worst, ", "), scanned)
	case unknown > 0:
		return 1, fmt.Sprintf("compliant so far, but %d finding(s) could not be checked; scanned %s", unknown, scanned)
	}
	return 0, "compliant; scanned " + scanned
}

func subjectSuffix(s string) string {
	if s == "" || s == "device" {
		return ""
	}
	return " (" + s + ")"
}

// reportingCheck: CRIT when a queue holds 1,000 or more events, WARN when a
// sink's last attempt failed or a sink could not be started.
func reportingCheck(hs []status.SinkHealth) (int, string, int) {
	depth, st := 0, 0
	var problems []string
	for _, h := range hs {
		depth += h.QueueDepth
		if h.LastError != "" {
			st = max(st, 1)
			problems = append(problems, h.Name+": "+oneLine(h.LastError))
		}
	}
	if depth >= 1000 {
		st = 2
	}
	switch {
	case len(problems) > 0:
		return st, fmt.Sprintf("%d event(s) queued; %s", depth, strings.Join(problems, "; ")), depth
	case st == 2:
		return st, fmt.Sprintf("%d event(s) queued", depth), depth
	}
	return 0, fmt.Sprintf("%d sink(s) delivering, %d event(s) queued", len(hs), depth), depth
}

func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
}

// writeAtomic writes b to a dot-named temporary file beside path, syncs
// it and renames it over path.
func writeAtomic(path string, b []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	_, werr := f.Write(b)
	if werr == nil {
		werr = f.Chmod(perm)
	}
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, werr)
	}
	return nil
}
