package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"

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
	if e.goos == "windows" || e.euid == 0 {
		return true
	}
	fmt.Fprintf(e.stderr, "agent %s: must run as root (try: sudo agent %s)\n", verb, verb)
	return false
}

func cmdInstall(ctx context.Context, e *Env, args []string) int {
	fs := newFlags(e, "install")
	pol := fs.String("policy", "", "policy `file` to install (root-owned, not group/world-writable; checked before anything is changed)")
	cfg := fs.String("config", "", "agent configuration `file` to install (same checks); default: keep the installed one or write a commented sample")
	noStart := fs.Bool("no-start", false, "install and enable the service but do not start it now")
	if code, ok := parseFlags(fs, args); !ok {
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
	fs := newFlags(e, "uninstall")
	purge := fs.Bool("purge", false, "also remove configuration, policy, database and logs")
	if code, ok := parseFlags(fs, args); !ok {
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
		fs := newFlags(e, name)
		if code, ok := parseFlags(fs, args); !ok {
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

// serviceVerbs are the verbs that run or manage the service; verbs()
// merges them into the command table.
func serviceVerbs() map[string]verb {
	return map[string]verb{
		"run":       {"run the agent in the foreground (what the service manager starts)", cmdRun},
		"install":   {"install [--policy FILE] [--config FILE]: install, enable and start the service", cmdInstall},
		"uninstall": {"uninstall [--purge]: stop and remove the service (data kept unless --purge)", cmdUninstall},
		"start":     {"start the installed service", control("start", (*install.Manager).Start)},
		"stop":      {"stop the service", control("stop", (*install.Manager).Stop)},
		"restart":   {"restart the service", control("restart", (*install.Manager).Restart)},
	}
}

// writeService prints the daemon's state under the report in `agent
// status`: uptime, last and next scan, and the agent's own health.
func writeService(w io.Writer, s *status.Service, now time.Time) {
	if s == nil {
		return
	}
	if !s.Running {
		// Read from the database: only the sinks' queues are known.
		if len(s.Health.Sinks) > 0 {
			fmt.Fprintln(w, "\nservice:  not running; events wait in the sinks' queues")
			writeSinks(w, s.Health.Sinks)
		}
		return
	}
	fmt.Fprintf(w, "\nservice:  running for %s (since %s)\n", now.Sub(s.StartedAt).Round(time.Second), s.StartedAt.Local().Format("2006-01-02 15:04:05"))
	if !s.LastScan.IsZero() {
		fmt.Fprintf(w, "          last scan %s, took %s\n", s.LastScan.Local().Format("2006-01-02 15:04:05"), s.ScanDuration.Round(time.Millisecond))
	}
	if !s.NextScan.IsZero() {
		fmt.Fprintf(w, "          next scan %s\n", s.NextScan.Local().Format("2006-01-02 15:04:05"))
	}
	h := s.Health
	state := "ok"
	if !h.OK {
		state = "PROBLEMS"
	}
	fmt.Fprintf(w, "health:   %s (memory %d MB)\n", state, h.RSSBytes>>20)
	for _, p := range h.Problems {
		fmt.Fprintf(w, "          - %s\n", p)
	}
	writeSinks(w, h.Sinks)
}

// writeSinks prints each reporting sink's delivery state.
func writeSinks(w io.Writer, sinks []status.SinkHealth) {
	for _, sk := range sinks {
		line := fmt.Sprintf("sink %s: queue %d", sk.Name, sk.QueueDepth)
		if !sk.LastSuccess.IsZero() {
			line += ", last delivered " + sk.LastSuccess.Local().Format("2006-01-02 15:04:05")
		}
		if sk.LastError != "" {
			line += ", last error: " + sk.LastError
		}
		fmt.Fprintf(w, "          %s\n", line)
	}
}

// statusFromService prints the running service's report. It returns
// handled=false when no service answers, so that the caller falls back to
// reading the database.
func statusFromService(ctx context.Context, e *Env, socket string, asJSON bool, lang string) (code int, handled bool) {
	c, err := localapi.Dial(ctx, socket)
	if errors.Is(err, localapi.ErrNotRunning) {
		return 0, false
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "agent status: the service did not answer (%v); reading the database instead\n", err)
		return 0, false
	}
	defer c.Close()
	r, err := c.Status(ctx)
	var api *localapi.APIError
	switch {
	case errors.As(err, &api) && api.Code == http.StatusServiceUnavailable:
		fmt.Fprintf(e.stderr, "agent status: the service is running but %s\n", api.Msg)
		return exitNoScan, true
	case err != nil:
		fmt.Fprintf(e.stderr, "agent status: %v\n", err)
		return exitUsage, true
	}
	if err := printReport(e, r, asJSON, lang); err != nil {
		fmt.Fprintf(e.stderr, "agent status: %v\n", err)
		return exitUsage, true
	}
	if !asJSON {
		writeService(e.stdout, r.Service, time.Now())
		if r.Redacted {
			fmt.Fprintln(e.stdout, "\n(findings about other users are not shown; run as root for the full report)")
		}
	}
	if r.Compliant {
		return exitCompliant, true
	}
	return exitNotCompliant, true
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
		fmt.Fprintf(e.stderr, "agent scan: the service is running and only root may ask it to scan (try: sudo agent scan); 'agent status' shows the last scan\n")
		return exitUsage, true
	case err != nil:
		fmt.Fprintf(e.stderr, "agent scan: the service could not scan: %v\n", err)
		return exitUsage, true
	}
	if err := printReport(e, r, asJSON, lang); err != nil {
		fmt.Fprintf(e.stderr, "agent scan: %v\n", err)
		return exitUsage, true
	}
	if r.Compliant {
		return exitCompliant, true
	}
	return exitNotCompliant, true
}

// flagSet reports whether any of the named flags was given.
func flagSet(fs *flag.FlagSet, names ...string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		for _, n := range names {
			set = set || f.Name == n
		}
	})
	return set
}

// serviceSocket is the socket a read verb asks first: none when --db was
// given (read that file) or --socket is empty.
func serviceSocket(fs *flag.FlagSet, socket string) string {
	if flagSet(fs, "db") {
		return ""
	}
	return socket
}

// readViaService lets the running service answer a read verb (attest
// --list, exempt --list, baseline show, explain), since it holds the
// database. handled is false when no service answers, so that the caller
// reads the database itself; call prints the answer and returns the exit
// code. The printing is the database path's, so both print the same.
func readViaService(ctx context.Context, e *Env, verb, socket string, call func(*localapi.Client) (int, error)) (code int, handled bool) {
	if socket == "" {
		return 0, false
	}
	c, err := localapi.Dial(ctx, socket)
	if errors.Is(err, localapi.ErrNotRunning) {
		return 0, false
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "agent %s: the service did not answer (%v); reading the database instead\n", verb, err)
		return 0, false
	}
	defer c.Close()
	code, err = call(c)
	var api *localapi.APIError
	switch {
	case err == nil:
		return code, true
	case errors.As(err, &api) && (api.Code == http.StatusNotFound || api.Code == http.StatusNotImplemented):
		fmt.Fprintf(e.stderr, "agent %s: the running service cannot answer this (an older version?); %v\n", verb, errServiceHoldsDBForRead)
	default:
		fmt.Fprintf(e.stderr, "agent %s: %v\n", verb, err)
	}
	return exitUsage, true
}

// errServiceHoldsDBForRead says why a read verb cannot open the database:
// the service holds it (and --db was given, or it cannot answer).
var errServiceHoldsDBForRead = errors.New("the msgguard service is running and holds the database; ask it (leave out --db), or stop it ('agent stop') to read the database")

// redactedNote is the line under a read verb's output when the service
// withheld what only administrators see.
func redactedNote(lang string) string {
	return pick(lang, "(records about other users, and who recorded what and why, are shown to administrators only; run as root for the full view)",
		"(Einträge zu anderen Benutzern sowie wer was warum erfasst hat, sehen nur Administratoren; als root ausführen für die vollständige Ansicht)")
}

// withheld stands in a table or sentence for a name or text the service
// did not show.
func withheld(lang string) string {
	return pick(lang, "(not shown)", "(nicht angezeigt)")
}
