package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/msgguard/msgguard/agent/msg"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/drift"
)

// cmdBaseline shows a device's drift baseline or accepts the current
// state as the new one.
func cmdBaseline(ctx context.Context, e *Env, args []string) int {
	if len(args) == 0 || (args[0] != "show" && args[0] != "accept") {
		fmt.Fprintln(e.stderr, msg.T(e.lang(langArg(args)), "usage:")+" agent baseline show [--json] [--device ID] [--db FILE]\n"+
			"       agent baseline accept --by NAME --why TEXT [--device ID] [--db FILE]")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return 0
		}
		return exitUsage
	}
	if args[0] == "show" {
		return baselineShow(ctx, e, args[1:])
	}
	return baselineAccept(ctx, e, args[1:])
}

// baselineShow prints the drift baselines.
func baselineShow(ctx context.Context, e *Env, args []string) int {
	c := e.flags("baseline", flagJSON|flagLang|flagDB|flagSocket)
	device := c.fs.String("device", "", msg.N("only this device `ID` (default: every device)"))
	if code, ok := c.parse(args); !ok {
		return code
	}
	b := chooseBackend(ctx, e, c)
	defer b.Close()
	l, err := b.Baselines(ctx, *device)
	if err != nil {
		return fail(e, c, err, "baseline show")
	}
	return printBaselines(e, l, c.db, c.json, c.lang())
}

// printBaselines prints `agent baseline show`: the JSON array of
// baselines, or each for people. dbPath names the database in the "no
// baseline" message.
func printBaselines(e *Env, l *apitype.BaselineList, dbPath string, asJSON bool, lang string) int {
	if len(l.Baselines) == 0 {
		e.complain("baseline", fmt.Sprintf(msg.T(lang, "no baseline recorded yet in %s; run 'agent scan'"), dbPath))
		return exitNoScan
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(l.Baselines); err != nil {
			fmt.Fprintf(e.stderr, "agent baseline: %v\n", err)
			return exitUsage
		}
		if l.Redacted {
			// The array has no room for the flag.
			fmt.Fprint(e.stderr, wrap(redactedNote(lang), 0, lineWidth))
		}
		return 0
	}
	for i, b := range l.Baselines {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		printBaseline(e.stdout, b, l.Redacted, lang)
	}
	printRedacted(e, l.Redacted, lang)
	return 0
}

// printBaseline prints one device's baseline; redacted, who accepted it and
// why are not shown.
func printBaseline(w io.Writer, b drift.Baseline, redacted bool, lang string) {
	name := b.Device
	if b.Hostname != "" {
		name = b.Hostname + " (" + b.Device + ")"
	}
	fmt.Fprintf(w, msg.T(lang, "device %s\n"), name)
	at := b.Info.SetAt.Local().Format("2006-01-02 15:04")
	switch {
	case b.Info.Reason == "accepted" && redacted:
		fmt.Fprintf(w, msg.T(lang, "  baseline accepted %s by %s\n"), at, withheld(lang))
	case b.Info.Reason == "accepted":
		fmt.Fprintf(w, msg.T(lang, "  baseline accepted %s by %s: %s\n"), at, b.Info.By, b.Info.Why)
	case b.Info.Reason == "reset":
		fmt.Fprintf(w, msg.T(lang, "  baseline reset %s (database rebuilt or policy changed)\n"), at)
	default:
		fmt.Fprintf(w, msg.T(lang, "  baseline set by the first scan, %s\n"), at)
	}
	if len(b.Differences) == 0 {
		fmt.Fprintln(w, msg.T(lang, "  no drift since the baseline"))
		return
	}
	fmt.Fprintf(w, msg.T(lang, "  %d change(s) since the baseline:\n"), len(b.Differences))
	for _, d := range b.Differences {
		dir := ""
		if d.Direction != "" {
			dir = " [" + string(d.Direction) + "]"
		}
		fmt.Fprintf(w, "  - %s%s\n", msg.Dynamic(lang, d.Message), dir)
	}
}

func baselineAccept(ctx context.Context, e *Env, args []string) int {
	c := e.flags("baseline accept", flagLang|flagDB|flagSocket)
	device := c.fs.String("device", "", msg.N("only this device `ID` (default: every device)"))
	by := c.fs.String("by", "", msg.N("who accepts the current state (required)"))
	why := c.fs.String("why", "", msg.N("why it is accepted, e.g. a ticket (required)"))
	if code, ok := c.parse(args); !ok {
		return code
	}
	if *by == "" || *why == "" {
		e.complain("baseline accept", msg.T(c.lang(), "--by and --why are required: the baseline records who accepted it and why"))
		return exitUsage
	}
	b := chooseBackend(ctx, e, c)
	defer b.Close()
	res, err := b.AcceptBaseline(ctx, apitype.BaselineAcceptRequest{By: *by, Why: *why, Device: *device})
	if err != nil {
		return fail(e, c, err, "baseline accept --by NAME --why TEXT")
	}
	printAccepted(e, res.Events, c.lang())
	return 0
}

func printAccepted(e *Env, evs []drift.Event, lang string) {
	for _, ev := range evs {
		fmt.Fprintf(e.stdout, msg.T(lang, "accepted the current state of %s as its baseline\n"), ev.Device)
	}
}
