// Package report answers "how do drift events and the device's state reach
// the company's existing log and monitoring stack?". It holds the sinks —
// a JSON Lines file for log shippers (Filebeat, Fluent Bit, Vector, the
// Wazuh agent, Splunk's forwarder), RFC 5424 syslog over UDP, TCP and TLS,
// an HTTPS webhook, a Prometheus node_exporter textfile and a Checkmk
// local-check spool file — and the Dispatcher that drains each sink's
// outbox (agent/report/outbox) with retries, backoff and jitter.
//
// Event sinks receive every drift event exactly as stored, at least once,
// in order, each carrying its idempotency key; state sinks are rewritten
// atomically after each scan and delivery round.
package report

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/msgguard/msgguard/agent/config"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// Message is one event handed to an event sink: the decoded event and the
// exact JSON stored in the outbox.
type Message struct {
	Event drift.Event
	JSON  []byte
}

// EventSink delivers events to a collector.
type EventSink interface {
	Name() string
	// Deliver sends msgs in order. It returns how many leading messages
	// were delivered; n < len(msgs) comes with an error. A sink that
	// cannot tell (a batch POST) delivers all or none.
	Deliver(ctx context.Context, msgs []Message) (n int, err error)
	// BatchSize is the most messages one Deliver call should get.
	BatchSize() int
	Close() error
}

// StateSink publishes the device's current state for monitoring.
type StateSink interface {
	Name() string
	Write(s State) error
}

// State is what state sinks publish.
type State struct {
	// Reports are the latest reports of every device, primary first.
	Reports []*status.Report
	Sinks   []status.SinkHealth
	Now     time.Time
}

// Sinks are the sinks built from the configuration.
type Sinks struct {
	Events []EventSink
	States []StateSink
	// Specs are the event sinks' outbox settings, by name.
	Specs map[string]config.Sink
	// Errors are configuration problems (*SinkError), each naming the
	// sink and its position in the config file. Sinks with errors are not
	// started; the daemon logs these and shows them in health. An event
	// sink that is not started keeps its outbox (and keeps queueing), so
	// fixing a typo in the config loses nothing.
	Errors []error
}

// SinkError is a sink that could not be started.
type SinkError struct {
	// Name and Type are the sink's, where the config got that far.
	Name, Type string
	Err        error
}

func (e *SinkError) Error() string { return e.Err.Error() }
func (e *SinkError) Unwrap() error { return e.Err }

// builders build each sink type of config.SinkTypes and add it to the
// event or the state sinks; TestBuildersCoverSinkTypes keeps the two lists
// in step.
var builders = map[string]func(c config.Sink, o BuildOptions, out *Sinks) error{
	config.SinkJSONL: func(c config.Sink, _ BuildOptions, out *Sinks) error {
		out.Events = append(out.Events, NewJSONL(c.Name, c.Path, int64(c.MaxSizeMB)<<20, c.MaxFiles))
		return nil
	},
	config.SinkSyslog: func(c config.Sink, o BuildOptions, out *Sinks) error {
		s, err := NewSyslog(c, o)
		if err == nil {
			out.Events = append(out.Events, s)
		}
		return err
	},
	config.SinkWebhook: func(c config.Sink, o BuildOptions, out *Sinks) error {
		w, err := NewWebhook(c, o)
		if err == nil {
			out.Events = append(out.Events, w)
		}
		return err
	},
	config.SinkPrometheus: func(c config.Sink, _ BuildOptions, out *Sinks) error {
		out.States = append(out.States, NewTextfile(c.Name, c.Path))
		return nil
	},
	config.SinkCheckmk: func(c config.Sink, _ BuildOptions, out *Sinks) error {
		out.States = append(out.States, NewCheckmk(c.Name, c.Path))
		return nil
	},
}

// BuildOptions are the environment sinks are built with.
type BuildOptions struct {
	Log zerolog.Logger
	// Hostname goes into syslog's HOSTNAME field.
	Hostname string
	// Resolver, if set, resolves collector names (tests use one that
	// fails to simulate DNS errors without touching the network).
	Resolver *net.Resolver
}

// Build creates the sinks of cfgs. It never fails as a whole: a sink whose
// configuration is malformed is left out and its error returned in Errors,
// so that scans and the other sinks keep running.
func Build(cfgs []config.Sink, o BuildOptions) Sinks {
	out := Sinks{Specs: map[string]config.Sink{}}
	for _, c := range cfgs {
		if c.Err != nil {
			out.fail(c, fmt.Errorf("sink not started: %w", c.Err))
			continue
		}
		b, ok := builders[c.Type]
		var err error
		if !ok {
			err = fmt.Errorf("unsupported sink type %q", c.Type)
		} else {
			err = b(c, o, &out)
		}
		if err != nil {
			out.fail(c, fmt.Errorf("%s:%d:%d: %s sink %q not started: %w", c.File, c.Line, c.Column, c.Type, c.Name, err))
			continue
		}
		if config.IsEventSink(c.Type) {
			out.Specs[c.Name] = c
		}
	}
	return out
}

// fail records a sink that is not started; an event sink with a usable
// name keeps its outbox registered.
func (s *Sinks) fail(c config.Sink, err error) {
	s.Errors = append(s.Errors, &SinkError{Name: c.Name, Type: c.Type, Err: err})
	if c.Name != "" && config.IsEventSink(c.Type) {
		if _, dup := s.Specs[c.Name]; !dup {
			s.Specs[c.Name] = c
		}
	}
}

// tlsConfig builds the client TLS settings: system roots plus an optional
// CA bundle, an optional client certificate (mutual TLS), TLS 1.2 or newer.
func tlsConfig(c config.Sink, host string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName}
	if tc.ServerName == "" {
		tc.ServerName = host
	}
	if c.CAFile != "" {
		pem, err := readConfigFile(c.CAFile, 1<<20)
		if err != nil {
			return nil, fmt.Errorf("reading CA bundle: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" {
		certPEM, err := readConfigFile(c.CertFile, 1<<20)
		if err != nil {
			return nil, fmt.Errorf("reading client certificate: %w", err)
		}
		keyPEM, err := readSecretFile(c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("reading client key: %w", err)
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			// tls's message names the problem, never the key material.
			return nil, fmt.Errorf("client certificate %s and key %s: %w", c.CertFile, c.KeyFile, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// readConfigFile reads a small file named in the config through the safe
// reader (no symlinks, FIFOs or oversize files).
func readConfigFile(path string, limit int64) ([]byte, error) {
	b, err := platform.ReadPath(path, limit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// ErrSecretExposed is returned for a secret file that others may read.
var ErrSecretExposed = errors.New("readable or writable by group or others; chmod 600 it and make root its owner")

// readSecretFile reads a bearer token or private key. The file must be a
// regular file owned by root (or the agent's own user) with no group or
// other permissions: a token others can read is a token others can use.
func readSecretFile(path string) ([]byte, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := checkSecretMode(fi); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return readConfigFile(path, 64<<10)
}

// readToken reads the bearer token: the first line, trimmed.
func readToken(path string) (string, error) {
	b, err := readSecretFile(path)
	if err != nil {
		return "", err
	}
	tok, _, _ := strings.Cut(string(b), "\n")
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", fmt.Errorf("%s: token file is empty", path)
	}
	if strings.ContainsFunc(tok, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		// RFC 6750 §2.1: b64token is visible ASCII; anything else would
		// break the header (and could smuggle a second header line).
		return "", fmt.Errorf("%s: token contains characters not allowed in a bearer token", path)
	}
	return tok, nil
}

// droppedMessage builds the `dropped` event for a sink's outbox.
func droppedEvent(sink string, n int, first, last time.Time) drift.Event {
	return drift.Event{
		SchemaVersion: drift.EventSchemaVersion,
		ID:            droppedID(sink, first, last, n),
		Time:          last,
		Kind:          drift.KindDropped,
		Subject:       sink,
		Severity:      policy.SeverityHigh,
		Count:         n,
		Message: fmt.Sprintf("outbox of sink %s was full: %d older low-severity event(s) dropped between %s and %s",
			sink, n, first.UTC().Format(time.RFC3339), last.UTC().Format(time.RFC3339)),
	}
}

func droppedID(sink string, first, last time.Time, n int) string {
	b, _ := json.Marshal([]any{"dropped", sink, first.UnixNano(), last.UnixNano(), n})
	return hashID(b)
}
