package cli

import (
	"context"
	"encoding"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/msgguard/msgguard/agent/msg"

	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/config"
	"github.com/msgguard/msgguard/agent/daemon"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/report"
	"github.com/msgguard/msgguard/agent/report/outbox"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/agent/store"
	"github.com/msgguard/msgguard/platform/browser"
	"github.com/msgguard/msgguard/policy"
)

// cmdPrivacy is `agent privacy`: exactly what the agent stores and sends,
// where and for how long, for a works council or data protection officer.
// Nothing here is prose about the data: the fields are read from the data
// types the agent serialises (reflection over their JSON names), the
// retention and destinations from the live configuration, and the monitoring
// sinks' payloads are rendered by the same functions that write them. A
// field added to a stored type appears here by itself (and fails
// TestPrivacyFieldsReviewed until someone classifies it).
func cmdPrivacy(ctx context.Context, e *Env, args []string) int {
	paths := e.paths()
	c := e.flags("privacy", flagJSON|flagLang)
	fs := c.fs
	cfgPath := fs.String("config", paths.Config, msg.N("agent configuration `file` (default: the installed one; missing: the defaults)"))
	if code, ok := c.parse(args); !ok {
		return code
	}
	if code, ok := c.noArgs(); !ok {
		return code
	}
	jsonOut, lang := &c.json, c.lang()
	cfg, err := loadRunConfig(fs, *cfgPath, config.Default(paths))
	if err != nil {
		e.complain("privacy", msg.Dynamic(lang, err.Error()))
		return exitUsage
	}
	source := *cfgPath
	if !fileExists(*cfgPath) {
		source = msg.T(lang, "(no configuration file: defaults)")
	}
	v := buildPrivacy(cfg, source, lang)
	if *jsonOut {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return encodeOrFail(e, "privacy", enc.Encode(v))
	}
	writePrivacy(e.stdout, v, lang)
	return 0
}

// PrivacySchemaVersion versions the JSON of `agent privacy --json`.
const PrivacySchemaVersion = 1

// privacyView is `agent privacy --json`.
type privacyView struct {
	SchemaVersion int    `json:"schema_version"`
	Config        string `json:"config"`
	// Stored is what the agent keeps on this device.
	Stored []storedData `json:"stored"`
	// Sent is what leaves the device, one entry per configured sink.
	Sent []sentData `json:"sent"`
	// Local is who on this device can read what.
	Local []string `json:"local"`
	// Never lists what the probes never collect (policy.Inventory's
	// contract).
	Never []string `json:"never"`
	// Browsers is what browser inspection reads and keeps (platform/browser).
	Browsers browser.Privacy `json:"browsers"`
}

type storedData struct {
	What      string  `json:"what"`
	Where     string  `json:"where"`
	Retention string  `json:"retention"`
	Fields    []field `json:"fields"`
}

type sentData struct {
	Sink        string  `json:"sink"`
	Type        string  `json:"type"`
	Destination string  `json:"destination"`
	When        string  `json:"when"`
	Filter      string  `json:"filter,omitempty"`
	Retention   string  `json:"retention,omitempty"`
	Fields      []field `json:"fields,omitempty"`
	// Example is the exact payload the sink writes for a sample device.
	Example []string `json:"example,omitempty"`
	// Error is set for a malformed sink, which is not started.
	Error string `json:"error,omitempty"`
}

// field is one serialised field: its JSON path, and why it is personal
// data ("" when it is not).
type field struct {
	Path     string `json:"path"`
	Personal string `json:"personal,omitempty"`
}

// personalFields are the fields that name or point to a person, by Go
// type and JSON name. Every other field is about the device, the policy or
// the agent. TestPrivacyFieldsReviewed keeps this list complete.
var personalFields = map[string]string{
	"policy.Device.hostname":              "computer names often contain the user's name",
	"policy.Device.label":                 "an owner label an administrator gives a phone",
	"policy.User.name":                    "a local account name",
	"policy.User.uid":                     "a local account id",
	"policy.User.home":                    "a home directory, named after the user",
	"policy.Finding.user":                 "the local account a finding is about",
	"policy.Finding.message":              "may quote a file path in a user's home",
	"policy.FindingText.message":          "may quote a file path in a user's home",
	"policy.FindingText.exemption_reason": "free text in the policy about an exemption",
	"policy.Evidence.location":            "may be a file path in a user's home",
	"policy.Messenger.user":               "the local account a messenger was found for",
	"policy.Messenger.location":           "may be a file path in a user's home",
	"policy.Problem.path":                 "may be a file path in a user's home",
	"policy.Problem.message":              "may quote a file path in a user's home",
	"policy.ScreenLock.user":              "the local account the setting belongs to",
	"policy.ScreenLock.source":            "may be a file path in a user's home",
	"policy.ScreenLock.reason":            "may quote a file path in a user's home",
	"policy.AttestationInfo.by":           "the person who confirmed an attestation",
	"policy.AttestationInfo.note":         "free text an administrator typed",
	"policy.ExemptionInfo.approver":       "the person who approved an exemption",
	"policy.ExemptionInfo.reason":         "free text an administrator typed",
	"compliance.Attestation.by":           "the person who confirmed an attestation",
	"compliance.Attestation.note":         "free text an administrator typed",
	"compliance.Exemption.user":           "the local account an exemption is for",
	"compliance.Exemption.approver":       "the person who approved an exemption",
	"compliance.Exemption.reason":         "free text an administrator typed",
	"compliance.LogEntry.user":            "the local account an entry is about",
	"compliance.LogEntry.by":              "the person who confirmed or approved",
	"compliance.LogEntry.reason":          "free text an administrator typed",
	"drift.Event.hostname":                "computer names often contain the user's name",
	"drift.Event.user":                    "the local account the change is about",
	"drift.Event.before":                  "may name a local account (a messenger moving between users)",
	"drift.Event.after":                   "may name a local account (a messenger moving between users)",
	"drift.Event.message":                 "names the local account a change is about",
	"drift.Event.by":                      "the administrator who accepted a baseline",
	"drift.Event.reason":                  "free text an administrator typed",
	"outbox.Entry.body":                   "a drift event (see the drift event fields)",
	"compliance.firstFailure.finding":     "a finding key: rule|subject|user",
}

// firstFailure is the shape of a stored first failure (the store keeps it
// as a key and a time), named here so that its fields are listed like the
// others.
type firstFailure struct {
	Finding string    `json:"finding"`
	Since   time.Time `json:"first_failed"`
}

func buildPrivacy(cfg config.Config, source, lang string) privacyView {
	days := func(n int) string { return fmt.Sprintf(msg.T(lang, "%d days"), n) }
	keep := compliance.NewStore(nil, compliance.Retention{MaxAge: time.Duration(cfg.Retention.Days) * policy.Day}).Retention
	keepDays := days(int(keep.MaxAge / policy.Day))
	v := privacyView{SchemaVersion: PrivacySchemaVersion, Config: source}
	db := cfg.Database + msg.T(lang, " (readable by root only)")
	v.Stored = []storedData{
		{What: msg.T(lang, "latest report per device (this computer and each attached phone): verdict, findings and inventory"), Where: db,
			Retention: msg.T(lang, "one per device, replaced when a scan finds something different; deleted with the database (agent uninstall --purge)"),
			Fields:    typeFields(reflect.TypeFor[status.Report]())},
		{What: msg.T(lang, "scan history: one small record per scan"), Where: db,
			Retention: fmt.Sprintf(msg.T(lang, "%s or %d scans per device, whichever is fewer"),
				days(cfg.Retention.Days), cfg.Retention.MaxScans),
			Fields: typeFields(reflect.TypeFor[store.ScanRecord]())},
		{What: msg.T(lang, "drift events: what changed and when"), Where: db,
			Retention: fmt.Sprintf(msg.T(lang, "%s or %d events, whichever is fewer"),
				days(cfg.Drift.RetentionDays), cfg.Drift.MaxEvents),
			Fields: typeFields(reflect.TypeFor[drift.Event]())},
		{What: msg.T(lang, "drift baseline and state: the last confirmed finding statuses, messengers and posture settings"), Where: db,
			Retention: msg.T(lang, "one set per device, replaced as the device changes"),
			Fields: []field{{Path: msg.T(lang, "(rule, subject, user, status and severity of each finding; id, user, profile, variant and versions of each messenger; posture settings: the values of the latest report)"),
				Personal: "contains local account names"}}},
		{What: msg.T(lang, "attestations: who confirmed an organisational measure, when, and until when"), Where: db,
			Retention: fmt.Sprintf(msg.T(lang, "until %s after a scan saw them expire"), keepDays),
			Fields:    typeFields(reflect.TypeFor[compliance.Attestation]())},
		{What: msg.T(lang, "local exemptions: who waived which rule, why, and until when"), Where: db,
			Retention: fmt.Sprintf(msg.T(lang, "until %s after a scan saw them expire"), keepDays),
			Fields:    typeFields(reflect.TypeFor[compliance.Exemption]())},
		{What: msg.T(lang, "compliance audit log: attestations, exemptions and their expiry"), Where: db,
			Retention: fmt.Sprintf(msg.T(lang, "%s after the entry and the record it describes, at most %d entries"), keepDays, keep.MaxLog),
			Fields:    typeFields(reflect.TypeFor[compliance.LogEntry]())},
		{What: msg.T(lang, "first failure of each failing finding (for grace periods)"), Where: db,
			Retention: msg.T(lang, "until the finding passes or disappears"),
			Fields:    typeFields(reflect.TypeFor[firstFailure]())},
		{What: msg.T(lang, "the last policy that loaded (path, digest and content of the file), so that the service keeps enforcing it after a restart with a broken file"), Where: db,
			Retention: msg.T(lang, "one copy, replaced when a changed policy file loads; deleted with the database (agent uninstall --purge)"),
			Fields:    typeFields(reflect.TypeFor[daemon.SavedPolicy]())},
	}
	for _, s := range cfg.Sinks {
		if s.Err != nil || !config.IsEventSink(s.Type) {
			continue
		}
		q := s.MaxQueue
		if q <= 0 {
			q = outbox.DefaultMaxEvents
		}
		v.Stored = append(v.Stored, storedData{What: fmt.Sprintf(msg.T(lang, "outbox of sink %q: drift events not yet delivered"), s.Name), Where: db,
			Retention: fmt.Sprintf(msg.T(lang, "until delivered; at most %d events (the oldest low-severity ones are dropped first)"), q),
			Fields:    typeFields(reflect.TypeFor[outbox.Entry]())})
	}
	logWhere := msg.T(lang, "standard output (journald under systemd, the service log elsewhere)")
	logKeep := msg.T(lang, "as long as the system log keeps it")
	if cfg.Log.File != "" {
		logWhere = cfg.Log.File
		logKeep = fmt.Sprintf(msg.T(lang, "rotated at %d MB, %d old files kept"), cfg.Log.MaxSizeMB, cfg.Log.MaxFiles)
	}
	v.Stored = append(v.Stored, storedData{What: fmt.Sprintf(msg.T(lang, "agent log (level %s): scan summaries and errors"), cfg.Log.Level),
		Where: logWhere, Retention: logKeep,
		Fields: []field{{Path: msg.T(lang, "(device id, counts, durations, error messages; no findings, no inventory)")}}})

	v.Sent = make([]sentData, 0, len(cfg.Sinks)) // no sinks: [], never null
	for _, s := range cfg.Sinks {
		v.Sent = append(v.Sent, sentFor(s, lang))
	}
	v.Local = []string{
		fmt.Sprintf(msg.T(lang, "local API %s: administrators (root, Administrators) see everything and may start scans"), cfg.Socket),
		msg.T(lang, "other local users see device-wide findings and their own, with only their own inventory entries"),
		msg.T(lang, "without the service, agent status reads the database, which only root can read"),
	}
	cat, _ := policy.DefaultCatalog() // the built-in catalog's origins; a policy may add more
	v.Browsers = browser.PrivacyStatement(cat, cfg.Browsers.Enabled, lang)
	v.Never = []string{msg.T(lang, "message content"), msg.T(lang, "contacts and address books"),
		msg.T(lang, "phone numbers"), msg.T(lang, "messenger account names"),
		msg.T(lang, "phone serial numbers and UDIDs (phones are stored under a hash)")}
	return v
}

// sentFor describes one sink: where it sends, when, and what.
func sentFor(s config.Sink, lang string) sentData {
	d := sentData{Sink: s.Name, Type: s.Type}
	if s.Err != nil {
		d.Error = msg.T(lang, "not started: ") + s.Err.Error()
		return d
	}
	filter := msg.T(lang, "every drift event")
	if s.MinSeverity != "" {
		filter = fmt.Sprintf(msg.T(lang, "drift events of severity %s or higher"), s.MinSeverity)
	}
	switch s.Type {
	case config.SinkJSONL:
		d.Destination = msg.T(lang, "file ") + s.Path
		d.Retention = fmt.Sprintf(msg.T(lang, "rotated at %d MB, %d old files kept"), s.MaxSizeMB, s.MaxFiles)
	case config.SinkSyslog:
		d.Destination = fmt.Sprintf(msg.T(lang, "syslog over %s to %s (facility %s)"), s.Network, s.Address, s.Facility)
	case config.SinkWebhook:
		d.Destination = msg.T(lang, "HTTPS POST to ") + redactURL(s.URL)
	case config.SinkPrometheus:
		d.Destination = msg.T(lang, "file ") + s.Path + msg.T(lang, " (node_exporter textfile collector)")
	case config.SinkCheckmk:
		d.Destination = msg.T(lang, "file ") + s.Path + msg.T(lang, " (Checkmk agent spool)")
	}
	if config.IsEventSink(s.Type) {
		d.When = msg.T(lang, "as events happen (after each scan; retried until delivered)")
		d.Filter = filter
		d.Fields = typeFields(reflect.TypeFor[drift.Event]())
		return d
	}
	d.When = msg.T(lang, "rewritten after each scan")
	d.Example = sampleState(s.Type)
	return d
}

// redactURL keeps scheme, host and path: a query string may hold a secret.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

// sampleState renders what a state sink writes for one sample device,
// with placeholders for the device's values, by calling the sink's own
// renderer.
func sampleState(typ string) []string {
	r := &status.Report{Compliant: false, ScannedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Device: policy.Device{ID: "DEVICE-ID", Kind: policy.DeviceComputer, Platform: "PLATFORM", Hostname: "HOSTNAME"},
		Policy: status.PolicyRef{Name: "POLICY", SHA256: "POLICY-SHA256"},
		Findings: []status.Finding{{Finding: policy.Finding{Rule: "RULE", Subject: "SUBJECT", User: "USER",
			Status: policy.StatusFail, Severity: policy.SeverityHigh}}}}
	st := report.State{Reports: []*status.Report{r}, Sinks: []status.SinkHealth{{Name: "SINK"}}, Now: r.ScannedAt}
	var b []byte
	switch typ {
	case config.SinkPrometheus:
		b = report.PrometheusText(st)
	case config.SinkCheckmk:
		b = report.CheckmkLocal(st)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if !strings.HasPrefix(l, "# HELP") && !strings.HasPrefix(l, "# TYPE") {
			out = append(out, l)
		}
	}
	return out
}

// typeFields lists the JSON fields of t (flattened, "findings[].rule"),
// marking personal ones.
func typeFields(t reflect.Type) []field {
	var out []field
	walkFields(t, "", map[reflect.Type]string{}, &out)
	return out
}

var (
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
)

func walkFields(t reflect.Type, prefix string, seen map[reflect.Type]string, out *[]field) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t.Implements(textMarshaler) || t.Implements(jsonMarshaler) || t == reflect.TypeFor[time.Time]() {
		return
	}
	if at, ok := seen[t]; ok {
		*out = append(*out, field{Path: strings.TrimSuffix(prefix, ".") + " (the same fields as " + at + ")"})
		return
	}
	seen[t] = strings.TrimSuffix(prefix, ".")
	if seen[t] == "" {
		seen[t] = "the whole record"
	}
	defer delete(seen, t)
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			walkFields(f.Type, prefix, seen, out)
			continue
		}
		if name == "" {
			name = f.Name
		}
		path := prefix + name
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() != reflect.Uint8:
			path += "[]"
			ft = ft.Elem()
		case ft.Kind() == reflect.Map:
			path += ".*"
			ft = ft.Elem()
		}
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && !ft.Implements(textMarshaler) && !ft.Implements(jsonMarshaler) && ft != reflect.TypeFor[time.Time]() {
			walkFields(ft, path+".", seen, out)
			continue
		}
		*out = append(*out, field{Path: path, Personal: personalFields[typeKey(t)+"."+name]})
	}
}

// typeKey is "pkg.Type" for a struct type ("policy.Finding").
func typeKey(t reflect.Type) string {
	if t == reflect.TypeFor[firstFailure]() {
		return "compliance.firstFailure" // it describes a compliance record
	}
	pkg := t.PkgPath()
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		pkg = pkg[i+1:]
	}
	return pkg + "." + t.Name()
}

// writePrivacy prints the view for people.
func writePrivacy(w io.Writer, v privacyView, lang string) {
	fmt.Fprint(w, wrap(msg.T(lang, "What msgguard stores and sends — derived from the configuration ")+
		v.Config+msg.T(lang, " and from the agent's data types. Fields marked * are personal data."), 0, lineWidth))
	fmt.Fprintf(w, "\n%s\n", msg.T(lang, "STORED ON THIS DEVICE"))
	for _, s := range v.Stored {
		fmt.Fprint(w, bullet(s.What))
		fmt.Fprint(w, wrap(msg.T(lang, "where: ")+s.Where, 4, lineWidth))
		fmt.Fprint(w, wrap(msg.T(lang, "kept: ")+s.Retention, 4, lineWidth))
		fmt.Fprint(w, wrap(msg.T(lang, "fields: ")+fieldList(s.Fields, lang), 4, lineWidth))
	}
	fmt.Fprintf(w, "\n%s\n", msg.T(lang, "SENT OFF THIS DEVICE"))
	if len(v.Sent) == 0 {
		fmt.Fprint(w, wrap(msg.T(lang, "nothing: no reporting sinks are configured"), 0, lineWidth))
	}
	for _, s := range v.Sent {
		fmt.Fprint(w, bullet(fmt.Sprintf("%s (%s)", s.Sink, s.Type)))
		if s.Error != "" {
			fmt.Fprint(w, wrap(s.Error, 4, lineWidth))
			continue
		}
		fmt.Fprint(w, wrap(msg.T(lang, "to: ")+s.Destination, 4, lineWidth))
		fmt.Fprint(w, wrap(msg.T(lang, "when: ")+s.When, 4, lineWidth))
		if s.Filter != "" {
			fmt.Fprint(w, wrap(msg.T(lang, "what: ")+s.Filter, 4, lineWidth))
		}
		if s.Retention != "" {
			fmt.Fprint(w, wrap(msg.T(lang, "kept: ")+s.Retention, 4, lineWidth))
		}
		if len(s.Fields) > 0 {
			fmt.Fprint(w, wrap(msg.T(lang, "fields: ")+fieldList(s.Fields, lang), 4, lineWidth))
		}
		if len(s.Example) > 0 {
			fmt.Fprint(w, wrap(msg.T(lang, "exactly these lines (placeholders in capitals):"), 4, lineWidth))
			for _, l := range s.Example {
				fmt.Fprintf(w, "      %s\n", l)
			}
		}
	}
	fmt.Fprintf(w, "\n%s\n", msg.T(lang, "READ IN BROWSER PROFILES"))
	fmt.Fprint(w, bullet(msg.T(lang, "read: ")+v.Browsers.Read))
	fmt.Fprint(w, bullet(msg.T(lang, "stored: ")+v.Browsers.Stored))
	fmt.Fprintf(w, "\n%s\n", msg.T(lang, "SHOWN ON THIS DEVICE"))
	for _, l := range v.Local {
		fmt.Fprint(w, bullet(l))
	}
	fmt.Fprintf(w, "\n%s\n", msg.T(lang, "NEVER COLLECTED"))
	fmt.Fprint(w, wrap(strings.Join(v.Never, ", "), 0, lineWidth))
}

// bullet renders a list item with a hanging indent.
func bullet(s string) string { return "- " + wrapRest(s, 2, lineWidth) + "\n" }

// fieldList joins field paths, marking personal ones with *.
func fieldList(fs []field, lang string) string {
	parts := make([]string, 0, len(fs))
	for _, f := range fs {
		p := f.Path
		// A type inside itself (phones[] in a report) is named, not
		// listed again: walkFields writes that in English.
		if path, at, ok := strings.Cut(strings.TrimSuffix(p, ")"), " (the same fields as "); ok {
			if at == "the whole record" {
				at = msg.T(lang, "the whole record")
			}
			p = path + fmt.Sprintf(msg.T(lang, " (the same fields as %s)"), at)
		}
		if f.Personal != "" {
			p += "*"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}
