package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"text/tabwriter"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/config"
	"github.com/msgguard/msgguard/agent/localapi"
	"github.com/msgguard/msgguard/agent/records"
	"github.com/msgguard/msgguard/agent/scan"
	"github.com/msgguard/msgguard/agent/store"
	"github.com/msgguard/msgguard/install"
	"github.com/msgguard/msgguard/policy"
)

// complianceVerbs are the compliance workflow's verbs; verbs() merges them
// into the command table.
func complianceVerbs() map[string]verb {
	return map[string]verb{
		"attest":  {"attest RULE --by NAME [--until DATE] | --list: record that a person confirmed an organisational measure", cmdAttest},
		"exempt":  {"exempt RULE --reason TEXT --approver NAME --until DATE | --list: waive a rule on this device until a date", cmdExempt},
		"privacy": {"list exactly what the agent stores and sends, where, and for how long", cmdPrivacy},
		"explain": {"explain RULE: what a rule checks, why, how to fix it, and its history on this device", cmdExplain},
	}
}

// complianceStore returns the workflow's store on st's database (nil st: a
// dry run without records) with the configured retention.
func complianceStore(st *store.Store, r config.Retention) *compliance.Store {
	var db *bolt.DB
	if st != nil {
		db = st.DB()
	}
	return compliance.NewStore(db, compliance.Retention{MaxAge: time.Duration(r.Days) * policy.Day})
}

// parseInterleaved parses flags that may come before or after the
// positional arguments ("agent attest RULE --by NAME"): the standard flag
// package stops at the first non-flag.
func parseInterleaved(fs *flag.FlagSet, args []string) (pos []string, code int, ok bool) {
	for {
		if code, ok := parseFlags(fs, args); !ok {
			return nil, code, false
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, 0, true
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// requireRoot refuses a verb that records something for anyone but an
// administrator (root; on Windows the database's ACL decides).
func requireRoot(e *Env, verb, example string) bool {
	if e.goos == "windows" || e.euid == 0 {
		return true
	}
	fmt.Fprintf(e.stderr, "agent %s: only an administrator may record this (try: sudo agent %s)\n", verb, example)
	return false
}

// policyInForce loads --policy, else the installed policy file, else the
// embedded default: the policy the service uses.
func policyInForce(e *Env, file string) (scan.Policy, error) {
	if file == "" {
		if inst := install.PathsFor(e.goos, e.getenv("ProgramData")).Policy; fileExists(inst) {
			file = inst
		}
	}
	return loadPolicy(file)
}

// errServiceHoldsDB says why attest/exempt cannot record in the database
// while the service runs (with --db, or a service that does not answer or
// predates the record endpoints): the service holds the database.
var errServiceHoldsDB = errors.New("the msgguard service is running and holds the database; stop it ('agent stop'), record, then start it again ('agent start')")

// openForRecord opens the database to record an attestation or exemption.
// A missing database means no device has been scanned yet.
func openForRecord(e *Env, path string) (*store.Store, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no scan recorded yet in %s; run 'agent scan' first (a confirmation belongs to a scanned device)", path)
	}
	st, err := store.Open(path, store.Options{Timeout: time.Second, Log: e.log, Now: e.clock})
	if errors.Is(err, store.ErrLocked) {
		return nil, errServiceHoldsDB
	}
	return st, err
}

// targetDevice returns the device a record is for: --device, else the
// computer's own (the primary device of the database), with its latest
// report (nil when --device names a device without one).
func targetDevice(st *store.Store, device string) (string, *lastScan, error) {
	r, err := st.Latest(device)
	switch {
	case errors.Is(err, store.ErrNoScan) && device == "":
		return "", nil, errors.New("no scan of this computer recorded yet; run 'agent scan' first")
	case errors.Is(err, store.ErrNoScan):
		return "", nil, fmt.Errorf("no device %q in the database (see the device ids in 'agent status --json')", device)
	case err != nil:
		return "", nil, err
	}
	return r.Device.ID, &lastScan{r.Inventory}, nil
}

// recordLocal records into the database itself (no service running): it
// validates with build before anything is opened, so that a typo is
// reported first, then opens the store, resolves the device, builds the
// record for it and saves it. It returns the record and what the device's
// last scan found.
func recordLocal[T any](e *Env, dbPath, device string,
	build func(device string, now time.Time) (T, error),
	save func(*compliance.Store, T) error) (T, *lastScan, error) {
	var zero T
	now := e.clock()
	if _, err := build("check", now); err != nil {
		return zero, nil, err
	}
	st, err := openForRecord(e, dbPath)
	if err != nil {
		return zero, nil, err
	}
	defer st.Close()
	dev, last, err := targetDevice(st, device)
	if err != nil {
		return zero, nil, err
	}
	rec, err := build(dev, now)
	if err == nil {
		err = save(complianceStore(st, config.Retention{}), rec)
	}
	if err != nil {
		return zero, nil, err
	}
	return rec, last, nil
}

// lastScan is what a record command needs from the device's latest report.
type lastScan struct{ inv *policy.Inventory }

func cmdAttest(ctx context.Context, e *Env, args []string) int {
	fs := newFlags(e, "attest")
	by := fs.String("by", "", "`name` of the person who confirmed it (required)")
	note := fs.String("note", "", "optional `text`: how it was checked, a ticket number")
	until := fs.String("until", "", "end `date` (YYYY-MM-DD, valid through that day, UTC; default: the rule's full validity)")
	device := fs.String("device", "", "device `id` (a phone's id from 'agent status --json'; default: this computer)")
	list := fs.Bool("list", false, "list the recorded attestations instead")
	jsonOut := fs.Bool("json", false, "with --list: print JSON")
	dbPath := fs.String("db", e.defaultDB(), "database `file` (given: record or list there instead of through the running service)")
	polFile := fs.String("policy", "", "policy `file` (default: the installed policy, else the embedded one; the running service checks against its own)")
	lang := fs.String("lang", "", "output language: en or de (default from LANG)")
	socket := fs.String("socket", e.paths().Socket, "local API `socket` (named pipe on Windows) of the running service, which then records or lists; empty: open the database")
	pos, code, ok := parseInterleaved(fs, args)
	if !ok {
		return code
	}
	if *list {
		if len(pos) > 0 {
			fmt.Fprintln(e.stderr, "agent attest: --list takes no rule")
			return exitUsage
		}
		return listRecords(ctx, e, "attest", *dbPath, serviceSocket(fs, *socket), *device, *jsonOut, e.lang(*lang))
	}
	if len(pos) != 1 {
		fmt.Fprintln(e.stderr, "usage: agent attest RULE --by NAME [--note TEXT] [--until DATE] [--device ID]\n       agent attest --list [--json]")
		return exitUsage
	}
	req := compliance.AttestRequest{Rule: pos[0], By: *by, Note: *note}
	var err error
	if *until != "" {
		if req.Until, err = policy.ParseDate(*until); err != nil {
			fmt.Fprintf(e.stderr, "agent attest: --until: %v\n", err)
			return exitUsage
		}
	}
	l := e.lang(*lang)
	example := "attest " + pos[0] + " --by NAME"
	// While the service runs it holds the database: it records, checking
	// the request against the policy it runs, and rescans.
	if *socket != "" && !flagSet(fs, "db") {
		areq := apitype.AttestRequest{Rule: pos[0], By: *by, Note: *note, Until: *until, Device: *device}
		if code, ok := recordViaService(ctx, e, "attest", example, *socket, flagSet(fs, "policy"), func(c *localapi.Client) error {
			res, err := c.Attest(ctx, areq)
			if err == nil {
				printAttested(e, res.Attestation, res.Applies, l)
				printRescan(e, res.Rescan, l)
			}
			return err
		}); ok {
			return code
		}
	}
	if !requireRoot(e, "attest", example) {
		return exitUsage
	}
	pol, err := policyInForce(e, *polFile)
	if err != nil {
		fmt.Fprintf(e.stderr, "agent attest: %v\n", err)
		return exitUsage
	}
	a, last, err := recordLocal(e, *dbPath, *device, func(dev string, now time.Time) (compliance.Attestation, error) {
		req.Device = dev
		return compliance.NewAttestation(pol.Policy, req, now)
	}, func(cs *compliance.Store, a compliance.Attestation) error { return cs.Attest(a) })
	if err != nil {
		fmt.Fprintf(e.stderr, "agent attest: %v\n", err)
		return exitUsage
	}
	applies := true
	if r := pol.Policy.Attestation(a.Rule); last != nil && last.inv != nil {
		applies = r.AppliesWhen.Applies(last.inv)
	}
	printAttested(e, a, applies, l)
	fmt.Fprintln(e.stdout, pick(l, "the next scan ('agent scan') shows it", "der nächste Scan ('agent scan') zeigt sie an"))
	return 0
}

// printAttested confirms a recorded attestation; applies is false when the
// rule does not apply to the device's last scan.
func printAttested(e *Env, a compliance.Attestation, applies bool, l string) {
	fmt.Fprintf(e.stdout, pick(l, "recorded: %s attested by %s for device %s, valid until %s\n", "erfasst: %s bestätigt von %s für Gerät %s, gültig bis %s\n"),
		a.Rule, a.By, a.Device, compliance.FormatDay(a.Until, l))
	if !applies {
		fmt.Fprintln(e.stdout, pick(l, "note: the rule does not apply to this device's last scan, so no finding shows it yet",
			"Hinweis: Die Regel trifft auf den letzten Scan dieses Geräts nicht zu; noch zeigt sie kein Ergebnis an"))
	}
}

// printRescan says whether the service's rescan after a record already
// shows it.
func printRescan(e *Env, r apitype.Rescan, l string) {
	switch {
	case r.Error != "":
		fmt.Fprintf(e.stdout, pick(l, "the service could not rescan (%s); its next scan shows it\n",
			"der Dienst konnte nicht erneut scannen (%s); sein nächster Scan zeigt sie an\n"), r.Error)
	case !r.Covered:
		fmt.Fprintln(e.stdout, pick(l, "the service rescanned, but not this device (is the phone attached?); its next scan of the device shows it",
			"der Dienst hat erneut gescannt, aber nicht dieses Gerät (ist das Smartphone angeschlossen?); sein nächster Scan des Geräts zeigt sie an"))
	default:
		fmt.Fprintln(e.stdout, pick(l, "the service rescanned; 'agent status' shows it", "der Dienst hat erneut gescannt; 'agent status' zeigt sie an"))
	}
}

// recordViaService lets the running service record (attest, exempt,
// baseline accept), since it holds the database. handled is false when no
// service answers, so that the caller records in the database itself.
// policyGiven warns that --policy does not apply: the service checks
// against the policy it runs.
func recordViaService(ctx context.Context, e *Env, verb, example, socket string, policyGiven bool, call func(*localapi.Client) error) (code int, handled bool) {
	c, err := localapi.Dial(ctx, socket)
	if err != nil {
		return 0, false
	}
	defer c.Close()
	if policyGiven {
		fmt.Fprintf(e.stderr, "agent %s: the service is running and checks the request against the policy it runs; --policy is ignored\n", verb)
	}
	err = call(c)
	var denied *localapi.AccessDeniedError
	var api *localapi.APIError
	switch {
	case err == nil:
		return 0, true
	case errors.As(err, &denied):
		fmt.Fprintf(e.stderr, "agent %s: only an administrator may record this (try: sudo agent %s)\n", verb, example)
	case errors.As(err, &api) && api.Code == http.StatusBadRequest:
		fmt.Fprintf(e.stderr, "agent %s: %s\n", verb, api.Msg)
	case errors.As(err, &api) && (api.Code == http.StatusNotFound || api.Code == http.StatusNotImplemented):
		fmt.Fprintf(e.stderr, "agent %s: the running service cannot record this (an older version?); %v\n", verb, errServiceHoldsDB)
	default:
		fmt.Fprintf(e.stderr, "agent %s: %v\n", verb, err)
	}
	return exitUsage, true
}

// pick returns en or de by language.
func pick(lang, en, de string) string {
	if policy.NormalizeLang(lang) == "de" {
		return de
	}
	return en
}

// listRecords prints the recorded attestations (verb attest) or local
// exemptions (verb exempt): from the running service, which holds the
// database (socket non-empty), else from the database read-only. Both
// paths print the same.
func listRecords(ctx context.Context, e *Env, verb, path, socket, device string, asJSON bool, lang string) int {
	if code, ok := readViaService(ctx, e, verb, socket, func(c *localapi.Client) (int, error) {
		if verb == "attest" {
			l, err := c.Attestations(ctx, device)
			if err != nil {
				return 0, err
			}
			return printAttestations(e, l, asJSON, lang), nil
		}
		l, err := c.Exemptions(ctx, device)
		if err != nil {
			return 0, err
		}
		return printExemptions(e, l, asJSON, lang), nil
	}); ok {
		return code
	}
	st, err := store.Open(path, store.Options{ReadOnly: true, Timeout: time.Second})
	switch {
	case errors.Is(err, store.ErrNoDatabase):
		fmt.Fprintf(e.stderr, "agent %s: no database at %s; nothing recorded yet\n", verb, path)
		return exitNoScan
	case errors.Is(err, store.ErrLocked):
		fmt.Fprintf(e.stderr, "agent %s: %v\n", verb, errServiceHoldsDBForRead)
		return exitUsage
	case err != nil:
		fmt.Fprintf(e.stderr, "agent %s: %v\n%s", verb, err, dbHint(err))
		return exitUsage
	}
	defer st.Close()
	if verb == "attest" {
		l, err := records.Attestations(st.DB(), device)
		if err != nil {
			fmt.Fprintf(e.stderr, "agent %s: %v\n", verb, err)
			return exitUsage
		}
		return printAttestations(e, l, asJSON, lang)
	}
	l, err := records.Exemptions(st.DB(), device)
	if err != nil {
		fmt.Fprintf(e.stderr, "agent %s: %v\n", verb, err)
		return exitUsage
	}
	return printExemptions(e, l, asJSON, lang)
}

// recordState is a record's state column.
func recordState(expired bool, lang string) string {
	if expired {
		return pick(lang, "expired", "abgelaufen")
	}
	return pick(lang, "valid", "gültig")
}

// printAttestations prints `agent attest --list`; a redacted list shows
// "(not shown)" for the names and no notes.
func printAttestations(e *Env, l *apitype.AttestationList, asJSON bool, lang string) int {
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return encodeOrFail(e, "attest", enc.Encode(l))
	}
	if len(l.Attestations) == 0 {
		fmt.Fprintln(e.stdout, pick(lang, "no attestations recorded", "keine Bestätigungen erfasst"))
		return 0
	}
	now := e.clock()
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, pick(lang, "RULE\tDEVICE\tBY\tON\tUNTIL\tSTATE\tNOTE", "REGEL\tGERÄT\tVON\tAM\tBIS\tSTATUS\tNOTIZ"))
	for _, a := range l.Attestations {
		by := a.By
		if l.Redacted {
			by = withheld(lang)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Rule, a.Device, by, compliance.FormatDay(a.At.Add(time.Nanosecond), lang),
			compliance.FormatDay(a.Until, lang), recordState(a.Expired(now), lang), a.Note)
	}
	if err := tw.Flush(); err != nil {
		return encodeOrFail(e, "attest", err)
	}
	printRedacted(e, l.Redacted, lang)
	return 0
}

// printExemptions prints `agent exempt --list`; a redacted list shows
// "(not shown)" for the approvers and no reasons.
func printExemptions(e *Env, l *apitype.ExemptionList, asJSON bool, lang string) int {
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return encodeOrFail(e, "exempt", enc.Encode(l))
	}
	if len(l.Exemptions) == 0 {
		fmt.Fprintln(e.stdout, pick(lang, "no local exemptions recorded (exemptions in the policy: 'agent explain RULE')", "keine lokalen Ausnahmen erfasst (Ausnahmen in der Richtlinie: 'agent explain REGEL')"))
		printRedacted(e, l.Redacted, lang)
		return 0
	}
	now := e.clock()
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, pick(lang, "RULE\tSUBJECT\tUSER\tDEVICE\tAPPROVER\tUNTIL\tSTATE\tREASON", "REGEL\tGEGENSTAND\tBENUTZER\tGERÄT\tGENEHMIGT VON\tBIS\tSTATUS\tBEGRÜNDUNG"))
	for _, x := range l.Exemptions {
		approver := x.Approver
		if l.Redacted {
			approver = withheld(lang)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.Rule, orAny(x.Subject, lang), orAny(x.User, lang), x.Device, approver,
			compliance.FormatDay(x.Until, lang), recordState(x.Expired(now), lang), x.Reason)
	}
	if err := tw.Flush(); err != nil {
		return encodeOrFail(e, "exempt", err)
	}
	printRedacted(e, l.Redacted, lang)
	return 0
}

// printRedacted adds the footnote of a redacted answer.
func printRedacted(e *Env, redacted bool, lang string) {
	if redacted {
		fmt.Fprint(e.stdout, "\n"+wrap(redactedNote(lang), 0, lineWidth))
	}
}

func encodeOrFail(e *Env, verb string, err error) int {
	if err != nil {
		fmt.Fprintf(e.stderr, "agent %s: %v\n", verb, err)
		return exitUsage
	}
	return 0
}

func orAny(s, lang string) string {
	if s == "" {
		return pick(lang, "(any)", "(alle)")
	}
	return s
}
