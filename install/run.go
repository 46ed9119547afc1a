package install

import "time"

// StopTimeout is how long the service has to stop: the SCM's default
// WaitToKillServiceTimeout and launchd's ExitTimeOut are 20 s, and the
// systemd unit allows 25 s.
const StopTimeout = 20 * time.Second
