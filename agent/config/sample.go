package config

import (
	"fmt"

	"github.com/msgguard/msgguard/install"
)

// Sample returns the configuration file `agent install` writes on a first
// install: every setting commented out at its default, so the file
// documents itself and parses to Default(p).
func Sample(p install.Paths) []byte {
	d := Default(p)
	return fmt.Appendf(nil, `# msgguard agent configuration. Every setting is shown commented out at its
# default; uncomment to change. Errors are reported as file:line:col.
# After editing: 'agent restart' (the policy file itself is watched; no
# restart is needed when only the policy changes).

# Policy file; when it does not exist the embedded GDPR default policy is used.
# An empty string always uses the embedded policy.
#policy: %q

#database: %q
#socket: %q

#scan:
#  interval: %s          # between scheduled scans
#  jitter: %s            # random extra delay per interval
#  initial_delay: %s     # random delay before the first scan after start
#  probe_timeout: %s     # a probe that takes longer yields "unknown"
#  timeout: %s           # bound of a whole scan
#  policy_poll: %s       # how often the policy file is checked for changes

#log:
#  level: %s              # debug, info, warn, error
#  file: ""                 # empty: JSON on standard output (journald)
#  max_size_mb: %d
#  max_files: %d

#retention:
#  days: %d
#  max_scans: %d

#phones:
#  enabled: false
#  adb_path: ""
#  timeout: %s

#browsers:                 # messenger web sessions in users' browser profiles
#  enabled: true           # (reads folder names only; see agent privacy)

#budget:                   # logged and shown in health when exceeded
#  rss_mb: %d
#  cpu_percent: %g

#sinks: []
`, d.Policy, d.Database, d.Socket,
		d.Scan.Interval, d.Scan.Jitter, d.Scan.InitialDelay, d.Scan.ProbeTimeout, d.Scan.Timeout, d.Scan.PolicyPoll,
		d.Log.Level, d.Log.MaxSizeMB, d.Log.MaxFiles,
		d.Retention.Days, d.Retention.MaxScans,
		d.Phones.Timeout,
		d.Budget.RSSMB, d.Budget.CPUPercent)
}
