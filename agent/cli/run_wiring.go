package cli

import (
	"context"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/config"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/phones"
	"github.com/msgguard/msgguard/agent/records"
	"github.com/msgguard/msgguard/agent/report"
	"github.com/msgguard/msgguard/agent/report/outbox"
	"github.com/msgguard/msgguard/agent/scan"
	"github.com/msgguard/msgguard/agent/scan/stages"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/agent/store"
)

// reporting is the daemon's drift and delivery side: the drift stage that
// runs inside each scan's transaction, and the dispatcher that delivers the
// queued events to the configured sinks.
type reporting struct {
	disp     *report.Dispatcher
	problems []string
}

// newReporting builds the sinks from the config (a malformed sink is a
// health problem, never a reason not to scan), gives the scanner its stages
// (compliance, report, record, drift, outbox in one transaction), and
// creates the dispatcher.
func newReporting(st *store.Store, cfg config.Config, s *scan.Scanner, log zerolog.Logger) (*reporting, error) {
	rlog := log.With().Str("component", "report").Logger()
	host, _ := os.Hostname()
	sinks := report.Build(cfg.Sinks, report.BuildOptions{Log: rlog, Hostname: host})
	r := &reporting{}
	for _, se := range sinks.Errors {
		rlog.Error().Str("error", se.Error()).Msg("sink_not_started")
		r.problems = append(r.problems, "sink: "+se.Error())
	}
	disp, err := report.NewDispatcher(st, sinks, report.Options{Log: rlog})
	if err != nil {
		return nil, err
	}
	r.disp = disp
	s.Stages = withTexts(stages.For(st, complianceStore(st, cfg.Retention).Retention, driftConfig(cfg.Drift)))
	return r, nil
}

// cycle is what the daemon runs on each trigger: the computer's scan, then
// (when enabled) every attached phone as a device of its own, then a kick
// to the dispatcher so new drift events go out at once.
type cycle struct {
	computer *scan.Scanner
	phones   *phones.Options
	timeout  time.Duration
	kick     func()
	log      zerolog.Logger
}

func (c *cycle) Scan(ctx context.Context, pol scan.Policy) (*status.Report, error) {
	r, err := c.computer.Scan(ctx, pol)
	if err != nil {
		return nil, err
	}
	if c.phones != nil {
		ps := *c.computer
		if c.timeout > 0 {
			ps.ProbeTimeout = c.timeout
		}
		results, lerr := phones.ScanAttached(ctx, &ps, pol, *c.phones, "")
		if lerr != nil {
			c.log.Warn().Err(lerr).Msg("phones_list_failed")
		}
		for _, res := range results {
			switch {
			case res.Report != nil:
				r.Phones = append(r.Phones, *res.Report)
			case res.Err != nil:
				// A phone unplugged mid-scan or not authorised is logged,
				// not a failed cycle (the serial is not logged: privacy).
				c.log.Warn().Str("kind", res.Phone.Kind).Str("device", res.Phone.DeviceID).Str("error", res.Err.Error()).Msg("phone_scan_skipped")
			}
		}
	}
	if c.kick != nil {
		c.kick()
	}
	// The daemon hands the heap the scan freed back to the OS once the
	// service is quiet (agent/daemon: the trim tick).
	return r, nil
}

// phoneArrivals polls the attached phones cheaply (`adb devices -l`,
// `idevice_id -l`) and sends on the returned channel when a phone that can
// be inspected appears, so the service scans it right after it is plugged
// in. It merges reload, so both wake the same scan request.
func phoneArrivals(ctx context.Context, o *phones.Options, every time.Duration, reload <-chan struct{}) <-chan struct{} {
	out := make(chan struct{}, 1)
	send := func() {
		select {
		case out <- struct{}{}:
		default:
		}
	}
	go func() {
		var tick <-chan time.Time
		if o != nil {
			t := time.NewTicker(every)
			defer t.Stop()
			tick = t.C
		}
		seen := map[string]bool{}
		for {
			select {
			case <-ctx.Done():
				return
			case <-reload:
				send()
			case <-tick:
				list, _ := phones.List(ctx, *o)
				ready := map[string]bool{}
				arrived := false
				for _, p := range list {
					if p.Ready {
						ready[p.DeviceID] = true
						arrived = arrived || !seen[p.DeviceID]
					}
				}
				if arrived {
					send()
				}
				seen = ready
			}
		}
	}()
	return out
}

// driftQuery answers /v1/drift from the store.
func driftQuery(st *store.Store) func(ctx context.Context, since time.Time) (*apitype.DriftResponse, error) {
	return func(ctx context.Context, since time.Time) (*apitype.DriftResponse, error) {
		return records.Drift(st, since)
	}
}

// driftConfig converts the agent configuration's `drift:` section; the
// events drift records outside a scan (a baseline accepted) go to the
// sinks' outboxes.
func driftConfig(c config.Drift) drift.Config {
	return drift.Config{Debounce: c.Debounce, Versions: c.Versions, SummaryInterval: c.SummaryInterval,
		MaxAge: time.Duration(c.RetentionDays) * 24 * time.Hour, MaxEvents: c.MaxEvents, Now: time.Now,
		Enqueue: outbox.EnqueueEvent}
}
