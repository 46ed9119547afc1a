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
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/msgguard/msgguard/agent/msg"

	"github.com/rs/zerolog"

	"github.com/msgguard/msgguard/agent/status"
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
		// Diagnostics go to stderr as readable lines (level, message,
		// fields) above the human messages; the report is on stdout. The
		// service (agent run) logs JSON.
		log: zerolog.New(zerolog.ConsoleWriter{Out: stderr, NoColor: true, PartsExclude: []string{zerolog.TimestampFieldName}}).
			Level(zerolog.WarnLevel),
	}
}

// verb is one CLI command: its usage line, one help text, and what runs it.
type verb struct {
	name    string
	usage   string // after "agent "; one line per form
	summary string
	run     func(ctx context.Context, e *Env, args []string) int
	// signals: the verb runs with a context that SIGINT and SIGTERM
	// cancel (see Run).
	signals bool
}

// verbs is the CLI's command table, in the order `agent help` lists it.
func verbs() []verb {
	return []verb{
		{"scan", "scan [--json] [--lang LANG] [--db FILE] [--root DIR --platform OS] [--phone SERIAL | --phones]",
			msg.N("inspect this device, store and print the result"), cmdScan, true},
		{"status", "status [--json] [--lang LANG] [--verbose] [--db FILE] [--socket PATH]",
			msg.N("show what the last scan found"), cmdStatus, false},
		{"drift", "drift [--since AGE] [--all] [--json] [--lang LANG] [--db FILE] [--socket PATH]",
			msg.N("list drift events: what changed on this device and when"), cmdDrift, false},
		{"explain", "explain RULE [--device ID] [--json] [--lang LANG] [--db FILE] [--socket PATH]",
			msg.N("what a rule checks, why, how to fix it, and its history on this device"), cmdExplain, false},
		{"attest", "attest RULE --by NAME [--note TEXT] [--until DATE] [--device ID]\nattest --list [--json] [--lang LANG]",
			msg.N("record that a person confirmed an organisational measure, or list the records"), cmdAttest, true},
		{"exempt", "exempt RULE [--subject S] [--user U] --reason TEXT --approver NAME --until DATE [--device ID]\nexempt --list [--json] [--lang LANG]",
			msg.N("waive a rule on this device until a date, or list the local exemptions"), cmdExempt, true},
		{"baseline", "baseline show [--json] [--lang LANG] [--device ID] [--db FILE] [--socket PATH]\nbaseline accept --by NAME --why TEXT [--device ID] [--db FILE] [--socket PATH]",
			msg.N("the recorded state drift is measured against: show it, or accept the current state"), cmdBaseline, true},
		{"phones", "phones [--json] [--lang LANG] [--adb PATH]",
			msg.N("list attached Android/iOS phones and whether they can be inspected"), cmdPhones, true},
		{"policy", "policy default | check FILE | show [--policy FILE] [--json] [--lang LANG]",
			msg.N("print the default policy, validate a policy file, or show the policy in force"), cmdPolicy, false},
		{"privacy", "privacy [--config FILE] [--json] [--lang LANG]",
			msg.N("list exactly what the agent stores and sends, where, and for how long"), cmdPrivacy, false},
		{"version", "version [--json] [--lang LANG]", msg.N("print the agent's version"), cmdVersion, false},
		{"run", "run [--config FILE]", msg.N("run the agent in the foreground (what the service manager starts)"), cmdRun, true},
		{"install", "install [--policy FILE] [--config FILE] [--no-start]", msg.N("install, enable and start the service"), cmdInstall, true},
		{"uninstall", "uninstall [--purge]", msg.N("stop and remove the service (data kept unless --purge)"), cmdUninstall, true},
		{"start", "start", msg.N("start the installed service"), control("start", (*install.Manager).Start), true},
		{"stop", "stop", msg.N("stop the service"), control("stop", (*install.Manager).Stop), true},
		{"restart", "restart", msg.N("restart the service"), control("restart", (*install.Manager).Restart), true},
	}
}

// printDefaults is flag.PrintDefaults with each flag's help (marked with
// msg.N where it is defined) and the default in lang. English keeps the
// flag package's own output.
func printDefaults(fs *flag.FlagSet, lang string) {
	if msg.FromLocale(lang) != msg.DE {
		fs.PrintDefaults()
		return
	}
	fs.VisitAll(func(f *flag.Flag) {
		g := *f
		g.Usage = msg.T(lang, f.Usage)
		name, help := flag.UnquoteUsage(&g)
		var b strings.Builder
		fmt.Fprintf(&b, "  -%s", f.Name)
		if name != "" {
			b.WriteString(" " + name)
		}
		b.WriteString("\n    \t" + strings.ReplaceAll(help, "\n", "\n    \t"))
		switch def := f.DefValue; {
		case def == "" || def == "false" || def == "0" || def == "0s":
		case fmt.Sprintf("%T", f.Value) == "*flag.stringValue":
			fmt.Fprintf(&b, " (%s %q)", msg.T(lang, "default:"), def)
		default:
			fmt.Fprintf(&b, " (%s %s)", msg.T(lang, "default:"), def)
		}
		fmt.Fprintln(fs.Output(), b.String())
	})
}

// lookup returns the verb named name.
func lookup(name string) (verb, bool) {
	for _, v := range verbs() {
		if v.name == name {
			return v, true
		}
	}
	return verb{}, false
}

// Run runs the verb named by args[0] and returns the exit code.
func Run(ctx context.Context, args []string, e *Env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) == 2 && args[0] == "help" {
			if v, ok := lookup(args[1]); ok {
				return v.run(ctx, e, []string{"-h"})
			}
		}
		usage(e.stderr, e.lang(langArg(args)))
		if len(args) == 0 {
			return exitUsage
		}
		return 0
	}
	v, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(e.stderr, "agent: "+msg.T(e.lang(langArg(args)), "unknown command %q")+"\n\n", args[0])
		usage(e.stderr, e.lang(langArg(args)))
		return exitUsage
	}
	if v.signals {
		// A scan, a write to the database, the service and an install
		// stop cleanly on SIGINT and SIGTERM (the database closed, an
		// install rolled back). The read verbs do not listen: they write
		// nothing, so an interrupt may simply end them, and listening
		// costs a start-up a thread (os/signal starts a goroutine that
		// waits for signals): creating and tearing it down was a quarter
		// of `agent version`'s time.
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
	}
	return v.run(ctx, e, args[1:])
}

func usage(w io.Writer, lang string) {
	fmt.Fprintln(w, msg.T(lang, "usage: agent <command> [flags]\n\ncommands:"))
	for _, v := range verbs() {
		fmt.Fprintf(w, "  %-10s %s\n", v.name, msg.T(lang, v.summary))
	}
	fmt.Fprintln(w, msg.T(lang, "\nRun 'agent <command> -h' (or 'agent help <command>') for a command's flags."))
}

// The common flags, chosen per verb with e.flags.
const (
	flagJSON   = 1 << iota // --json: print JSON
	flagLang               // --lang en|de
	flagDB                 // --db FILE
	flagSocket             // --socket PATH
	flagPolicy             // --policy FILE: the policy in force
)

// common holds a verb's flag set and the common flags' values.
type common struct {
	verb   string   // as errors name it: "baseline accept"
	args   []string // as given: a --lang the flag package did not reach still counts
	fs     *flag.FlagSet
	json   bool
	langF  string
	db     string
	socket string
	policy string
	e      *Env
}

// flags returns the flag set of verb (its help text from the verb table)
// with the common flags in which.
func (e *Env) flags(name string, which int) *common {
	c := &common{verb: name, e: e, fs: flag.NewFlagSet("agent "+name, flag.ContinueOnError)}
	c.fs.SetOutput(e.stderr)
	top, _, _ := strings.Cut(name, " ")
	if v, ok := lookup(top); ok {
		c.fs.Usage = func() {
			lang := c.lang()
			for _, l := range strings.Split(v.usage, "\n") {
				fmt.Fprintf(e.stderr, "%s agent %s\n", msg.T(lang, "usage:"), l)
			}
			fmt.Fprintf(e.stderr, "\n%s\n\n%s\n", msg.T(lang, v.summary), msg.T(lang, "flags:"))
			printDefaults(c.fs, lang)
		}
	}
	if which&flagJSON != 0 {
		c.fs.BoolVar(&c.json, "json", false, msg.N("print JSON instead of text"))
	}
	if which&flagLang != 0 {
		c.fs.StringVar(&c.langF, "lang", "", msg.N("output `language`: en or de (default from LC_ALL, LC_MESSAGES, LANG)"))
	}
	if which&flagDB != 0 {
		c.fs.StringVar(&c.db, "db", e.defaultDB(), msg.N("database `file` (given: use it instead of asking the running service)"))
	}
	if which&flagSocket != 0 {
		c.fs.StringVar(&c.socket, "socket", e.paths().Socket, msg.N("local API `socket` (named pipe on Windows) of the running service, asked first; empty: use the database"))
	}
	if which&flagPolicy != 0 {
		c.fs.StringVar(&c.policy, "policy", "", msg.N("policy `file` (default: the installed policy, else the embedded one; a running service uses its own)"))
	}
	return c
}

// parse parses args and maps -h and errors to exit codes; a --lang other
// than en or de is a usage error. The flag package's own error (an
// unknown flag, a bad value) is printed in the language the arguments or
// the environment ask for, followed by the usage.
func (c *common) parse(args []string) (int, bool) {
	if c.args == nil {
		c.args = args
	}
	usage := c.fs.Usage
	c.fs.Usage = func() {}
	out := c.fs.Output()
	c.fs.SetOutput(io.Discard)
	err := c.fs.Parse(args)
	c.fs.Usage = usage
	c.fs.SetOutput(out)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			c.e.complain(c.verb, flagError(err, c.lang()))
		}
		c.fs.Usage()
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return exitUsage, false
	}
	return c.checkLang()
}

// langArg returns the value of a --lang (or -lang) among args, or "".
// Errors found while parsing them are printed in that language when it is
// one the agent speaks.
func langArg(args []string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "lang" {
			continue
		}
		if !hasValue && i+1 < len(args) {
			value = args[i+1]
		}
		if _, ok := msg.Parse(value); ok {
			return value
		}
	}
	return ""
}

// flagErrors are the flag package's error messages
// (https://pkg.go.dev/flag, FlagSet.Parse), each with its German text;
// compiled on the first flag error, not at every start.
var flagErrors = sync.OnceValue(func() []flagErrorText {
	return []flagErrorText{
		{regexp.MustCompile(`^flag provided but not defined: (.*)$`), func(l string) string { return msg.T(l, "unknown flag %s") }},
		{regexp.MustCompile(`^flag needs an argument: (.*)$`), func(l string) string { return msg.T(l, "flag %s needs a value") }},
		{regexp.MustCompile(`^bad flag syntax: (.*)$`), func(l string) string { return msg.T(l, "bad flag syntax: %s") }},
		{regexp.MustCompile(`^invalid boolean value (".*") for (.*): (.*)$`), func(l string) string { return msg.T(l, "invalid value %s for %s (want true or false): %s") }},
		{regexp.MustCompile(`^invalid boolean flag (.*): (.*)$`), func(l string) string { return msg.T(l, "invalid boolean flag %s: %s") }},
		{regexp.MustCompile(`^invalid value (".*") for flag (.*): (.*)$`), func(l string) string { return msg.T(l, "invalid value %s for %s: %s") }},
	}
})

type flagErrorText struct {
	re *regexp.Regexp
	t  func(lang string) string
}

// flagError is a flag parse error in lang; one the table does not know
// stays as the flag package wrote it.
func flagError(err error, lang string) string {
	s := err.Error()
	for _, f := range flagErrors() {
		if m := f.re.FindStringSubmatch(s); m != nil {
			args := make([]any, len(m)-1)
			for i, v := range m[1:] {
				args[i] = v
			}
			return fmt.Sprintf(f.t(lang), args...)
		}
	}
	return s
}

// complain prints text, already in the user's language, as verb's error.
func (e *Env) complain(verb, text string) {
	fmt.Fprintf(e.stderr, "agent %s: %s\n", verb, text)
}

// parseInterleaved parses flags that may come before or after the
// positional arguments ("agent attest RULE --by NAME"): the standard flag
// package stops at the first non-flag.
func (c *common) parseInterleaved(args []string) (pos []string, code int, ok bool) {
	for {
		if code, ok := c.parse(args); !ok {
			return nil, code, false
		}
		args = c.fs.Args()
		if len(args) == 0 {
			return pos, 0, true
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func (c *common) checkLang() (int, bool) {
	if _, ok := msg.Parse(c.langF); ok || c.langF == "" {
		return 0, true
	}
	c.e.complain(c.verb, fmt.Sprintf(msg.T(c.e.lang(""), "--lang %q: want en or de"), c.langF))
	return exitUsage, false
}

// given reports whether any of the named flags was given.
func (c *common) given(names ...string) bool { return flagGiven(c.fs, names...) }

// lang is the output language: --lang, else the environment's. A --lang
// the flag package has not reached (after an argument it stops at, or
// in arguments it failed on) counts too.
func (c *common) lang() string {
	if c.langF != "" {
		return c.e.lang(c.langF)
	}
	return c.e.lang(langArg(c.args))
}

// noArgs refuses positional arguments.
func (c *common) noArgs() (int, bool) {
	if c.fs.NArg() > 0 {
		c.e.complain(c.verb, fmt.Sprintf(msg.T(c.lang(), "unexpected argument %q"), c.fs.Arg(0)))
		return exitUsage, false
	}
	return 0, true
}

// admin reports whether the caller may record and manage the service:
// root, or on Windows anyone (the database's ACL and the service manager
// decide there).
func (e *Env) admin() bool { return e.goos == "windows" || e.euid == 0 }

// verdict is the exit code of scan and status: compliant only when the
// computer and every attached phone are.
func verdict(r *status.Report) int {
	if allCompliant(r) {
		return exitCompliant
	}
	return exitNotCompliant
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

// lang picks the output language: --lang (already checked) wins, then
// the environment (msg.FromEnv).
func (e *Env) lang(flagValue string) string {
	if l, ok := msg.Parse(flagValue); ok {
		return l
	}
	return msg.FromEnv(e.getenv)
}
