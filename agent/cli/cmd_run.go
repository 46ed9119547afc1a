package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/msgguard/msgguard/agent/config"
	"github.com/msgguard/msgguard/agent/daemon"
	"github.com/msgguard/msgguard/agent/localapi"
	"github.com/msgguard/msgguard/agent/msg"
	"github.com/msgguard/msgguard/agent/phones"
	"github.com/msgguard/msgguard/agent/scan"
	"github.com/msgguard/msgguard/agent/store"
	"github.com/msgguard/msgguard/install"
	"github.com/msgguard/msgguard/policy"
)

// cmdRun is `agent run`: the daemon, in the foreground. It is what the
// service manager starts; it can also be run by hand for troubleshooting.
func cmdRun(ctx context.Context, e *Env, args []string) int {
	paths := e.paths()
	c := e.flags("run", 0)
	fs := c.fs
	cfgPath := fs.String("config", paths.Config, msg.N("agent configuration `file`"))
	if code, ok := c.parse(args); !ok {
		return code
	}
	cfg, err := loadRunConfig(fs, *cfgPath, config.Default(paths))
	if err != nil {
		fmt.Fprintf(e.stderr, "agent run: %v\n", err)
		return exitUsage
	}
	log, closeLog, err := runLogger(cfg.Log, e.stdout)
	if err != nil {
		fmt.Fprintf(e.stderr, "agent run: %v\n", err)
		return exitUsage
	}
	defer closeLog()
	note := func(event string, isErr bool) {
		if isErr {
			log.Error().Str("event", event).Msg("service_event")
		} else {
			log.Info().Str("event", event).Msg("service_event")
		}
	}
	err = install.RunService(ctx, func(ctx context.Context) error {
		return runDaemon(ctx, e, cfg, paths, log)
	}, note)
	if err != nil {
		log.Error().Err(err).Msg("agent_failed")
		fmt.Fprintf(e.stderr, "agent run: %v\n%s", err, runHint(err))
		return exitUsage
	}
	return 0
}

// loadRunConfig loads the config file. The default file may be missing (a
// binary started by hand before 'agent install'): then the defaults apply.
// A file named with --config must exist.
func loadRunConfig(fs *flag.FlagSet, path string, def config.Config) (config.Config, error) {
	cfg, err := config.Load(path, def)
	if err != nil && !flagGiven(fs, "config") && errors.Is(err, os.ErrNotExist) {
		return def, nil
	}
	return cfg, err
}

// runLogger builds the daemon's logger: JSON lines on stdout (journald
// under systemd) or a size-rotated file.
func runLogger(c config.Log, stdout io.Writer) (zerolog.Logger, func(), error) {
	lvl, err := zerolog.ParseLevel(c.Level)
	if err != nil {
		return zerolog.Logger{}, nil, fmt.Errorf("log level: %w", err)
	}
	w, closer := stdout, func() {}
	if c.File != "" {
		rf, err := daemon.OpenRotatingFile(c.File, int64(c.MaxSizeMB)<<20, c.MaxFiles)
		if err != nil {
			return zerolog.Logger{}, nil, err
		}
		w, closer = rf, func() { rf.Close() }
	}
	log := zerolog.New(w).Level(lvl).With().Timestamp().Logger()
	return log, closer, nil
}

// runDaemon builds the components in order — store, local API listener,
// probe, scanner, daemon — and runs until ctx ends.
func runDaemon(ctx context.Context, e *Env, cfg config.Config, paths install.Paths, log zerolog.Logger) error {
	// A database that is unavailable (locked, EMFILE, ENOSPC, a read-only
	// mount) is kept and retried with backoff; only proven corruption
	// rebuilds it. The daily consistency check runs before a scan.
	slog := log.With().Str("component", "store").Logger()
	// The local API is up before the database: while the store retries,
	// agent status and /v1/health say why (daemon.Waiting), and the daemon
	// takes the API over once it has the database.
	ln, err := localapi.Listen(cfg.Socket)
	if err != nil {
		return fmt.Errorf("local API: %w", err)
	}
	waiting := &daemon.Waiting{}
	api := localapi.NewServer(waiting, log)
	apiDone := make(chan error, 1)
	go func() { apiDone <- api.Serve(ln) }()
	stopAPI := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		api.Shutdown(sctx)
	}
	st, err := store.OpenRetry(ctx, cfg.Database, store.Options{
		Timeout:       2 * time.Second,
		Retention:     store.Retention{MaxAge: time.Duration(cfg.Retention.Days) * 24 * time.Hour, MaxScans: cfg.Retention.MaxScans},
		CheckInterval: 24 * time.Hour,
		Log:           slog,
	}, store.DefaultBackoff, func(err error, wait time.Duration) {
		slog.Error().Err(err).Dur("retry_in", wait).Msg("database_unavailable")
		waiting.Retry(err, wait)
	})
	if err != nil {
		stopAPI()
		return err
	}
	var problems []string
	if st.Recovered != "" {
		problems = append(problems, fmt.Sprintf("the database was corrupt (%s); at %s it was moved to %s and a new one started",
			st.Reset.Reason, st.Reset.At.Format(time.RFC3339), st.Recovered))
	}
	// Scheduled scans run on all cores but one, so that the local API
	// always has one to answer on (on two cores a scan's homes and
	// package database otherwise take both).
	probe, err := probeFor(runtime.GOOS, cfg.Root, "", "", cfg.Browsers.Enabled, max(1, runtime.GOMAXPROCS(0)-1))
	if err != nil {
		stopAPI()
		st.Close()
		return err
	}
	scanner := &scan.Scanner{
		Probe:        probe,
		Store:        st,
		Lang:         e.lang(""),
		ProbeTimeout: cfg.Scan.ProbeTimeout,
		Log:          log.With().Str("component", "scan").Logger(),
	}
	// Drift events and their delivery; a malformed sink is a health
	// problem, not a reason to stop scanning.
	rep, err := newReporting(st, cfg, scanner, log)
	if err != nil {
		stopAPI()
		st.Close()
		return err
	}
	problems = append(problems, rep.problems...)
	cyc := &cycle{computer: scanner, kick: rep.disp.Kick, timeout: cfg.Phones.Timeout, log: log.With().Str("component", "phones").Logger()}
	if cfg.Phones.Enabled {
		cyc.phones = &phones.Options{Run: e.phoneOptions(cfg.Phones.ADBPath, false).Run}
	}
	go rep.disp.Run(ctx)
	sampler, err := daemon.SelfSampler()
	if err != nil {
		log.Warn().Err(err).Msg("resource_sampler_unavailable")
	}
	pol := policySource(cfg.Policy, paths.Policy)
	// The last good policy survives a restart with a broken file.
	pol.Keep = daemon.KeepPolicyIn(st.DB())
	d, err := daemon.New(daemon.Options{
		Scan:    cfg.Scan,
		Budget:  cfg.Budget,
		Policy:  pol,
		Scanner: cyc,
		Store:   st,
		API:     api,
		APIDone: apiDone,
		Reload:  phoneArrivals(ctx, cyc.phones, 10*time.Second, hangups(ctx)),
		// Drift answers /v1/drift from the events the drift stage records.
		Drift:      driftQuery(st),
		SinkHealth: rep.disp.Health,
		// attest, exempt and baseline accept record through the service
		// while it holds the database.
		Admin:    &daemon.AdminOptions{DB: st.DB(), Drift: driftConfig(cfg.Drift), Kick: rep.disp.Kick},
		Problems: problems,
		Log:      log,
		Sampler:  sampler,
	})
	if err != nil {
		stopAPI()
		st.Close()
		return err
	}
	return d.Run(ctx)
}

// policySource loads policy files with policy.Load; the installed location
// may be absent (then the embedded default applies), any other configured
// file must exist.
func policySource(file, installed string) daemon.PolicySource {
	return daemon.PolicySource{
		File:     file,
		Optional: file == installed,
		Load: func(file string, data []byte) (scan.Policy, error) {
			p, err := policy.Load(file, data)
			if err != nil {
				return scan.Policy{}, err
			}
			return scan.Policy{Policy: p, Ref: policyRef(p, file)}, nil
		},
		Default: func() scan.Policy {
			p := policy.Default()
			return scan.Policy{Policy: p, Ref: policyRef(p, "embedded")}
		},
		InvalidFinding: policy.InvalidPolicyFinding,
	}
}

// hangups turns SIGHUP into reload requests until ctx ends. (Windows never
// delivers SIGHUP; there the channel stays quiet.)
func hangups(ctx context.Context) <-chan struct{} {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP)
	out := make(chan struct{}, 1)
	go func() {
		defer signal.Stop(sig)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
				select {
				case out <- struct{}{}:
				default:
				}
			}
		}
	}()
	return out
}

// paths returns the per-OS install paths.
func (e *Env) paths() install.Paths {
	return install.PathsFor(e.goos, e.getenv("ProgramData"))
}

// runHint turns a start failure into advice.
func runHint(err error) string {
	switch {
	case errors.Is(err, store.ErrLocked):
		return "hint: another agent (probably the msgguard service) holds the database; stop it ('agent stop') or set another database: in the config\n"
	case errors.Is(err, localapi.ErrInUse):
		return "hint: another agent is serving the local API; stop it ('agent stop') or set another socket: in the config\n"
	case errors.Is(err, fs.ErrPermission):
		return "hint: the agent runs as root (or set database: and socket: to paths you can write)\n"
	}
	return ""
}
