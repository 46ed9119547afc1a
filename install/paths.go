// Package install answers how msgguard runs as a system service: where its
// files live on each OS, the service definitions it ships (a systemd unit, a
// launchd plist, Windows SCM settings), and install, uninstall, start, stop
// and restart. Service definitions are rendered from our own templates (see
// systemd.go, launchd.go) rather than kardianos/service's defaults, whose
// systemd unit hard-codes RestartSec=120 and whose launchd backend uses the
// deprecated `launchctl load/unload` (kardianos/service issues #271, #398).
package install

import "strings"

// ServiceName is the name of the service on every OS (systemd unit
// msgguard.service, SCM service msgguard, Windows event log source msgguard).
const ServiceName = "msgguard"

// ServiceDisplayName and ServiceDescription name the service in the
// Windows service list (and the MSI's ServiceInstall).
const (
	ServiceDisplayName = "msgguard device policy agent"
	ServiceDescription = "Checks this device against the company's messenger and device policy."
)

// LaunchdLabel is the launchd job label on macOS.
const LaunchdLabel = "com.msgguard.agent"

// Paths are the agent's files on one OS. All are absolute paths in the target
// OS's syntax. They are defined here and nowhere else.
type Paths struct {
	// ConfigDir holds Config and Policy; root-owned 0755 (config files 0644,
	// root-owned, so that the unprivileged CLI can show the policy in force).
	ConfigDir string
	// DataDir holds the database; root-only 0700.
	DataDir string
	// RunDir holds the local API socket; root-owned 0755 so that every
	// local user can reach the socket (authorization is by peer
	// credentials). Empty on Windows (a named pipe is used).
	RunDir string
	// Socket is the local API endpoint: a Unix socket path, or a named pipe
	// name on Windows.
	Socket string
	// DB is the bbolt database file.
	DB string
	// Policy is the installed policy file.
	Policy string
	// Config is the agent configuration file.
	Config string
	// LogDir receives log files when file logging is configured, and
	// launchd's stdout/stderr files on macOS.
	LogDir string
	// Unit is the service definition file (systemd unit, launchd plist);
	// empty on Windows, where the SCM database holds the definition.
	Unit string
}

// PathsFor returns the paths for goos. programData is %ProgramData% on
// Windows (ignored elsewhere; empty means C:\ProgramData).
func PathsFor(goos, programData string) Paths {
	switch goos {
	case "windows":
		if programData == "" {
			programData = `C:\ProgramData`
		}
		base := strings.TrimRight(programData, `\`) + `\msgguard`
		return Paths{
			ConfigDir: base,
			DataDir:   base + `\data`,
			Socket:    `\\.\pipe\msgguard`,
			DB:        base + `\data\state.db`,
			Policy:    base + `\policy.yaml`,
			Config:    base + `\agent.yaml`,
			LogDir:    base + `\logs`,
		}
	case "darwin":
		// Apple's File System Programming Guide puts a daemon's support
		// files under /Library/Application Support/<app>; /var/run is
		// root-only writable and cleared at boot, like /run on Linux.
		base := "/Library/Application Support/msgguard"
		return Paths{
			ConfigDir: base,
			DataDir:   base + "/data",
			RunDir:    "/var/run/msgguard",
			Socket:    "/var/run/msgguard/agent.sock",
			DB:        base + "/data/state.db",
			Policy:    base + "/policy.yaml",
			Config:    base + "/agent.yaml",
			LogDir:    "/Library/Logs/msgguard",
			Unit:      "/Library/LaunchDaemons/" + LaunchdLabel + ".plist",
		}
	default:
		// FHS 3.0: /etc for host-specific configuration, /var/lib for
		// state, /run for runtime data such as sockets.
		return Paths{
			ConfigDir: "/etc/msgguard",
			DataDir:   "/var/lib/msgguard",
			RunDir:    "/run/msgguard",
			Socket:    "/run/msgguard/agent.sock",
			DB:        "/var/lib/msgguard/state.db",
			Policy:    "/etc/msgguard/policy.yaml",
			Config:    "/etc/msgguard/agent.yaml",
			LogDir:    "/var/log/msgguard",
			Unit:      "/etc/systemd/system/" + ServiceName + ".service",
		}
	}
}
