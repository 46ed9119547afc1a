package main

import (
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestMSIVersion(t *testing.T) {
	for in, want := range map[string]string{"1.2.3": "1.2.3", "1.2.3~rc1": "1.2.3", "0.0.0~dev": "0.0.0", "10.0.65535+git1": "10.0.65535"} {
		if got, err := msiVersion(in); err != nil || got != want {
			t.Errorf("msiVersion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"1.2", "256.0.0", "1.0.65536", "dev"} {
		if got, err := msiVersion(in); err == nil {
			t.Errorf("msiVersion(%q) = %q; want an error", in, got)
		}
	}
}

// TestMSITables renders the WiX source, builds it with the real wixl around
// a stand-in agent.exe and reads the tables back with msiinfo, as CI does
// with the real binary.
func TestMSITables(t *testing.T) {
	wxs, err := renderWXS("2.5.1~rc2", "agent.exe")
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal([]byte(wxs), new(struct{})); err != nil {
		t.Fatalf("rendered WiX source is not XML: %v\n%s", err, wxs)
	}
	for _, want := range []string{`Version="2.5.1"`, `Arguments="run --config &quot;[CommonAppDataFolder]msgguard\agent.yaml&quot;"`,
		`Start="auto"`, `Account="LocalSystem"`, `ExeCommand="install --no-start"`, `Impersonate="no"`} {
		if !strings.Contains(wxs, want) {
			t.Errorf("WiX source lacks %s", want)
		}
	}
	wixl, err := exec.LookPath("wixl")
	if err != nil {
		t.Skip("wixl not installed (Debian package wixl)")
	}
	if _, err := exec.LookPath("msiinfo"); err != nil {
		t.Skip("msiinfo not installed (Debian package msitools)")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "agent.exe"), []byte("MZ stand-in"), 0o644)
	os.WriteFile(filepath.Join(dir, "msgguard.wxs"), []byte(wxs), 0o644)
	cmd := exec.Command(wixl, "-a", "x64", "-o", "out.msi", "msgguard.wxs")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("wixl: %v\n%s", err, out)
	}
	table := func(name string) string {
		out, err := exec.Command("msiinfo", "export", filepath.Join(dir, "out.msi"), name).Output()
		if err != nil {
			t.Fatalf("msiinfo export %s: %v", name, err)
		}
		return string(out)
	}
	checks := map[string][]string{
		// Type 16 own process, start 2 automatic, error control 1 normal.
		"ServiceInstall": {"AgentService\tmsgguard\tmsgguard device policy agent\t16\t2\t1\t\t\tLocalSystem\t\trun --config \"[CommonAppDataFolder]msgguard\\agent.yaml\"\tAgent\t"},
		// 163 = start on install (1) + stop on install (2) + stop (32) and delete (128) on uninstall.
		"ServiceControl": {"AgentServiceControl\tmsgguard\t163\t\t1\tAgent"},
		// 3090 = 18 (exe from an installed file) + in-script (0x400) + no impersonation (0x800).
		"CustomAction":           {"ConfigureService\t3090\tAgentExe\tinstall --no-start"},
		"InstallExecuteSequence": {"ConfigureService\tNOT REMOVE\t5801", "InstallServices\t\t5800", "StartServices\tVersionNT\t5900"},
		"Directory":              {"INSTALLDIR\tProgramFiles64Folder\tmsgguard"},
		"File":                   {"AgentExe\tAgent\tagent.exe\t"},
		"Property":               {"ProductVersion\t2.5.1", "UpgradeCode\t{" + msiUpgradeCode + "}"},
	}
	for name, wants := range checks {
		got := table(name)
		for _, w := range wants {
			if !strings.Contains(got, w) {
				t.Errorf("%s table lacks %q:\n%s", name, w, got)
			}
		}
	}
	// Nothing under %ProgramData%: uninstall keeps it.
	if d := table("Directory"); strings.Contains(d, "CommonAppDataFolder") {
		t.Errorf("the MSI owns a ProgramData directory; uninstall would remove it:\n%s", d)
	}
}

// TestMacOSLayout: the LaunchDaemon the macOS payload ships is what
// `agent install` renders for /usr/local/sbin/agent, and the postinstall
// script is valid sh that runs it.
func TestMacOSLayout(t *testing.T) {
	plist, err := macPlist()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<string>/usr/local/sbin/agent</string>", "<string>/Library/Application Support/msgguard/agent.yaml</string>",
		"<key>KeepAlive</key>\n\t<true/>", "<string>com.msgguard.agent</string>"} {
		if !strings.Contains(plist, want) {
			t.Errorf("plist lacks %q", want)
		}
	}
	p := filepath.Join(t.TempDir(), "postinstall")
	os.WriteFile(p, []byte(macPostinstall), 0o755)
	if out, err := exec.Command("sh", "-n", p).CombinedOutput(); err != nil {
		t.Errorf("postinstall: sh -n: %v\n%s", err, out)
	}
	if !strings.Contains(macPostinstall, "exec /usr/local/sbin/agent install\n") {
		t.Error("postinstall does not run agent install")
	}
}
