// Package android inspects Android phones attached to this computer over
// adb: which phones are attached and whether each lets us in (List), and,
// for an authorised phone, its users and profiles, the catalog messengers in
// each profile with their contacts permission, screen lock, remote-wipe
// capability and encryption (Scan). Each phone becomes an Inventory of its
// own (Device.Kind "phone").
//
// Every command goes through a platform.Runner as "adb -s SERIAL shell ...";
// production resolves "adb" through the runner's absolute-path table
// (CommandPaths). Each command has its own timeout, so a hung phone yields
// Problems and Unknowns instead of a hung scan.
//
// Two rules shape the probes. First, nothing we run may change the phone:
// in particular no "locksettings" command is ever issued, because
// `locksettings get-disabled` verifies an empty credential and, on a phone
// with a PIN, records a failed unlock attempt that counts towards the
// wipe-after-N-failures limit (AOSP LockSettingsShellCommand.java in
// frameworks/base; docs/posture-detection.md). The session refuses such a
// command outright (ErrForbiddenCommand). Second, dumpsys output is full of
// personal data (account names, phone numbers, contacts): the parsers pick
// out only the fields listed on Inventory and never keep raw output.
package android

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/phone"
)

// Command is the runner name of the adb client.
const Command = "adb"

// CommandPaths returns the absolute paths the production runner may use for
// adb, in order of preference: Debian's `adb` package (a symlink into
// /usr/lib/android-sdk), the android-sdk-platform-tools layout, and the
// usual /opt install of Google's platform-tools. A configured path goes in
// front of these.
func CommandPaths() map[string][]string {
	return map[string][]string{
		Command: {
			"/usr/bin/adb",
			"/usr/lib/android-sdk/platform-tools/adb",
			"/opt/android-sdk/platform-tools/adb",
			"/opt/platform-tools/adb",
		},
	}
}

// DefaultCommandTimeout bounds one adb command when Options.CommandTimeout
// is zero. dumpsys on a busy phone takes a few seconds; 20 s leaves room
// while keeping a hung phone from stalling the agent's cycle.
const DefaultCommandTimeout = 20 * time.Second

// Connection states printed by `adb devices` (adb transport.cpp
// to_string(ConnectionState)). Other states (bootloader, recovery, sideload,
// rescue, authorizing, connecting, host) are passed through verbatim.
const (
	StateDevice        = "device"
	StateUnauthorized  = "unauthorized"
	StateOffline       = "offline"
	StateNoPermissions = "no permissions"
)

// Phone is one line of `adb devices -l`.
type Phone struct {
	Serial string `json:"serial"`
	State  string `json:"state"`
	// Detail is the explanation adb adds to "no permissions" (e.g. "user in
	// plugdev group; are your udev rules wrong?").
	Detail      string `json:"detail,omitempty"`
	USB         string `json:"usb,omitempty"` // devpath, e.g. "usb:1-4"
	Product     string `json:"product,omitempty"`
	Model       string `json:"model,omitempty"` // adb replaces non-alphanumerics by "_"
	Device      string `json:"device,omitempty"`
	TransportID string `json:"transport_id,omitempty"`
}

// Ready reports whether the phone can be scanned: it is in state "device"
// (authorised) and has an addressable serial.
func (p Phone) Ready() bool {
	return p.State == StateDevice && ValidSerial(p.Serial)
}

// Errors Scan returns when a phone cannot be inspected. They are not scan
// failures: the agent lists the phone with its state and records no
// findings (see NotReady).
var (
	ErrNotAuthorized = errors.New("phone has not authorised this computer for USB debugging (accept the RSA key prompt on the phone)")
	ErrOffline       = errors.New("phone is offline")
	ErrNoPermission  = errors.New("no permission to open the phone's USB device (udev rules)")
	ErrDisconnected  = errors.New("phone is not connected")
)

// ErrForbiddenCommand is returned, without running anything, for a command
// that could change the phone's state (any locksettings command).
var ErrForbiddenCommand = errors.New("command refused: it could change the phone's state")

// ErrInvalidSerial is returned for a serial adb cannot address safely.
var ErrInvalidSerial = errors.New("invalid adb serial")

// NotReady reports whether err means the phone could not be inspected right
// now (unauthorised, offline, no USB permission, unplugged): the agent shows
// the state and produces no findings rather than a failure.
func NotReady(err error) bool {
	return errors.Is(err, ErrNotAuthorized) || errors.Is(err, ErrOffline) ||
		errors.Is(err, ErrNoPermission) || errors.Is(err, ErrDisconnected)
}

// Options tune a scan: ClearSerial keeps the serial itself as Device.ID,
// Label is the owner label, CommandTimeout bounds each adb command (zero
// means DefaultCommandTimeout).
type Options = phone.Options

// DeviceID is the stable Device.ID of a phone: the hex SHA-256 of its serial,
// or the serial itself when clear is true. The agent can use it to find a
// phone's stored record without scanning it.
func DeviceID(serial string, clear bool) string { return phone.DeviceID(serial, clear) }

// ValidSerial reports whether serial can be passed to `adb -s`: 1–128
// printable, non-space characters, not starting with "-" (it would read as
// an option), and not adb's "(no serial number)" placeholder.
func ValidSerial(serial string) bool {
	if serial == "" || len(serial) > 128 || serial[0] == '-' || serial[0] == '(' {
		return false
	}
	for i := 0; i < len(serial); i++ {
		if c := serial[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// List returns the phones adb sees, in adb's order, with their states.
// Phones that are unauthorised, offline or lack USB permission are listed
// like the others; Phone.Ready tells which can be scanned. Note that the adb
// client starts the adb server (a daemon on 127.0.0.1:5037) if none runs.
func List(ctx context.Context, run platform.Runner) ([]Phone, error) {
	ctx, cancel := context.WithTimeout(ctx, DefaultCommandTimeout)
	defer cancel()
	out, err := run.Output(ctx, Command, "devices", "-l")
	if err != nil {
		return nil, fmt.Errorf("adb devices: %w", err)
	}
	phones, err := parseDevices(out)
	if err != nil {
		return nil, fmt.Errorf("adb devices: %w", err)
	}
	return phones, nil
}
