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
	fs := newFlags(e, "privacy")
	cfgPath := fs.String("config", paths.Config, "agent configuration `file` (default: the installed one; missing: the defaults)")
	jsonOut := fs.Bool("json", false, "print the view as JSON")
	lang := fs.String("lang", "", "output language: en or de (default from LANG)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "agent privacy: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	cfg, err := loadRunConfig(fs, *cfgPath, config.Default(paths))
	if err != nil {
		fmt.Fprintf(e.stderr, "agent privacy: %v\n", err)
		return exitUsage
	}
	source := *cfgPath
	if !fileExists(*cfgPath) {
		source = "(no configuration file: defaults)"
	}
	v := buildPrivacy(cfg, source, e.lang(*lang))
	if *jsonOut {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return encodeOrFail(e, "privacy", enc.Encode(v))
	}
	writePrivacy(e.stdout, v, e.lang(*lang))
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
	"policy.Device.hostname":          "computer names often contain the user's name",
	"policy.Device.label":             "an owner label an administrator gives a phone",
	"policy.User.name":                "a local account name",
	"policy.User.uid":                 "a local account id",
	"policy.User.home":                "a home directory, named after the user",
	"policy.Finding.user":             "the local account a finding is about",
	"policy.Finding.message":          "may quote a file path in a user's home",
	"policy.Evidence.location":        "may be a file path in a user's home",
	"policy.Messenger.user":           "the local account a messenger was found for",
	"policy.Messenger.location":       "may be a file path in a user's home",
	"policy.Problem.path":             "may be a file path in a user's home",
	"policy.Problem.message":          "may quote a file path in a user's home",
	"policy.ScreenLock.user":          "the local account the setting belongs to",
	"policy.ScreenLock.source":        "may be a file path in a user's home",
	"policy.ScreenLock.reason":        "may quote a file path in a user's home",
	"policy.AttestationInfo.by":       "the person who confirmed an attestation",
	"policy.AttestationInfo.note":     "free text an administrator typed",
	"policy.ExemptionInfo.approver":   "the person who approved an exemption",
	"policy.ExemptionInfo.reason":     "free text an administrator typed",
	"compliance.Attestation.by":       "the person who confirmed an attestation",
	"compliance.Attestation.note":     "free text an administrator typed",
	"compliance.Exemption.user":       "the local account an exemption is for",
	"compliance.Exemption.approver":   "the person who approved an exemption",
	"compliance.Exemption.reason":     "free text an administrator typed",
	"compliance.LogEntry.user":        "the local account an entry is about",
	"compliance.LogEntry.by":          "the person who confirmed or approved",
	"compliance.LogEntry.reason":      "free text an administrator typed",
	"drift.Event.hostname":            "computer names often contain the user's name",
	"drift.Event.user":                "the local account the change is about",
	"drift.Event.before":              "may name a local account (a messenger moving between users)",
	"drift.Event.after":               "may name a local account (a messenger moving between users)",
	"drift.Event.message":             "names the local account a change is about",
	"drift.Event.by":                  "the administrator who accepted a baseline",
	"drift.Event.reason":              "free text an administrator typed",
	"outbox.Entry.body":               "a drift event (see the drift event fields)",
	"compliance.firstFailure.finding": "a finding key: rule|subject|user",
}

// firstFailure is the shape of a stored first failure (the store keeps it
// as a key and a time), named here so that its fields are listed like the
// others.
type firstFailure struct {
	Finding string    `json:"finding"`
	Since   time.Time `json:"first_failed"`
}

func buildPrivacy(cfg config.Config, source, lang string) privacyView {
	tr := func(en, de string) string { return pick(lang, en, de) }
	days := func(n int) string { return fmt.Sprintf(tr("%d days", "%d Tage"), n) }
	keep := compliance.NewStore(nil, compliance.Retention{MaxAge: time.Duration(cfg.Retention.Days) * policy.Day}).Retention
	keepDays := days(int(keep.MaxAge / policy.Day))
	v := privacyView{SchemaVersion: PrivacySchemaVersion, Config: source}
	db := cfg.Database + tr(" (readable by root only)", " (nur für root lesbar)")
	v.Stored = []storedData{
		{What: tr("latest report per device (this computer and each attached phone): verdict, findings and inventory",
			"letzter Bericht je Gerät (dieser Rechner und jedes angeschlossene Smartphone): Ergebnis, Befunde und Inventar"), Where: db,
			Retention: tr("one per device, replaced when a scan finds something different; deleted with the database (agent uninstall --purge)",
				"einer je Gerät, ersetzt, sobald ein Scan etwas anderes findet; gelöscht mit der Datenbank (agent uninstall --purge)"),
			Fields: typeFields(reflect.TypeFor[status.Report]())},
		{What: tr("scan history: one small record per scan", "Scan-Verlauf: ein kleiner Eintrag je Scan"), Where: db,
			Retention: fmt.Sprintf(tr("%s or %d scans per device, whichever is fewer", "%s oder %d Scans je Gerät, je nachdem, was weniger ist"),
				days(cfg.Retention.Days), cfg.Retention.MaxScans),
			Fields: typeFields(reflect.TypeFor[store.ScanRecord]())},
		{What: tr("drift events: what changed and when", "Drift-Ereignisse: was sich wann geändert hat"), Where: db,
			Retention: fmt.Sprintf(tr("%s or %d events, whichever is fewer", "%s oder %d Ereignisse, je nachdem, was weniger ist"),
				days(cfg.Drift.RetentionDays), cfg.Drift.MaxEvents),
			Fields: typeFields(reflect.TypeFor[drift.Event]())},
		{What: tr("drift baseline and state: the last confirmed finding statuses, messengers and posture settings",
			"Drift-Basis und -Zustand: die zuletzt bestätigten Befunde, Messenger und Schutzeinstellungen"), Where: db,
			Retention: tr("one set per device, replaced as the device changes", "ein Satz je Gerät, ersetzt, wenn sich das Gerät ändert"),
			Fields: []field{{Path: tr("(rule, subject, user, status and severity of each finding; id, user, profile, variant and versions of each messenger; posture settings: the values of the latest report)",
				"(Regel, Gegenstand, Benutzer, Status und Schweregrad jedes Befunds; Kennung, Benutzer, Profil, Variante und Versionen jedes Messengers; Schutzeinstellungen: die Werte des letzten Berichts)"),
				Personal: "contains local account names"}}},
		{What: tr("attestations: who confirmed an organisational measure, when, and until when",
			"Bestätigungen: wer eine organisatorische Maßnahme wann und bis wann bestätigt hat"), Where: db,
			Retention: fmt.Sprintf(tr("until %s after a scan saw them expire", "bis %s, nachdem ein Scan ihren Ablauf festgestellt hat"), keepDays),
			Fields:    typeFields(reflect.TypeFor[compliance.Attestation]())},
		{What: tr("local exemptions: who waived which rule, why, and until when",
			"lokale Ausnahmen: wer welche Regel warum und bis wann ausgesetzt hat"), Where: db,
			Retention: fmt.Sprintf(tr("until %s after a scan saw them expire", "bis %s, nachdem ein Scan ihren Ablauf festgestellt hat"), keepDays),
			Fields:    typeFields(reflect.TypeFor[compliance.Exemption]())},
		{What: tr("compliance audit log: attestations, exemptions and their expiry", "Prüfprotokoll: Bestätigungen, Ausnahmen und deren Ablauf"), Where: db,
			Retention: fmt.Sprintf(tr("%s after the entry and the record it describes, at most %d entries",
				"%s nach dem Eintrag und dem Ende des beschriebenen Datensatzes, höchstens %d Einträge"), keepDays, keep.MaxLog),
			Fields: typeFields(reflect.TypeFor[compliance.LogEntry]())},
		{What: tr("first failure of each failing finding (for grace periods)", "erster Verstoß je nicht erfülltem Befund (für Übergangsfristen)"), Where: db,
			Retention: tr("until the finding passes or disappears", "bis der Befund erfüllt ist oder wegfällt"),
			Fields:    typeFields(reflect.TypeFor[firstFailure]())},
		{What: tr("the last policy that loaded (path, digest and content of the file), so that the service keeps enforcing it after a restart with a broken file",
			"die zuletzt fehlerfrei geladene Richtlinie (Pfad, Prüfsumme und Inhalt der Datei), damit der Dienst sie nach einem Neustart mit fehlerhafter Datei weiter durchsetzt"), Where: db,
			Retention: tr("one copy, replaced when a changed policy file loads; deleted with the database (agent uninstall --purge)",
				"eine Kopie, ersetzt, sobald eine geänderte Richtliniendatei fehlerfrei geladen wird; gelöscht mit der Datenbank (agent uninstall --purge)"),
			Fields: typeFields(reflect.TypeFor[daemon.SavedPolicy]())},
	}
	for _, s := range cfg.Sinks {
		if s.Err != nil || !isEventSink(s.Type) {
			continue
		}
		q := s.MaxQueue
		if q <= 0 {
			q = outbox.DefaultMaxEvents
		}
		v.Stored = append(v.Stored, storedData{What: fmt.Sprintf(tr("outbox of sink %q: drift events not yet delivered", "Warteschlange des Empfängers %q: noch nicht zugestellte Drift-Ereignisse"), s.Name), Where: db,
			Retention: fmt.Sprintf(tr("until delivered; at most %d events (the oldest low-severity ones are dropped first)",
				"bis zur Zustellung; höchstens %d Ereignisse (die ältesten mit niedrigem Schweregrad fallen zuerst weg)"), q),
			Fields: typeFields(reflect.TypeFor[outbox.Entry]())})
	}
	logWhere := tr("standard output (journald under systemd, the service log elsewhere)", "Standardausgabe (journald unter systemd, sonst das Dienstprotokoll)")
	logKeep := tr("as long as the system log keeps it", "so lange, wie das Systemprotokoll es aufbewahrt")
	if cfg.Log.File != "" {
		logWhere = cfg.Log.File
		logKeep = fmt.Sprintf(tr("rotated at %d MB, %d old files kept", "rotiert bei %d MB, %d alte Dateien aufbewahrt"), cfg.Log.MaxSizeMB, cfg.Log.MaxFiles)
	}
	v.Stored = append(v.Stored, storedData{What: fmt.Sprintf(tr("agent log (level %s): scan summaries and errors", "Agent-Protokoll (Stufe %s): Scan-Zusammenfassungen und Fehler"), cfg.Log.Level),
		Where: logWhere, Retention: logKeep,
		Fields: []field{{Path: tr("(device id, counts, durations, error messages; no findings, no inventory)", "(Gerätekennung, Anzahlen, Dauer, Fehlermeldungen; keine Befunde, kein Inventar)")}}})

	for _, s := range cfg.Sinks {
		v.Sent = append(v.Sent, sentFor(s, lang))
	}
	v.Local = []string{
		fmt.Sprintf(tr("local API %s: administrators (root, Administrators) see everything and may start scans",
			"lokale Schnittstelle %s: Administratoren (root, Administratoren) sehen alles und dürfen Scans starten"), cfg.Socket),
		tr("other local users see device-wide findings and their own, with only their own inventory entries",
			"andere lokale Benutzer sehen gerätebezogene und ihre eigenen Befunde, vom Inventar nur ihre eigenen Einträge"),
		tr("without the service, agent status reads the database, which only root can read",
			"ohne laufenden Dienst liest agent status die Datenbank, die nur root lesen kann"),
	}
	cat, _ := policy.DefaultCatalog() // the built-in catalog's origins; a policy may add more
	v.Browsers = browser.PrivacyStatement(cat, cfg.Browsers.Enabled, lang)
	v.Never = []string{tr("message content", "Nachrichteninhalte"), tr("contacts and address books", "Kontakte und Adressbücher"),
		tr("phone numbers", "Telefonnummern"), tr("messenger account names", "Kontonamen in Messengern"),
		tr("phone serial numbers and UDIDs (phones are stored under a hash)", "Seriennummern und UDIDs von Smartphones (gespeichert wird nur ein Hash)")}
	return v
}

func isEventSink(t string) bool {
	return t == config.SinkJSONL || t == config.SinkSyslog || t == config.SinkWebhook
}

// sentFor describes one sink: where it sends, when, and what.
func sentFor(s config.Sink, lang string) sentData {
	tr := func(en, de string) string { return pick(lang, en, de) }
	d := sentData{Sink: s.Name, Type: s.Type}
	if s.Err != nil {
		d.Error = tr("not started: ", "nicht gestartet: ") + s.Err.Error()
		return d
	}
	filter := tr("every drift event", "jedes Drift-Ereignis")
	if s.MinSeverity != "" {
		filter = fmt.Sprintf(tr("drift events of severity %s or higher", "Drift-Ereignisse ab Schweregrad %s"), s.MinSeverity)
	}
	switch s.Type {
	case config.SinkJSONL:
		d.Destination = tr("file ", "Datei ") + s.Path
		d.Retention = fmt.Sprintf(tr("rotated at %d MB, %d old files kept", "rotiert bei %d MB, %d alte Dateien aufbewahrt"), s.MaxSizeMB, s.MaxFiles)
	case config.SinkSyslog:
		d.Destination = fmt.Sprintf(tr("syslog over %s to %s (facility %s)", "Syslog über %s an %s (Facility %s)"), s.Network, s.Address, s.Facility)
	case config.SinkWebhook:
		d.Destination = tr("HTTPS POST to ", "HTTPS-POST an ") + redactURL(s.URL)
	case config.SinkPrometheus:
		d.Destination = tr("file ", "Datei ") + s.Path + tr(" (node_exporter textfile collector)", " (Textfile-Collector von node_exporter)")
	case config.SinkCheckmk:
		d.Destination = tr("file ", "Datei ") + s.Path + tr(" (Checkmk agent spool)", " (Spool-Verzeichnis des Checkmk-Agenten)")
	}
	if isEventSink(s.Type) {
		d.When = tr("as events happen (after each scan; retried until delivered)", "sobald Ereignisse anfallen (nach jedem Scan; bis zur Zustellung wiederholt)")
		d.Filter = filter
		d.Fields = typeFields(reflect.TypeFor[drift.Event]())
		return d
	}
	d.When = tr("rewritten after each scan", "nach jedem Scan neu geschrieben")
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
		Device: policy.Device{ID: "DEVICE-ID", Kind: "computer", Platform: "PLATFORM", Hostname: "HOSTNAME"},
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
	de := policy.NormalizeLang(lang) == "de"
	tr := func(en, deText string) string {
		if de {
			return deText
		}
		return en
	}
	fmt.Fprint(w, wrap(tr("What msgguard stores and sends — derived from the configuration ", "Was msgguard speichert und sendet – abgeleitet aus der Konfiguration ")+
		v.Config+tr(" and from the agent's data types. Fields marked * are personal data.", " und den Datentypen des Agenten. Mit * markierte Felder sind personenbezogene Daten."), 0, lineWidth))
	fmt.Fprintf(w, "\n%s\n", tr("STORED ON THIS DEVICE", "AUF DIESEM GERÄT GESPEICHERT"))
	for _, s := range v.Stored {
		fmt.Fprint(w, bullet(s.What))
		fmt.Fprint(w, wrap(tr("where: ", "wo: ")+s.Where, 4, lineWidth))
		fmt.Fprint(w, wrap(tr("kept: ", "aufbewahrt: ")+s.Retention, 4, lineWidth))
		fmt.Fprint(w, wrap(tr("fields: ", "Felder: ")+fieldList(s.Fields), 4, lineWidth))
	}
	fmt.Fprintf(w, "\n%s\n", tr("SENT OFF THIS DEVICE", "AN ANDERE SYSTEME GESENDET"))
	if len(v.Sent) == 0 {
		fmt.Fprint(w, wrap(tr("nothing: no reporting sinks are configured", "nichts: Es sind keine Empfänger (sinks) konfiguriert"), 0, lineWidth))
	}
	for _, s := range v.Sent {
		fmt.Fprint(w, bullet(fmt.Sprintf("%s (%s)", s.Sink, s.Type)))
		if s.Error != "" {
			fmt.Fprint(w, wrap(s.Error, 4, lineWidth))
			continue
		}
		fmt.Fprint(w, wrap(tr("to: ", "an: ")+s.Destination, 4, lineWidth))
		fmt.Fprint(w, wrap(tr("when: ", "wann: ")+s.When, 4, lineWidth))
		if s.Filter != "" {
			fmt.Fprint(w, wrap(tr("what: ", "was: ")+s.Filter, 4, lineWidth))
		}
		if s.Retention != "" {
			fmt.Fprint(w, wrap(tr("kept: ", "aufbewahrt: ")+s.Retention, 4, lineWidth))
		}
		if len(s.Fields) > 0 {
			fmt.Fprint(w, wrap(tr("fields: ", "Felder: ")+fieldList(s.Fields), 4, lineWidth))
		}
		if len(s.Example) > 0 {
			fmt.Fprint(w, wrap(tr("exactly these lines (placeholders in capitals):", "genau diese Zeilen (Platzhalter in Großbuchstaben):"), 4, lineWidth))
			for _, l := range s.Example {
				fmt.Fprintf(w, "      %s\n", l)
			}
		}
	}
	fmt.Fprintf(w, "\n%s\n", tr("READ IN BROWSER PROFILES", "IN BROWSER-PROFILEN GELESEN"))
	fmt.Fprint(w, bullet(tr("read: ", "gelesen: ")+v.Browsers.Read))
	fmt.Fprint(w, bullet(tr("stored: ", "gespeichert: ")+v.Browsers.Stored))
	fmt.Fprintf(w, "\n%s\n", tr("SHOWN ON THIS DEVICE", "AUF DIESEM GERÄT EINSEHBAR"))
	for _, l := range v.Local {
		fmt.Fprint(w, bullet(l))
	}
	fmt.Fprintf(w, "\n%s\n", tr("NEVER COLLECTED", "NIE ERHOBEN"))
	fmt.Fprint(w, wrap(strings.Join(v.Never, ", "), 0, lineWidth))
}

// bullet renders a list item with a hanging indent.
func bullet(s string) string { return "- " + wrapRest(s, 2, lineWidth) + "\n" }

// fieldList joins field paths, marking personal ones with *.
func fieldList(fs []field) string {
	parts := make([]string, 0, len(fs))
	for _, f := range fs {
		p := f.Path
		if f.Personal != "" {
			p += "*"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}
