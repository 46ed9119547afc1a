package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/msgguard/msgguard/agent/msg"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/localapi"
)

// cmdDrift lists drift events: from the running service through the local
// API, or from the database when no service runs (or --db is given).
func cmdDrift(ctx context.Context, e *Env, args []string) int {
	c := e.flags("drift", flagJSON|flagLang|flagDB|flagSocket)
	sinceFlag := c.fs.String("since", "7d", "show events since `AGE` (7d, 24h, 90m), an RFC 3339 time, or \"all\"")
	all := c.fs.Bool("all", false, "also show the periodic state summaries")
	if code, ok := c.parse(args); !ok {
		return code
	}
	if code, ok := c.noArgs(); !ok {
		return code
	}
	since, err := localapi.ParseSince(*sinceFlag, e.clock())
	if err != nil {
		fmt.Fprintf(e.stderr, "agent drift: --since: %v\n", err)
		return exitUsage
	}
	b := chooseBackend(ctx, e, c)
	defer b.Close()
	view, err := b.Drift(ctx, since)
	if err != nil {
		return fail(e, c, err, "drift")
	}
	if !*all {
		kept := view.Events[:0]
		for _, ev := range view.Events {
			if ev.Kind != drift.KindSummary {
				kept = append(kept, ev)
			}
		}
		view.Events = kept
	}
	if c.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return encodeOrFail(e, "drift", enc.Encode(view))
	}
	source := "service"
	if !fromService(b) {
		source = c.db
	}
	printDrift(e.stdout, view, source, c.lang())
	return 0
}

func printDrift(w io.Writer, v *apitype.DriftResponse, source, lang string) {
	from := msg.T(lang, "the beginning")
	if !v.Since.IsZero() {
		from = v.Since.Local().Format("2006-01-02 15:04")
	}
	where := ""
	if source != "service" {
		where = fmt.Sprintf(msg.T(lang, " (read from %s)"), source)
	}
	fmt.Fprintf(w, msg.T(lang, "%d event(s) since %s%s\n"), len(v.Events), from, where)
	if len(v.Events) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, msg.T(lang, "\nTIME\tDEVICE\tKIND\tSEVERITY\tDIRECTION\tWHAT"))
	for _, ev := range v.Events {
		dev := ev.Hostname
		if dev == "" {
			dev = ev.Device
		}
		dir := string(ev.Direction)
		if dir == "" {
			dir = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", ev.Time.Local().Format("2006-01-02 15:04"), dev, ev.Kind, severityLabel(ev.Severity, lang), dir, msg.Dynamic(lang, ev.Message))
	}
	tw.Flush()
}
