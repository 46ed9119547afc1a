package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/localapi"
	"github.com/msgguard/msgguard/agent/records"
	"github.com/msgguard/msgguard/agent/store"
)

// cmdBaseline shows a device's drift baseline or accepts the current
// state as the new one.
func cmdBaseline(ctx context.Context, e *Env, args []string) int {
	if len(args) == 0 || (args[0] != "show" && args[0] != "accept") {
		fmt.Fprintln(e.stderr, "usage: agent baseline show [--json] [--device ID] [--db FILE]\n"+
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

// baselineShow prints the drift baselines: from the running service,
// which holds the database, else from the database read-only. Both paths
// print the same.
func baselineShow(ctx context.Context, e *Env, args []string) int {
	fs := newFlags(e, "baseline show")
	dbPath := fs.String("db", e.defaultDB(), "database `file` (given: read it instead of asking the running service)")
	device := fs.String("device", "", "only this device `ID` (default: every device)")
	jsonOut := fs.Bool("json", false, "print as JSON")
	socket := fs.String("socket", e.paths().Socket, "local API `socket` (named pipe on Windows) of the running service, asked first; empty: read the database")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if code, ok := readViaService(ctx, e, "baseline", serviceSocket(fs, *socket), func(c *localapi.Client) (int, error) {
		l, err := c.Baselines(ctx, *device)
		if err != nil {
			return 0, err
		}
		return printBaselines(e, l, *dbPath, *jsonOut), nil
	}); ok {
		return code
	}
	st, err := store.Open(*dbPath, store.Options{ReadOnly: true, Timeout: time.Second})
	switch {
	case errors.Is(err, store.ErrNoDatabase):
		fmt.Fprintf(e.stderr, "agent baseline: no scan recorded yet in %s; run 'agent scan'\n", *dbPath)
		return exitNoScan
	case errors.Is(err, store.ErrLocked):
		fmt.Fprintf(e.stderr, "agent baseline: %v\n", errServiceHoldsDBForRead)
		return exitUsage
	case err != nil:
		fmt.Fprintf(e.stderr, "agent baseline: %v\n%s", err, dbHint(err))
		return exitUsage
	}
	defer st.Close()
	l, err := records.Baselines(st.DB(), *device)
	if err != nil {
		fmt.Fprintf(e.stderr, "agent baseline: %v\n", err)
		return exitUsage
	}
	return printBaselines(e, l, *dbPath, *jsonOut)
}

// printBaselines prints `agent baseline show`: the JSON array of
// baselines, or each for people. dbPath names the database in the "no
// baseline" message.
func printBaselines(e *Env, l *apitype.BaselineList, dbPath string, asJSON bool) int {
	if len(l.Baselines) == 0 {
		fmt.Fprintf(e.stderr, "agent baseline: no baseline recorded yet in %s; run 'agent scan'\n", dbPath)
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
			fmt.Fprint(e.stderr, wrap(redactedNote("en"), 0, lineWidth))
		}
		return 0
	}
	for i, b := range l.Baselines {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		printBaseline(e.stdout, b, l.Redacted)
	}
	printRedacted(e, l.Redacted, "en")
	return 0
}

// printBaseline prints one device's baseline; redacted, who accepted it and
// why are not shown.
func printBaseline(w io.Writer, b drift.Baseline, redacted bool) {
	name := b.Device
	if b.Hostname != "" {
		name = b.Hostname + " (" + b.Device + ")"
	}
	fmt.Fprintf(w, "device %s\n", name)
	at := b.Info.SetAt.Local().Format("2006-01-02 15:04")
	switch {
	case b.Info.Reason == "accepted" && redacted:
		fmt.Fprintf(w, "  baseline accepted %s by %s\n", at, withheld("en"))
	case b.Info.Reason == "accepted":
		fmt.Fprintf(w, "  baseline accepted %s by %s: %s\n", at, b.Info.By, b.Info.Why)
	case b.Info.Reason == "reset":
		fmt.Fprintf(w, "  baseline reset %s (database rebuilt or policy changed)\n", at)
	default:
		fmt.Fprintf(w, "  baseline set by the first scan, %s\n", at)
	}
	if len(b.Differences) == 0 {
		fmt.Fprintln(w, "  no drift since the baseline")
		return
	}
	fmt.Fprintf(w, "  %d change(s) since the baseline:\n", len(b.Differences))
	for _, d := range b.Differences {
		dir := ""
		if d.Direction != "" {
			dir = " [" + string(d.Direction) + "]"
		}
		fmt.Fprintf(w, "  - %s%s\n", d.Message, dir)
	}
}

func baselineAccept(ctx context.Context, e *Env, args []string) int {
	fs := newFlags(e, "baseline accept")
	dbPath := fs.String("db", e.defaultDB(), "database `file` (given: record there instead of through the running service)")
	device := fs.String("device", "", "only this device `ID` (default: every device)")
	by := fs.String("by", "", "who accepts the current state (required)")
	why := fs.String("why", "", "why it is accepted, e.g. a ticket (required)")
	socket := fs.String("socket", e.paths().Socket, "local API `socket` (named pipe on Windows) of the running service, which then records; empty: open the database")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *by == "" || *why == "" {
		fmt.Fprintln(e.stderr, "agent baseline accept: --by and --why are required: the baseline records who accepted it and why")
		return exitUsage
	}
	// While the service runs it holds the database: it accepts and hands
	// the event to the sinks (cmd_attest.go).
	if *socket != "" && !flagSet(fs, "db") {
		req := apitype.BaselineAcceptRequest{By: *by, Why: *why, Device: *device}
		if code, ok := recordViaService(ctx, e, "baseline accept", "baseline accept --by NAME --why TEXT", *socket, false, func(c *localapi.Client) error {
			res, err := c.AcceptBaseline(ctx, req)
			if err == nil {
				printAccepted(e, res.Events)
			}
			return err
		}); ok {
			return code
		}
	}
	st, err := store.Open(*dbPath, store.Options{Timeout: time.Second})
	if err != nil {
		fmt.Fprintf(e.stderr, "agent baseline accept: %v\n%s", err, dbHint(err))
		if errors.Is(err, store.ErrLocked) {
			fmt.Fprintln(e.stderr, "hint: accepting a baseline needs the database; stop the service for a moment (systemctl stop msgguard), accept, and start it again")
		}
		return exitUsage
	}
	defer st.Close()
	evs, err := drift.Accept(st.DB(), drift.DefaultConfig(), *device, *by, *why)
	if err != nil {
		fmt.Fprintf(e.stderr, "agent baseline accept: %v\n", err)
		return exitUsage
	}
	printAccepted(e, evs)
	return 0
}

func printAccepted(e *Env, evs []drift.Event) {
	for _, ev := range evs {
		fmt.Fprintf(e.stdout, "accepted the current state of %s as its baseline\n", ev.Device)
	}
}
