package ios

import (
	"bytes"
	"testing"

	"github.com/msgguard/msgguard/platform/platformtest"

	"github.com/google/go-cmp/cmp"

	"github.com/msgguard/msgguard/policy"
)

// TestRealCaptures parses every file in testdata/real — real
// libimobiledevice output published by others, copied verbatim with its
// source in SOURCES.md — with the parser the agent uses for that command.
// A capture without a case fails the test.
func TestRealCaptures(t *testing.T) {
	full := platformtest.ReadReal(t, "iphone7-ios13.3.1_ideviceinfo.txt")
	// inFull checks that a derived -k answer is the value of key in the
	// full ideviceinfo capture it was made from.
	inFull := func(t *testing.T, key, value string) {
		t.Helper()
		if !bytes.Contains(full, []byte("\n"+key+": "+value+"\n")) {
			t.Errorf("the full capture has no %q: %q line", key, value)
		}
	}
	value := func(t *testing.T, b []byte, want string) {
		t.Helper()
		if got, ok := parseValue(b); !ok || got != want {
			t.Errorf("parseValue = %q, %v; want %q", got, ok, want)
		}
	}
	cases := map[string]func(t *testing.T, b []byte){
		"SOURCES.md": func(t *testing.T, b []byte) {},
		"README.md":  func(t *testing.T, b []byte) {},
		"iphone7-ios13.3.1_ideviceinfo.txt": func(t *testing.T, b []byte) {
			// The agent asks single keys with -k; bare ideviceinfo output is
			// many lines and must never be taken for one value.
			if v, ok := parseValue(b); ok {
				t.Errorf("parseValue(full dump) = %q; want no value", v)
			}
		},
		"iphone7_ideviceinfo-k-PasswordProtected.txt": func(t *testing.T, b []byte) {
			inFull(t, "PasswordProtected", "false")
			if got := parseBool(b); got != policy.No {
				t.Errorf("PasswordProtected = %v, want no", got)
			}
		},
		"iphone7_ideviceinfo-k-ProductType.txt": func(t *testing.T, b []byte) {
			inFull(t, "ProductType", "iPhone9,1")
			value(t, b, "iPhone9,1")
		},
		"iphone7_ideviceinfo-k-ProductVersion.txt": func(t *testing.T, b []byte) {
			inFull(t, "ProductVersion", "13.3.1")
			value(t, b, "13.3.1")
		},
		"crifan_ideviceinfo-k-ProductVersion_other-iphone.txt": func(t *testing.T, b []byte) {
			value(t, b, "12.4.5")
		},
		"iphone7_udid.txt": func(t *testing.T, b []byte) {
			inFull(t, "UniqueDeviceID", "adab53e3250e8be1ee0db75bccdc2063df608b46")
			if diff := cmp.Diff([]string{"adab53e3250e8be1ee0db75bccdc2063df608b46"}, parseUDIDs(b)); diff != "" {
				t.Errorf("parseUDIDs (-want +got):\n%s", diff)
			}
		},
		"lzwjava_ideviceinstaller-l.txt": func(t *testing.T, b []byte) {
			// ideviceinstaller 1.1: CFBundleVersion column, an id without
			// dots, CJK names, and the publisher's trailing "...".
			apps, err := parseAppList(b)
			if err != nil {
				t.Fatal(err)
			}
			want := []app{
				{"com.huawei.smarthome-ios", "14.1.1.325"}, {"com.sf-express.waybillcn", "9.70.0.1"},
				{"com.roblox.robloxmobile", "2.652.762"}, {"co.alphaexploration.clubhouse", "3273"},
				{"com.dbs.mbanking.cn", "11"}, {"global.longbridge.ios", "59579"},
				{"imgurmobile", "416"}, {"com.creditkarma.mobile", "17316145"},
			}
			if diff := cmp.Diff(want, apps); diff != "" {
				t.Errorf("parseAppList (-want +got):\n%s", diff)
			}
		},
		"live-iphone-2026-08-11_ideviceinstaller-list.txt": func(t *testing.T, b []byte) {
			apps, err := parseAppList(b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]app{{"ru.aviasales.app", "9.28"}, {"ru.cardsmobile.wallet", "6.63"}}, apps); diff != "" {
				t.Errorf("parseAppList (-want +got):\n%s", diff)
			}
		},
	}
	platformtest.RealCaptures(t, cases)
}
