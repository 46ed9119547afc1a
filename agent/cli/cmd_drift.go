package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/msgguard/msgguard/agent/msg"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/localapi"
)

// cmdDrift lists drift events: from the running service through the local
// API, or from the database when no service runs (or --db is given).
func cmdDrift(ctx context.Context, e *Env, args []string) int {
	c := e.flags("drift", flagJSON|flagLang|flagDB|flagSocket)
	sinceFlag := c.fs.String("since", "7d", msg.N("show events since `AGE` (7d, 24h, 90m), an RFC 3339 time, or \"all\""))
	all := c.fs.Bool("all", false, msg.N("also show the periodic state summaries"))
	if code, ok := c.parse(args); !ok {
		return code
	}
	if code, ok := c.noArgs(); !ok {
		return code
	}
	since, err := localapi.ParseSince(*sinceFlag, e.clock())
	if err != nil {
		e.complain("drift", "--since: "+msg.Dynamic(c.lang(), err.Error()))
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
	// One line per event (time, severity, kind and direction, device),
	// then what changed, wrapped: the report stays within 80 columns
	// however long the device id or the message.
	fmt.Fprintln(w)
	for _, ev := range v.Events {
		dev := ev.Hostname
		if dev == "" {
			dev = ev.Device
		}
		kind := string(ev.Kind)
		if ev.Direction != "" {
			kind += " [" + string(ev.Direction) + "]"
		}
		fmt.Fprintf(w, "%s  %-8s  %s  %s\n", ev.Time.Local().Format("2006-01-02 15:04"), severityLabel(ev.Severity, lang), kind, dev)
		fmt.Fprint(w, wrap(msg.Dynamic(lang, ev.Message), 4, lineWidth))
	}
}
