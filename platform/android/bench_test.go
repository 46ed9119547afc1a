package android

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/msgguard/msgguard/platform/phone/phonetest"
	"github.com/msgguard/msgguard/platform/platformtest"
	"github.com/msgguard/msgguard/policy"
)

// manyPackages returns the done-when phone with n installed packages per
// profile (the catalog apps among them), as a phone with a few hundred apps
// reports them.
func manyPackages(t testing.TB, n int) (phonetest.Fixture, *platformtest.FakeRunner) {
	f := loadFixture(t, "pixel7-a14-workprofile-nopin.txtar")
	r := fakeFor(f)
	for _, user := range []struct {
		id      string
		catalog string
	}{{"0", "com.whatsapp"}, {"10", "com.whatsapp.w4b"}} {
		var b strings.Builder
		for i := 0; i < n-1; i++ {
			fmt.Fprintf(&b, "package:com.example.vendor%03d.app%03d\n", i%37, i)
			if i == n/2 {
				fmt.Fprintf(&b, "package:%s\n", user.catalog)
			}
		}
		r.Set("adb -s "+f.ID+" shell pm list packages --user "+user.id, b.String())
	}
	return f, r
}

// TestScanManyPackages: 400 packages per profile cost no extra commands
// (one dumpsys per catalog match) and give the same inventory.
func TestScanManyPackages(t *testing.T) {
	f, r := manyPackages(t, 400)
	inv, err := Scan(context.Background(), r, f.ID, testCatalog(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := doneWhenInventory()
	if len(inv.Messengers) != len(want.Messengers) {
		t.Fatalf("messengers = %+v", inv.Messengers)
	}
	for i := range want.Messengers {
		if inv.Messengers[i] != want.Messengers[i] {
			t.Errorf("messenger %d = %+v; want %+v", i, inv.Messengers[i], want.Messengers[i])
		}
	}
	// getprop, pm list users, 2× pm list packages, 2× dumpsys package,
	// dumpsys lock_settings, 2× settings, dpm list-owners, dumpsys device_policy.
	if n := len(r.CallLog()); n != 11 {
		t.Errorf("%d commands: %q", n, r.CallLog())
	}
}

// BenchmarkScan400Packages measures a full scan of a two-profile phone with
// 400 installed packages per profile, parsing included (command time is
// the phone's, not ours).
func BenchmarkScan400Packages(b *testing.B) {
	f, r := manyPackages(b, 400)
	cat := testCatalog()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Calls = r.Calls[:0]
		inv, err := Scan(context.Background(), r, f.ID, cat, Options{})
		if err != nil || len(inv.Messengers) != 2 || inv.Posture.RemoteWipe.Capable != policy.Yes {
			b.Fatalf("scan: %v %+v", err, inv)
		}
	}
}

func BenchmarkParsePackageDump(b *testing.B) {
	f := loadFixture(b, "pixel7-a14-workprofile-nopin.txtar")
	dump := []byte(f.Body(b, "dumpsys package com.whatsapp"))
	b.ReportAllocs()
	b.SetBytes(int64(len(dump)))
	for i := 0; i < b.N; i++ {
		if info, err := parsePackageDump(dump, "com.whatsapp"); err != nil || !info.Found {
			b.Fatal("not found")
		}
	}
}
