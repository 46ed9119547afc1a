// Package ios inspects iPhones and iPads attached to this computer with the
// libimobiledevice tools (Debian packages libimobiledevice-utils and
// ideviceinstaller): which devices are attached and whether this computer
// is paired with each (List), and, for a paired device, its OS version and
// model, the catalog messengers installed, passcode, supervision and the
// consumer Find My lock (Scan). Each device becomes an Inventory of its own
// (Device.Kind "phone", Platform "ios").
//
// What lockdown does not show is reported as Unknown with a reason: an app's
// contacts permission (kept in the device's TCC database, reachable only
// through a backup), the auto-lock delay, and MDM enrolment — which is what
// gives a company remote wipe; supervision is visible and reported beside it.
//
// Commands run through a platform.Runner by plain name ("ideviceinfo", ...);
// production resolves them through CommandPaths. Every command has its own
// timeout.
package ios

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/phone"
)

// Runner names of the libimobiledevice tools.
const (
	CmdID        = "idevice_id"
	CmdPair      = "idevicepair"
	CmdInfo      = "ideviceinfo"
	CmdInstaller = "ideviceinstaller"
)

// CommandPaths returns the absolute paths the production runner may use:
// Debian installs the tools in /usr/bin (libimobiledevice-utils 1.3.0,
// ideviceinstaller 1.1.1 in bookworm); /usr/local/bin is where a source
// build installs them.
func CommandPaths() map[string][]string {
	m := map[string][]string{}
	for _, c := range []string{CmdID, CmdPair, CmdInfo, CmdInstaller} {
		m[c] = []string{"/usr/bin/" + c, "/usr/local/bin/" + c}
	}
	return m
}

// DefaultCommandTimeout bounds one command when Options.CommandTimeout is
// zero. Listing all apps of a full iPhone takes a few seconds.
const DefaultCommandTimeout = 30 * time.Second

// Pairing states in Phone.State.
const (
	StatePaired    = "paired"
	StateNotPaired = "not paired"
	// StateUnknown: the pairing records could not be read.
	StateUnknown = "unknown"
)

// Phone is an attached iOS device.
type Phone struct {
	UDID  string `json:"udid"`
	State string `json:"state"`
}

// Ready reports whether the device can be scanned: a pairing record exists
// for it (a record can still be stale, e.g. after the phone was erased;
// Scan then returns ErrNotPaired).
func (p Phone) Ready() bool { return p.State == StatePaired && ValidUDID(p.UDID) }

// Errors Scan returns when a device cannot be inspected; not failures (see
// NotReady).
var (
	ErrNotPaired    = errors.New("device is not paired with this computer (unlock it and tap \"Trust\", or run idevicepair pair)")
	ErrDisconnected = errors.New("device is not connected")
	ErrInvalidUDID  = errors.New("invalid device UDID")
)

// NotReady reports whether err means the device could not be inspected now:
// the agent shows its state and produces no findings.
func NotReady(err error) bool {
	return errors.Is(err, ErrNotPaired) || errors.Is(err, ErrDisconnected)
}

// Options tune a scan: ClearSerial keeps the UDID itself as Device.ID,
// Label is the owner label, CommandTimeout bounds each command (zero means
// DefaultCommandTimeout).
type Options = phone.Options

// DeviceID is the stable Device.ID: the hex SHA-256 of the UDID, or the UDID
// itself when clear is true.
func DeviceID(udid string, clear bool) string { return phone.DeviceID(udid, clear) }

// ValidUDID reports whether s looks like a UDID: 40 hex digits (devices
// before 2018) or "XXXXXXXX-XXXXXXXXXXXXXXXX" (25 characters), more
// generally 20–64 hex digits and dashes, not starting with a dash.
func ValidUDID(s string) bool {
	if len(s) < 20 || len(s) > 64 || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '-') {
			return false
		}
	}
	return true
}

// List returns the iOS devices attached over USB with their pairing state.
// It asks the device nothing: `idevice_id -l` lists usbmuxd's devices and
// `idevicepair list` reads this computer's pairing records. (`idevicepair
// validate` would try to pair an unpaired device — lockdownd_client_new_with_handshake
// pairs when no record exists — and pop up the "Trust This Computer?" dialog
// on every poll.) When usbmuxd is not running, which on Linux means no iOS
// device is plugged in (udev starts it on plug-in), List returns no devices
// and no error.
func List(ctx context.Context, run platform.Runner) ([]Phone, error) {
	ctx, cancel := context.WithTimeout(ctx, DefaultCommandTimeout)
	defer cancel()
	out, err := run.Output(ctx, CmdID, "-l")
	if err != nil {
		if errors.Is(classify(err, out), ErrDisconnected) {
			return nil, nil
		}
		return nil, fmt.Errorf("idevice_id -l: %w", err)
	}
	udids := parseUDIDs(out)
	if len(udids) == 0 {
		return nil, nil
	}
	state := StateUnknown
	paired := map[string]bool{}
	if out, err := run.Output(ctx, CmdPair, "list"); err == nil {
		state = StateNotPaired
		for _, u := range parseUDIDs(out) {
			paired[u] = true
		}
	}
	phones := make([]Phone, 0, len(udids))
	for _, u := range udids {
		p := Phone{UDID: u, State: state}
		if paired[u] {
			p.State = StatePaired
		}
		phones = append(phones, p)
	}
	return phones, nil
}
