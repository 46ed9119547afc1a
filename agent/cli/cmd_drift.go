package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/localapi"
	"github.com/msgguard/msgguard/agent/records"
	"github.com/msgguard/msgguard/agent/store"
	"github.com/msgguard/msgguard/install"
)

// cmdDrift lists drift events: from the running service through the local
// API, or from the database when no service runs (or --db is given).
func cmdDrift(ctx context.Context, e *Env, args []string) int {
	fs := newFlags(e, "drift")
	dbPath := fs.String("db", "", "read this database `file` directly instead of asking the service")
	sinceFlag := fs.String("since", "7d", "show events since `AGE` (7d, 24h, 90m), an RFC 3339 time, or \"all\"")
	jsonOut := fs.Bool("json", false, "print the events as JSON")
	all := fs.Bool("all", false, "also show the periodic state summaries")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	since, err := localapi.ParseSince(*sinceFlag, time.Now())
	if err != nil {
		fmt.Fprintf(e.stderr, "agent drift: --since: %v\n", err)
		return exitUsage
	}
	view, source, err := readDrift(ctx, e, *dbPath, since)
	switch {
	case errors.Is(err, store.ErrNoDatabase):
		fmt.Fprintf(e.stderr, "agent drift: no scan recorded yet in %s; run 'agent scan'\n", source)
		return exitNoScan
	case err != nil:
		fmt.Fprintf(e.stderr, "agent drift: %v\n%s", err, dbHint(err))
		return exitUsage
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
	if *jsonOut {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(view); err != nil {
			fmt.Fprintf(e.stderr, "agent drift: %v\n", err)
			return exitUsage
		}
		return 0
	}
	printDrift(e.stdout, view, source)
	return 0
}

// readDrift asks the running service, or reads the database read-only.
func readDrift(ctx context.Context, e *Env, dbPath string, since time.Time) (*apitype.DriftResponse, string, error) {
	if dbPath == "" {
		sock := install.PathsFor(e.goos, e.getenv("ProgramData")).Socket
		if c, err := localapi.Dial(ctx, sock); err == nil {
			defer c.Close()
			v, err := c.Drift(ctx, since)
			if err != nil {
				return nil, sock, err
			}
			return v, "service", nil
		}
		dbPath = e.defaultDB()
	}
	st, err := store.Open(dbPath, store.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return nil, dbPath, err
	}
	defer st.Close()
	v, err := records.Drift(st, since)
	return v, dbPath, err
}

func printDrift(w io.Writer, v *apitype.DriftResponse, source string) {
	from := "the beginning"
	if !v.Since.IsZero() {
		from = v.Since.Local().Format("2006-01-02 15:04")
	}
	where := ""
	if source != "service" {
		where = " (read from " + source + ")"
	}
	fmt.Fprintf(w, "%d event(s) since %s%s\n", len(v.Events), from, where)
	if len(v.Events) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nTIME\tDEVICE\tKIND\tSEVERITY\tDIRECTION\tWHAT")
	for _, ev := range v.Events {
		dev := ev.Hostname
		if dev == "" {
			dev = ev.Device
		}
		dir := string(ev.Direction)
		if dir == "" {
			dir = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", ev.Time.Local().Format("2006-01-02 15:04"), dev, ev.Kind, ev.Severity, dir, ev.Message)
	}
	tw.Flush()
}
