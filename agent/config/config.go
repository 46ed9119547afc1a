// Package config answers how the agent daemon is configured: it parses the
// agent's YAML configuration file (policy path, scan schedule, logging,
// database and socket paths, retention, phones, reporting sinks) strictly —
// unknown keys, wrong types and out-of-range values are errors, each reported
// as "file:line:col: field: message" — and fills in defaults.
package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/msgguard/msgguard/install"
	"github.com/msgguard/msgguard/platform"
)

// MaxSize caps the configuration file; it is a few hundred bytes in practice.
const MaxSize = 1 << 20

// Config is the agent daemon's configuration.
type Config struct {
	// Policy is the policy file. The default is the installed location
	// (install.Paths.Policy), used when present, else the embedded default
	// policy; an explicit empty string means the embedded default.
	Policy string
	// Root is the filesystem root the probes inspect: "/" in production, a
	// fixture tree in tests.
	Root string
	// Database is the bbolt database file.
	Database string
	// Socket is the local API endpoint (Unix socket path or named pipe).
	Socket    string
	Scan      Scan
	Log       Log
	Retention Retention
	Phones    Phones
	Browsers  Browsers
	Budget    Budget
	// Sinks are the reporting sinks (schema in sinks.go).
	Sinks []Sink
	// Drift configures drift detection (schema in sinks.go).
	Drift Drift
}

// Scan is the scan schedule.
type Scan struct {
	// Interval between scheduled scans (default 1h).
	Interval time.Duration
	// Jitter is the upper bound of a random delay added to each interval,
	// so that a fleet does not scan (and report) in lockstep.
	Jitter time.Duration
	// InitialDelay is the upper bound of the random delay before the first
	// scan after start, so that a boot is not slowed by a scan.
	InitialDelay time.Duration
	// ProbeTimeout bounds each probe; a probe that overruns yields unknown.
	ProbeTimeout time.Duration
	// Timeout bounds a whole scan cycle.
	Timeout time.Duration
	// PolicyPoll is how often the policy file is checked for a changed
	// content hash.
	PolicyPoll time.Duration
}

// Log configures logging.
type Log struct {
	// Level is a zerolog level: debug, info, warn, error.
	Level string
	// File is a log file; empty logs JSON to standard output (journald
	// under systemd).
	File string
	// MaxSizeMB rotates File when it would exceed this size.
	MaxSizeMB int
	// MaxFiles is the number of rotated files kept besides File.
	MaxFiles int
}

// Retention bounds the scan history kept in the database.
type Retention struct {
	Days     int
	MaxScans int
}

// Phones configures scanning of attached phones.
type Phones struct {
	Enabled bool
	// ADBPath is an absolute path to adb; empty uses the command table.
	ADBPath string
	// Timeout bounds one phone's scan.
	Timeout time.Duration
}

// Browsers configures the inspection of users' browser profiles for
// messenger web sessions (platform/browser). It reads only the names of
// per-site storage folders, and only looks for the catalog's web origins;
// a company (or its works council) may still switch it off.
type Browsers struct {
	Enabled bool
}

// Budget is the agent's resource budget; exceeding it is logged and shown
// in health, not enforced (systemd's MemoryMax/CPUQuota enforce).
type Budget struct {
	RSSMB      int
	CPUPercent float64
}

// Default returns the configuration used when no file (or an empty one) is
// given, with paths from p.
func Default(p install.Paths) Config {
	return Config{
		Policy:   p.Policy,
		Root:     defaultRoot(),
		Database: p.DB,
		Socket:   p.Socket,
		Scan: Scan{
			Interval:     time.Hour,
			Jitter:       5 * time.Minute,
			InitialDelay: 30 * time.Second,
			ProbeTimeout: 30 * time.Second,
			Timeout:      5 * time.Minute,
			PolicyPoll:   10 * time.Second,
		},
		Log:       Log{Level: "info", MaxSizeMB: 10, MaxFiles: 3},
		Retention: Retention{Days: 90, MaxScans: 2000},
		Phones:    Phones{Timeout: 2 * time.Minute},
		Browsers:  Browsers{Enabled: true},
		Budget:    Budget{RSSMB: 64, CPUPercent: 5},
		Sinks:     []Sink{},
		Drift:     DefaultDrift(),
	}
}

func defaultRoot() string {
	if filepath.Separator == '\\' {
		return `C:\`
	}
	return "/"
}

// Load reads and parses the configuration file at path on top of def. A
// missing file is an error; callers that allow running without one use
// Default.
func Load(path string, def Config) (Config, error) {
	b, err := platform.ReadPath(path, MaxSize)
	if err != nil {
		return def, fmt.Errorf("reading config %s: %w", path, err)
	}
	return Parse(path, b, def)
}

// Parse parses configuration text. name is used in error messages.
func Parse(name string, data []byte, def Config) (Config, error) {
	d := &decoder{file: name}
	cfg := def
	root := d.document(data)
	if root != nil {
		d.config(root, &cfg)
	}
	if len(d.errs) > 0 {
		return def, d.errs
	}
	return cfg, nil
}

// minimum/maximum bounds of the schedule. A one-second interval would make
// the agent a CPU hog on every laptop, so the floor is a minute; PolicyPoll
// may be short because it only stats and hashes one small file.
const (
	minInterval   = time.Minute
	maxInterval   = 7 * 24 * time.Hour
	minPolicyPoll = 100 * time.Millisecond
)

var logLevels = []string{"debug", "info", "warn", "error"}

func (d *decoder) config(n *yaml, cfg *Config) {
	at := n // where a cross-field error is reported
	d.mapping(n, "", fields{
		"policy":   func(f string, v *yaml) { cfg.Policy = d.path(v, f, true) },
		"root":     func(f string, v *yaml) { cfg.Root = d.path(v, f, false) },
		"database": func(f string, v *yaml) { cfg.Database = d.path(v, f, false) },
		"socket":   func(f string, v *yaml) { cfg.Socket = d.socket(v, f) },
		"scan": func(f string, v *yaml) {
			at = v
			d.scan(v, f, &cfg.Scan)
		},
		"log": func(f string, v *yaml) { d.log(v, f, &cfg.Log) },
		"retention": func(f string, v *yaml) {
			d.mapping(v, f, fields{
				"days":      func(f string, v *yaml) { cfg.Retention.Days = d.intRange(v, f, 1, 3650) },
				"max_scans": func(f string, v *yaml) { cfg.Retention.MaxScans = d.intRange(v, f, 1, 1_000_000) },
			})
		},
		"phones": func(f string, v *yaml) {
			d.mapping(v, f, fields{
				"enabled":  func(f string, v *yaml) { cfg.Phones.Enabled = d.boolean(v, f) },
				"adb_path": func(f string, v *yaml) { cfg.Phones.ADBPath = d.path(v, f, true) },
				"timeout": func(f string, v *yaml) {
					cfg.Phones.Timeout = d.durationRange(v, f, time.Second, time.Hour)
				},
			})
		},
		"browsers": func(f string, v *yaml) {
			d.mapping(v, f, fields{
				"enabled": func(f string, v *yaml) { cfg.Browsers.Enabled = d.boolean(v, f) },
			})
		},
		"budget": func(f string, v *yaml) {
			d.mapping(v, f, fields{
				"rss_mb":      func(f string, v *yaml) { cfg.Budget.RSSMB = d.intRange(v, f, 8, 4096) },
				"cpu_percent": func(f string, v *yaml) { cfg.Budget.CPUPercent = d.floatRange(v, f, 0.1, 100) },
			})
		},
		"sinks": func(f string, v *yaml) { cfg.Sinks = d.sinks(v, f) },
		"drift": func(f string, v *yaml) { d.drift(v, f, &cfg.Drift) },
	})
	if len(d.errs) == 0 && cfg.Scan.Jitter > cfg.Scan.Interval {
		d.errorf(at, "scan.jitter", "must not exceed scan.interval (%s)", cfg.Scan.Interval)
	}
}

func (d *decoder) scan(n *yaml, field string, s *Scan) {
	d.mapping(n, field, fields{
		"interval":      func(f string, v *yaml) { s.Interval = d.durationRange(v, f, minInterval, maxInterval) },
		"jitter":        func(f string, v *yaml) { s.Jitter = d.durationRange(v, f, 0, maxInterval) },
		"initial_delay": func(f string, v *yaml) { s.InitialDelay = d.durationRange(v, f, 0, time.Hour) },
		"probe_timeout": func(f string, v *yaml) { s.ProbeTimeout = d.durationRange(v, f, time.Second, time.Hour) },
		"timeout":       func(f string, v *yaml) { s.Timeout = d.durationRange(v, f, time.Second, 24*time.Hour) },
		"policy_poll":   func(f string, v *yaml) { s.PolicyPoll = d.durationRange(v, f, minPolicyPoll, time.Hour) },
	})
}

func (d *decoder) log(n *yaml, field string, l *Log) {
	d.mapping(n, field, fields{
		"level": func(f string, v *yaml) {
			s := d.str(v, f)
			for _, lv := range logLevels {
				if s == lv {
					l.Level = s
					return
				}
			}
			d.errorf(v, f, "unknown level %q (want one of %s)", s, strings.Join(logLevels, ", "))
		},
		"file":        func(f string, v *yaml) { l.File = d.path(v, f, true) },
		"max_size_mb": func(f string, v *yaml) { l.MaxSizeMB = d.intRange(v, f, 1, 1024) },
		"max_files":   func(f string, v *yaml) { l.MaxFiles = d.intRange(v, f, 0, 100) },
	})
}

// path decodes an absolute path. Relative paths are refused: the service's
// working directory is not something an administrator should have to think
// about.
func (d *decoder) path(n *yaml, field string, emptyOK bool) string {
	s := d.str(n, field)
	switch {
	case s == "" && emptyOK:
		return ""
	case s == "":
		d.errorf(n, field, "must not be empty")
	case !isAbs(s):
		d.errorf(n, field, "must be an absolute path, got %q", s)
	case strings.ContainsRune(s, 0):
		d.errorf(n, field, "contains a NUL byte")
	default:
		return s
	}
	return ""
}

func (d *decoder) socket(n *yaml, field string) string {
	s := d.str(n, field)
	if strings.HasPrefix(s, `\\.\pipe\`) && len(s) > len(`\\.\pipe\`) {
		return s
	}
	return d.path(&yaml{Kind: n.Kind, Value: s, Line: n.Line, Column: n.Column, Tag: n.Tag}, field, false)
}

// isAbs reports whether p is absolute in either Unix or Windows syntax, so
// that a config can be checked on any OS.
func isAbs(p string) bool {
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\\`) {
		return true
	}
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') &&
		(p[0] >= 'A' && p[0] <= 'Z' || p[0] >= 'a' && p[0] <= 'z')
}
