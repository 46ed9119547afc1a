// Package cli is the `agent` command's verbs: flag parsing, the choice
// between the running service and the database, and rendering. The
// binary's main package only calls Run. The model is tailscale's
// cmd/tailscale (a thin main) and cmd/tailscale/cli.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/msgguard/msgguard/install"
	"github.com/msgguard/msgguard/platform"
)

// Exit codes, decided here and documented in the README.
const (
	exitCompliant    = 0 // scan/status: compliant; other verbs: success
	exitNotCompliant = 1 // scan/status: not compliant
	exitUsage        = 2 // usage, configuration or policy error
	exitNoScan       = 3 // status: no scan recorded yet
)

// Env is what a verb may use from the process: output streams, environment
// variables, the effective user and a logger. Tests build their own.
type Env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	euid           int
	goos           string
	log            zerolog.Logger
	// phoneRun runs adb/libimobiledevice; nil means exec by absolute path.
	phoneRun platform.Runner
	// now is the clock; nil means time.Now (tests move it).
	now func() time.Time
	// verbose makes the human report show full texts and evidence
	// (status and scan --verbose).
	verbose bool
}

// clock returns the current time from e.now, or time.Now.
func (e *Env) clock() time.Time {
	if e.now != nil {
		return e.now()
	}
	return time.Now()
}

func NewEnv(stdout, stderr io.Writer) *Env {
	return &Env{
		stdout: stdout,
		stderr: stderr,
		getenv: os.Getenv,
		euid:   os.Geteuid(),
		goos:   runtime.GOOS,
		// Diagnostics go to stderr as structured JSON; the human report is
		// on stdout.
		log: zerolog.New(stderr).Level(zerolog.WarnLevel).With().Timestamp().Logger(),
	}
}

// verb is one CLI command.
type verb struct {
	summary string
	run     func(ctx context.Context, e *Env, args []string) int
}

// verbs is the CLI's command table.
func verbs() map[string]verb {
	vs := map[string]verb{
		"scan":     {"inspect this device, store and print the result", cmdScan},
		"status":   {"show what the last scan found", cmdStatus},
		"policy":   {"policy default|check FILE|show: print or validate policies", cmdPolicy},
		"version":  {"print the agent's version", cmdVersion},
		"phones":   {"list attached Android/iOS phones and whether they can be inspected", cmdPhones},
		"drift":    {"list drift events: what changed on this device and when", cmdDrift},
		"baseline": {"baseline show|accept: the recorded state drift is measured against", cmdBaseline},
	}
	maps.Copy(vs, serviceVerbs())    // run, install, uninstall, start, stop, restart (cmd_service.go)
	maps.Copy(vs, complianceVerbs()) // attest, exempt, explain, privacy (cmd_attest.go)
	return vs
}

// Run runs the verb named by args[0] and returns the exit code.
func Run(ctx context.Context, args []string, e *Env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return 0
	}
	v, ok := verbs()[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "agent: unknown command %q\n\n", args[0])
		usage(e.stderr)
		return exitUsage
	}
	return v.run(ctx, e, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: agent <command> [flags]\n\ncommands:")
	vs := verbs()
	names := make([]string, 0, len(vs))
	for n := range vs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, vs[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'agent <command> -h' for a command's flags.")
}

// newFlags returns a flag set that reports errors on e.stderr without
// exiting the process.
func newFlags(e *Env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("agent "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parseFlags parses args and maps -h and errors to exit codes.
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return exitUsage, false
	}
	return 0, true
}

// defaultDB is /var/lib/msgguard/state.db (per OS) for root, and a file under
// $XDG_STATE_HOME for anyone else, so a developer can run the agent
// unprivileged.
func (e *Env) defaultDB() string {
	if e.euid == 0 || e.goos == "windows" {
		return install.PathsFor(e.goos, e.getenv("ProgramData")).DB
	}
	state := e.getenv("XDG_STATE_HOME")
	if state == "" || !filepath.IsAbs(state) {
		home := e.getenv("HOME")
		if home == "" {
			home = "."
		}
		state = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(state, "msgguard", "state.db")
}

// lang picks the output language: --lang wins, then LC_ALL, LC_MESSAGES and
// LANG as POSIX orders them; German for "de*", English otherwise.
func (e *Env) lang(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := e.getenv(k); v != "" {
			if strings.HasPrefix(strings.ToLower(v), "de") {
				return "de"
			}
			return "en"
		}
	}
	return "en"
}
