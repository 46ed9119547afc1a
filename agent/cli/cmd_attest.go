package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/msgguard/msgguard/agent/msg"

	bolt "go.etcd.io/bbolt"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/config"
	"github.com/msgguard/msgguard/agent/scan"
	"github.com/msgguard/msgguard/agent/store"
	"github.com/msgguard/msgguard/install"
	"github.com/msgguard/msgguard/policy"
)

// complianceStore returns the workflow's store on st's database (nil st: a
// dry run without records) with the configured retention.
func complianceStore(st *store.Store, r config.Retention) *compliance.Store {
	var db *bolt.DB
	if st != nil {
		db = st.DB()
	}
	return compliance.NewStore(db, compliance.Retention{MaxAge: time.Duration(r.Days) * policy.Day})
}

// policyInForce loads --policy, else the installed policy file, else the
// embedded default: the policy the service uses.
func policyInForce(e *Env, file string) (scan.Policy, error) {
	if file == "" {
		if inst := install.PathsFor(e.goos, e.getenv("ProgramData")).Policy; fileExists(inst) {
			file = inst
		}
	}
	return loadPolicy(file)
}

func cmdAttest(ctx context.Context, e *Env, args []string) int {
	c := e.flags("attest", flagJSON|flagLang|flagDB|flagSocket|flagPolicy)
	by := c.fs.String("by", "", msg.N("`name` of the person who confirmed it (required)"))
	note := c.fs.String("note", "", msg.N("optional `text`: how it was checked, a ticket number"))
	until := c.fs.String("until", "", msg.N("end `date` (YYYY-MM-DD, valid through that day, UTC; default: the rule's full validity)"))
	device := c.fs.String("device", "", msg.N("device `id` (a phone's id from 'agent status --json'; default: this computer)"))
	list := c.fs.Bool("list", false, msg.N("list the recorded attestations instead"))
	pos, code, ok := c.parseInterleaved(args)
	if !ok {
		return code
	}
	if *list {
		if len(pos) > 0 {
			e.complain("attest", msg.T(c.lang(), "--list takes no rule"))
			return exitUsage
		}
		return listRecords(ctx, e, c, *device)
	}
	if len(pos) != 1 {
		fmt.Fprintln(e.stderr, msg.T(c.lang(), "usage:")+" agent attest RULE --by NAME [--note TEXT] [--until DATE] [--device ID]\n       agent attest --list [--json]")
		return exitUsage
	}
	if *until != "" {
		if _, err := policy.ParseDate(*until); err != nil {
			e.complain("attest", "--until: "+msg.Dynamic(c.lang(), err.Error()))
			return exitUsage
		}
	}
	l := c.lang()
	b := chooseBackend(ctx, e, c)
	defer b.Close()
	warnPolicyIgnored(e, c, b)
	res, err := b.Attest(ctx, apitype.AttestRequest{Rule: pos[0], By: *by, Note: *note, Until: *until, Device: *device})
	if err != nil {
		return fail(e, c, err, "attest "+pos[0]+" --by NAME")
	}
	printAttested(e, res.Attestation, res.Applies, l)
	printRescan(e, b, res.Rescan, l)
	return 0
}

// warnPolicyIgnored says that --policy does not apply when the service
// records: it checks against the policy it runs.
func warnPolicyIgnored(e *Env, c *common, b backend) {
	if fromService(b) && c.given("policy") {
		e.complain(c.verb, msg.T(c.lang(), "the service is running and checks the request against the policy it runs; --policy is ignored"))
	}
}

// printAttested confirms a recorded attestation; applies is false when the
// rule does not apply to the device's last scan.
func printAttested(e *Env, a compliance.Attestation, applies bool, l string) {
	fmt.Fprintf(e.stdout, msg.T(l, "recorded: %s attested by %s for device %s, valid until %s\n"),
		a.Rule, a.By, a.Device, compliance.FormatDay(a.Until, l))
	if !applies {
		fmt.Fprintln(e.stdout, msg.T(l, "note: the rule does not apply to this device's last scan, so no finding shows it yet"))
	}
}

// printRescan says whether the service's rescan after a record already
// shows it; recorded in the database, the next scan shows it.
func printRescan(e *Env, b backend, r apitype.Rescan, l string) {
	switch {
	case !fromService(b):
		fmt.Fprintln(e.stdout, msg.T(l, "the next scan ('agent scan') shows it"))
	case r.Error != "":
		fmt.Fprintf(e.stdout, msg.T(l, "the service could not rescan (%s); its next scan shows it\n"), r.Error)
	case !r.Covered:
		fmt.Fprintln(e.stdout, msg.T(l, "the service rescanned, but not this device (is the phone attached?); its next scan of the device shows it"))
	default:
		fmt.Fprintln(e.stdout, msg.T(l, "the service rescanned; 'agent status' shows it"))
	}
}

// listRecords prints the recorded attestations (verb attest) or local
// exemptions (verb exempt).
func listRecords(ctx context.Context, e *Env, c *common, device string) int {
	b := chooseBackend(ctx, e, c)
	defer b.Close()
	if c.verb == "attest" {
		l, err := b.Attestations(ctx, device)
		if err != nil {
			return fail(e, c, err, "attest --list")
		}
		return printAttestations(e, l, c.json, c.lang())
	}
	l, err := b.Exemptions(ctx, device)
	if err != nil {
		return fail(e, c, err, "exempt --list")
	}
	return printExemptions(e, l, c.json, c.lang())
}

// recordState is a record's state column.
func recordState(expired bool, lang string) string {
	if expired {
		return msg.T(lang, "expired")
	}
	return msg.T(lang, "valid")
}

// printAttestations prints `agent attest --list`; a redacted list shows
// "(not shown)" for the names and no notes.
func printAttestations(e *Env, l *apitype.AttestationList, asJSON bool, lang string) int {
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return encodeOrFail(e, "attest", enc.Encode(l))
	}
	if len(l.Attestations) == 0 {
		fmt.Fprintln(e.stdout, msg.T(lang, "no attestations recorded"))
		return 0
	}
	// One record per block within 80 columns: the rule and its state,
	// then who and where, then the note.
	now := e.clock()
	for i, a := range l.Attestations {
		by := a.By
		if l.Redacted {
			by = withheld(lang)
		}
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		fmt.Fprintf(e.stdout, msg.T(lang, "%s  %s, until %s\n"), a.Rule, recordState(a.Expired(now), lang), compliance.FormatDay(a.Until, lang))
		fmt.Fprint(e.stdout, wrap(fmt.Sprintf(msg.T(lang, "device %s; attested by %s on %s"), a.Device, by, compliance.FormatDay(a.At.Add(time.Nanosecond), lang)), 4, lineWidth))
		if a.Note != "" {
			fmt.Fprint(e.stdout, wrap(fmt.Sprintf(msg.T(lang, "note: %s"), a.Note), 4, lineWidth))
		}
	}
	printRedacted(e, l.Redacted, lang)
	return 0
}

// printExemptions prints `agent exempt --list`; a redacted list shows
// "(not shown)" for the approvers and no reasons.
func printExemptions(e *Env, l *apitype.ExemptionList, asJSON bool, lang string) int {
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return encodeOrFail(e, "exempt", enc.Encode(l))
	}
	if len(l.Exemptions) == 0 {
		fmt.Fprintln(e.stdout, msg.T(lang, "no local exemptions recorded (exemptions in the policy: 'agent explain RULE')"))
		printRedacted(e, l.Redacted, lang)
		return 0
	}
	now := e.clock()
	for i, x := range l.Exemptions {
		approver := x.Approver
		if l.Redacted {
			approver = withheld(lang)
		}
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		fmt.Fprintf(e.stdout, msg.T(lang, "%s  %s, until %s\n"), x.Rule, recordState(x.Expired(now), lang), compliance.FormatDay(x.Until, lang))
		fmt.Fprint(e.stdout, wrap(fmt.Sprintf(msg.T(lang, "subject %s, user %s, device %s; approved by %s"),
			orAny(x.Subject, lang), orAny(x.User, lang), x.Device, approver), 4, lineWidth))
		if x.Reason != "" {
			fmt.Fprint(e.stdout, wrap(fmt.Sprintf(msg.T(lang, "reason: %s"), x.Reason), 4, lineWidth))
		}
	}
	printRedacted(e, l.Redacted, lang)
	return 0
}

// printRedacted adds the footnote of a redacted answer.
func printRedacted(e *Env, redacted bool, lang string) {
	if redacted {
		fmt.Fprint(e.stdout, "\n"+wrap(redactedNote(lang), 0, lineWidth))
	}
}

func encodeOrFail(e *Env, verb string, err error) int {
	if err != nil {
		fmt.Fprintf(e.stderr, "agent %s: %v\n", verb, err)
		return exitUsage
	}
	return 0
}

func orAny(s, lang string) string {
	if s == "" {
		return msg.T(lang, "(any)")
	}
	return s
}
