package install

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"howett.net/plist"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

func linuxUnit(t *testing.T, exe string, p Paths) string {
	t.Helper()
	m := &Manager{Paths: p}
	u, err := SystemdUnit(SystemdUnitParams{Executable: exe, Args: m.ServiceArgs(), Paths: p})
	if err != nil {
		t.Fatalf("SystemdUnit: %v", err)
	}
	return u
}

func TestSystemdUnitGolden(t *testing.T) {
	golden(t, "msgguard.service", linuxUnit(t, "/usr/local/sbin/agent", PathsFor("linux", "")))
}

func TestSystemdUnitContent(t *testing.T) {
	u := linuxUnit(t, "/usr/local/sbin/agent", PathsFor("linux", ""))
	for _, want := range []string{
		"\nRestart=always\n", "\nRestartSec=5s\n", "\nStartLimitIntervalSec=0\n",
		"\nNoNewPrivileges=yes\n", "\nProtectSystem=strict\n", "\nProtectHome=read-only\n", "\nPrivateTmp=yes\n",
		"\nReadWritePaths=-/var/lib/msgguard -/run/msgguard -/var/log/msgguard\n",
		"\nStateDirectory=msgguard\n", "\nRuntimeDirectory=msgguard\n", "\nRuntimeDirectoryMode=0755\n",
		"\nCPUQuota=20%\n", "\nMemoryMax=256M\n",
		"\nExecStart=/usr/local/sbin/agent run --config /etc/msgguard/agent.yaml\n",
	} {
		if !strings.Contains(u, want) {
			t.Errorf("unit lacks %q", strings.TrimSpace(want))
		}
	}
	if strings.Contains(u, "RestartSec=120") {
		t.Error("unit carries kardianos' RestartSec=120")
	}
}

// TestSystemdAnalyzeVerify checks the rendered unit with systemd's own
// parser. systemd-analyze exits 0 on unknown keys and only warns, so any
// output at all fails the test.
func TestSystemdAnalyzeVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed (Debian package systemd); the unit is not verified")
	}
	// The executable must exist for verify; a path with a space, % and $
	// exercises the quoting.
	dir := t.TempDir()
	odd := filepath.Join(dir, "odd dir %n $HOME")
	if err := os.MkdirAll(odd, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		exe  string
		p    Paths
	}{
		{"default paths", "", PathsFor("linux", "")},
		{"odd executable path", filepath.Join(odd, "agent"), PathsFor("linux", "")},
		{"custom state paths", "", Paths{DataDir: "/srv/msgguard data", RunDir: "/run/msgguard", LogDir: "/var/log/msgguard", Config: "/etc/msgguard/agent.yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exe := tc.exe
			if exe == "" {
				exe = filepath.Join(dir, "agent")
			}
			if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			unit := filepath.Join(t.TempDir(), "msgguard.service")
			if err := os.WriteFile(unit, []byte(linuxUnit(t, exe, tc.p)), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(sa, "verify", "--man=no", unit).CombinedOutput()
			if err != nil || len(bytes.TrimSpace(out)) > 0 {
				t.Errorf("systemd-analyze verify: %v\n%s", err, out)
			}
		})
	}
}

func TestSystemdQuote(t *testing.T) {
	tests := []struct {
		in   string
		env  bool
		want string
	}{
		{"/usr/sbin/agent", false, "/usr/sbin/agent"},
		{"run", true, "run"},
		{"", true, `""`},
		{"/a b", false, `"/a b"`},
		{`/a"b`, false, `"/a\"b"`},
		{`/a\b`, false, `"/a\\b"`},
		{"/50%", false, "/50%%"},
		{"/$HOME", true, "/$$HOME"},
		{"/$HOME", false, "/$HOME"},
		{"/x $y%", true, `"/x $$y%%"`},
		{";", true, `";"`},
	}
	for _, tt := range tests {
		got, err := systemdQuote(tt.in, tt.env)
		if err != nil || got != tt.want {
			t.Errorf("systemdQuote(%q, %v) = %q, %v; want %q", tt.in, tt.env, got, err, tt.want)
		}
	}
	if _, err := systemdQuote("a\nb", true); err == nil {
		t.Error("systemdQuote accepted a newline")
	}
	if _, err := SystemdUnit(SystemdUnitParams{Executable: "agent"}); err == nil {
		t.Error("SystemdUnit accepted a relative executable")
	}
}

// plistJob is the subset of launchd.plist(5) keys we set.
type plistJob struct {
	Label             string   `plist:"Label"`
	ProgramArguments  []string `plist:"ProgramArguments"`
	RunAtLoad         bool     `plist:"RunAtLoad"`
	KeepAlive         bool     `plist:"KeepAlive"`
	ThrottleInterval  int      `plist:"ThrottleInterval"`
	ExitTimeOut       int      `plist:"ExitTimeOut"`
	Umask             int      `plist:"Umask"`
	WorkingDirectory  string   `plist:"WorkingDirectory"`
	StandardOutPath   string   `plist:"StandardOutPath"`
	StandardErrorPath string   `plist:"StandardErrorPath"`
}

func darwinPlist(t *testing.T, exe string) string {
	t.Helper()
	p := PathsFor("darwin", "")
	m := &Manager{Paths: p}
	s, err := LaunchdPlist(LaunchdPlistParams{Label: LaunchdLabel, Executable: exe, Args: m.ServiceArgs(), Paths: p})
	if err != nil {
		t.Fatalf("LaunchdPlist: %v", err)
	}
	return s
}

func TestLaunchdPlistGolden(t *testing.T) {
	golden(t, "com.msgguard.agent.plist", darwinPlist(t, "/usr/local/sbin/agent"))
}

func TestLaunchdPlistParses(t *testing.T) {
	for _, exe := range []string{"/usr/local/sbin/agent", "/Applications/msg & guard <x>/agent"} {
		var got plistJob
		format, err := plist.Unmarshal([]byte(darwinPlist(t, exe)), &got)
		if err != nil {
			t.Fatalf("plist.Unmarshal: %v", err)
		}
		if format != plist.XMLFormat {
			t.Errorf("format = %d; want XML", format)
		}
		want := plistJob{
			Label:             "com.msgguard.agent",
			ProgramArguments:  []string{exe, "run", "--config", "/Library/Application Support/msgguard/agent.yaml"},
			RunAtLoad:         true,
			KeepAlive:         true,
			ThrottleInterval:  10,
			ExitTimeOut:       20,
			Umask:             0o77,
			WorkingDirectory:  "/",
			StandardOutPath:   "/Library/Logs/msgguard/agent.log",
			StandardErrorPath: "/Library/Logs/msgguard/agent.err.log",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("parsed plist (-want +got):\n%s", diff)
		}
	}
}

func TestLaunchctlCommands(t *testing.T) {
	tests := []struct {
		got  []string
		want string
	}{
		{LaunchctlBootstrap("/Library/LaunchDaemons/com.msgguard.agent.plist"), "bootstrap system /Library/LaunchDaemons/com.msgguard.agent.plist"},
		{LaunchctlBootout(LaunchdLabel), "bootout system/com.msgguard.agent"},
		{LaunchctlKickstart(LaunchdLabel), "kickstart -k system/com.msgguard.agent"},
		{LaunchctlEnable(LaunchdLabel), "enable system/com.msgguard.agent"},
		{LaunchctlPrint(LaunchdLabel), "print system/com.msgguard.agent"},
	}
	for _, tt := range tests {
		if got := strings.Join(tt.got, " "); got != tt.want {
			t.Errorf("launchctl %s; want %s", got, tt.want)
		}
		for _, a := range tt.got {
			if a == "load" || a == "unload" {
				t.Errorf("deprecated launchctl verb %q", a)
			}
		}
	}
}

func TestPathsFor(t *testing.T) {
	tests := []struct {
		goos string
		want Paths
	}{
		{"linux", Paths{ConfigDir: "/etc/msgguard", DataDir: "/var/lib/msgguard", RunDir: "/run/msgguard",
			Socket: "/run/msgguard/agent.sock", DB: "/var/lib/msgguard/state.db", Policy: "/etc/msgguard/policy.yaml",
			Config: "/etc/msgguard/agent.yaml", LogDir: "/var/log/msgguard", Unit: "/etc/systemd/system/msgguard.service"}},
		{"darwin", Paths{ConfigDir: "/Library/Application Support/msgguard", DataDir: "/Library/Application Support/msgguard/data",
			RunDir: "/var/run/msgguard", Socket: "/var/run/msgguard/agent.sock", DB: "/Library/Application Support/msgguard/data/state.db",
			Policy: "/Library/Application Support/msgguard/policy.yaml", Config: "/Library/Application Support/msgguard/agent.yaml",
			LogDir: "/Library/Logs/msgguard", Unit: "/Library/LaunchDaemons/com.msgguard.agent.plist"}},
		{"windows", Paths{ConfigDir: `C:\ProgramData\msgguard`, DataDir: `C:\ProgramData\msgguard\data`,
			Socket: `\\.\pipe\msgguard`, DB: `C:\ProgramData\msgguard\data\state.db`, Policy: `C:\ProgramData\msgguard\policy.yaml`,
			Config: `C:\ProgramData\msgguard\agent.yaml`, LogDir: `C:\ProgramData\msgguard\logs`}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, PathsFor(tt.goos, "")); diff != "" {
			t.Errorf("PathsFor(%s) (-want +got):\n%s", tt.goos, diff)
		}
	}
	if got := PathsFor("windows", `D:\Data\`).DB; got != `D:\Data\msgguard\data\state.db` {
		t.Errorf("PathsFor(windows, D:\\Data\\).DB = %q", got)
	}
}
