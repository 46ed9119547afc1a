package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/msgguard/msgguard/install"
)

const sinksYAML = `sinks:
  - type: jsonl
    path: /var/log/msgguard/events.jsonl
    max_size_mb: 20
    max_files: 3
  - name: siem
    type: syslog
    network: tls
    address: siem.example.com:6514
    facility: local3
    ca_file: /etc/msgguard/siem-ca.pem
    server_name: siem.example.com
    min_severity: medium
  - name: hq
    type: webhook
    url: https://collector.example.com/v1/events
    token_file: /etc/msgguard/webhook.token
    cert_file: /etc/msgguard/client.pem
    key_file: /etc/msgguard/client.key
    batch_size: 50
    timeout: 5s
    max_queue: 5000
  - type: prometheus
    path: /var/lib/prometheus/node-exporter/msgguard.prom
  - type: checkmk
    path: /var/lib/check_mk_agent/spool/7200_msgguard
`

func TestParseSinks(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte(sinksYAML), Default(install.PathsFor("linux", "")))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	base := Sink{Facility: "daemon", AppName: "msgguard", MaxSizeMB: 10, MaxFiles: 5, BatchSize: 100, Timeout: 10 * time.Second, File: "c.yaml"}
	with := func(f func(*Sink)) Sink { s := base; f(&s); return s }
	want := []Sink{
		with(func(s *Sink) {
			s.Name, s.Type, s.Line, s.Column = "jsonl", SinkJSONL, 2, 5
			s.Path, s.MaxSizeMB, s.MaxFiles = "/var/log/msgguard/events.jsonl", 20, 3
		}),
		with(func(s *Sink) {
			s.Name, s.Type, s.Line, s.Column = "siem", SinkSyslog, 6, 5
			s.Network, s.Address, s.Facility = "tls", "siem.example.com:6514", "local3"
			s.CAFile, s.ServerName, s.MinSeverity = "/etc/msgguard/siem-ca.pem", "siem.example.com", "medium"
		}),
		with(func(s *Sink) {
			s.Name, s.Type, s.Line, s.Column = "hq", SinkWebhook, 14, 5
			s.URL, s.TokenFile = "https://collector.example.com/v1/events", "/etc/msgguard/webhook.token"
			s.CertFile, s.KeyFile, s.BatchSize, s.Timeout, s.MaxQueue = "/etc/msgguard/client.pem", "/etc/msgguard/client.key", 50, 5*time.Second, 5000
		}),
		with(func(s *Sink) {
			s.Name, s.Type, s.Line, s.Column = "prometheus", SinkPrometheus, 23, 5
			s.Path = "/var/lib/prometheus/node-exporter/msgguard.prom"
		}),
		with(func(s *Sink) {
			s.Name, s.Type, s.Line, s.Column = "checkmk", SinkCheckmk, 25, 5
			s.Path = "/var/lib/check_mk_agent/spool/7200_msgguard"
		}),
	}
	if diff := cmp.Diff(want, cfg.Sinks, cmpopts.EquateErrors()); diff != "" {
		t.Errorf("sinks mismatch (-want +got):\n%s", diff)
	}
	if errs := SinkErrors(cfg.Sinks); len(errs) != 0 {
		t.Errorf("SinkErrors = %v", errs)
	}
}

// A malformed sink is reported with file:line:col but does not fail the
// whole configuration: scans (and other sinks) keep running.
func TestSinkErrorsDoNotFailConfig(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"webhook without url and token", "sinks:\n  - type: webhook\n    name: hq\n",
			[]string{"c.yaml:2:5: sinks[0].url: missing (required for type webhook)", "c.yaml:2:5: sinks[0].token_file: missing (required for type webhook)"}},
		{"unknown key and no type", "sinks:\n  - url: x\n",
			[]string{"c.yaml:2:5: sinks[0].type: missing (want one of jsonl, syslog, webhook, prometheus, checkmk)"}},
		{"not a list", "sinks: {}\n", []string{"c.yaml:1:8: sinks: expected a list, got a mapping"}},
		{"unsupported type", "sinks:\n  - type: kafka\n", []string{`c.yaml:2:11: sinks[0].type: unsupported sink type "kafka" (want one of jsonl, syslog, webhook, prometheus, checkmk)`}},
		{"key of another type", "sinks:\n  - type: jsonl\n    path: /x.jsonl\n    url: https://a/\n",
			[]string{"c.yaml:4:5: sinks[0].url: unknown setting (known: max_files, max_queue, max_size_mb, min_severity, name, path, type)"}},
		{"plain http webhook", "sinks:\n  - type: webhook\n    url: http://collector/\n    token_file: /t\n",
			[]string{"c.yaml:3:10: sinks[0].url: must be an https:// URL (events name users and devices)"}},
		{"credentials in url", "sinks:\n  - type: webhook\n    url: https://u:secret@collector/\n    token_file: /t\n",
			[]string{"c.yaml:3:10: sinks[0].url: must not carry credentials; use token_file"}},
		{"relative token file", "sinks:\n  - type: webhook\n    url: https://c/\n    token_file: token\n",
			[]string{`c.yaml:4:17: sinks[0].token_file: must be an absolute path, got "token"`}},
		{"syslog bad address and network", "sinks:\n  - type: syslog\n    address: siem\n    network: sctp\n",
			[]string{`c.yaml:3:14: sinks[0].address: expected host:port, got "siem"`, `c.yaml:4:14: sinks[0].network: unknown network "sctp" (want udp, tcp or tls)`}},
		{"tls settings without tls", "sinks:\n  - type: syslog\n    address: a:514\n    ca_file: /ca.pem\n",
			[]string{"c.yaml:2:5: sinks[0].network: TLS settings need network: tls"}},
		{"cert without key", "sinks:\n  - type: webhook\n    url: https://c/\n    token_file: /t\n    cert_file: /c.pem\n",
			[]string{"c.yaml:2:5: sinks[0].cert_file: cert_file and key_file go together (client certificate for mutual TLS)"}},
		{"prometheus file name", "sinks:\n  - type: prometheus\n    path: /var/lib/node/msgguard.txt\n",
			[]string{"c.yaml:2:5: sinks[0].path: must end in .prom (node_exporter reads only *.prom files)"}},
		{"duplicate names", "sinks:\n  - type: jsonl\n    path: /a\n  - type: jsonl\n    path: /b\n",
			[]string{`c.yaml:4:5: sinks[1].name: duplicate sink name "jsonl" (also sinks[0]); give each sink its own name`}},
		{"bad name and severity", "sinks:\n  - type: jsonl\n    name: My Sink\n    path: /a\n    min_severity: urgent\n",
			[]string{`c.yaml:3:11: sinks[0].name: "My Sink" is not a valid name (lower-case letters, digits, - and _, at most 63)`,
				`c.yaml:5:19: sinks[0].min_severity: unknown severity "urgent" (want one of info, low, medium, high, critical)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("c.yaml", []byte("scan:\n  interval: 2h\n"+tt.yaml), Default(install.PathsFor("linux", "")))
			if err != nil {
				t.Fatalf("Parse failed for a sink error (must not stop the agent): %v", err)
			}
			if cfg.Scan.Interval != 2*time.Hour {
				t.Errorf("rest of the config not applied: interval %v", cfg.Scan.Interval)
			}
			var got []string
			for _, e := range SinkErrors(cfg.Sinks) {
				// The prefix line shifted by the two scan lines.
				e2 := *e
				e2.Line -= 2
				got = append(got, e2.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("sink errors mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDriftSection(t *testing.T) {
	parse := func(y string) (Drift, ErrorList) {
		d := &decoder{file: "c.yaml"}
		dr := DefaultDrift()
		if root := d.document([]byte(y)); root != nil {
			d.mapping(root, "", fields{"drift": func(f string, v *yaml) { d.drift(v, f, &dr) }})
		}
		return dr, d.errs
	}
	got, errs := parse("drift:\n  debounce: 3\n  versions: false\n  summary_interval: 12h\n  retention_days: 30\n  max_events: 500\n")
	want := Drift{Debounce: 3, Versions: false, SummaryInterval: 12 * time.Hour, RetentionDays: 30, MaxEvents: 500}
	if diff := cmp.Diff(want, got); diff != "" || errs != nil {
		t.Errorf("drift mismatch (-want +got):\n%s\nerrors: %v", diff, errs)
	}
	if _, errs := parse("drift:\n  summary_interval: 5m\n  debounce: 0\n"); len(errs) != 2 ||
		!strings.Contains(errs.Error(), "summary_interval: must be 0 (off) or at least 1h") ||
		!strings.Contains(errs.Error(), "debounce: 0 is out of range [1, 100]") {
		t.Errorf("errors = %v", errs)
	}
}
