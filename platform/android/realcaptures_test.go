package android

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/msgguard/msgguard/platform/platformtest"

	"github.com/google/go-cmp/cmp"

	"github.com/msgguard/msgguard/platform/phone/phonetest"
	"github.com/msgguard/msgguard/policy"
)

// TestRealCaptures parses every file in testdata/real — real adb output
// published by others, copied verbatim with its source in SOURCES.md — with
// the parser the agent uses for that command, and checks that it reports
// what the capture says. A capture without a case fails the test, so a new
// capture cannot be added without being read.
func TestRealCaptures(t *testing.T) {
	cat, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(t *testing.T, b []byte){
		"SOURCES.md": func(t *testing.T, b []byte) {},
		"README.md":  func(t *testing.T, b []byte) {},

		// adb devices
		"empty_adb-devices-l.txt": func(t *testing.T, b []byte) {
			got, err := parseDevices(b)
			if err != nil || len(got) != 0 {
				t.Errorf("parseDevices = %+v, %v; want no phone", got, err)
			}
		},
		"mi8_adb-devices-l.txt": func(t *testing.T, b []byte) {
			wantPhones(t, b, Phone{Serial: "a0737173", State: "device", USB: "usb:1-1", Product: "dipper", Model: "MI_8", Device: "dipper", TransportID: "2"})
		},
		"pixel9_adb-devices-l.txt": func(t *testing.T, b []byte) {
			wantPhones(t, b, Phone{Serial: "49281FDAQ0011J", State: "device", USB: "usb:1-1", Product: "tokay", Model: "Pixel_9", Device: "tokay", TransportID: "1"})
		},
		"lxg-android11_adb-devices.txt": func(t *testing.T, b []byte) {
			wantPhones(t, b, Phone{Serial: "1faa4c6c", State: "device"}, Phone{Serial: "10.10.162.71:42491", State: "device"})
		},
		"lxg-ubuntu_adb-devices-nopermissions.txt": func(t *testing.T, b []byte) {
			got := wantPhones(t, b, Phone{Serial: "VB01KJ1014001", State: "no permissions",
				Detail: "(user in plugdev group; are your udev rules wrong?); see [http://developer.android.com/tools/device.html]"})
			if len(got) == 1 && got[0].Ready() {
				t.Error("a phone without USB permission counts as ready")
			}
		},

		// pm list users
		"bayton-samsung_pm-list-users.txt": func(t *testing.T, b []byte) {
			wantProfiles(t, b, map[int]string{0: profilePersonal, 12: profileWork, 150: profilePersonal})
		},
		"bayton-pixel_pm-list-users.txt": func(t *testing.T, b []byte) {
			// No "Users:" header in the published excerpt; Android 15's
			// private space (11) is the owner's.
			wantProfiles(t, b, map[int]string{0: profilePersonal, 10: profileWork, 11: profilePersonal})
		},

		// getprop
		"samsung-sm-g903f-a6.0.1_getprop.txt": func(t *testing.T, b []byte) {
			p, err := parseGetprop(b)
			if err != nil {
				t.Fatal(err)
			}
			want := props{Manufacturer: "samsung", Model: "SM-G903F", Release: "6.0.1", SDK: "23", CryptoState: "unencrypted"}
			if diff := cmp.Diff(want, p); diff != "" {
				t.Errorf("getprop (-want +got):\n%s", diff)
			}
			if v := encryption(&p, policy.Unknown).Volumes[0]; v.Encrypted != policy.No {
				t.Errorf("encryption = %+v; the capture says unencrypted", v)
			}
		},

		// dumpsys package
		"honor8-frd-l04-a7.0_dumpsys-package.txt.gz": func(t *testing.T, gz []byte) {
			b := gunzip(t, gz)
			for _, c := range []struct {
				pkg, version string
				contacts     policy.Tri
			}{
				// Android 7: runtime permissions per user, no "requested
				// permissions" list.
				{"com.whatsapp", "2.18.341", policy.Yes},
				{"org.thoughtcrime.securesms", "4.29.7", policy.Yes},
				{"com.skype.raider", "8.34.0.72", policy.No}, // granted=false, flags=[ USER_SET ]
				// Messenger and Slack hold no READ_CONTACTS state: not granted.
				{"com.facebook.orca", "191.0.0.22.98", policy.No},
				{"com.Slack", "2.71.0", policy.No},
			} {
				info, err := parsePackageDump(b, c.pkg)
				if err != nil {
					t.Fatalf("%s: %v", c.pkg, err)
				}
				if !info.Found || info.Version != c.version {
					t.Errorf("%s: found %v, version %q; want %q", c.pkg, info.Found, info.Version, c.version)
				}
				if u := info.Users[0]; u.Installed != policy.Yes {
					t.Errorf("%s: user 0 installed = %v", c.pkg, u.Installed)
				}
				if got := contactsGrant(info, 0); got != c.contacts {
					t.Errorf("%s: contacts = %v, want %v", c.pkg, got, c.contacts)
				}
			}
		},
		"kitkat-mtk-whatsapp_dumpsys-package-com.whatsapp_tail.txt": func(t *testing.T, b []byte) {
			// Android 4.4: install-time grants under "grantedPermissions:";
			// READ_CONTACTS is among them, so WhatsApp has the contacts.
			info, err := parsePackageDump(b, "com.whatsapp")
			if err != nil {
				t.Fatal(err)
			}
			if !info.Found || info.Version != "2.20.123" || info.Granted != policy.Yes {
				t.Errorf("parsePackageDump = %+v; want version 2.20.123, READ_CONTACTS granted", info)
			}
			if got := contactsGrant(info, 0); got != policy.Yes {
				t.Errorf("contacts = %v, want yes (a false 'no access' is the article's core risk)", got)
			}
		},

		// settings
		"honor8-frd-l04-a7.0_settings-list-system.txt": func(t *testing.T, b []byte) {
			if !bytes.Contains(b, []byte("\nscreen_off_timeout=30000\n")) {
				t.Error("the list does not hold the value the derived settings-get answer was made from")
			}
		},
		"honor8-frd-l04-a7.0_settings-list-secure.txt": func(t *testing.T, b []byte) {
			if bytes.Contains(b, []byte("lock_screen_lock_after_timeout=")) {
				t.Error("the derived answer says the key is absent")
			}
		},
		"honor8_settings-system-screen_off_timeout.txt": func(t *testing.T, b []byte) {
			if ms, set, err := parseSetting(b); err != nil || !set || ms != 30000 {
				t.Errorf("parseSetting = %d, %v, %v; want 30000", ms, set, err)
			}
		},
		"honor8_settings-secure-lock_screen_lock_after_timeout.txt": func(t *testing.T, b []byte) {
			if _, set, err := parseSetting(b); err != nil || set {
				t.Errorf("parseSetting = set %v, %v; want unset (null)", set, err)
			}
		},
		"honor8_pm-list-packages-user0.txt": func(t *testing.T, b []byte) {
			pkgs, err := parsePackageList(b)
			if err != nil || len(pkgs) != 252 {
				t.Fatalf("parsePackageList = %d packages, %v; SOURCES.md says 252", len(pkgs), err)
			}
			var ids []string
			for _, p := range pkgs {
				if e := packageIndex(cat)[p]; e != nil {
					ids = append(ids, e.ID)
				}
			}
			if diff := cmp.Diff([]string{"skype", "whatsapp", "signal", "facebook-messenger", "slack"}, ids); diff != "" {
				t.Errorf("catalog messengers (-want +got):\n%s", diff)
			}
		},
		"kitkat_pm-list-packages-user0.txt": func(t *testing.T, b []byte) {
			if pkgs, err := parsePackageList(b); err != nil || len(pkgs) != 1 || pkgs[0] != "com.whatsapp" {
				t.Errorf("parsePackageList = %v, %v", pkgs, err)
			}
		},

		// dumpsys lock_settings
		"wuseman-samsung_dumpsys-lock_settings.txt": func(t *testing.T, b []byte) {
			st, err := parseLockSettings(b)
			if err != nil {
				t.Fatal(err)
			}
			if s := st[0]; s.Credential != "PIN" || s.Secure != policy.Yes || len(st) != 1 {
				t.Errorf("lock states = %+v; want user 0 PIN", st)
			}
		},
		"verikun-moto-a10_dumpsys-lock_settings.txt": func(t *testing.T, b []byte) {
			st, err := parseLockSettings(b)
			if err != nil {
				t.Fatal(err)
			}
			l := lockFor(androidUser{ID: 0}, 0, st, nil)
			if l.Enabled != policy.Unknown || !strings.Contains(l.Reason, "Android 10 and older") {
				t.Errorf("lock = %+v; Android 10 prints no credential type: unknown", l)
			}
		},

		// owners
		"lxg-qssi-a11_dpm-usage.txt": func(t *testing.T, b []byte) {
			if _, err := parseListOwners(b); err != errOwnersUnsupported {
				t.Errorf("parseListOwners(usage) = %v; want errOwnersUnsupported (fall back to dumpsys)", err)
			}
		},
		"lxg-qssi-a11_dumpsys-device_policy.txt": func(t *testing.T, b []byte) {
			owners, err := parseDevicePolicy(b)
			if err != nil {
				t.Fatal(err)
			}
			w := wipeFromOwners(owners, []androidUser{{ID: 0, Flags: 0x13}}, cat, "dumpsys device_policy")
			if w.Capable != policy.Yes || w.Scope != "device" || w.Provider != "com.example.android.deviceowner" {
				t.Errorf("wipe = %+v; want the device owner", w)
			}
		},
		"zygotroller-familylink_dpm-list-owners.txt": func(t *testing.T, b []byte) {
			owners, err := parseListOwners(b)
			if err != nil || len(owners) != 1 || owners[0].Package != "com.google.android.gms.supervision" {
				t.Fatalf("parseListOwners = %+v, %v", owners, err)
			}
			w := wipeFromOwners(owners, []androidUser{{ID: 0, Flags: 0x13}}, cat, "dpm list-owners")
			if w.Capable != policy.No || !strings.Contains(w.Reason, "Google Family Link") {
				t.Errorf("wipe = %+v; parental supervision is not a company's remote wipe", w)
			}
		},
		"samsung-securefolder-bugreport_dumpsys-device_policy_excerpt.txt": func(t *testing.T, b []byte) {
			owners, err := parseDevicePolicy(b)
			if err != nil || len(owners) != 1 || owners[0].User != 150 || owners[0].Package != "com.samsung.knox.securefolder" {
				t.Fatalf("parseDevicePolicy = %+v, %v", owners, err)
			}
			users, err := parseUsers(platformtest.ReadReal(t, "bayton-samsung_pm-list-users.txt"))
			if err != nil {
				t.Fatal(err)
			}
			if w := wipeFromOwners(owners, users, cat, "dumpsys device_policy"); w.Capable != policy.No {
				t.Errorf("wipe = %+v; the Secure Folder's owner is Samsung's, not the company's", w)
			}
		},
	}
	platformtest.RealCaptures(t, cases)
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func wantPhones(t *testing.T, b []byte, want ...Phone) []Phone {
	t.Helper()
	got, err := parseDevices(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseDevices (-want +got):\n%s", diff)
	}
	return got
}

func wantProfiles(t *testing.T, b []byte, want map[int]string) {
	t.Helper()
	users, err := parseUsers(b)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]string{}
	for _, u := range users {
		got[u.ID] = u.profile()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("profiles (-want +got):\n%s", diff)
	}
}

// TestRealKitKatScan scans a phone that answers with the real Android 4.4
// captures (the other commands are not answered): WhatsApp holds the
// contacts, so contacts.whatsapp fails instead of the false "no access".
func TestRealKitKatScan(t *testing.T) {
	const serial = "KITKAT01"
	fx := "serial: " + serial + "\n" +
		"-- pm list packages --user 0 --\n" + string(platformtest.ReadReal(t, "kitkat_pm-list-packages-user0.txt")) +
		"-- dumpsys package com.whatsapp --\n" + string(platformtest.ReadReal(t, "kitkat-mtk-whatsapp_dumpsys-package-com.whatsapp_tail.txt"))
	f, err := phonetest.Parse(fx, "serial")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	inv, err := Scan(context.Background(), fakeFor(f), serial, cat, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Messengers) != 1 || inv.Messengers[0].ID != "whatsapp" || inv.Messengers[0].Version != "2.20.123" || inv.Messengers[0].Contacts != policy.Yes {
		t.Fatalf("messengers = %+v", inv.Messengers)
	}
	for _, fd := range policy.Evaluate(policy.Default(), inv, policy.EvalOptions{}) {
		if fd.Rule == "contacts.whatsapp" && fd.Status != policy.StatusFail {
			t.Errorf("contacts.whatsapp = %s: %s", fd.Status, fd.Message)
		}
	}
}

// TestSecureFolderReportedOnce: the Secure Folder's refusal is one problem
// that says the profile is not inspectable, without the exception text.
func TestSecureFolderReportedOnce(t *testing.T) {
	f := loadFixture(t, "samsung-s23-a14-securefolder.txtar")
	inv, err := Scan(context.Background(), fakeFor(f), f.ID, testCatalog(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var about150 []policy.Problem
	for _, p := range inv.Problems {
		if strings.Contains(p.Path+p.Message, "150") {
			about150 = append(about150, p)
		}
	}
	if len(about150) != 1 || !strings.Contains(about150[0].Message, "user 150 (Samsung Knox secure folder) is not inspectable") ||
		strings.Contains(about150[0].Message, "SecurityException") {
		t.Errorf("problems about user 150 = %+v", about150)
	}
}
