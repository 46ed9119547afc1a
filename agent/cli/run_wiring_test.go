package cli

import (
	"context"
	"testing"
	"time"

	"github.com/msgguard/msgguard/agent/phones"
	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/platformtest"
)

// A phone that becomes inspectable wakes one scan; an unchanged list and a
// phone that is only unauthorised do not; SIGHUP (reload) still does.
func TestPhoneArrivals(t *testing.T) {
	run := platformtest.NewFakeRunner()
	run.Set("adb devices -l", "List of devices attached\nR5CW20ABCDE            unauthorized usb:1-3 transport_id:5\n\n")
	run.SetErr("idevice_id -l", "", platform.ErrCommandNotFound)
	run.SetErr("idevicepair list", "", platform.ErrCommandNotFound)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reload := make(chan struct{})
	got := phoneArrivals(ctx, &phones.Options{Run: run}, 10*time.Millisecond, reload)
	quiet := func(what string) {
		t.Helper()
		select {
		case <-got:
			t.Fatalf("scan requested %s", what)
		case <-time.After(100 * time.Millisecond):
		}
	}
	wake := func(what string) {
		t.Helper()
		select {
		case <-got:
		case <-time.After(2 * time.Second):
			t.Fatalf("no scan requested %s", what)
		}
	}
	quiet("for an unauthorised phone")
	run.Set("adb devices -l", "List of devices attached\n2B261FDH2000AB         device usb:1-4 product:panther model:Pixel_7 device:panther transport_id:3\n\n")
	wake("when a phone became inspectable")
	quiet("while the list is unchanged")
	reload <- struct{}{}
	wake("on reload")
}
