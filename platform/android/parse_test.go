package android

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/msgguard/msgguard/platform/platformtest"
	"github.com/msgguard/msgguard/policy"
)

func TestParseDevices(t *testing.T) {
	b, err := os.ReadFile("testdata/adb-devices-l.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := []Phone{
		{Serial: "2B261FDH2000AB", State: "device", USB: "usb:1-4", Product: "panther", Model: "Pixel_7", Device: "panther", TransportID: "3"},
		{Serial: "R5CW20ABCDE", State: "unauthorized", USB: "usb:1-3", TransportID: "5"},
		{Serial: "0A191JEC203157", State: "no permissions", Detail: "(user in plugdev group; are your udev rules wrong?); see [http://developer.android.com/tools/device.html]", USB: "usb:1-2", TransportID: "6"},
		{Serial: "emulator-5554", State: "offline", TransportID: "1"},
		{Serial: "adb-3A121FDJH004XY-Kq2Zx1._adb-tls-connect._tcp", State: "device", Product: "shiba", Model: "Pixel_8", Device: "shiba", TransportID: "7"},
		{Serial: "(no serial number)", State: "device", USB: "usb:1-7", Product: "rk3399", Model: "Box", Device: "rk3399", TransportID: "8"},
	}
	got, err := parseDevices(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseDevices (-want +got):\n%s", diff)
	}
	var ready []string
	for _, p := range got {
		if p.Ready() {
			ready = append(ready, p.Serial)
		}
	}
	if diff := cmp.Diff([]string{"2B261FDH2000AB", "adb-3A121FDJH004XY-Kq2Zx1._adb-tls-connect._tcp"}, ready); diff != "" {
		t.Errorf("ready phones (-want +got):\n%s", diff)
	}
}

func TestParseDevicesEdgeCases(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Phone
		wantErr bool
	}{
		// Captured with Debian's adb 29.0.6 and nothing attached.
		{name: "empty", in: "List of devices attached\n\n", want: nil},
		{name: "server start noise", in: "* daemon not running; starting now at tcp:5037\n* daemon started successfully\nList of devices attached\nR58M123 device transport_id:2\n",
			want: []Phone{{Serial: "R58M123", State: "device", TransportID: "2"}}},
		// Short form (no -l) and the old "????????????" serial of adb < 1.0.32.
		{name: "short form", in: "List of devices attached\nX9LDU14B18003251\tunauthorized\n????????????\tno permissions\n",
			want: []Phone{{Serial: "X9LDU14B18003251", State: "unauthorized"}, {Serial: "????????????", State: "no permissions"}}},
		{name: "garbage", in: "adb: unknown command devices\n", wantErr: true},
		{name: "binary", in: "\x00\xff\xfe", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDevices([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseDevices error = %v; wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseDevices (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseUsers(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     []androidUser
		profiles []string
	}{
		// AOSP docs (developer.android.com "Work profiles"): Android 5-10 flags.
		{name: "work profile", in: "Users:\n\tUserInfo{0:Drew:13} running\n\tUserInfo{10:Work profile:30} running\n",
			want: []androidUser{{0, 0x13, true}, {10, 0x30, true}}, profiles: []string{"personal", "work"}},
		// bayton.org: Samsung with Secure Folder; Android 15 private space.
		{name: "samsung", in: "Users:\n  UserInfo{0:Owner:4c13} running\n  UserInfo{12:Work profile:1030} running\n  UserInfo{150:Secure Folder:10061030} running\n",
			want: []androidUser{{0, 0x4c13, true}, {12, 0x1030, true}, {150, 0x10061030, true}}, profiles: []string{"personal", "work", "personal"}},
		{name: "private space and guest", in: "Users:\n\tUserInfo{0:Jason:4c13} running\n\tUserInfo{10:Work Profile:1030} running\n\tUserInfo{11:Private space:1090}\n\tUserInfo{12:Guest:414}\n\tUserInfo{13:Anna:410}\n",
			want:     []androidUser{{0, 0x4c13, true}, {10, 0x1030, true}, {11, 0x1090, false}, {12, 0x414, false}, {13, 0x410, false}},
			profiles: []string{"personal", "work", "personal", "secondary", "secondary"}},
		{name: "colon in name", in: "Users:\n\tUserInfo{0:A:B:c13} running\n", want: []androidUser{{0, 0xc13, true}}, profiles: []string{"personal"}},
		{name: "duplicates and junk", in: "Users:\n\tUserInfo{0:Owner:c13} running\n\tUserInfo{0:Owner:c13}\n\tUserInfo{x:y:z}\n\tUserInfo{1:n:zz}\n",
			want: []androidUser{{0, 0xc13, true}}, profiles: []string{"personal"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseUsers([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseUsers (-want +got):\n%s", diff)
			}
			var profiles []string
			for _, u := range got {
				profiles = append(profiles, u.profile())
			}
			if diff := cmp.Diff(tt.profiles, profiles); diff != "" {
				t.Errorf("profiles (-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{"", "Users:\n", "Error: couldn't get users\n"} {
		if _, err := parseUsers([]byte(bad)); err == nil {
			t.Errorf("parseUsers(%q) succeeded", bad)
		}
	}
}

func TestParsePackageList(t *testing.T) {
	got, err := parsePackageList([]byte("package:com.whatsapp\npackage:com.Slack installer=com.android.vending\r\npackage:bad/name\n\nWARNING: linker: foo\npackage:org.telegram.messenger uid:10190\n"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"com.whatsapp", "com.Slack", "org.telegram.messenger"}, got); diff != "" {
		t.Errorf("parsePackageList (-want +got):\n%s", diff)
	}
	if _, err := parsePackageList([]byte("Error: java.lang.SecurityException: Shell does not have permission to access user 150\n")); err == nil {
		t.Error("error text parsed as a package list")
	}
}

func TestParseGetprop(t *testing.T) {
	in := "[ro.product.model]: [Pixel 7]\n[ro.product.manufacturer]: [Google]\n[ro.build.version.release]: [14]\n[ro.build.version.sdk]: [34]\n[ro.crypto.state]: [encrypted]\n[ro.crypto.type]: [file]\n[ro.serialno]: [2B261FDH2000AB]\n[gsm.operator.alpha]: [Telekom.de]\n[ro.product.name]: [a]: [b]\n"
	got, err := parseGetprop([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := props{Manufacturer: "Google", Model: "Pixel 7", Release: "14", SDK: "34", CryptoState: "encrypted", CryptoType: "file"}
	if got != want {
		t.Errorf("parseGetprop = %+v; want %+v", got, want)
	}
	if _, err := parseGetprop([]byte("/system/bin/sh: getprop: not found\n")); err == nil {
		t.Error("garbage accepted")
	}
}

func TestParsePackageDump(t *testing.T) {
	f := loadFixture(t, "pixel7-a14-workprofile-nopin.txtar")
	got, err := parsePackageDump([]byte(f.Body(t, "dumpsys package com.whatsapp")), "com.whatsapp")
	if err != nil {
		t.Fatal(err)
	}
	want := pkgInfo{Found: true, Version: "2.24.9.78", RequestsContacts: true, PermsSeen: true, Users: map[int]pkgUser{
		0:  {Installed: policy.Yes, Contacts: policy.Yes},
		10: {Installed: policy.No, Contacts: policy.No},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parsePackageDump (-want +got):\n%s", diff)
	}

	// An updated system app is dumped twice: the "Hidden system packages"
	// entry (factory version) must not override the installed one. Other
	// packages whose names share the prefix are not the one asked for.
	in := `Packages:
  Package [com.whatsapp.w4b] (1):
    versionName=9.9
    User 0: ceDataInode=1 installed=true hidden=false
      runtime permissions:
        android.permission.READ_CONTACTS: granted=true, flags=[ ]
  Package [com.whatsapp] (2):
    versionName=2.24.1
    requested permissions:
      android.permission.READ_CONTACTS: restricted=false
    User 0: ceDataInode=2 installed=true hidden=false
      gids=[3003]
      runtime permissions:
        android.permission.READ_CONTACTS: granted=false, flags=[ USER_FIXED ]
      enabledComponents:
        android.permission.READ_CONTACTS: granted=true
    User 11: ceDataInode=0 installed=false hidden=false

Hidden system packages:
  Package [com.whatsapp] (3):
    versionName=1.0-factory
    User 0: ceDataInode=3 installed=true
      runtime permissions:
        android.permission.READ_CONTACTS: granted=true, flags=[ ]

Queries:
  User 11:
    android.permission.READ_CONTACTS: granted=true
`
	got, err = parsePackageDump([]byte(in), "com.whatsapp")
	if err != nil {
		t.Fatal(err)
	}
	want = pkgInfo{Found: true, Version: "2.24.1", RequestsContacts: true, PermsSeen: true, Users: map[int]pkgUser{
		0:  {Installed: policy.Yes, Contacts: policy.No},
		11: {Installed: policy.No},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parsePackageDump (-want +got):\n%s", diff)
	}
	if got, err := parsePackageDump([]byte("Unable to find package: com.whatsapp\n"), "com.whatsapp"); err != nil || got.Found {
		t.Errorf("missing package found: %+v, %v", got, err)
	}

	// A line too long to scan stops the read before the permissions: that
	// must be an error, not a package that requests no READ_CONTACTS
	// (which would read as Contacts No).
	long := "Packages:\n  Package [com.whatsapp] (2):\n    signatures=" + strings.Repeat("a", 2<<20) +
		"\n    requested permissions:\n      android.permission.READ_CONTACTS\n"
	if got, err := parsePackageDump([]byte(long), "com.whatsapp"); err == nil {
		t.Errorf("dump with an over-long line = %+v; want an error", got)
	}
}

func TestParseLockSettings(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[int]lockState
	}{
		{name: "android 14", in: loadFixture(t, "pixel7-a14-workprofile-nopin.txtar").Body(t, "dumpsys lock_settings"),
			want: map[int]lockState{
				0:  {Credential: "none", Secure: policy.No, Separate: policy.No, HasFields: true},
				10: {Credential: "none", Secure: policy.No, Separate: policy.No, HasFields: true},
			}},
		{name: "android 11", in: loadFixture(t, "pixel4a-a11-pin.txtar").Body(t, "dumpsys lock_settings"),
			want: map[int]lockState{0: {Credential: "PIN", Secure: policy.Yes, Separate: policy.No, HasFields: true}}},
		{name: "samsung", in: loadFixture(t, "samsung-s23-a14-securefolder.txtar").Body(t, "dumpsys lock_settings"),
			want: map[int]lockState{
				0:   {Credential: "PIN", Secure: policy.Yes, Separate: policy.No, HasFields: true},
				95:  {Credential: "none", Secure: policy.No, Separate: policy.No, HasFields: true},
				150: {Credential: "password", Secure: policy.Yes, Separate: policy.Yes, HasFields: true},
			}},
		// Android 10: no credential type at all.
		{name: "android 10", in: "Current lock settings service state:\nSP Enabled = true\n    User 0\n        SP Handle = 6f1e\n        SID = 2c9a\n    User 10\n        SP Handle = 0\n        SID = 0\n",
			want: map[int]lockState{0: {}, 10: {}}},
		{name: "unknown type", in: "Current lock settings service state:\n\nUser State:\n  User 0\n    CredentialType: Unknown 7\n    SeparateChallenge: false\n",
			want: map[int]lockState{0: {Raw: "Unknown 7", Separate: policy.No, HasFields: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseLockSettings([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseLockSettings (-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{"", "Can't find service: lock_settings\n", "User 0\nCredentialType: None\n"} {
		if _, err := parseLockSettings([]byte(bad)); err == nil {
			t.Errorf("parseLockSettings(%q) succeeded", bad)
		}
	}
}

func TestCredentialType(t *testing.T) {
	tests := []struct {
		in     string
		name   string
		secure policy.Tri
	}{
		{"None", "none", policy.No}, {"NONE", "none", policy.No}, {"-1", "none", policy.No},
		{"Pattern", "pattern", policy.Yes}, {"PIN", "PIN", policy.Yes}, {"Pin", "PIN", policy.Yes},
		{"Password", "password", policy.Yes}, {"PASSWORD_OR_PIN", "password", policy.Yes},
		{"SMARTCARDNUMERIC", "smartcard", policy.Yes},
		{"UNKNOWN_5", "", policy.Unknown}, {"Unknown 7", "", policy.Unknown}, {"", "", policy.Unknown},
	}
	for _, tt := range tests {
		name, secure := credentialType(tt.in)
		if name != tt.name || secure != tt.secure {
			t.Errorf("credentialType(%q) = %q, %v; want %q, %v", tt.in, name, secure, tt.name, tt.secure)
		}
	}
}

func TestParseSetting(t *testing.T) {
	tests := []struct {
		in      string
		ms      int64
		set     bool
		wantErr bool
	}{
		{"30000\n", 30000, true, false},
		{"null\n", 0, false, false},
		{"2147483647", 2147483647, true, false},
		{"-1", 0, false, true},
		{"Exception occurred while executing 'get':\n", 0, false, true},
	}
	for _, tt := range tests {
		ms, set, err := parseSetting([]byte(tt.in))
		if ms != tt.ms || set != tt.set || (err != nil) != tt.wantErr {
			t.Errorf("parseSetting(%q) = %d, %v, %v", tt.in, ms, set, err)
		}
	}
}

func TestParseListOwners(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []owner
		wantErr error
	}{
		{name: "none", in: "no owners\n", want: nil},
		{name: "device owner", in: "1 owner:\nUser  0: admin=com.google.android.apps.work.clouddpc/.receivers.CloudDeviceAdminReceiver,DeviceOwner,Affiliated\n",
			want: []owner{{User: 0, Package: "com.google.android.apps.work.clouddpc", Device: true, Parent: -1}}},
		{name: "work profile", in: "2 owners:\nUser 10: admin=com.example.dpc/.Admin,ManagedProfileOwner(parentUserId=0)\nUser 11: admin=com.example.po/.Admin,ProfileOwner\n",
			want: []owner{
				{User: 10, Package: "com.example.dpc", Managed: true, Parent: 0},
				{User: 11, Package: "com.example.po", Parent: -1},
			}},
		{name: "android 11 usage", in: "", wantErr: errOwnersUnsupported},
		{name: "garbage", in: "User 10: admin=com.x/.A,DeviceOwner\n", wantErr: errOwnersUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseListOwners([]byte(tt.in))
			if err != tt.wantErr {
				t.Fatalf("parseListOwners error = %v; want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseListOwners (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDevicePolicy(t *testing.T) {
	got, err := parseDevicePolicy([]byte(loadFixture(t, "moto-g7-a10-deviceowner.txtar").Body(t, "dumpsys device_policy")))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]owner{{User: 0, Package: "com.airwatch.androidagent", Device: true, Parent: -1}}, got); diff != "" {
		t.Errorf("device owner (-want +got):\n%s", diff)
	}
	got, err = parseDevicePolicy([]byte(loadFixture(t, "pixel6-a12-cope.txtar").Body(t, "dumpsys device_policy")))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]owner{{User: 10, Package: "com.google.android.apps.work.clouddpc", OrgOwned: true, Parent: -1}}, got); diff != "" {
		t.Errorf("profile owner (-want +got):\n%s", diff)
	}
	got, err = parseDevicePolicy([]byte(loadFixture(t, "pixel4a-a11-pin.txtar").Body(t, "dumpsys device_policy")))
	if err != nil || len(got) != 0 {
		t.Errorf("no owners = %+v, %v", got, err)
	}
	if _, err := parseDevicePolicy([]byte("Can't find service: device_policy\n")); err == nil {
		t.Error("garbage accepted")
	}
}

// fuzzSeeds returns every recorded output of the fixtures.
func fuzzSeeds(f *testing.F, cmdPrefix string) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".txtar") {
			continue
		}
		for _, c := range loadFixture(f, e.Name()).Cmds {
			if strings.HasPrefix(c.Cmd, cmdPrefix) {
				f.Add([]byte(c.Body))
			}
		}
	}
	f.Add([]byte{})
	f.Add([]byte("\x00\xff\n\n"))
}

func FuzzParseDevices(f *testing.F) {
	if b, err := os.ReadFile("testdata/adb-devices-l.txt"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("List of devices attached\n(no serial number) device\nx no permissions (a: b) usb:1 model:x:y\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		phones, err := parseDevices(b)
		if err != nil && phones != nil {
			t.Fatal("phones with error")
		}
		if len(phones) > maxPhones {
			t.Fatalf("%d phones", len(phones))
		}
		for _, p := range phones {
			if p.State == "" || p.Serial == "" {
				t.Fatalf("empty field: %+v", p)
			}
			if p.Ready() && !ValidSerial(p.Serial) {
				t.Fatalf("ready with bad serial %q", p.Serial)
			}
		}
	})
}

func FuzzParseUsers(f *testing.F) {
	fuzzSeeds(f, "pm list users")
	f.Fuzz(func(t *testing.T, b []byte) {
		users, err := parseUsers(b)
		if err == nil && len(users) == 0 || len(users) > maxUsers {
			t.Fatalf("users = %d, err = %v", len(users), err)
		}
		for _, u := range users {
			switch u.profile() {
			case profilePersonal, profileWork, profileSecondary:
			default:
				t.Fatalf("profile %q", u.profile())
			}
		}
	})
}

func FuzzParsePackageList(f *testing.F) {
	fuzzSeeds(f, "pm list packages")
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _ := parsePackageList(b)
		if len(pkgs) > maxPackages {
			t.Fatalf("%d packages", len(pkgs))
		}
		for _, p := range pkgs {
			if !validPackage(p) {
				t.Fatalf("invalid package %q", p)
			}
		}
	})
}

func FuzzParsePackageDump(f *testing.F) {
	fuzzSeeds(f, "dumpsys package")
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := parsePackageDump(b, "com.whatsapp")
		if err != nil {
			return
		}
		if !info.Found && (info.Version != "" || len(info.Users) != 0) {
			t.Fatalf("data for a package not found: %+v", info)
		}
		if len(info.Version) > 64 || strings.ContainsAny(info.Version, "\n\r\x00") {
			t.Fatalf("version %q", info.Version)
		}
	})
}

func FuzzParseLockSettings(f *testing.F) {
	fuzzSeeds(f, "dumpsys lock_settings")
	f.Fuzz(func(t *testing.T, b []byte) {
		users, err := parseLockSettings(b)
		if err == nil && len(users) == 0 || len(users) > maxUsers {
			t.Fatalf("users = %d, err = %v", len(users), err)
		}
		for _, st := range users {
			if (st.Credential != "") != (st.Secure != policy.Unknown) {
				t.Fatalf("credential %q with secure %v", st.Credential, st.Secure)
			}
		}
	})
}

func FuzzParseOwners(f *testing.F) {
	fuzzSeeds(f, "d")
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, parse := range []func([]byte) ([]owner, error){parseListOwners, parseDevicePolicy} {
			owners, _ := parse(b)
			if len(owners) > maxUsers {
				t.Fatalf("%d owners", len(owners))
			}
			for _, o := range owners {
				if !validPackage(o.Package) {
					t.Fatalf("owner package %q", o.Package)
				}
			}
		}
	})
}

func FuzzParseGetprop(f *testing.F) {
	fuzzSeeds(f, "getprop")
	f.Fuzz(func(t *testing.T, b []byte) {
		p, _ := parseGetprop(b)
		for _, v := range []string{p.Manufacturer, p.Model, p.Release, p.SDK, p.CryptoState, p.CryptoType} {
			if len(v) > 96 || strings.ContainsAny(v, "\n\r\x00") {
				t.Fatalf("value %q", v)
			}
		}
	})
}

func FuzzParseSetting(f *testing.F) {
	fuzzSeeds(f, "settings get")
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, set, err := parseSetting(b)
		if err == nil && set && ms < 0 {
			t.Fatalf("negative %d", ms)
		}
		if err != nil && set {
			t.Fatal("set with error")
		}
	})
}

func TestList(t *testing.T) {
	b, err := os.ReadFile("testdata/adb-devices-l.txt")
	if err != nil {
		t.Fatal(err)
	}
	r := platformtest.NewFakeRunner().Set("adb devices -l", string(b))
	phones, err := List(context.Background(), r)
	if err != nil || len(phones) != 6 {
		t.Fatalf("List = %+v, %v", phones, err)
	}
	r = platformtest.NewFakeRunner().SetErr("adb devices -l", "", errors.New("exit status 1"))
	if _, err := List(context.Background(), r); err == nil {
		t.Error("List succeeded on a failing adb")
	}
	r = platformtest.NewFakeRunner().Set("adb devices -l", "<html>captive portal</html>\n")
	if _, err := List(context.Background(), r); err == nil {
		t.Error("List accepted garbage")
	}
}
