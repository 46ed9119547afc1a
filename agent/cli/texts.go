package cli

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/msgguard/msgguard/agent/msg"

	bolt "go.etcd.io/bbolt"

	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/scan"
	"github.com/msgguard/msgguard/policy"
)

// withTexts inserts, before the report is built, a stage after which
// every finding also carries its texts in the other languages
// (policy.Finding.Texts), so that `agent status --lang de` shows a report
// the service recorded in English without loading or evaluating the
// policy again. The policy is evaluated once more per other language at
// scan time, on the same inventory and clock; a finding takes the texts of
// the same rule, subject and user with the same real status.
func withTexts(ss []scan.Stage) []scan.Stage {
	texts := scan.Stage{Name: "texts", Run: func(_ *bolt.Tx, c *scan.Cycle) error {
		// agent/scan words scan.incomplete in English whatever the
		// scan's language; the policy's findings are in c.Lang.
		if policy.NormalizeLang(c.Lang) != msg.EN {
			for i := range c.Findings {
				if f := &c.Findings[i]; f.Rule == policy.RuleScanIncomplete {
					f.Message, f.Remediation = incompleteTexts(c.Inventory.Problems, c.Lang)
				}
			}
		}
		for _, other := range msg.Languages {
			if other != policy.NormalizeLang(c.Lang) {
				addTexts(c.Policy.Policy, c.Inventory, c.Findings, c.Start, other)
			}
		}
		return nil
	}}
	out := make([]scan.Stage, 0, len(ss)+1)
	placed := false
	for _, s := range ss {
		if s.Name == "report" && !placed {
			out, placed = append(out, texts), true
		}
		out = append(out, s)
	}
	if !placed {
		out = append(out, texts)
	}
	return out
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
func incompleteTexts(ps []policy.Problem, lang string) (message, fix string) {
	seen := map[string]bool{}
	var names []string
	for _, p := range ps {
		if !seen[p.Probe] {
			seen[p.Probe] = true
			names = append(names, p.Probe)
		}
	}
	sort.Strings(names)
	return fmt.Sprintf(msg.T(lang, "%d item(s) could not be inspected (%s); results may be incomplete"), len(ps), strings.Join(names, ", ")),
		msg.T(lang, "See the evidence for what was skipped; fix or remove the named files, or install the missing tools.")
}
