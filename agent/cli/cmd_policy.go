package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"text/tabwriter"

	"github.com/msgguard/msgguard/agent/msg"

	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

func cmdPolicy(ctx context.Context, e *Env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, msg.T(e.lang(""), "usage:")+" agent policy default | check FILE | show [--policy FILE]")
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		// agent help policy, agent policy -h: the subcommands.
		v, _ := lookup("policy")
		lang := e.lang(langArg(args))
		fmt.Fprintf(e.stderr, "%s agent %s\n\n%s\n", msg.T(lang, "usage:"), v.usage, msg.T(lang, v.summary))
		return 0
	case "default":
		e.stdout.Write(policy.DefaultYAML())
		return 0
	case "check":
		if len(args) != 2 {
			fmt.Fprintln(e.stderr, msg.T(e.lang(""), "usage:")+" agent policy check FILE")
			return exitUsage
		}
		b, err := platform.ReadPath(args[1], platform.MaxConfigSize)
		if err != nil {
			fmt.Fprintf(e.stderr, "agent policy check: %s: %v\n", args[1], err)
			return exitUsage
		}
		p, err := policy.Load(args[1], b)
		if err == nil {
			// Exemptions already expired or too far ahead.
			err = p.CheckDates(e.clock())
		}
		if err != nil {
			fmt.Fprintln(e.stderr, err)
			return exitUsage
		}
		fmt.Fprintf(e.stdout, "%s: ok (policy %q, sha256 %s)\n", args[1], p.Name, p.SHA256)
		return 0
	case "show":
		c := e.flags("policy show", flagJSON|flagLang|flagPolicy)
		if code, ok := c.parse(args[1:]); !ok {
			return code
		}
		if code, ok := c.noArgs(); !ok {
			return code
		}
		pol, err := policyInForce(e, c.policy)
		if err != nil {
			e.complain("policy show", msg.Dynamic(c.lang(), err.Error()))
			return exitUsage
		}
		v := policyTable(pol.Policy, pol.Ref)
		if c.json {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return encodeOrFail(e, "policy show", enc.Encode(v))
		}
		showPolicy(e, v, c.lang())
		return 0
	}
	e.complain("policy", fmt.Sprintf(msg.T(e.lang(langArg(args)), "unknown subcommand %q"), args[0]))
	return exitUsage
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func policyRef(p *policy.Policy, source string) status.PolicyRef {
	return status.PolicyRef{Name: p.Name, SHA256: p.SHA256, Source: source}
}

// policyView is `agent policy show --json`: the policy in force and its
// decision for every messenger in the catalog.
type policyView struct {
	Name       string           `json:"name"`
	Source     string           `json:"source"`
	SHA256     string           `json:"sha256"`
	Messengers []policyDecision `json:"messengers"`
}

type policyDecision struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Decision policy.Decision `json:"decision"`
	Severity policy.Severity `json:"severity"`
	// Named is false when the policy's default for unnamed messengers
	// decides.
	Named bool `json:"named"`
}

// policyTable returns the policy's messenger decisions, sorted by id.
func policyTable(p *policy.Policy, ref status.PolicyRef) policyView {
	v := policyView{Name: p.Name, Source: ref.Source, SHA256: p.SHA256, Messengers: []policyDecision{}}
	cat := p.Catalog()
	for _, m := range cat.Messengers {
		r, explicit := p.RuleFor(m.ID)
		v.Messengers = append(v.Messengers, policyDecision{ID: m.ID, Name: m.Name, Decision: r.Decision, Severity: r.Severity, Named: explicit})
	}
	sort.Slice(v.Messengers, func(i, j int) bool { return v.Messengers[i].ID < v.Messengers[j].ID })
	return v
}

// showPolicy prints the policy's messenger decisions as a table.
func showPolicy(e *Env, v policyView, lang string) {
	fmt.Fprintf(e.stdout, msg.T(lang, "policy %s (%s)\nsha256 %s\n\n"), v.Name, policySourceLabel(v.Source, lang), v.SHA256)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, msg.T(lang, "MESSENGER\tNAME\tDECISION\tSEVERITY\tSOURCE"))
	for _, m := range v.Messengers {
		src := msg.T(lang, "named")
		if !m.Named {
			src = msg.T(lang, "default")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.ID, m.Name, decisionLabel(m.Decision, lang), severityLabel(m.Severity, lang), src)
	}
	tw.Flush()
}
