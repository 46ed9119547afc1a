package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	yamlv3 "go.yaml.in/yaml/v3"
)

// This file belongs to the reporting/drift work: it defines the `sinks:`
// list and the `drift:` section.
//
// A malformed sink is NOT a parse error of the whole file: the sink keeps
// its positioned errors in Err and is not started, while the scans and the
// other sinks run: a malformed sink config is a clear startup error
// that does not stop the scans. The daemon logs SinkErrors at
// startup and shows them in health.

// Sink types.
const (
	SinkJSONL      = "jsonl"      // JSON Lines file with rotation
	SinkSyslog     = "syslog"     // RFC 5424 over UDP, TCP or TLS
	SinkWebhook    = "webhook"    // HTTPS POST of JSON batches
	SinkPrometheus = "prometheus" // node_exporter textfile
	SinkCheckmk    = "checkmk"    // Checkmk local-check spool file
)

// Sink is one reporting sink.
type Sink struct {
	// Name identifies the sink in health output, logs, metrics and the
	// outbox; [a-z0-9_-], default the type.
	Name string
	// Type selects the sink implementation.
	Type string
	// Line and Column locate the sink's entry in File.
	File         string
	Line, Column int
	// Err holds the sink's configuration errors; such a sink is not
	// started. Nil when the entry is valid.
	Err error

	// MinSeverity drops events below it for this sink (event sinks).
	MinSeverity string
	// MaxQueue bounds the sink's outbox (events; 0 = default 10,000).
	MaxQueue int

	// Path is the output file (jsonl, prometheus, checkmk).
	Path string
	// MaxSizeMB and MaxFiles rotate the JSON Lines file.
	MaxSizeMB int
	MaxFiles  int

	// Network is udp, tcp or tls; Address is host:port (syslog).
	Network  string
	Address  string
	Facility string
	AppName  string

	// URL is the https endpoint; TokenFile holds the bearer token and must
	// be readable by root only (webhook).
	URL       string
	TokenFile string
	BatchSize int
	// Timeout bounds one delivery attempt (syslog, webhook).
	Timeout time.Duration

	// TLS (syslog over tls, webhook): custom CA bundle, client certificate
	// for mutual TLS, and the name to verify.
	CAFile     string
	CertFile   string
	KeyFile    string
	ServerName string
}

// Drift configures drift detection (see agent/drift).
type Drift struct {
	// Debounce is how many consecutive scans a change must hold.
	Debounce int
	// Versions reports messenger version changes as low-severity events.
	Versions bool
	// SummaryInterval is how often a state summary is sent (0 = never).
	SummaryInterval time.Duration
	// RetentionDays and MaxEvents bound the stored events.
	RetentionDays int
	MaxEvents     int
}

// DefaultDrift reports changes at once, includes versions, summarises
// daily and keeps 90 days or 10,000 events.
func DefaultDrift() Drift {
	return Drift{Debounce: 1, Versions: true, SummaryInterval: 24 * time.Hour, RetentionDays: 90, MaxEvents: 10_000}
}

// SinkErrors returns the errors of every malformed sink, in file order.
func SinkErrors(sinks []Sink) ErrorList {
	var out ErrorList
	for _, s := range sinks {
		if l, ok := s.Err.(ErrorList); ok {
			out = append(out, l...)
		}
	}
	return out
}

var sinkName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`) })

var severities = []string{"info", "low", "medium", "high", "critical"}

// SinkType describes one type of sink: the one place that says which types
// exist, which settings each takes, and whether it carries drift events.
// agent/report builds each type's sink from it, `agent privacy` describes
// what each stores and sends.
type SinkType struct {
	Name string
	// Events is true for sinks that deliver drift events through an outbox
	// in the database (retried until delivered); false for sinks that
	// rewrite a state file after each scan.
	Events bool
	// Keys are the settings the type accepts besides name and type.
	Keys []string
}

// SinkTypes lists every sink type, in the order messages name them.
var SinkTypes = []SinkType{
	{SinkJSONL, true, []string{"path", "max_size_mb", "max_files", "min_severity", "max_queue"}},
	{SinkSyslog, true, []string{"network", "address", "facility", "app_name", "timeout", "ca_file", "cert_file", "key_file", "server_name", "min_severity", "max_queue"}},
	{SinkWebhook, true, []string{"url", "token_file", "batch_size", "timeout", "ca_file", "cert_file", "key_file", "server_name", "min_severity", "max_queue"}},
	{SinkPrometheus, false, []string{"path"}},
	{SinkCheckmk, false, []string{"path"}},
}

// LookupSinkType returns the type named t.
func LookupSinkType(t string) (SinkType, bool) {
	for _, st := range SinkTypes {
		if st.Name == t {
			return st, true
		}
	}
	return SinkType{}, false
}

// IsEventSink reports whether sinks of type t carry drift events (and so
// have an outbox).
func IsEventSink(t string) bool {
	st, ok := LookupSinkType(t)
	return ok && st.Events
}

// sinkTypeList is "jsonl, syslog, webhook, prometheus, checkmk".
func sinkTypeList() string {
	names := make([]string, len(SinkTypes))
	for i, st := range SinkTypes {
		names[i] = st.Name
	}
	return strings.Join(names, ", ")
}

// syslogFacilities are RFC 5424 §6.2.1's facility keywords we accept.
var syslogFacilities = map[string]int{
	"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7,
	"uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11,
	"local0": 16, "local1": 17, "local2": 18, "local3": 19, "local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

// SyslogFacility returns the numeric code of a facility name.
func SyslogFacility(name string) (int, bool) {
	n, ok := syslogFacilities[name]
	return n, ok
}

// sinks decodes the `sinks:` list. Errors stay with their sink.
func (d *decoder) sinks(n *yaml, field string) []Sink {
	if n.Kind == yamlv3.ScalarNode && n.Tag == "!!null" {
		return []Sink{}
	}
	if n.Kind != yamlv3.SequenceNode {
		sd := &decoder{file: d.file}
		sd.errorf(n, field, "expected a list, got %s", kindName(n))
		return []Sink{{File: d.file, Line: n.Line, Column: n.Column, Err: sd.errs}}
	}
	out := make([]Sink, 0, len(n.Content))
	names := map[string]int{}
	for i, el := range n.Content {
		f := field + "[" + strconv.Itoa(i) + "]"
		sd := &decoder{file: d.file}
		s := sd.sink(el, f)
		s.File, s.Line, s.Column = d.file, el.Line, el.Column
		if s.Name != "" {
			if prev, dup := names[s.Name]; dup {
				sd.errorf(el, f+".name", "duplicate sink name %q (also sinks[%d]); give each sink its own name", s.Name, prev)
			} else {
				names[s.Name] = i
			}
		}
		if len(sd.errs) > 0 {
			s.Err = sd.errs
		}
		out = append(out, s)
	}
	return out
}

func (d *decoder) sink(el *yaml, f string) Sink {
	s := Sink{Facility: "daemon", AppName: "msgguard", MaxSizeMB: 10, MaxFiles: 5, BatchSize: 100, Timeout: 10 * time.Second}
	if el.Kind != yamlv3.MappingNode {
		d.errorf(el, f, "expected a mapping with at least `type`, got %s", kindName(el))
		return s
	}
	// Type first: it decides which other keys are allowed.
	for i := 0; i+1 < len(el.Content); i += 2 {
		if el.Content[i].Value == "type" {
			v := el.Content[i+1]
			s.Type = d.str(v, f+".type")
			if _, ok := LookupSinkType(s.Type); !ok && s.Type != "" {
				d.errorf(v, f+".type", "unsupported sink type %q (want one of %s)", s.Type, sinkTypeList())
				return s
			}
		}
	}
	if s.Type == "" {
		d.errorf(el, f+".type", "missing (want one of %s)", sinkTypeList())
		return s
	}
	if s.Type == SinkSyslog {
		s.Network = "tcp"
	}
	known := fields{
		"type": func(string, *yaml) {},
		"name": func(f string, v *yaml) {
			s.Name = d.str(v, f)
			if !sinkName().MatchString(s.Name) {
				d.errorf(v, f, "%q is not a valid name (lower-case letters, digits, - and _, at most 63)", s.Name)
			}
		},
	}
	all := d.sinkFields(&s)
	st, _ := LookupSinkType(s.Type)
	for _, k := range st.Keys {
		known[k] = all[k]
	}
	d.mapping(el, f, known)
	if s.Name == "" && !hasKey(el, "name") {
		s.Name = s.Type
	}
	d.sinkRequired(&s, el, f)
	return s
}

func hasKey(n *yaml, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

// sinkFields decodes every sink setting; sink() offers only those of the
// sink's type.
func (d *decoder) sinkFields(s *Sink) fields {
	return fields{
		"path": func(f string, v *yaml) { s.Path = d.path(v, f, false) },
		"max_size_mb": func(f string, v *yaml) {
			s.MaxSizeMB = d.intRange(v, f, 1, 4096)
		},
		"max_files": func(f string, v *yaml) { s.MaxFiles = d.intRange(v, f, 0, 100) },
		"min_severity": func(f string, v *yaml) {
			s.MinSeverity = d.str(v, f)
			for _, sv := range severities {
				if s.MinSeverity == sv {
					return
				}
			}
			d.errorf(v, f, "unknown severity %q (want one of %s)", s.MinSeverity, strings.Join(severities, ", "))
		},
		"max_queue": func(f string, v *yaml) { s.MaxQueue = d.intRange(v, f, 10, 1_000_000) },
		"network": func(f string, v *yaml) {
			s.Network = d.str(v, f)
			if s.Network != "udp" && s.Network != "tcp" && s.Network != "tls" {
				d.errorf(v, f, "unknown network %q (want udp, tcp or tls)", s.Network)
			}
		},
		"address": func(f string, v *yaml) {
			s.Address = d.str(v, f)
			if _, port, err := net.SplitHostPort(s.Address); err != nil || port == "" {
				d.errorf(v, f, "expected host:port, got %q", s.Address)
			}
		},
		"facility": func(f string, v *yaml) {
			s.Facility = d.str(v, f)
			if _, ok := syslogFacilities[s.Facility]; !ok {
				d.errorf(v, f, "unknown syslog facility %q (e.g. daemon, auth, local0)", s.Facility)
			}
		},
		"app_name": func(f string, v *yaml) {
			s.AppName = d.str(v, f)
			if s.AppName == "" || len(s.AppName) > 48 || strings.ContainsFunc(s.AppName, func(r rune) bool { return r <= ' ' || r > '~' }) {
				// RFC 5424 §6.2.5: APP-NAME is 1*48 PRINTUSASCII.
				d.errorf(v, f, "must be 1 to 48 printable ASCII characters without spaces")
			}
		},
		"timeout": func(f string, v *yaml) { s.Timeout = d.durationRange(v, f, 100*time.Millisecond, 5*time.Minute) },
		"url": func(f string, v *yaml) {
			s.URL = d.str(v, f)
			u, err := url.Parse(s.URL)
			switch {
			case err != nil:
				d.errorf(v, f, "not a URL")
			case u.Scheme != "https":
				d.errorf(v, f, "must be an https:// URL (events name users and devices)")
			case u.User != nil:
				d.errorf(v, f, "must not carry credentials; use token_file")
			case u.Host == "":
				d.errorf(v, f, "has no host")
			}
		},
		"token_file":  func(f string, v *yaml) { s.TokenFile = d.path(v, f, false) },
		"batch_size":  func(f string, v *yaml) { s.BatchSize = d.intRange(v, f, 1, 1000) },
		"ca_file":     func(f string, v *yaml) { s.CAFile = d.path(v, f, false) },
		"cert_file":   func(f string, v *yaml) { s.CertFile = d.path(v, f, false) },
		"key_file":    func(f string, v *yaml) { s.KeyFile = d.path(v, f, false) },
		"server_name": func(f string, v *yaml) { s.ServerName = d.str(v, f) },
	}
}

// sinkRequired checks settings each type needs and cross-field rules.
func (d *decoder) sinkRequired(s *Sink, el *yaml, f string) {
	need := func(ok bool, key string) {
		if !ok {
			d.errorf(el, f+"."+key, "missing (required for type %s)", s.Type)
		}
	}
	switch s.Type {
	case SinkJSONL, SinkPrometheus, SinkCheckmk:
		need(s.Path != "" || hasKey(el, "path"), "path")
		if s.Type == SinkPrometheus && s.Path != "" && !strings.HasSuffix(s.Path, ".prom") {
			// node_exporter's textfile collector reads only *.prom files.
			d.errorf(el, f+".path", "must end in .prom (node_exporter reads only *.prom files)")
		}
	case SinkSyslog:
		need(s.Address != "" || hasKey(el, "address"), "address")
		if s.Network != "tls" && (s.CAFile != "" || s.CertFile != "" || s.KeyFile != "" || s.ServerName != "") {
			d.errorf(el, f+".network", "TLS settings need network: tls")
		}
	case SinkWebhook:
		need(s.URL != "" || hasKey(el, "url"), "url")
		need(s.TokenFile != "" || hasKey(el, "token_file"), "token_file")
	}
	if (s.CertFile == "") != (s.KeyFile == "") {
		d.errorf(el, f+".cert_file", "cert_file and key_file go together (client certificate for mutual TLS)")
	}
}

// drift decodes the `drift:` section. The integrator wires it into
// Config (field `Drift Drift`, key "drift").
func (d *decoder) drift(n *yaml, field string, dr *Drift) {
	d.mapping(n, field, fields{
		"debounce":         func(f string, v *yaml) { dr.Debounce = d.intRange(v, f, 1, 100) },
		"versions":         func(f string, v *yaml) { dr.Versions = d.boolean(v, f) },
		"summary_interval": func(f string, v *yaml) { dr.SummaryInterval = d.durationRange(v, f, 0, 30*24*time.Hour) },
		"retention_days":   func(f string, v *yaml) { dr.RetentionDays = d.intRange(v, f, 1, 3650) },
		"max_events":       func(f string, v *yaml) { dr.MaxEvents = d.intRange(v, f, 10, 1_000_000) },
	})
	if dr.SummaryInterval > 0 && dr.SummaryInterval < time.Hour {
		d.errorf(n, field+".summary_interval", "must be 0 (off) or at least 1h")
	}
}

// String names a sink and where it is configured, for log lines.
func (s Sink) String() string {
	return fmt.Sprintf("%s sink %q (%s:%d)", s.Type, s.Name, s.File, s.Line)
}
