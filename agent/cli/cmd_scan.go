package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/msg"
	"github.com/msgguard/msgguard/agent/scan"
	"github.com/msgguard/msgguard/agent/scan/stages"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/agent/store"
	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/darwin"
	"github.com/msgguard/msgguard/platform/linux"
	"github.com/msgguard/msgguard/platform/windows"
	"github.com/msgguard/msgguard/policy"
)

func cmdScan(ctx context.Context, e *Env, args []string) int {
	c := e.flags("scan", flagJSON|flagLang|flagDB|flagSocket)
	fs := c.fs
	dbPath := &c.db
	root := fs.String("root", "/", msg.N("inspect the device whose root filesystem is at `dir` (fixtures, mounted images)"))
	plat := fs.String("platform", e.goos, msg.N("platform of the inspected root: linux, darwin or windows"))
	polFile := fs.String("policy", "", msg.N("policy `file` (default: the embedded GDPR policy)"))
	noStore := fs.Bool("no-store", false, msg.N("do not record the scan in the database"))
	timeout := fs.Duration("timeout", scan.DefaultProbeTimeout, msg.N("give up on the device probe after `duration`"))
	phone := fs.String("phone", "", msg.N("scan the attached phone with this `serial` (see 'agent phones') instead of this computer"))
	allPhones := fs.Bool("phones", false, msg.N("scan this computer and every attached phone"))
	adb := fs.String("adb", "", msg.N("absolute `path` of adb (root-owned)"))
	registry := fs.String("registry", "", msg.N("with --platform windows: read the registry from the .reg exports in `dir` (dir/*.reg, dir/hives/<user>.reg) instead of this machine's"))
	verbose := fs.Bool("verbose", false, msg.N("show full texts, evidence and attestations"))
	browsers := fs.Bool("browsers", true, msg.N("look for messenger web sessions in users' browser profiles (folder names only; see agent privacy)"))
	commands := fs.String("commands", "", msg.N("answer the probes' commands from recorded output files in `dir` instead of running them (for --root trees of other machines)"))
	if code, ok := c.parse(args); !ok {
		return code
	}
	e.verbose = *verbose
	if code, ok := c.noArgs(); !ok {
		return code
	}
	jsonOut, lang := &c.json, c.lang()
	// A plain scan of this device while the service runs: ask the service,
	// which holds the database (cmd_service.go).
	if c.socket != "" && !c.given("db", "root", "platform", "policy", "no-store", "browsers") {
		if code, ok := scanViaService(ctx, e, c.socket, *jsonOut, lang); ok {
			return code
		}
	}
	pol, err := loadPolicy(*polFile)
	if err != nil {
		e.complain("scan", msg.Dynamic(lang, err.Error()))
		return exitUsage
	}
	probe, err := probeFor(*plat, *root, *commands, *registry, *browsers, 0)
	if err != nil {
		fmt.Fprintf(e.stderr, "agent scan: %v\n", err)
		return exitUsage
	}
	s := &scan.Scanner{Probe: probe, Lang: lang, ProbeTimeout: *timeout, Log: e.log, Now: e.clock,
		Stages: withTexts(stages.For(nil, compliance.Retention{}, drift.Config{}))}
	if !*noStore {
		st, err := store.Open(*dbPath, store.Options{Log: e.log})
		if err != nil {
			e.complain("scan", msg.Dynamic(lang, err.Error()))
			fmt.Fprint(e.stderr, dbHint(err, lang))
			return exitUsage
		}
		defer st.Close()
		if st.Recovered != "" {
			e.complain("scan", fmt.Sprintf(msg.T(lang, "warning: the database was corrupt; it was moved to %s and a new one created"), st.Recovered))
		}
		s.Store = st
		// Drift is recorded on manual scans too; the events wait in the
		// sinks' outboxes until the service delivers them.
		s.Stages = withTexts(stages.For(st, compliance.Retention{}, drift.DefaultConfig()))
	}
	var r *status.Report
	if *phone == "" {
		if r, err = s.Scan(ctx, pol); err != nil {
			fmt.Fprintf(e.stderr, "agent scan: %v\n", err)
			return exitUsage
		}
	}
	if *phone != "" || *allPhones {
		prs, err := scanPhones(ctx, e, s, pol, *phone, *adb)
		if err != nil {
			fmt.Fprintf(e.stderr, "agent scan: phones: %v\n", err)
			return exitUsage
		}
		if r == nil {
			if len(prs) == 0 {
				e.complain("scan", fmt.Sprintf(msg.T(lang, "phone %s could not be inspected"), *phone))
				return exitUsage
			}
			r, prs = prs[0], prs[1:]
		}
		for _, p := range prs {
			r.Phones = append(r.Phones, *p)
		}
	}
	if err := printReport(e, r, *jsonOut, lang); err != nil {
		fmt.Fprintf(e.stderr, "agent scan: %v\n", err)
		return exitUsage
	}
	return verdict(r)
}

// allCompliant reports whether the report and every attached phone's report
// are compliant.
func allCompliant(r *status.Report) bool {
	for _, p := range r.Phones {
		if !p.Compliant {
			return false
		}
	}
	return r.Compliant
}

// loadPolicy loads a policy file, or the embedded default when file is "".
func loadPolicy(file string) (scan.Policy, error) {
	if file == "" {
		p := policy.Default()
		return scan.Policy{Policy: p, Ref: policyRef(p, "embedded")}, nil
	}
	b, err := platform.ReadPath(file, platform.MaxConfigSize)
	if err != nil {
		return scan.Policy{}, fmt.Errorf("reading policy: %w", err)
	}
	p, err := policy.Load(file, b)
	if err != nil {
		return scan.Policy{}, err
	}
	return scan.Policy{Policy: p, Ref: policyRef(p, file)}, nil
}

// probeFor builds the device probe for a platform and root directory.
// Commands run by absolute path from the platform's table, unless commands
// names a directory of recorded output (platform.ReplayRunner) — the way to
// inspect a macOS or Windows tree on Linux.
//
// workers bounds the probe's parallel tasks (platform.Host.Workers; 0: one
// per core).
func probeFor(plat, root, commands, registry string, browsers bool, workers int) (scan.Probe, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", root, err)
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("root %s is not a directory", root)
	}
	live := (abs == "/" || plat == "windows") && plat == runtime.GOOS && commands == "" && registry == ""
	h := &platform.Host{GOOS: plat, Root: platform.NewDirFS(abs), RootDir: abs, Live: live, Browsers: browsers, Memo: &platform.DirMemo{}, Workers: workers}
	runner := func(table map[string][]string) platform.Runner {
		if commands != "" {
			return platform.ReplayRunner{Dir: commands}
		}
		return &platform.ExecRunner{Paths: table}
	}
	switch plat {
	case "linux":
		h.Run = runner(linux.Commands())
		return func(ctx context.Context, cat *policy.Catalog) (*policy.Inventory, error) {
			return linux.Scan(ctx, h, cat)
		}, nil
	case "darwin":
		h.Run = runner(darwin.Commands())
		return func(ctx context.Context, cat *policy.Catalog) (*policy.Inventory, error) {
			return darwin.Scan(ctx, h, cat)
		}, nil
	case "windows":
		h.Run = runner(windows.Commands())
		var reg windows.Registry = windows.NewNativeRegistry()
		if registry != "" {
			mem, err := windows.LoadRegistryDir(registry)
			if err != nil {
				return nil, err
			}
			reg = mem
		}
		return func(ctx context.Context, cat *policy.Catalog) (*policy.Inventory, error) {
			return windows.Scan(ctx, h, reg, cat)
		}, nil
	}
	return nil, fmt.Errorf("platform %q is not supported (linux, darwin, windows)", plat)
}

// dbHint turns a store error into advice for the person at the keyboard.
func dbHint(err error, lang string) string {
	switch {
	case errors.Is(err, store.ErrLocked):
		return msg.T(lang, "hint: the msgguard service is probably running and holds the database; use 'agent status', or pass --db FILE") + "\n"
	case errors.Is(err, os.ErrPermission):
		return msg.T(lang, "hint: run as root, or pass --db FILE for a database you can write") + "\n"
	case errors.Is(err, store.ErrCorrupt):
		return msg.T(lang, "hint: the service's next start or the next 'agent scan' moves the damaged file aside and starts a new database") + "\n"
	}
	return ""
}
