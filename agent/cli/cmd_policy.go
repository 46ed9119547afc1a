package cli

import (
	"context"
	"fmt"
	"os"
	"sort"
	"text/tabwriter"

	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

func cmdPolicy(ctx context.Context, e *Env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, "usage: agent policy default | check FILE | show [--policy FILE]")
		return exitUsage
	}
	switch args[0] {
	case "default":
		e.stdout.Write(policy.DefaultYAML())
		return 0
	case "check":
		if len(args) != 2 {
			fmt.Fprintln(e.stderr, "usage: agent policy check FILE")
			return exitUsage
		}
		b, err := platform.ReadPath(args[1], platform.MaxConfigSize)
		if err != nil {
			fmt.Fprintf(e.stderr, "agent policy check: %s: %v\n", args[1], err)
			return exitUsage
		}
		p, err := policy.Load(args[1], b)
		if err == nil {
			// Exemptions already expired or too far ahead (issue 9).
			err = p.CheckDates(e.clock())
		}
		if err != nil {
			fmt.Fprintln(e.stderr, err)
			return exitUsage
		}
		fmt.Fprintf(e.stdout, "%s: ok (policy %q, sha256 %s)\n", args[1], p.Name, p.SHA256)
		return 0
	case "show":
		fs := newFlags(e, "policy show")
		file := fs.String("policy", "", "policy `file` (default: the installed policy, else the embedded one)")
		if code, ok := parseFlags(fs, args[1:]); !ok {
			return code
		}
		pol, err := policyInForce(e, *file)
		if err != nil {
			fmt.Fprintf(e.stderr, "agent policy show: %v\n", err)
			return exitUsage
		}
		showPolicy(e, pol.Policy, pol.Ref)
		return 0
	}
	fmt.Fprintf(e.stderr, "agent policy: unknown subcommand %q\n", args[0])
	return exitUsage
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func policyRef(p *policy.Policy, source string) status.PolicyRef {
	return status.PolicyRef{Name: p.Name, SHA256: p.SHA256, Source: source}
}

// showPolicy prints the policy's messenger decisions as a table.
func showPolicy(e *Env, p *policy.Policy, ref status.PolicyRef) {
	fmt.Fprintf(e.stdout, "policy %s (%s)\nsha256 %s\n\n", p.Name, ref.Source, p.SHA256)
	cat := p.Catalog()
	ids := make([]string, 0, len(cat.Messengers))
	names := map[string]string{}
	for _, m := range cat.Messengers {
		ids = append(ids, m.ID)
		names[m.ID] = m.Name
	}
	sort.Strings(ids)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MESSENGER\tNAME\tDECISION\tSEVERITY\tSOURCE")
	for _, id := range ids {
		r, explicit := p.RuleFor(id)
		src := "named"
		if !explicit {
			src = "default"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", id, names[id], r.Decision, r.Severity, src)
	}
	tw.Flush()
}
