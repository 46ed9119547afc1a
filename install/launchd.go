package install

import (
	"encoding/xml"
	"fmt"
	"strings"
	"sync"
	"text/template"
)

// LaunchdPlistParams fill the launchd plist template.
type LaunchdPlistParams struct {
	Label      string
	Executable string
	Args       []string
	Paths      Paths
}

// launchdPlist is our LaunchDaemon definition (launchd.plist(5)):
//
//   - RunAtLoad starts the agent when the job is bootstrapped and at every
//     boot (kardianos/service defaults it to false).
//   - KeepAlive restarts it whenever it exits, for any reason.
//   - ThrottleInterval=10: launchd waits at least 10 s between starts, so a
//     crash loop does not spin (launchd's default is also 10 s; stated so
//     that it is visible).
//   - ExitTimeOut=20: launchd sends SIGKILL 20 s after SIGTERM; the agent
//     finishes a running scan and closes the database within that.
//   - Umask 63 (077): files the agent creates are private to root.
//   - Standard{Out,Error}Path: the JSON log; macOS has no journald.
const launchdPlist = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>{{xml .Label}}</string>
	<key>ProgramArguments</key>
	<array>
{{- range .Argv}}
		<string>{{xml .}}</string>
{{- end}}
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<true/>
	<key>ThrottleInterval</key>
	<integer>10</integer>
	<key>ExitTimeOut</key>
	<integer>20</integer>
	<key>Umask</key>
	<integer>63</integer>
	<key>WorkingDirectory</key>
	<string>/</string>
	<key>StandardOutPath</key>
	<string>{{xml .Stdout}}</string>
	<key>StandardErrorPath</key>
	<string>{{xml .Stderr}}</string>
</dict>
</plist>
`

// launchdTmpl is parsed on first use, not at start: only install renders it.
var launchdTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("plist").Funcs(template.FuncMap{"xml": xmlEscape}).Parse(launchdPlist))
})

func xmlEscape(s string) (string, error) {
	var b strings.Builder
	if err := xml.EscapeText(&b, []byte(s)); err != nil {
		return "", err
	}
	return b.String(), nil
}

// LaunchdPlist renders the plist text.
func LaunchdPlist(p LaunchdPlistParams) (string, error) {
	if !strings.HasPrefix(p.Executable, "/") {
		return "", fmt.Errorf("executable %q is not an absolute path", p.Executable)
	}
	for _, a := range append([]string{p.Label, p.Executable}, p.Args...) {
		if strings.ContainsFunc(a, func(r rune) bool { return r < 0x20 }) {
			return "", fmt.Errorf("%q contains a control character", a)
		}
	}
	data := struct {
		Label          string
		Argv           []string
		Stdout, Stderr string
	}{
		Label:  p.Label,
		Argv:   append([]string{p.Executable}, p.Args...),
		Stdout: p.Paths.LogDir + "/agent.log",
		Stderr: p.Paths.LogDir + "/agent.err.log",
	}
	var b strings.Builder
	if err := launchdTmpl().Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// launchctl command lines. launchctl(1) on macOS 10.11+ marks load/unload
// as legacy; the domain-target forms below are the supported ones and fail
// with useful errors instead of "Load failed: 5: Input/output error"
// (kardianos/service #398).

// LaunchctlBootstrap loads the daemon's plist into the system domain; with
// RunAtLoad this also starts it.
func LaunchctlBootstrap(plistPath string) []string {
	return []string{"bootstrap", "system", plistPath}
}

// LaunchctlBootout stops the daemon and removes it from the system domain
// until the next bootstrap (or boot).
func LaunchctlBootout(label string) []string {
	return []string{"bootout", "system/" + label}
}

// LaunchctlEnable clears a "disabled" override, without which bootstrap
// fails after an administrator once ran `launchctl disable`.
func LaunchctlEnable(label string) []string {
	return []string{"enable", "system/" + label}
}

// LaunchctlKickstart restarts a loaded daemon (-k kills a running instance
// first).
func LaunchctlKickstart(label string) []string {
	return []string{"kickstart", "-k", "system/" + label}
}

// LaunchctlPrint describes a loaded daemon; it fails when the job is not
// loaded.
func LaunchctlPrint(label string) []string {
	return []string{"print", "system/" + label}
}
