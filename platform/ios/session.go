package ios

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/phone"
)

// session runs the commands of one scan of one device (see phone.Session:
// per-command timeout, early stop, device-level failures end the scan).
type session struct {
	*phone.Session
	udid string
}

func newSession(run platform.Runner, udid string, timeout time.Duration) *session {
	return &session{Session: phone.NewSession(run, timeout, classify), udid: udid}
}

// lockdownRe matches ideviceinfo's "ERROR: Could not connect to lockdownd:
// <lockdownd_strerror> (<code>)" (libimobiledevice 1.3.0+,
// tools/ideviceinfo.c) and ideviceinstaller 1.2.0's "Could not connect to
// lockdownd: <text>. Exiting.".
var lockdownRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`Could not connect to lockdownd(?:: ([^(\n.]+))?`) })

// pairingErrors are the lockdownd errors (libimobiledevice lockdown.c
// lockdownd_error_str_map) that mean this computer is not, or no longer,
// trusted by the device, or is waiting for the user to trust it.
var pairingErrors = []string{
	"Password protected", "User denied pairing", "Pairing dialog response pending",
	"Missing HostID", "Invalid HostID", "Missing pair record", "Invalid pair record",
	"Pairing failed", "SSL error", "Invalid configuration",
}

// classify maps the tools' device-level error messages to ErrDisconnected
// or ErrNotPaired (wrapped with lockdownd's reason); nil means the command
// merely failed.
//
//	ideviceinfo 1.3.0:       "ERROR: Device <udid> not found!" (stdout; stderr from 1.4)
//	idevicepair, installer:  "No device found with udid <udid>."
//	idevice_id -l:           "ERROR: Unable to retrieve device list!" (usbmuxd not running)
//	ideviceinstaller 1.1.1:  "Could not connect to lockdownd. Exiting."
func classify(err error, stdout []byte) error {
	var ce *platform.CommandError
	if !errors.As(err, &ce) {
		return nil
	}
	msg := string(ce.Stderr) + "\n" + string(stdout)
	switch {
	case strings.Contains(msg, "No device found"),
		strings.Contains(msg, "ERROR: Device ") && strings.Contains(msg, " not found!"),
		strings.Contains(msg, "ERROR: No device found!"),
		strings.Contains(msg, "Unable to retrieve device list"):
		return ErrDisconnected
	}
	if m := lockdownRe().FindStringSubmatch(msg); m != nil {
		reason := strings.TrimSpace(m[1])
		if reason == "" {
			return ErrNotPaired
		}
		for _, p := range pairingErrors {
			if strings.HasPrefix(reason, p) {
				return fmt.Errorf("%w: lockdownd: %s", ErrNotPaired, reason)
			}
		}
	}
	return nil
}
