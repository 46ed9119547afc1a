package android

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/phone"
	"github.com/msgguard/msgguard/platform/phone/phonetest"
	"github.com/msgguard/msgguard/platform/platformtest"
	"github.com/msgguard/msgguard/policy"
)

func ip(n int) *int { return &n }

// doneWhenInventory is the acceptance scenario's phone: WhatsApp in the
// personal profile holding the contacts permission, WhatsApp Business in
// the work profile, no PIN, no device owner.
func doneWhenInventory() *policy.Inventory {
	return &policy.Inventory{
		Device: policy.Device{
			ID:        DeviceID("2B261FDH2000AB", false),
			Kind:      "phone",
			Platform:  "android",
			OSVersion: "Android 14",
			Model:     "Google Pixel 7",
		},
		Users: []policy.User{
			{Name: "user 0", UID: "0", Profile: "personal"},
			{Name: "user 10", UID: "10", Profile: "work"},
		},
		Messengers: []policy.Messenger{
			{ID: "whatsapp", Name: "WhatsApp", Variant: policy.VariantPrivate, Source: "package", User: "user 0",
				Version: "2.24.9.78", Location: "com.whatsapp", Profile: "personal", Contacts: policy.Yes},
			{ID: "whatsapp-business", Name: "WhatsApp Business", Variant: policy.VariantBusiness, Source: "package", User: "user 10",
				Version: "2.24.9.78", Location: "com.whatsapp.w4b", Profile: "work", Contacts: policy.No},
		},
		Posture: policy.Posture{
			ScreenLock: []policy.ScreenLock{
				{User: "user 0", Applicable: policy.Yes, Enabled: policy.No, IdleSeconds: ip(30), GraceSeconds: ip(5),
					Source: "dumpsys lock_settings: none"},
				{User: "user 10", Applicable: policy.Yes, Enabled: policy.No, IdleSeconds: ip(30), GraceSeconds: ip(5),
					Source: "dumpsys lock_settings: none (unified with user 0)"},
			},
			RemoteWipe: policy.RemoteWipe{Capable: policy.Yes, Scope: "work-profile",
				Provider: "com.google.android.apps.work.clouddpc",
				Source:   "dpm list-owners, dumpsys device_policy",
				Reason:   "only the work profile can be wiped (user 10); the personal profile is out of the company's reach"},
			Encryption: policy.DiskEncryption{Volumes: []policy.Volume{{
				Mount: "data", Encrypted: policy.Yes, Protected: policy.No, Method: "file-based",
				Source: "getprop ro.crypto.state, ro.crypto.type",
				Reason: "no screen lock: the encryption keys are not protected by a user credential",
			}}},
			Inspected: true,
		},
	}
}

func TestScanDoneWhen(t *testing.T) {
	f := loadFixture(t, "pixel7-a14-workprofile-nopin.txtar")
	r := fakeFor(f)
	inv, err := Scan(context.Background(), r, f.ID, testCatalog(), Options{})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	if diff := cmp.Diff(doneWhenInventory(), inv); diff != "" {
		t.Errorf("Scan inventory mismatch (-want +got):\n%s", diff)
	}
	assertNoLocksettings(t, r.CallLog())
}

// lockView, wipeView and encView are the facts each fixture must produce.
type lockView struct {
	User    string
	Enabled policy.Tri
}

type msgView struct {
	ID, User, Profile, Version string
	Contacts                   policy.Tri
}

func TestScanFixtures(t *testing.T) {
	tests := []struct {
		file       string
		model, os  string
		profiles   []string
		messengers []msgView
		locks      []lockView
		idle       *int
		grace      *int
		wipe       policy.RemoteWipe // Capable, Scope, Provider compared
		enc        policy.Volume     // Encrypted, Protected, Method compared
		problems   []string          // Problem.Path values
	}{
		{
			file: "pixel4a-a11-pin.txtar", model: "Google Pixel 4a", os: "Android 11",
			profiles: []string{"personal"},
			messengers: []msgView{
				{"signal", "user 0", "personal", "7.5.3", policy.Yes},
				{"telegram", "user 0", "personal", "10.12.0", policy.No},
				// The dump lists no READ_CONTACTS state for user 0 although
				// the app requests it: unknown, not "no".
				{"whatsapp", "user 0", "personal", "2.24.2.76", policy.Unknown},
			},
			locks: []lockView{{"user 0", policy.Yes}}, idle: ip(60), grace: ip(5),
			wipe: policy.RemoteWipe{Capable: policy.No},
			enc:  policy.Volume{Encrypted: policy.Yes, Protected: policy.Yes, Method: "file-based"},
		},
		{
			file: "moto-g7-a10-deviceowner.txtar", model: "motorola moto g(7)", os: "Android 10",
			profiles: []string{"personal"},
			messengers: []msgView{
				{"telegram", "user 0", "personal", "7.4.2", policy.Yes},
				{"teams", "user 0", "personal", "1416/1.0.0.2021143402", policy.No},
			},
			locks: []lockView{{"user 0", policy.Unknown}}, idle: ip(120), grace: ip(5),
			wipe: policy.RemoteWipe{Capable: policy.Yes, Scope: "device", Provider: "com.airwatch.androidagent"},
			enc:  policy.Volume{Encrypted: policy.Yes, Protected: policy.Unknown, Method: "full-disk"},
		},
		{
			file: "samsung-s23-a14-securefolder.txtar", model: "samsung SM-S911B", os: "Android 14",
			profiles: []string{"personal", "personal", "personal"},
			messengers: []msgView{
				{"whatsapp", "user 0", "personal", "2.24.10.74", policy.Yes},
				{"viber", "user 0", "personal", "22.3.1.0", policy.No},
				{"whatsapp", "user 95", "personal", "2.24.10.74", policy.No},
			},
			locks: []lockView{{"user 0", policy.Yes}, {"user 95", policy.Yes}, {"user 150", policy.Yes}},
			idle:  ip(60), grace: ip(0),
			wipe:     policy.RemoteWipe{Capable: policy.No},
			enc:      policy.Volume{Encrypted: policy.Yes, Protected: policy.Yes, Method: "file-based"},
			problems: []string{"pm list packages --user 150"},
		},
		{
			file: "pixel8-a15-deviceowner.txtar", model: "Google Pixel 8", os: "Android 15",
			profiles: []string{"personal", "personal"},
			messengers: []msgView{
				{"teams", "user 0", "personal", "1416/1.0.0.2024092302", policy.No},
				{"slack", "user 0", "personal", "24.05.10.0", policy.No},
				{"whatsapp-business", "user 0", "personal", "2.24.9.78", policy.Yes},
				{"signal", "user 11", "personal", "7.8.1", policy.Yes},
			},
			locks: []lockView{{"user 0", policy.Yes}, {"user 11", policy.Yes}}, idle: ip(60), grace: ip(5),
			wipe: policy.RemoteWipe{Capable: policy.Yes, Scope: "device", Provider: "com.google.android.apps.work.clouddpc"},
			enc:  policy.Volume{Encrypted: policy.Yes, Protected: policy.Yes, Method: "file-based"},
		},
		{
			file: "pixel6-a12-cope.txtar", model: "Google Pixel 6", os: "Android 12",
			profiles: []string{"personal", "work"},
			messengers: []msgView{
				{"threema", "user 0", "personal", "5.3.1", policy.No},
				{"threema-work", "user 10", "work", "5.3.1k", policy.Yes},
			},
			locks: []lockView{{"user 0", policy.Yes}, {"user 10", policy.Yes}}, idle: ip(30), grace: ip(5),
			wipe: policy.RemoteWipe{Capable: policy.Yes, Scope: "device", Provider: "com.google.android.apps.work.clouddpc"},
			enc:  policy.Volume{Encrypted: policy.Yes, Protected: policy.Yes, Method: "file-based"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f := loadFixture(t, tt.file)
			r := fakeFor(f)
			inv, err := Scan(context.Background(), r, f.ID, testCatalog(), Options{})
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			assertNoLocksettings(t, r.CallLog())
			if inv.Device.Model != tt.model || inv.Device.OSVersion != tt.os {
				t.Errorf("device = %q %q; want %q %q", inv.Device.Model, inv.Device.OSVersion, tt.model, tt.os)
			}
			var profiles []string
			for _, u := range inv.Users {
				profiles = append(profiles, u.Profile)
			}
			if diff := cmp.Diff(tt.profiles, profiles); diff != "" {
				t.Errorf("profiles (-want +got):\n%s", diff)
			}
			var msgs []msgView
			for _, m := range inv.Messengers {
				msgs = append(msgs, msgView{m.ID, m.User, m.Profile, m.Version, m.Contacts})
			}
			if diff := cmp.Diff(tt.messengers, msgs); diff != "" {
				t.Errorf("messengers (-want +got):\n%s", diff)
			}
			var locks []lockView
			for _, l := range inv.Posture.ScreenLock {
				locks = append(locks, lockView{l.User, l.Enabled})
				if diff := cmp.Diff(tt.idle, l.IdleSeconds); diff != "" {
					t.Errorf("%s idle (-want +got):\n%s", l.User, diff)
				}
				if diff := cmp.Diff(tt.grace, l.GraceSeconds); diff != "" {
					t.Errorf("%s grace (-want +got):\n%s", l.User, diff)
				}
				if l.Enabled == policy.Unknown && l.Reason == "" {
					t.Errorf("%s: unknown screen lock without a reason", l.User)
				}
			}
			if diff := cmp.Diff(tt.locks, locks); diff != "" {
				t.Errorf("screen locks (-want +got):\n%s", diff)
			}
			w := inv.Posture.RemoteWipe
			if got := (policy.RemoteWipe{Capable: w.Capable, Scope: w.Scope, Provider: w.Provider}); got != tt.wipe {
				t.Errorf("remote wipe = %+v; want %+v", got, tt.wipe)
			}
			if len(inv.Posture.Encryption.Volumes) != 1 {
				t.Fatalf("encryption volumes = %+v", inv.Posture.Encryption.Volumes)
			}
			v := inv.Posture.Encryption.Volumes[0]
			if got := (policy.Volume{Encrypted: v.Encrypted, Protected: v.Protected, Method: v.Method}); got != tt.enc {
				t.Errorf("encryption = %+v; want %+v", got, tt.enc)
			}
			var probs []string
			for _, p := range inv.Problems {
				probs = append(probs, p.Path)
			}
			if diff := cmp.Diff(tt.problems, probs); diff != "" {
				t.Errorf("problems (-want +got):\n%s\n%+v", diff, inv.Problems)
			}
		})
	}
}

// assertNoLocksettings fails if any command could reach locksettings: its
// get-disabled subcommand counts a failed unlock attempt on a phone with a
// PIN.
func assertNoLocksettings(t *testing.T, calls []string) {
	t.Helper()
	if len(calls) == 0 {
		t.Error("no commands were run")
	}
	for _, c := range calls {
		low := strings.ToLower(c)
		if strings.Contains(low, "locksettings") || strings.Contains(low, "cmd lock_settings") {
			t.Errorf("probe issued %q", c)
		}
	}
}

func TestCheckAllowedRefusesLocksettings(t *testing.T) {
	for _, args := range [][]string{
		{"locksettings", "get-disabled"},
		{"/system/bin/locksettings", "get-disabled", "--user", "0"},
		{"cmd", "lock_settings", "get-disabled"},
		{"sh", "-c", "locksettings get-disabled"},
		{"LockSettings", "verify"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := platformtest.NewFakeRunner()
			s := newSession(r, "X", time.Second)
			if _, err := s.shell(context.Background(), args...); !errors.Is(err, ErrForbiddenCommand) {
				t.Errorf("shell(%q) error = %v; want ErrForbiddenCommand", args, err)
			}
			if calls := r.CallLog(); len(calls) != 0 {
				t.Errorf("command reached the runner: %q", calls)
			}
		})
	}
	if err := checkAllowed([]string{"dumpsys", "lock_settings"}); err != nil {
		t.Errorf("dumpsys lock_settings refused: %v", err)
	}
}

func TestScanClearSerialAndLabel(t *testing.T) {
	f := loadFixture(t, "pixel7-a14-workprofile-nopin.txtar")
	inv, err := Scan(context.Background(), fakeFor(f), f.ID, testCatalog(), Options{ClearSerial: true, Label: "Anna's phone"})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Device.ID != f.ID || inv.Device.Label != "Anna's phone" {
		t.Errorf("device = %+v", inv.Device)
	}
	inv, err = Scan(context.Background(), fakeFor(f), f.ID, testCatalog(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Device.ID != DeviceID(f.ID, false) {
		t.Errorf("hashed ID = %q", inv.Device.ID)
	}
}

// TestScanKeepsNoPersonalData checks that nothing from the dumps beyond the
// documented fields reaches the inventory: the fixtures carry a SIM
// operator, timezone, serial numbers, install paths and the users' names.
func TestScanKeepsNoPersonalData(t *testing.T) {
	for _, file := range []string{"pixel7-a14-workprofile-nopin.txtar", "samsung-s23-a14-securefolder.txtar"} {
		f := loadFixture(t, file)
		inv, err := Scan(context.Background(), fakeFor(f), f.ID, testCatalog(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		dump := fmt.Sprintf("%+v", *inv)
		for _, secret := range []string{f.ID, "Telekom", "Europe/Berlin", "Owner", "Secure Folder", "/data/app", "ceDataInode", "38a0f7d5"} {
			if strings.Contains(dump, secret) {
				t.Errorf("%s: inventory contains %q", file, secret)
			}
		}
	}
}

func TestScanInvalidSerial(t *testing.T) {
	for _, s := range []string{"", "-s", "a b", "(no serial number)", "x\n", strings.Repeat("a", 129)} {
		_, err := Scan(context.Background(), platformtest.NewFakeRunner(), s, testCatalog(), Options{})
		if !errors.Is(err, ErrInvalidSerial) {
			t.Errorf("Scan(%q) error = %v; want ErrInvalidSerial", s, err)
		} else if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("Scan(%q) error %q carries the serial", s, err)
		}
	}
}

// TestScanPhoneNotReady: a phone that is unauthorised, offline, unplugged
// (before or during the scan) gives a typed error and no inventory.
func TestScanPhoneNotReady(t *testing.T) {
	f := loadFixture(t, "pixel7-a14-workprofile-nopin.txtar")
	adbErr := func(stderr string) error {
		return &platform.CommandError{Name: "adb", Err: phonetest.ExitError(1), Stderr: []byte(stderr)}
	}
	tests := []struct {
		name    string
		failAt  string // command line that fails; later ones are unrecorded
		err     error
		wantErr error
	}{
		{"unauthorized", "getprop", adbErr("error: device unauthorized.\nThis adb server's $ADB_VENDOR_KEYS is not set\nTry 'adb kill-server' if that seems wrong.\nOtherwise check for a confirmation dialog on your device.\n"), ErrNotAuthorized},
		{"offline", "getprop", adbErr("error: device offline\n"), ErrOffline},
		{"no permissions", "getprop", adbErr("error: insufficient permissions for device: user in plugdev group; are your udev rules wrong?\n"), ErrNoPermission},
		{"not found", "getprop", adbErr("error: device '2B261FDH2000AB' not found\n"), ErrDisconnected},
		{"unplugged mid-scan", "dumpsys package com.whatsapp", adbErr("error: closed\n"), ErrDisconnected},
		{"unplugged before posture", "dumpsys lock_settings", adbErr("error: no devices/emulators found\n"), ErrDisconnected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fakeFor(f)
			line := "adb -s " + f.ID + " shell " + tt.failAt
			r.SetErr(line, "", tt.err)
			inv, err := Scan(context.Background(), r, f.ID, testCatalog(), Options{})
			if !errors.Is(err, tt.wantErr) || !NotReady(err) {
				t.Fatalf("Scan error = %v; want %v", err, tt.wantErr)
			}
			if inv != nil {
				t.Errorf("Scan returned an inventory with the error: %+v", inv)
			}
			// After the phone is gone no further command is attempted.
			calls := r.CallLog()
			for i, c := range calls {
				if c == line && i != len(calls)-1 {
					t.Errorf("commands after the failure: %q", calls[i+1:])
				}
			}
		})
	}
}

// TestScanHungCommands: a command that never answers costs one timeout and
// becomes a Problem; after two in a row the rest is skipped, so the scan
// ends in bounded time.
func TestScanHungCommands(t *testing.T) {
	f := loadFixture(t, "pixel7-a14-workprofile-nopin.txtar")
	t.Run("one hung command", func(t *testing.T) {
		r := fakeFor(f)
		r.SetHang("adb -s " + f.ID + " shell dumpsys lock_settings")
		start := time.Now()
		inv, err := Scan(context.Background(), r, f.ID, testCatalog(), Options{CommandTimeout: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("scan took %s", d)
		}
		for _, l := range inv.Posture.ScreenLock {
			if l.Enabled != policy.Unknown || !strings.Contains(l.Reason, "timed out") {
				t.Errorf("screen lock after hang = %+v", l)
			}
		}
		if len(inv.Messengers) != 2 || inv.Posture.RemoteWipe.Capable != policy.Yes {
			t.Errorf("other probes were affected: %+v", inv)
		}
		if len(inv.Problems) != 1 || inv.Problems[0].Path != "dumpsys lock_settings" {
			t.Errorf("problems = %+v", inv.Problems)
		}
	})
	t.Run("phone stops answering", func(t *testing.T) {
		r := platformtest.NewFakeRunner()
		for _, c := range f.Cmds {
			r.SetHang("adb -s " + f.ID + " shell " + c.Cmd)
		}
		start := time.Now()
		inv, err := Scan(context.Background(), r, f.ID, testCatalog(), Options{CommandTimeout: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("scan took %s", d)
		}
		if n := len(r.CallLog()); n != phone.MaxConsecutiveTimeouts {
			t.Errorf("commands run = %d; want %d", n, phone.MaxConsecutiveTimeouts)
		}
		if len(inv.Problems) == 0 || !strings.Contains(inv.Problems[len(inv.Problems)-1].Message, "stopped answering") {
			t.Errorf("problems = %+v", inv.Problems)
		}
		if inv.Posture.RemoteWipe.Capable != policy.Unknown || inv.Posture.ScreenLock[0].Enabled != policy.Unknown {
			t.Errorf("posture from a silent phone = %+v", inv.Posture)
		}
	})
	t.Run("caller cancels", func(t *testing.T) {
		r := fakeFor(f)
		r.SetHang("adb -s " + f.ID + " shell getprop")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		if _, err := Scan(ctx, r, f.ID, testCatalog(), Options{}); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Scan error = %v; want deadline exceeded", err)
		}
	})
}

// TestScanGarbage: output that is not what a command prints is a Problem
// and leaves the value unknown; it never becomes a "no".
func TestScanGarbage(t *testing.T) {
	f := loadFixture(t, "pixel7-a14-workprofile-nopin.txtar")
	garbage := "\x00\x01<html>Service not found\n\xff\xfe"
	r := fakeFor(f)
	for _, c := range f.Cmds {
		r.Set("adb -s "+f.ID+" shell "+c.Cmd, garbage)
	}
	inv, err := Scan(context.Background(), r, f.ID, testCatalog(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Messengers) != 0 {
		t.Errorf("messengers from garbage: %+v", inv.Messengers)
	}
	// pm list users failed, so user 0 is assumed and reported.
	if len(inv.Users) != 1 || inv.Users[0].Name != "user 0" {
		t.Errorf("users = %+v", inv.Users)
	}
	for _, l := range inv.Posture.ScreenLock {
		if l.Enabled != policy.Unknown || l.IdleSeconds != nil {
			t.Errorf("screen lock from garbage = %+v", l)
		}
	}
	if w := inv.Posture.RemoteWipe; w.Capable != policy.Unknown || w.Reason == "" {
		t.Errorf("remote wipe from garbage = %+v", w)
	}
	if v := inv.Posture.Encryption.Volumes[0]; v.Encrypted != policy.Unknown {
		t.Errorf("encryption from garbage = %+v", v)
	}
	if len(inv.Problems) < 5 {
		t.Errorf("problems = %+v", inv.Problems)
	}
	for _, p := range inv.Problems {
		if strings.Contains(p.Message, "html") {
			t.Errorf("problem quotes command output: %+v", p)
		}
	}
}

func TestDeviceID(t *testing.T) {
	// printf %s 2B261FDH2000AB | sha256sum
	const want = "6d3f06b5373daeb40a0d7a7e3cb0521594f8d20254a56a7072611aea0e08d6ea"
	if got := DeviceID("2B261FDH2000AB", false); got != want {
		t.Errorf("DeviceID(hashed) = %q; want %q", got, want)
	}
	if got := DeviceID("2B261FDH2000AB", true); got != "2B261FDH2000AB" {
		t.Errorf("DeviceID(clear) = %q", got)
	}
}
