package cli

import (
	"context"
	"fmt"

	"github.com/msgguard/msgguard/agent/msg"
	"github.com/msgguard/msgguard/policy"

	"github.com/msgguard/msgguard/agent/report"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/agent/store"
)

// cmdStatus is `agent status`: the last scan's report, from the running
// service, else from the database.
func cmdStatus(ctx context.Context, e *Env, args []string) int {
	c := e.flags("status", flagJSON|flagLang|flagDB|flagSocket)
	verbose := c.fs.Bool("verbose", false, msg.N("show full texts, evidence, attestations and passing findings"))
	if code, ok := c.parse(args); !ok {
		return code
	}
	if code, ok := c.noArgs(); !ok {
		return code
	}
	e.verbose = *verbose
	b := chooseBackend(ctx, e, c)
	defer b.Close()
	r, err := b.Status(ctx)
	if err != nil {
		return fail(e, c, err, "status")
	}
	lang := c.lang()
	if !c.json && !fromService(b) {
		fmt.Fprintf(e.stdout, msg.T(lang, "service not running; showing last recorded scan from %s\n\n"), r.ScannedAt.Local().Format("2006-01-02 15:04:05 MST"))
	}
	if err := printReport(e, r, c.json, lang); err != nil {
		return fail(e, c, err, "status")
	}
	if !c.json {
		writeService(e.stdout, r.Service, e.clock(), lang)
		if r.Redacted {
			fmt.Fprintln(e.stdout, msg.T(lang, "\n(findings about other users are not shown; run as root for the full report)"))
		}
	}
	return verdict(r)
}

// readLatest returns the primary device's latest report with attached
// phones' reports, and the sinks' queues, from st.
func readLatest(st *store.Store) (*status.Report, error) {
	r, err := st.Latest("")
	if err != nil {
		return nil, err
	}
	r.Source = "database"
	// Events queued for the sinks wait for the service; say how many.
	// Health follows the service's rule (status.SinkProblems): degraded
	// while any sink has failed deliveries queued.
	if sinks, err := report.Health(st.DB()); err == nil && len(sinks) > 0 {
		r.Service = &status.Service{Running: false, Health: status.Health{Sinks: sinks, Problems: status.SinkProblems(sinks)}}
	}
	// A rebuilt database is never silent: name when and where the damaged
	// file went.
	if ri, ok, err := st.LastReset(); err == nil && ok {
		if r.Service == nil {
			r.Service = &status.Service{}
		}
		r.Service.Health.Problems = append(r.Service.Health.Problems, fmt.Sprintf(
			"database rebuilt %s after corruption (%s); the damaged file was kept as %s",
			ri.At.Local().Format("2006-01-02 15:04:05 MST"), ri.Reason, ri.MovedTo))
	}
	if r.Service != nil {
		r.Service.Health.Settle()
	}
	ids, err := st.Devices()
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if id == r.Device.ID {
			continue
		}
		if p, err := st.Latest(id); err == nil && p.Device.Kind == policy.DevicePhone {
			r.Phones = append(r.Phones, *p)
		}
	}
	return r, nil
}
