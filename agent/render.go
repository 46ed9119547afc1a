package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/policy"
)

// printReport writes r as JSON or as the short human report.
func printReport(e *env, r *status.Report, asJSON bool, lang string) error {
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	writeHuman(e.stdout, r, lang)
	return nil
}

// writeHuman prints the verdict first, then failing and unknown findings with
// their remediation, sorted by severity.
func writeHuman(w io.Writer, r *status.Report, lang string) {
	t := texts(lang)
	fail := r.Summary.ByStatus[policy.StatusFail]
	unknown := r.Summary.ByStatus[policy.StatusUnknown]
	verdict := t.compliant
	if !r.Compliant {
		verdict = t.notCompliant
	}
	fmt.Fprintf(w, "%s: %d %s, %d %s, %d %s\n", verdict, fail, t.failing, unknown, t.unknown,
		r.Summary.ByStatus[policy.StatusPass], t.passing)
	host := r.Device.Hostname
	if host == "" {
		host = r.Device.ID
	}
	fmt.Fprintf(w, "%-9s %s (%s %s)\n", t.device+":", host, r.Device.Platform, r.Device.OSVersion)
	fmt.Fprintf(w, "%-9s %s (sha256 %.12s, %s)\n", t.policy+":", r.Policy.Name, r.Policy.SHA256, r.Policy.Source)
	for _, pe := range r.Policy.Errors {
		fmt.Fprintf(w, "          %s: %s\n", t.policyRejected, pe)
	}
	fmt.Fprintf(w, "%-9s %s\n", t.scanned+":", r.ScannedAt.Local().Format("2006-01-02 15:04:05 MST"))
	writeSection(w, t.failingHeader, filter(r.Findings, policy.StatusFail), t)
	writeSection(w, t.unknownHeader, filter(r.Findings, policy.StatusUnknown), t)
	for _, p := range r.Phones {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "%s %s %s (%s %s)\n", t.phone, p.Device.Model, p.Device.ID, p.Device.Platform, p.Device.OSVersion)
		writeHuman(indent{w}, &p, lang)
	}
}

func filter(fs []status.Finding, st policy.Status) []status.Finding {
	var out []status.Finding
	for _, f := range fs {
		if f.Status == st {
			out = append(out, f)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if a, b := out[i].Severity.Rank(), out[j].Severity.Rank(); a != b {
			return a > b
		}
		return out[i].Key() < out[j].Key()
	})
	return out
}

func writeSection(w io.Writer, header string, fs []status.Finding, t text) {
	if len(fs) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s\n", header)
	for _, f := range fs {
		who := f.User
		if who != "" {
			who = " [" + who + "]"
		}
		fmt.Fprintf(w, "  %-8s %s%s\n", f.Severity, f.Rule, who)
		fmt.Fprintf(w, "           %s\n", f.Message)
		if f.Remediation != "" {
			fmt.Fprintf(w, "           %s %s\n", t.fix, strings.ReplaceAll(f.Remediation, "\n", "\n           "))
		}
	}
}

// indent prefixes every line written through it with four spaces.
type indent struct{ w io.Writer }

func (i indent) Write(p []byte) (int, error) {
	s := strings.ReplaceAll(string(p), "\n", "\n    ")
	if _, err := io.WriteString(i.w, "    "+strings.TrimSuffix(s, "    ")); err != nil {
		return 0, err
	}
	return len(p), nil
}

type text struct {
	compliant, notCompliant, failing, unknown, passing  string
	device, policy, scanned, policyRejected, phone, fix string
	failingHeader, unknownHeader                        string
}

func texts(lang string) text {
	if lang == "de" {
		return text{
			compliant: "KONFORM", notCompliant: "NICHT KONFORM",
			failing: "Verstöße", unknown: "ungeklärt", passing: "erfüllt",
			device: "Gerät", policy: "Richtlinie", scanned: "Prüfung", policyRejected: "abgelehnte neue Richtlinie",
			phone: "Telefon", fix: "Abhilfe:",
			failingHeader: "VERSTÖSSE", unknownHeader: "NICHT FESTSTELLBAR",
		}
	}
	return text{
		compliant: "COMPLIANT", notCompliant: "NOT COMPLIANT",
		failing: "failing", unknown: "unknown", passing: "passing",
		device: "Device", policy: "Policy", scanned: "Scanned", policyRejected: "rejected new policy",
		phone: "Phone", fix: "fix:",
		failingHeader: "FAILING", unknownHeader: "COULD NOT TELL",
	}
}
