package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"github.com/msgguard/msgguard/install"
)

//go:embed msgguard.wxs
var wxsTemplate string

// Fixed GUIDs: the UpgradeCode ties every msgguard MSI together (a newer
// one replaces an older one); the component GUID stays the same so that an
// upgrade keeps the installed service (Windows Installer component rules).
const (
	msiUpgradeCode   = "7d0c3b1e-8a55-4d0b-9a3e-2f4c6f1d9b21"
	msiComponentGUID = "1b0f6a52-3a51-4c55-8d8e-4f0c2f0b7a11"
)

// msiVersionRE: ProductVersion is major.minor.build, each numeric
// (major, minor < 256, build < 65536; Windows Installer "ProductVersion
// property"). A pre-release suffix (~rc1, +git...) is dropped.
var msiVersionRE = regexp.MustCompile(`^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,5})`)

func msiVersion(v string) (string, error) {
	m := msiVersionRE.FindStringSubmatch(v)
	if m == nil {
		return "", fmt.Errorf("version %q: an MSI needs major.minor.build", v)
	}
	var maj, min, build int
	fmt.Sscan(m[1], &maj)
	fmt.Sscan(m[2], &min)
	fmt.Sscan(m[3], &build)
	if maj > 255 || min > 255 || build > 65535 {
		return "", fmt.Errorf("version %q: an MSI allows at most 255.255.65535", v)
	}
	return fmt.Sprintf("%d.%d.%d", maj, min, build), nil
}

// renderWXS fills the WiX source. The service arguments are the ones
// `agent install` registers, with [CommonAppDataFolder] (%ProgramData%\,
// resolved by Windows Installer) in place of C:\ProgramData\.
func renderWXS(version, agentExe string) (string, error) {
	mv, err := msiVersion(version)
	if err != nil {
		return "", err
	}
	paths := install.PathsFor("windows", "[CommonAppDataFolder]")
	m := &install.Manager{Paths: paths}
	args := m.ServiceArgs()
	for i, a := range args {
		a = strings.Replace(a, `[CommonAppDataFolder]\`, `[CommonAppDataFolder]`, 1)
		if strings.ContainsAny(a, " \t") || strings.Contains(a, "[") {
			a = `"` + a + `"`
		}
		args[i] = a
	}
	esc := func(s string) string {
		var b bytes.Buffer
		xml.EscapeText(&b, []byte(s))
		return strings.ReplaceAll(b.String(), "&#34;", "&quot;")
	}
	data := map[string]string{
		"Version":       mv,
		"FullVersion":   esc(version),
		"UpgradeCode":   msiUpgradeCode,
		"ComponentGUID": msiComponentGUID,
		"Homepage":      homepage,
		"AgentExe":      esc(agentExe),
		"ServiceName":   install.ServiceName,
		"DisplayName":   esc(install.ServiceDisplayName),
		"Description":   esc(install.ServiceDescription),
		"Arguments":     esc(strings.Join(args, " ")),
	}
	var b strings.Builder
	if err := template.Must(template.New("wxs").Option("missingkey=error").Parse(wxsTemplate)).Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// buildMSI builds agent.exe and packs it with wixl into dir.
func buildMSI(ctx context.Context, root, work, dir, version string) (string, error) {
	wixl, err := exec.LookPath("wixl")
	if err != nil {
		return "", fmt.Errorf("-msi needs wixl (Debian package wixl, from msitools): %w", err)
	}
	exe := filepath.Join(work, "agent.exe")
	if err := buildAgentFor(ctx, root, exe, version, "windows", "amd64"); err != nil {
		return "", err
	}
	// wixl resolves Source relative to its working directory only.
	wxs, err := renderWXS(version, "agent.exe")
	if err != nil {
		return "", err
	}
	src := filepath.Join(work, "msgguard.wxs")
	if err := os.WriteFile(src, []byte(wxs), 0o644); err != nil {
		return "", err
	}
	out := filepath.Join(dir, fmt.Sprintf("msgguard-%s-x64.msi", version))
	out, err = filepath.Abs(out)
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, wixl, "-a", "x64", "-o", out, src)
	cmd.Dir = work
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("wixl: %w\n%s", err, stderr.Bytes())
	}
	return out, nil
}
