package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/msgguard/msgguard/agent/msg"

	"github.com/msgguard/msgguard/agent/config"
	"github.com/msgguard/msgguard/agent/localapi"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/install"
	"github.com/msgguard/msgguard/policy"
)

// newManager returns the service manager for this machine, with the
// validators that check --policy and --config sources before install.
func newManager(e *Env) (*install.Manager, error) {
	m, err := install.NewManager(e.stdout)
	if err != nil {
		return nil, err
	}
	m.Paths = e.paths()
	m.ValidatePolicy = func(name string, data []byte) error {
		_, err := policy.Load(name, data)
		return err
	}
	m.ValidateConfig = func(name string, data []byte) error {
		_, err := config.Parse(name, data, config.Default(m.Paths))
		return err
	}
	m.DefaultConfig = config.Sample(m.Paths)
	return m, nil
}

// requireAdmin refuses to touch the service as an unprivileged user, with
// the command to run instead.
func requireAdmin(e *Env, verb string) bool {
	if e.admin() {
		return true
	}
	e.complain(verb, fmt.Sprintf(msg.T(e.lang(""), "must run as root (try: sudo agent %s)"), verb))
	return false
}

func cmdInstall(ctx context.Context, e *Env, args []string) int {
	c := e.flags("install", 0)
	fs := c.fs
	pol := fs.String("policy", "", msg.N("policy `file` to install (root-owned, not group/world-writable; checked before anything is changed)"))
	cfg := fs.String("config", "", msg.N("agent configuration `file` to install (same checks); default: keep the installed one or write a commented sample"))
	noStart := fs.Bool("no-start", false, msg.N("install and enable the service but do not start it now"))
	if code, ok := c.parse(args); !ok {
		return code
	}
	if !requireAdmin(e, "install") {
		return exitUsage
	}
	m, err := newManager(e)
	if err == nil {
		err = m.Install(ctx, install.InstallOptions{Policy: *pol, Config: *cfg, NoStart: *noStart})
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "agent install: %v\n", err)
		return exitUsage
	}
	return 0
}

func cmdUninstall(ctx context.Context, e *Env, args []string) int {
	c := e.flags("uninstall", 0)
	fs := c.fs
	purge := fs.Bool("purge", false, msg.N("also remove configuration, policy, database and logs"))
	if code, ok := c.parse(args); !ok {
		return code
	}
	if !requireAdmin(e, "uninstall") {
		return exitUsage
	}
	m, err := newManager(e)
	if err == nil {
		err = m.Uninstall(ctx, *purge)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "agent uninstall: %v\n", err)
		return exitUsage
	}
	return 0
}

// control returns a verb that runs one lifecycle action.
func control(name string, action func(*install.Manager, context.Context) error) func(context.Context, *Env, []string) int {
	return func(ctx context.Context, e *Env, args []string) int {
		c := e.flags(name, 0)
		if code, ok := c.parse(args); !ok {
			return code
		}
		if !requireAdmin(e, name) {
			return exitUsage
		}
		m, err := newManager(e)
		if err == nil {
			err = action(m, ctx)
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "agent %s: %v\n", name, err)
			return exitUsage
		}
		return 0
	}
}

// writeService prints the daemon's state under the report in `agent
// status`: uptime, last and next scan, and the agent's own health.
func writeService(w io.Writer, s *status.Service, now time.Time, lang string) {
	if s == nil {
		return
	}
	const stamp = "2006-01-02 15:04:05"
	if !s.Running {
		// Read from the database: the sinks' queues and the last rebuild,
		// judged by the service's rule (degraded while a sink has failed
		// deliveries queued, or after a rebuild).
		if len(s.Health.Problems) > 0 {
			fmt.Fprintf(w, msg.T(lang, "\nhealth:   %s\n"), msg.T(lang, "PROBLEMS"))
		}
		for _, p := range s.Health.Problems {
			fmt.Fprintf(w, "          - %s\n", msg.Dynamic(lang, p))
		}
		if len(s.Health.Sinks) > 0 {
			fmt.Fprintln(w, msg.T(lang, "\nservice:  not running; events wait in the sinks' queues"))
			writeSinks(w, s.Health.Sinks, lang)
		}
		return
	}
	fmt.Fprintf(w, msg.T(lang, "\nservice:  running for %s (since %s)\n"), now.Sub(s.StartedAt).Round(time.Second), s.StartedAt.Local().Format(stamp))
	if !s.LastScan.IsZero() {
		fmt.Fprintf(w, msg.T(lang, "          last scan %s, took %s\n"), s.LastScan.Local().Format(stamp), s.ScanDuration.Round(time.Millisecond))
	}
	if !s.NextScan.IsZero() {
		fmt.Fprintf(w, msg.T(lang, "          next scan %s\n"), s.NextScan.Local().Format(stamp))
	}
	h := s.Health
	state := msg.T(lang, "ok")
	if !h.OK {
		state = msg.T(lang, "PROBLEMS")
	}
	fmt.Fprintf(w, msg.T(lang, "health:   %s (memory %d MB)\n"), state, h.RSSBytes>>20)
	// The service words its problems in English; msg.Dynamic knows them.
	for _, p := range h.Problems {
		fmt.Fprintf(w, "          - %s\n", msg.Dynamic(lang, p))
	}
	if h.Redacted && len(h.Problems) == 0 && h.ProblemCount > 0 {
		// A non-administrator's health carries the count, not the texts
		// (they name files, collectors and errors).
		fmt.Fprintf(w, msg.T(lang, "          %d problems, shown to administrators (sudo agent status)\n"), h.ProblemCount)
	}
	writeSinks(w, h.Sinks, lang)
}

// writeSinks prints each reporting sink's delivery state.
func writeSinks(w io.Writer, sinks []status.SinkHealth, lang string) {
	for _, sk := range sinks {
		line := fmt.Sprintf(msg.T(lang, "sink %s: queue %d"), sk.Name, sk.QueueDepth)
		if !sk.LastSuccess.IsZero() {
			line += fmt.Sprintf(msg.T(lang, ", last delivered %s"), sk.LastSuccess.Local().Format("2006-01-02 15:04:05"))
		}
		if sk.LastError != "" {
			line += fmt.Sprintf(msg.T(lang, ", last error: %s"), sk.LastError)
		} else if sk.Failing {
			line += msg.T(lang, ", delivery failing")
		}
		fmt.Fprintf(w, "          %s\n", line)
	}
}

// scanViaService asks the running service to scan, instead of contending
// for the database it holds. handled=false means no service answers.
func scanViaService(ctx context.Context, e *Env, socket string, asJSON bool, lang string) (code int, handled bool) {
	c, err := localapi.Dial(ctx, socket)
	if err != nil {
		return 0, false
	}
	defer c.Close()
	r, err := c.Scan(ctx)
	var denied *localapi.AccessDeniedError
	switch {
	case errors.As(err, &denied):
		e.complain("scan", msg.T(lang, "the service is running and only root may ask it to scan (try: sudo agent scan); 'agent status' shows the last scan"))
		return exitUsage, true
	case err != nil:
		e.complain("scan", fmt.Sprintf(msg.T(lang, "the service could not scan: %v"), err))
		return exitUsage, true
	}
	if err := printReport(e, r, asJSON, lang); err != nil {
		fmt.Fprintf(e.stderr, "agent scan: %v\n", err)
		return exitUsage, true
	}
	return verdict(r), true
}

// redactedNote is the line under a read verb's output when the service
// withheld what only administrators see.
func redactedNote(lang string) string {
	return msg.T(lang, "(records about other users, and who recorded what and why, are shown to administrators only; run as root for the full view)")
}

// withheld stands in a table or sentence for a name or text the service
// did not show.
func withheld(lang string) string {
	return msg.T(lang, "(not shown)")
}
