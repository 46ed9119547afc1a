package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/msgguard/msgguard/install"
)

func linuxDefaults() Config {
	c := Default(install.PathsFor("linux", ""))
	c.Root = "/"
	return c
}

func TestParseFull(t *testing.T) {
	b, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse("full.yaml", b, linuxDefaults())
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := Config{
		Policy:   "/etc/msgguard/policy.yaml",
		Root:     "/",
		Database: "/var/lib/msgguard/state.db",
		Socket:   "/run/msgguard/agent.sock",
		Scan: Scan{Interval: 2 * time.Hour, Jitter: 10 * time.Minute, InitialDelay: time.Minute,
			ProbeTimeout: 20 * time.Second, Timeout: 3 * time.Minute, PolicyPoll: 5 * time.Second},
		Log:       Log{Level: "debug", File: "/var/log/msgguard/agent.log", MaxSizeMB: 5, MaxFiles: 2},
		Retention: Retention{Days: 30, MaxScans: 500},
		Phones:    Phones{Enabled: true, ADBPath: "/usr/bin/adb", Timeout: 90 * time.Second},
		Browsers:  Browsers{Enabled: false},
		Budget:    Budget{RSSMB: 48, CPUPercent: 2.5},
		Sinks:     []Sink{},
		Drift:     Drift{Debounce: 2, Versions: false, SummaryInterval: 12 * time.Hour, RetentionDays: 30, MaxEvents: 500},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse(full.yaml) mismatch (-want +got):\n%s", diff)
	}
}

func TestParseDefaults(t *testing.T) {
	def := linuxDefaults()
	for _, in := range []string{"", "\n# only a comment\n", "---\n", "~\n", "scan:\nlog:\n"} {
		got, err := Parse("c.yaml", []byte(in), def)
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		if diff := cmp.Diff(def, got); diff != "" {
			t.Errorf("Parse(%q) differs from defaults:\n%s", in, diff)
		}
	}
	if def.Scan.Interval != time.Hour || def.Retention.Days != 90 || def.Retention.MaxScans != 2000 {
		t.Errorf("defaults = %+v; want interval 1h, 90 days, 2000 scans", def)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // each error's full text
	}{
		{"unknown key", "scan:\n  intervall: 1h\n",
			[]string{"c.yaml:2:3: scan.intervall: unknown setting (known: initial_delay, interval, jitter, policy_poll, probe_timeout, timeout)"}},
		{"unknown top-level", "polcy: /x\n",
			[]string{"c.yaml:1:1: polcy: unknown setting (known: browsers, budget, database, drift, log, phones, policy, retention, root, scan, sinks, socket)"}},
		{"bare number duration", "scan:\n  interval: 60\n",
			[]string{`c.yaml:2:13: scan.interval: expected a duration such as 90s, 15m or 1h, got "60"`}},
		{"interval too short", "scan:\n  interval: 1s\n",
			[]string{"c.yaml:2:13: scan.interval: 1s is out of range [1m0s, 168h0m0s]"}},
		{"jitter above interval", "scan:\n  interval: 1m\n  jitter: 2m\n",
			[]string{"c.yaml:2:3: scan.jitter: must not exceed scan.interval (1m0s)"}},
		{"relative path", "database: state.db\n",
			[]string{`c.yaml:1:11: database: must be an absolute path, got "state.db"`}},
		{"number as path", "policy: 5\n",
			[]string{`c.yaml:1:9: policy: expected a string, got "5"`}},
		{"bad level", "log:\n  level: loud\n",
			[]string{`c.yaml:2:10: log.level: unknown level "loud" (want one of debug, info, warn, error)`}},
		{"bool as string", "phones:\n  enabled: \"yes\"\n",
			[]string{`c.yaml:2:12: phones.enabled: expected true or false, got "yes"`}},
		{"retention range", "retention:\n  days: 0\n  max_scans: -1\n",
			[]string{"c.yaml:2:9: retention.days: 0 is out of range [1, 3650]",
				"c.yaml:3:14: retention.max_scans: -1 is out of range [1, 1000000]"}},
		{"duplicate key", "scan:\n  interval: 1h\n  interval: 2h\n",
			[]string{"c.yaml:3:3: scan.interval: duplicate key"}},
		{"section is a list", "scan: [1, 2]\n",
			[]string{"c.yaml:1:7: scan: expected a mapping, got a list"}},
		{"top level list", "- a\n",
			[]string{"c.yaml:1:1: expected a mapping of settings, got a list"}},
		{"syntax", "scan:\n  interval: [\n",
			[]string{"c.yaml:2:1: syntax error: did not find expected node content"}},
		{"alias", "a: &x 1\nb: *x\n",
			[]string{"c.yaml:1:1: YAML anchors and aliases are not allowed"}},
		{"socket pipe ok, relative bad", "socket: agent.sock\n",
			[]string{`c.yaml:1:9: socket: must be an absolute path, got "agent.sock"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := linuxDefaults()
			got, err := Parse("c.yaml", []byte(tt.in), def)
			if err == nil {
				t.Fatalf("Parse(%q) = nil error; want %q", tt.in, tt.want)
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Parse(%q) error %T is not an ErrorList", tt.in, err)
			}
			var msgs []string
			for _, e := range list {
				msgs = append(msgs, e.Error())
			}
			if diff := cmp.Diff(tt.want, msgs); diff != "" {
				t.Errorf("Parse(%q) errors (-want +got):\n%s", tt.in, diff)
			}
			if diff := cmp.Diff(def, got); diff != "" {
				t.Errorf("Parse(%q) with errors must return the defaults; diff:\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseWindowsPipe(t *testing.T) {
	def := Default(install.PathsFor("windows", `D:\PD`))
	got, err := Parse("c.yaml", []byte("socket: '\\\\.\\pipe\\msgguard-test'\ndatabase: 'D:\\PD\\x.db'\n"), def)
	if err != nil {
		t.Fatal(err)
	}
	if got.Socket != `\\.\pipe\msgguard-test` || got.Database != `D:\PD\x.db` {
		t.Errorf("Parse = socket %q database %q", got.Socket, got.Database)
	}
	if def.Database != `D:\PD\msgguard\data\state.db` {
		t.Errorf("windows default database = %q", def.Database)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(p, []byte("scan:\n  interval: 3h\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Load(p, linuxDefaults())
	if err != nil || got.Scan.Interval != 3*time.Hour {
		t.Errorf("Load = %v, %v; want interval 3h", got.Scan.Interval, err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml"), linuxDefaults()); err == nil {
		t.Error("Load(missing) = nil error")
	}
	link := filepath.Join(dir, "link.yaml")
	if err := os.Symlink(p, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(link, linuxDefaults()); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Load(symlink) = %v; want a symlink refusal", err)
	}
}

func FuzzParse(f *testing.F) {
	full, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{string(full), "", "scan:\n  interval: 1h\n", "a: &x [*x]\n", "sinks:\n - type: x\n", "- [\n"} {
		f.Add([]byte(s))
	}
	def := Default(install.PathsFor("linux", ""))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Parse("f.yaml", b, def)
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %v is not a non-empty ErrorList", err)
			}
			for _, e := range list {
				if e.Line < 1 || e.Column < 1 {
					t.Fatalf("error without position: %v", e)
				}
			}
			return
		}
		if got.Scan.Interval < minInterval || got.Scan.Jitter > got.Scan.Interval {
			t.Fatalf("accepted out-of-range schedule %+v", got.Scan)
		}
	})
}

// TestSharedStrictYAML: the configuration follows the strict-YAML rules
// shared with the policy loader (policy.ParseYAML, policy.EachYAMLPair):
// one document only, no merge keys, the size cap, and syntax errors on the
// line they are really on rather than where yaml.v3 reports them.
func TestSharedStrictYAML(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"second document", "scan:\n  interval: 2h\n---\nscan:\n  interval: 3h\n",
			[]string{`c.yaml:3:1: only one YAML document is allowed (remove the second "---")`}},
		{"merge key", "scan:\n  <<: {interval: 2h}\n",
			[]string{"c.yaml:2:3: scan: keys must be plain strings"}},
		{"mis-indented key reported on its line", "scan:\n  interval: 2h\n  jitter: 1m\n    timeout: 1m\nlog:\n  level: info\n",
			[]string{"c.yaml:4:1: syntax error: mapping values are not allowed in this context"}},
		{"too large", "# " + strings.Repeat("x", MaxSize) + "\n",
			[]string{fmt.Sprintf("c.yaml:1:1: file is %d bytes; the limit is %d", MaxSize+3, MaxSize)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tt.in), linuxDefaults())
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Parse(%q) = %v; want an ErrorList", tt.name, err)
			}
			var msgs []string
			for _, e := range list {
				msgs = append(msgs, e.Error())
			}
			if diff := cmp.Diff(tt.want, msgs); diff != "" {
				t.Errorf("Parse(%s) errors (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}
