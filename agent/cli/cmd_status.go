package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/msgguard/msgguard/agent/report"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/agent/store"
)

func cmdStatus(ctx context.Context, e *Env, args []string) int {
	fs := newFlags(e, "status")
	dbPath := fs.String("db", e.defaultDB(), "database `file`")
	jsonOut := fs.Bool("json", false, "print the report as JSON")
	lang := fs.String("lang", "", "output language: en or de (default from LANG)")
	verbose := fs.Bool("verbose", false, "show full texts, evidence and attestations")
	socket := fs.String("socket", e.paths().Socket, "local API `socket` (named pipe on Windows) of the running service; empty: read the database")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	e.verbose = *verbose
	// While the service runs it holds the database; ask it (cmd_service.go).
	if *socket != "" && !flagSet(fs, "db") {
		if code, ok := statusFromService(ctx, e, *socket, *jsonOut, e.lang(*lang)); ok {
			return code
		}
	}
	r, err := readLatest(*dbPath)
	switch {
	case errors.Is(err, store.ErrNoDatabase), errors.Is(err, store.ErrNoScan):
		fmt.Fprintf(e.stderr, "agent status: no scan recorded yet in %s; run 'agent scan'\n", *dbPath)
		return exitNoScan
	case err != nil:
		fmt.Fprintf(e.stderr, "agent status: %v\n%s", err, dbHint(err))
		return exitUsage
	}
	if !*jsonOut {
		at := r.ScannedAt.Local().Format("2006-01-02 15:04:05 MST")
		if e.lang(*lang) == "de" {
			fmt.Fprintf(e.stdout, "Dienst läuft nicht; letzte gespeicherte Prüfung vom %s\n\n", at)
		} else {
			fmt.Fprintf(e.stdout, "service not running; showing last recorded scan from %s\n\n", at)
		}
	}
	if err := printReport(e, r, *jsonOut, e.lang(*lang)); err != nil {
		fmt.Fprintf(e.stderr, "agent status: %v\n", err)
		return exitUsage
	}
	if !*jsonOut {
		writeService(e.stdout, r.Service, e.clock())
	}
	if allCompliant(r) {
		return exitCompliant
	}
	return exitNotCompliant
}

// readLatest opens the database read-only and returns the primary device's
// latest report with attached phones' reports.
func readLatest(path string) (*status.Report, error) {
	st, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	r, err := st.Latest("")
	if err != nil {
		return nil, err
	}
	r.Source = "database"
	// Events queued for the sinks wait for the service; say how many.
	if sinks, err := report.Health(st.DB()); err == nil && len(sinks) > 0 {
		r.Service = &status.Service{Running: false, Health: status.Health{Sinks: sinks}}
	}
	ids, err := st.Devices()
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if id == r.Device.ID {
			continue
		}
		if p, err := st.Latest(id); err == nil && p.Device.Kind == "phone" {
			r.Phones = append(r.Phones, *p)
		}
	}
	return r, nil
}
