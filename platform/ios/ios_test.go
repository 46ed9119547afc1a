package ios

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/phone/phonetest"
	"github.com/msgguard/msgguard/platform/platformtest"
	"github.com/msgguard/msgguard/policy"
)

const udid13 = "00008110-001A2C3E0E91801E"

func iphone13Inventory() *policy.Inventory {
	msg := func(id, name string, v policy.Variant, version, bundle string) policy.Messenger {
		return policy.Messenger{ID: id, Name: name, Variant: v, Source: "package", User: "mobile",
			Version: version, Location: bundle, Profile: "personal"}
	}
	return &policy.Inventory{
		Device: policy.Device{ID: DeviceID(udid13, false), Kind: "phone", Platform: "ios",
			OSVersion: "iOS 17.5.1", Model: "iPhone14,5"},
		Users: []policy.User{{Name: "mobile", UID: "501", Profile: "personal"}},
		Messengers: []policy.Messenger{
			msg("whatsapp", "WhatsApp", policy.VariantPrivate, "2.24.10.74", "net.whatsapp.WhatsApp"),
			msg("whatsapp-business", "WhatsApp Business", policy.VariantBusiness, "2.24.10.74", "net.whatsapp.WhatsAppSMB"),
			msg("telegram", "Telegram", policy.VariantPrivate, "10.12.1", "ph.telegra.Telegraph"),
			msg("signal", "Signal", policy.VariantPrivate, "7.10.1", "org.whispersystems.signal"),
		},
		Posture: policy.Posture{
			ScreenLock: []policy.ScreenLock{{User: "mobile", Applicable: policy.Yes, Enabled: policy.Yes,
				Source: "ideviceinfo PasswordProtected"}},
			RemoteWipe: policy.RemoteWipe{ConsumerLock: policy.Yes,
				Source: "ideviceinfo com.apple.mobile.chaperone DeviceIsChaperoned",
				Reason: "not supervised; an MDM enrolment (which could erase it) is not visible over USB — check the MDM console"},
			Encryption: policy.DiskEncryption{Volumes: []policy.Volume{{Mount: "data", Encrypted: policy.Yes,
				Protected: policy.Yes, Method: "Data Protection", Source: "ideviceinfo PasswordProtected"}}},
			Inspected: true,
		},
	}
}

func TestScanPaired(t *testing.T) {
	f := loadFixture(t, "iphone13-ios17-paired.txtar")
	inv, err := Scan(context.Background(), fakeFor(f), f.ID, testCatalog(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(iphone13Inventory(), inv); diff != "" {
		t.Errorf("Scan (-want +got):\n%s", diff)
	}
}

func TestScanSupervisedInstaller12(t *testing.T) {
	f := loadFixture(t, "ipad-ios16-supervised-installer12.txtar")
	r := fakeFor(f)
	inv, err := Scan(context.Background(), r, f.ID, testCatalog(), Options{ClearSerial: true, Label: "Lager 3"})
	if err != nil {
		t.Fatal(err)
	}
	want := &policy.Inventory{
		Device: policy.Device{ID: f.ID, Kind: "phone", Platform: "ios", OSVersion: "iOS 16.7.8", Model: "iPad13,18", Label: "Lager 3"},
		Users:  []policy.User{{Name: "mobile", UID: "501", Profile: "personal"}},
		Messengers: []policy.Messenger{
			{ID: "teams", Name: "Microsoft Teams", Variant: policy.VariantDual, Source: "package", User: "mobile", Version: "6.12.1", Location: "com.microsoft.skype.teams", Profile: "personal"},
			{ID: "slack", Name: "Slack", Variant: policy.VariantBusiness, Source: "package", User: "mobile", Version: "24.06.10", Location: "com.tinyspeck.chatlyio", Profile: "personal"},
			{ID: "whatsapp-business", Name: "WhatsApp Business", Variant: policy.VariantBusiness, Source: "package", User: "mobile", Version: "24.10.74", Location: "net.whatsapp.WhatsAppSMB", Profile: "personal"},
			{ID: "threema-work", Name: "Threema Work", Variant: policy.VariantBusiness, Source: "package", User: "mobile", Location: "ch.threema.work", Profile: "personal"},
		},
		Posture: policy.Posture{
			ScreenLock: []policy.ScreenLock{{User: "mobile", Applicable: policy.Yes, Enabled: policy.No, Source: "ideviceinfo PasswordProtected"}},
			RemoteWipe: policy.RemoteWipe{ConsumerLock: policy.No,
				Source: "ideviceinfo com.apple.mobile.chaperone DeviceIsChaperoned",
				Reason: "supervised (organisation-owned) device; whether an MDM, which could erase it, is enrolled is not visible over USB — check the MDM console"},
			Encryption: policy.DiskEncryption{Volumes: []policy.Volume{{Mount: "data", Encrypted: policy.No, Protected: policy.No,
				Method: "Data Protection", Source: "ideviceinfo PasswordProtected",
				Reason: "no passcode: iOS enables Data Protection only when a passcode is set"}}},
			Inspected: true,
		},
	}
	if diff := cmp.Diff(want, inv); diff != "" {
		t.Errorf("Scan (-want +got):\n%s", diff)
	}
	calls := strings.Join(r.CallLog(), "\n")
	if !strings.Contains(calls, "-l -o list_all") || !strings.Contains(calls, "list --all") {
		t.Errorf("both installer syntaxes should have been tried:\n%s", calls)
	}
}

func TestScanNotReady(t *testing.T) {
	cmdErr := func(name, stderr string) error {
		return &platform.CommandError{Name: name, Err: phonetest.ExitError(255), Stderr: []byte(stderr)}
	}
	t.Run("pairing pending", func(t *testing.T) {
		f := loadFixture(t, "iphone-pairing-pending.txtar")
		_, err := Scan(context.Background(), fakeFor(f), f.ID, testCatalog(), Options{})
		if !errors.Is(err, ErrNotPaired) || !strings.Contains(err.Error(), "Pairing dialog response pending") {
			t.Errorf("Scan error = %v; want ErrNotPaired with lockdownd's reason", err)
		}
	})
	t.Run("no pairing record", func(t *testing.T) {
		r := platformtest.NewFakeRunner().Set("idevicepair list", "")
		_, err := Scan(context.Background(), r, udid13, testCatalog(), Options{})
		if !errors.Is(err, ErrNotPaired) {
			t.Errorf("Scan error = %v; want ErrNotPaired", err)
		}
		// Nothing that could start pairing (a lockdown handshake) ran.
		if calls := r.CallLog(); len(calls) != 1 {
			t.Errorf("commands after the pairing check: %q", calls)
		}
	})
	t.Run("unplugged mid-scan", func(t *testing.T) {
		f := loadFixture(t, "iphone13-ios17-paired.txtar")
		r := fakeFor(f)
		// libimobiledevice 1.3.0 prints this on stdout (exit 255), 1.4 on stderr.
		r.SetErr("ideviceinstaller -u "+udid13+" -l -o list_all", "", cmdErr(CmdInstaller, "No device found with udid "+udid13+".\n"))
		inv, err := Scan(context.Background(), r, f.ID, testCatalog(), Options{})
		if !errors.Is(err, ErrDisconnected) || inv != nil || !NotReady(err) {
			t.Errorf("Scan = %v, %v; want ErrDisconnected", inv, err)
		}
	})
	t.Run("device not found on stdout", func(t *testing.T) {
		r := platformtest.NewFakeRunner().Set("idevicepair list", udid13+"\n")
		r.SetErr("ideviceinfo -u "+udid13+" -k ProductVersion", "ERROR: Device "+udid13+" not found!\n",
			&platform.CommandError{Name: CmdInfo, Err: phonetest.ExitError(255)})
		if _, err := Scan(context.Background(), r, udid13, testCatalog(), Options{}); !errors.Is(err, ErrDisconnected) {
			t.Errorf("Scan error = %v; want ErrDisconnected", err)
		}
	})
	for _, msg := range []string{
		"ERROR: Could not connect to lockdownd: Password protected (-17)\n",
		"ERROR: Could not connect to lockdownd: Invalid HostID (-21)\n",
		"ERROR: Could not connect to lockdownd: User denied pairing (-18)\n",
		"Could not connect to lockdownd. Exiting.\n",
	} {
		t.Run(msg, func(t *testing.T) {
			r := platformtest.NewFakeRunner().Set("idevicepair list", udid13+"\n")
			r.SetErr("ideviceinfo -u "+udid13+" -k ProductVersion", "", cmdErr(CmdInfo, msg))
			if _, err := Scan(context.Background(), r, udid13, testCatalog(), Options{}); !errors.Is(err, ErrNotPaired) {
				t.Errorf("Scan error = %v; want ErrNotPaired", err)
			}
		})
	}
}

func TestScanProblems(t *testing.T) {
	f := loadFixture(t, "iphone13-ios17-paired.txtar")
	t.Run("hang", func(t *testing.T) {
		r := fakeFor(f)
		r.SetHang("ideviceinfo -u " + udid13 + " -k PasswordProtected")
		start := time.Now()
		inv, err := Scan(context.Background(), r, f.ID, testCatalog(), Options{CommandTimeout: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if time.Since(start) > 2*time.Second {
			t.Error("scan not bounded")
		}
		l := inv.Posture.ScreenLock[0]
		if l.Enabled != policy.Unknown || !strings.Contains(l.Reason, "timed out") {
			t.Errorf("screen lock = %+v", l)
		}
		if v := inv.Posture.Encryption.Volumes[0]; v.Encrypted != policy.Unknown {
			t.Errorf("encryption = %+v", v)
		}
		if len(inv.Messengers) != 4 || len(inv.Problems) != 1 {
			t.Errorf("messengers %d, problems %+v", len(inv.Messengers), inv.Problems)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		r := fakeFor(f)
		for _, c := range f.Cmds {
			if c.Cmd != "idevicepair list" {
				r.Set(c.Cmd, "\x00\xffgarbage\nmore garbage\n")
			}
		}
		r.SetErr("ideviceinstaller -u "+udid13+" list --all", "", &platform.CommandError{Name: CmdInstaller, Err: phonetest.ExitError(2)})
		inv, err := Scan(context.Background(), r, f.ID, testCatalog(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if inv.Device.OSVersion != "" || inv.Device.Model != "" || len(inv.Messengers) != 0 {
			t.Errorf("values from garbage: %+v", inv)
		}
		if inv.Posture.ScreenLock[0].Enabled != policy.Unknown || inv.Posture.RemoteWipe.ConsumerLock != policy.Unknown {
			t.Errorf("posture from garbage: %+v", inv.Posture)
		}
		if len(inv.Problems) != 1 || inv.Problems[0].Probe != probeApps {
			t.Errorf("problems = %+v", inv.Problems)
		}
	})
}

func TestList(t *testing.T) {
	f := loadFixture(t, "list.txtar")
	phones, err := List(context.Background(), fakeFor(f))
	if err != nil {
		t.Fatal(err)
	}
	want := []Phone{
		{UDID: "00008110-001A2C3E0E91801E", State: StatePaired},
		{UDID: "00008027-000B4D2A3E61002E", State: StatePaired},
		{UDID: "00008030-0019485E3C80402E", State: StateNotPaired},
	}
	if diff := cmp.Diff(want, phones); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	if !phones[0].Ready() || phones[2].Ready() {
		t.Error("Ready wrong")
	}

	// Captured here with libimobiledevice-utils 1.3.0 and no usbmuxd: no
	// device attached, not an error.
	r := platformtest.NewFakeRunner().SetErr("idevice_id -l", "",
		&platform.CommandError{Name: CmdID, Err: phonetest.ExitError(255), Stderr: []byte("ERROR: Unable to retrieve device list!\n")})
	if phones, err := List(context.Background(), r); err != nil || phones != nil {
		t.Errorf("List without usbmuxd = %v, %v", phones, err)
	}
	// Pairing records unreadable: state unknown, not scanned.
	r = platformtest.NewFakeRunner().Set("idevice_id -l", udid13+"\n").
		SetErr("idevicepair list", "", &platform.CommandError{Name: CmdPair, Err: phonetest.ExitError(1)})
	phones, err = List(context.Background(), r)
	if err != nil || len(phones) != 1 || phones[0].State != StateUnknown || phones[0].Ready() {
		t.Errorf("List with unreadable records = %+v, %v", phones, err)
	}
}

func TestParseAppList(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []app
	}{
		{name: "1.1.1", in: "CFBundleIdentifier, CFBundleVersion, CFBundleDisplayName\nnet.whatsapp.WhatsApp, \"2.24.10.74\", \"WhatsApp\"\ncom.example.nover, \"No, \"Version\"\"\n",
			want: []app{{"net.whatsapp.WhatsApp", "2.24.10.74"}, {"com.example.nover", ""}}},
		{name: "1.2.0", in: "CFBundleIdentifier, CFBundleShortVersionString, CFBundleDisplayName\nph.telegra.Telegraph, \"10.12\", \"Tele\\\"gram\"\nch.threema.work, , \"Threema Work\"\n",
			want: []app{{"ph.telegra.Telegraph", "10.12"}, {"ch.threema.work", ""}}},
		{name: "no apps", in: "CFBundleIdentifier, CFBundleVersion, CFBundleDisplayName\n", want: nil},
		{name: "junk lines", in: "CFBundleIdentifier, CFBundleVersion, CFBundleDisplayName\n\rBrowse: Complete\nbad id, \"1\"\nNOTE: timeout waiting for device to browse apps, trying again...\n",
			want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseAppList([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseAppList (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := parseAppList([]byte("No device found.\n")); err == nil {
		t.Error("garbage accepted")
	}
}

func TestParseUDIDs(t *testing.T) {
	got := parseUDIDs([]byte("00008110-001A2C3E0E91801E (USB)\nf1e2d3c4b5a6978812345678abcdef0123456789 (Network)\n--help\nERROR: Unable to retrieve device list!\n00008110-001A2C3E0E91801E\n"))
	want := []string{"00008110-001A2C3E0E91801E", "f1e2d3c4b5a6978812345678abcdef0123456789"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseUDIDs (-want +got):\n%s", diff)
	}
}

func TestScanInvalidUDID(t *testing.T) {
	for _, u := range []string{"", "-u", "00008110 001A2C3E0E91801E", "not-a-udid-at-all-xyz!", strings.Repeat("a", 65)} {
		_, err := Scan(context.Background(), platformtest.NewFakeRunner(), u, testCatalog(), Options{})
		if !errors.Is(err, ErrInvalidUDID) {
			t.Errorf("Scan(%q) = %v", u, err)
		} else if u != "" && strings.Contains(err.Error(), u) {
			t.Errorf("Scan(%q) error %q carries the UDID", u, err)
		}
	}
}

// TestScanKeepsNoIdentifiers: the UDID is stored hashed and appears in no
// Problem path.
func TestScanKeepsNoIdentifiers(t *testing.T) {
	f := loadFixture(t, "iphone13-ios17-paired.txtar")
	r := fakeFor(f)
	r.SetErr("ideviceinfo -u "+udid13+" -k ProductType", "", &platform.CommandError{Name: CmdInfo, Err: phonetest.ExitError(255), Stderr: []byte("ERROR: lookup failed\n")})
	inv, err := Scan(context.Background(), r, f.ID, testCatalog(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprintf("%+v", *inv); strings.Contains(s, udid13) {
		t.Errorf("inventory contains the UDID: %s", s)
	}
}

func FuzzParseAppList(f *testing.F) {
	for _, name := range []string{"iphone13-ios17-paired.txtar", "ipad-ios16-supervised-installer12.txtar"} {
		for _, c := range loadFixture(f, name).Cmds {
			if strings.HasPrefix(c.Cmd, CmdInstaller) {
				f.Add([]byte(c.Body))
			}
		}
	}
	f.Add([]byte("CFBundleIdentifier, X\na, \"\\"))
	f.Fuzz(func(t *testing.T, b []byte) {
		apps, err := parseAppList(b)
		if err != nil && apps != nil {
			t.Fatal("apps with error")
		}
		if len(apps) > maxApps {
			t.Fatalf("%d apps", len(apps))
		}
		for _, a := range apps {
			if !validBundleID(a.ID) || len(a.Version) > 64 || strings.ContainsAny(a.Version, "\n\r\x00") {
				t.Fatalf("bad app %+v", a)
			}
		}
	})
}

func FuzzParseUDIDs(f *testing.F) {
	f.Add([]byte(loadFixture(f, "list.txtar").Cmds[0].Body))
	f.Add([]byte("ERROR: Unable to retrieve device list!\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, u := range parseUDIDs(b) {
			if !ValidUDID(u) {
				t.Fatalf("invalid UDID %q", u)
			}
		}
		v, ok := parseValue(b)
		if ok && (v == "" || strings.ContainsAny(v, "\n\r")) {
			t.Fatalf("value %q", v)
		}
	})
}

func BenchmarkScan(b *testing.B) {
	f := loadFixture(b, "iphone13-ios17-paired.txtar")
	r := fakeFor(f)
	// 400 installed apps.
	var list strings.Builder
	list.WriteString("CFBundleIdentifier, CFBundleVersion, CFBundleDisplayName\n")
	for i := 0; i < 396; i++ {
		fmt.Fprintf(&list, "com.example.vendor%03d.app%03d, \"%d.0.%d\", \"App %d\"\n", i%41, i, i%9, i, i)
	}
	for _, c := range f.Cmds {
		if strings.HasPrefix(c.Cmd, CmdInstaller) {
			list.WriteString(strings.SplitN(c.Body, "\n", 2)[1])
			r.Set(c.Cmd, list.String())
		}
	}
	cat := testCatalog()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Calls = r.Calls[:0]
		inv, err := Scan(context.Background(), r, f.ID, cat, Options{})
		if err != nil || len(inv.Messengers) != 4 {
			b.Fatal(err, inv)
		}
	}
}
