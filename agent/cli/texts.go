package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/scan"
	"github.com/msgguard/msgguard/policy"
)

// languages are the languages the agent speaks.
var languages = []string{"en", "de"}

// withTexts wraps a scanner's Post step: after post, every finding also
// carries its texts in the other languages (policy.Finding.Texts), so that
// `agent status --lang de` shows a report the service recorded in English
// without loading or evaluating the policy again. The policy is evaluated
// once more per other language at scan time, on the same inventory and
// clock; a finding takes the texts of the same rule, subject and user
// with the same real status.
func withTexts(post scan.PostFunc) scan.PostFunc {
	return func(ctx context.Context, p *policy.Policy, inv *policy.Inventory, fs []policy.Finding, now time.Time, lang string) ([]policy.Finding, error) {
		if post != nil {
			var err error
			if fs, err = post(ctx, p, inv, fs, now, lang); err != nil {
				return nil, err
			}
		}
		for _, other := range languages {
			if other != policy.NormalizeLang(lang) {
				addTexts(p, inv, fs, now, other)
			}
		}
		return fs, nil
	}
}

// addTexts adds the texts in lang to fs.
func addTexts(p *policy.Policy, inv *policy.Inventory, fs []policy.Finding, now time.Time, lang string) {
	fresh := map[string]policy.Finding{}
	for _, f := range policy.Evaluate(p, inv, policy.EvalOptions{Now: now, Lang: lang}) {
		fresh[f.Key()] = f
	}
	for i := range fs {
		f := &fs[i]
		g := *f
		if f.Exemption != nil {
			x := *f.Exemption
			g.Exemption = &x
		}
		real := f.Status
		if real == policy.StatusExempt {
			real = f.Underlying
		}
		if n, ok := fresh[f.Key()]; ok && n.Status == real {
			g.Message, g.Remediation = n.Message, n.Remediation
		}
		if f.Rule == policy.RuleScanIncomplete {
			g.Message, g.Remediation = incompleteTexts(inv.Problems, lang)
		}
		compliance.Localize(p, &g, lang)
		t := policy.FindingText{Message: g.Message, Remediation: g.Remediation}
		if g.Exemption != nil && f.Exemption != nil && g.Exemption.Reason != f.Exemption.Reason {
			t.ExemptionReason = g.Exemption.Reason
		}
		if t.Message == f.Message && t.Remediation == f.Remediation && t.ExemptionReason == "" {
			continue
		}
		if f.Texts == nil {
			f.Texts = map[string]policy.FindingText{}
		}
		f.Texts[lang] = t
	}
}

// incompleteTexts are the texts of the scan.incomplete finding in lang.
func incompleteTexts(ps []policy.Problem, lang string) (msg, fix string) {
	seen := map[string]bool{}
	var names []string
	for _, p := range ps {
		if !seen[p.Probe] {
			seen[p.Probe] = true
			names = append(names, p.Probe)
		}
	}
	sort.Strings(names)
	return fmt.Sprintf(tr(lang, "%d item(s) could not be inspected (%s); results may be incomplete",
			"%d Elemente konnten nicht geprüft werden (%s); die Ergebnisse sind möglicherweise unvollständig."), len(ps), strings.Join(names, ", ")),
		tr(lang, "See the evidence for what was skipped; fix or remove the named files, or install the missing tools.",
			"Im Nachweis steht, was übersprungen wurde; die genannten Dateien reparieren oder entfernen oder die fehlenden Programme installieren.")
}

// tr returns en or de by language.
func tr(lang, en, de string) string { return pick(lang, en, de) }
