package policy

import (
	"encoding/json"
	"fmt"
)

// Tri is a tri-state answer from a probe. The zero value is Unknown so that a
// probe which forgets to set a value can never produce a silent "yes".
type Tri int8

const (
	Unknown Tri = iota
	No
	Yes
)

// TriOf converts a bool into Yes or No.
func TriOf(b bool) Tri {
	if b {
		return Yes
	}
	return No
}

func (t Tri) String() string {
	switch t {
	case Yes:
		return "true"
	case No:
		return "false"
	default:
		return "unknown"
	}
}

// MarshalJSON encodes Yes/No as JSON booleans and Unknown as the string
// "unknown", matching the documented `enabled` (true/false/unknown) field.
func (t Tri) MarshalJSON() ([]byte, error) {
	switch t {
	case Yes:
		return []byte("true"), nil
	case No:
		return []byte("false"), nil
	default:
		return []byte(`"unknown"`), nil
	}
}

// UnmarshalJSON accepts what MarshalJSON writes.
func (t *Tri) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true":
		*t = Yes
	case "false":
		*t = No
	case `"unknown"`, "null":
		*t = Unknown
	default:
		return fmt.Errorf("tri-state: unexpected %s", b)
	}
	return nil
}

// Inventory is what the platform probes found on one device. It holds
// presence, variant, version and settings only: never message content,
// contacts, phone numbers or account names.
type Inventory struct {
	Device     Device      `json:"device"`
	Users      []User      `json:"users"`
	Messengers []Messenger `json:"messengers"`
	Posture    Posture     `json:"posture"`
	// Problems lists what the probes could not read or deliberately skipped
	// (a missing dpkg database, a hostile symlink, a command that failed), so
	// that an incomplete scan says so instead of looking clean.
	Problems []Problem `json:"problems,omitempty"`
}

// Device identifies the inspected device.
type Device struct {
	// ID is stable across scans of the same device (machine-id hash for a
	// computer, hashed serial for a phone).
	ID        string `json:"id"`
	Kind      string `json:"kind"` // DeviceComputer or DevicePhone
	Platform  string `json:"platform"`
	Hostname  string `json:"hostname,omitempty"`
	OSVersion string `json:"os_version,omitempty"`
	Model     string `json:"model,omitempty"`
	// Label is an owner label an admin gave a phone; empty otherwise.
	Label string `json:"label,omitempty"`
}

// User is a local human account (or, on a phone, a user/profile).
type User struct {
	Name string `json:"name"`
	UID  string `json:"uid,omitempty"`
	Home string `json:"home,omitempty"`
	// Profile is set on phones: "personal", "work", "secondary".
	Profile string `json:"profile,omitempty"`
}

// Messenger is one piece of evidence that a catalog messenger is present.
type Messenger struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Variant  Variant `json:"variant"`
	Source   string  `json:"source"` // deb, rpm, snap, flatpak, desktop, appimage, data-dir, process, app-bundle, uninstall, msix, package, browser, web-app, ...
	User     string  `json:"user,omitempty"`
	Version  string  `json:"version,omitempty"`
	Location string  `json:"location,omitempty"`
	// Profile is the phone profile ("personal", "work") an app lives in.
	Profile string `json:"profile,omitempty"`
	// Contacts reports whether the app holds the contacts permission (phones).
	Contacts Tri `json:"contacts,omitempty"`
	// Services lists, comma-separated and sorted, the ids of the services
	// an aggregator (Ferdium, Franz) has set up, read from directory names
	// only ("slack, whatsapp"). A string keeps Messenger comparable.
	Services string `json:"services,omitempty"`
}

// UnlistedID is the Messenger.ID of an app that declares itself a
// messenger (a .desktop file's InstantMessaging, Chat or IRCClient
// category, a macOS bundle's social-networking category) but that no
// catalog entry claims. Its Location is the app's own id (desktop file id
// or bundle id), which is the subject of its messenger.unlisted finding.
const UnlistedID = "unlisted"

// Sources whose evidence is volatile: a running process alone never makes a
// drift event (it comes and goes with the user's session).
const SourceProcess = "process"

// Sources of browser evidence (platform/browser): a messenger's web client
// used in a browser profile (the profile's site-storage folder for the
// messenger's origin exists), and a web app installed from a browser.
const (
	SourceBrowser = "browser"
	SourceWebApp  = "web-app"
)

// Problem is something a probe could not read or refused to read.
type Problem struct {
	Probe   string `json:"probe"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
	// Core marks a problem that leaves a core source unread — the
	// accounts, or every package database — so that the absence of a
	// messenger proves nothing: rules that would pass on absence are
	// unknown, and the verdict is "could not check" (RuleCouldNotCheck).
	Core bool `json:"core,omitempty"`
}

// CoreProblems returns the problems marked Core.
func (inv *Inventory) CoreProblems() []Problem {
	var out []Problem
	for _, p := range inv.Problems {
		if p.Core {
			out = append(out, p)
		}
	}
	return out
}

// Posture holds the device's protection settings, each tri-state with the
// source that decided it.
type Posture struct {
	// ScreenLock has one entry per human user (or phone profile).
	ScreenLock []ScreenLock   `json:"screen_lock"`
	RemoteWipe RemoteWipe     `json:"remote_wipe"`
	Encryption DiskEncryption `json:"encryption"`
	// Inspected is false on platforms whose posture probes have not landed;
	// the evaluation then says "not inspected on this platform yet".
	Inspected bool `json:"inspected"`
}

// ScreenLock is the effective screen-lock setting for one user.
type ScreenLock struct {
	User    string `json:"user"`
	Desktop string `json:"desktop,omitempty"`
	// Applicable is No for a user without any graphical session.
	Applicable    Tri  `json:"applicable"`
	Enabled       Tri  `json:"enabled"`
	IdleSeconds   *int `json:"idle_seconds,omitempty"`
	GraceSeconds  *int `json:"grace_seconds,omitempty"`
	LockOnSuspend Tri  `json:"lock_on_suspend"`
	// Source names the file, lock, command or default that decided the value.
	Source string `json:"source,omitempty"`
	// Policy is an enforced (MDM/GPO/dconf lock) value where one was found,
	// reported beside the effective one.
	Policy string `json:"policy,omitempty"`
	// Reason explains an Unknown.
	Reason string `json:"reason,omitempty"`
}

// RemoteWipe says whether the company can wipe the device remotely.
type RemoteWipe struct {
	Capable Tri `json:"capable"`
	// Scope is "device", "work-profile" or "" when not capable.
	Scope    string `json:"scope,omitempty"`
	Provider string `json:"provider,omitempty"` // e.g. "Microsoft Intune"
	Source   string `json:"source,omitempty"`
	// ConsumerLock reports a consumer lock/erase service (Find My) that the
	// company does not control; it never counts as a company wipe.
	ConsumerLock Tri    `json:"consumer_lock,omitempty"`
	Reason       string `json:"reason,omitempty"`
}

// DiskEncryption lists the volumes that matter (root, home, swap or the
// platform's equivalent).
type DiskEncryption struct {
	Volumes []Volume `json:"volumes"`
	Reason  string   `json:"reason,omitempty"`
}

// Volume is one volume's encryption state.
type Volume struct {
	Mount     string `json:"mount"` // "/", "/home", "swap", "C:", "data"
	Device    string `json:"device,omitempty"`
	Encrypted Tri    `json:"encrypted"`
	// Protected is No for e.g. a BitLocker volume that is encrypted but
	// suspended; Unknown where the platform has no such notion.
	Protected Tri    `json:"protected,omitempty"`
	Method    string `json:"method,omitempty"` // LUKS2, LVM-on-LUKS, FileVault, BitLocker, file-based
	Source    string `json:"source,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// Clone returns a deep copy via JSON; used where a caller must not share
// slices with a stored value.
func (inv *Inventory) Clone() *Inventory {
	b, _ := json.Marshal(inv)
	var out Inventory
	_ = json.Unmarshal(b, &out)
	return &out
}

// Device kinds (Device.Kind, AppliesWhen.DeviceKind).
const (
	DeviceComputer = "computer"
	DevicePhone    = "phone"
)
