package cli

import (
	"context"
	"fmt"

	"github.com/msgguard/msgguard/agent/msg"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/policy"
)

// cmdExempt is `agent exempt`: a local administrator's exemption, with a
// reason, an approver and an expiry no further than the policy's
// max_exemption. The finding keeps being evaluated and shows as exempt with
// its real result.
func cmdExempt(ctx context.Context, e *Env, args []string) int {
	c := e.flags("exempt", flagJSON|flagLang|flagDB|flagSocket|flagPolicy)
	subject := c.fs.String("subject", "", msg.N("only this `subject` (messenger id, volume such as /home; default: any)"))
	user := c.fs.String("user", "", msg.N("only this local `user` (default: any)"))
	reason := c.fs.String("reason", "", msg.N("why the rule is waived (required)"))
	approver := c.fs.String("approver", "", msg.N("`name` of who approved it (required)"))
	until := c.fs.String("until", "", msg.N("end `date` (YYYY-MM-DD, valid through that day, UTC; required, at most the policy's max_exemption ahead)"))
	device := c.fs.String("device", "", msg.N("device `id` (a phone's id from 'agent status --json'; default: this computer)"))
	list := c.fs.Bool("list", false, msg.N("list the recorded local exemptions instead"))
	pos, code, ok := c.parseInterleaved(args)
	if !ok {
		return code
	}
	if *list {
		if len(pos) > 0 {
			e.complain("exempt", msg.T(c.lang(), "--list takes no rule"))
			return exitUsage
		}
		return listRecords(ctx, e, c, *device)
	}
	if len(pos) != 1 {
		fmt.Fprintln(e.stderr, msg.T(c.lang(), "usage:")+" agent exempt RULE [--subject S] [--user U] --reason TEXT --approver NAME --until DATE [--device ID]\n       agent exempt --list [--json]")
		return exitUsage
	}
	if *until != "" {
		if _, err := policy.ParseDate(*until); err != nil {
			e.complain("exempt", "--until: "+msg.Dynamic(c.lang(), err.Error()))
			return exitUsage
		}
	}
	l := c.lang()
	b := chooseBackend(ctx, e, c)
	defer b.Close()
	warnPolicyIgnored(e, c, b)
	res, err := b.Exempt(ctx, apitype.ExemptRequest{Rule: pos[0], Subject: *subject, User: *user, Reason: *reason, Approver: *approver, Until: *until, Device: *device})
	if err != nil {
		return fail(e, c, err, "exempt "+pos[0]+" --reason TEXT --approver NAME --until DATE")
	}
	printExempted(e, res.Exemption, l)
	printRescan(e, b, res.Rescan, l)
	return 0
}

// printExempted confirms a recorded exemption.
func printExempted(e *Env, x compliance.Exemption, l string) {
	fmt.Fprintf(e.stdout, msg.T(l, "recorded: %s exempt on device %s (subject %s, user %s) until %s, approved by %s\n"),
		x.Rule, x.Device, orAny(x.Subject, l), orAny(x.User, l), compliance.FormatDay(x.Until, l), x.Approver)
}
