package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/localapi"
	"github.com/msgguard/msgguard/policy"
)

// cmdExempt is `agent exempt`: a local administrator's exemption, with a
// reason, an approver and an expiry no further than the policy's
// max_exemption. The finding keeps being evaluated and shows as exempt with
// its real result.
func cmdExempt(ctx context.Context, e *Env, args []string) int {
	fs := newFlags(e, "exempt")
	subject := fs.String("subject", "", "only this `subject` (messenger id, volume such as /home; default: any)")
	user := fs.String("user", "", "only this local `user` (default: any)")
	reason := fs.String("reason", "", "why the rule is waived (required)")
	approver := fs.String("approver", "", "`name` of who approved it (required)")
	until := fs.String("until", "", "end `date` (YYYY-MM-DD, valid through that day, UTC; required, at most the policy's max_exemption ahead)")
	device := fs.String("device", "", "device `id` (a phone's id from 'agent status --json'; default: this computer)")
	list := fs.Bool("list", false, "list the recorded local exemptions instead")
	jsonOut := fs.Bool("json", false, "with --list: print JSON")
	dbPath := fs.String("db", e.defaultDB(), "database `file` (given: record or list there instead of through the running service)")
	polFile := fs.String("policy", "", "policy `file` (default: the installed policy, else the embedded one; the running service checks against its own)")
	lang := fs.String("lang", "", "output language: en or de (default from LANG)")
	socket := fs.String("socket", e.paths().Socket, "local API `socket` (named pipe on Windows) of the running service, which then records or lists; empty: open the database")
	pos, code, ok := parseInterleaved(fs, args)
	if !ok {
		return code
	}
	if *list {
		if len(pos) > 0 {
			fmt.Fprintln(e.stderr, "agent exempt: --list takes no rule")
			return exitUsage
		}
		return listRecords(ctx, e, "exempt", *dbPath, serviceSocket(fs, *socket), *device, *jsonOut, e.lang(*lang))
	}
	if len(pos) != 1 {
		fmt.Fprintln(e.stderr, "usage: agent exempt RULE [--subject S] [--user U] --reason TEXT --approver NAME --until DATE [--device ID]\n       agent exempt --list [--json]")
		return exitUsage
	}
	req := compliance.ExemptRequest{Rule: pos[0], Subject: *subject, User: *user, Reason: *reason, Approver: *approver}
	var err error
	if *until != "" {
		if req.Until, err = policy.ParseDate(*until); err != nil {
			fmt.Fprintf(e.stderr, "agent exempt: --until: %v\n", err)
			return exitUsage
		}
	}
	l := e.lang(*lang)
	example := "exempt " + pos[0] + " --reason TEXT --approver NAME --until DATE"
	// While the service runs it holds the database: it records and
	// rescans (cmd_attest.go).
	if *socket != "" && !flagSet(fs, "db") {
		xreq := apitype.ExemptRequest{Rule: pos[0], Subject: *subject, User: *user, Reason: *reason, Approver: *approver, Until: *until, Device: *device}
		if code, ok := recordViaService(ctx, e, "exempt", example, *socket, flagSet(fs, "policy"), func(c *localapi.Client) error {
			res, err := c.Exempt(ctx, xreq)
			if err == nil {
				printExempted(e, res.Exemption, l)
				printRescan(e, res.Rescan, l)
			}
			return err
		}); ok {
			return code
		}
	}
	if !requireRoot(e, "exempt", example) {
		return exitUsage
	}
	pol, err := policyInForce(e, *polFile)
	if err != nil {
		fmt.Fprintf(e.stderr, "agent exempt: %v\n", err)
		return exitUsage
	}
	x, _, err := recordLocal(e, *dbPath, *device, func(dev string, now time.Time) (compliance.Exemption, error) {
		req.Device = dev
		return compliance.NewExemption(pol.Policy, req, now)
	}, func(cs *compliance.Store, x compliance.Exemption) error { return cs.Exempt(x) })
	if err != nil {
		fmt.Fprintf(e.stderr, "agent exempt: %v\n", err)
		return exitUsage
	}
	printExempted(e, x, l)
	fmt.Fprintln(e.stdout, pick(l, "the next scan ('agent scan') shows it", "der nächste Scan ('agent scan') zeigt sie an"))
	return 0
}

// printExempted confirms a recorded exemption.
func printExempted(e *Env, x compliance.Exemption, l string) {
	fmt.Fprintf(e.stdout, pick(l, "recorded: %s exempt on device %s (subject %s, user %s) until %s, approved by %s\n",
		"erfasst: %s ausgenommen auf Gerät %s (Gegenstand %s, Benutzer %s) bis %s, genehmigt von %s\n"),
		x.Rule, x.Device, orAny(x.Subject, l), orAny(x.User, l), compliance.FormatDay(x.Until, l), x.Approver)
}
