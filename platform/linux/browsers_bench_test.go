//go:build unix

package linux

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// genBrowsers adds to a genRoot tree 3 browsers (Chrome, Chromium snap,
// Firefox) × 3 profiles for each of the genUsers users, each profile with
// 40 site-storage folders, one of them a catalog messenger's for every
// second profile. It returns the number of browser items a scan must find.
func genBrowsers(tb testing.TB, dir string) int {
	tb.Helper()
	items := 0
	for i := range genUsers {
		home := filepath.Join(dir, fmt.Sprintf("home/user%02d", i))
		k := 0
		for _, ud := range []string{".config/google-chrome", "snap/chromium/common/chromium"} {
			writeFile(tb, filepath.Join(home, ud, "Local State"), "{}")
			for _, p := range []string{"Default", "Profile 1", "Profile 2"} {
				idb := filepath.Join(home, ud, p, "IndexedDB")
				for j := range 40 {
					mkdir(tb, filepath.Join(idb, fmt.Sprintf("https_site%02d.example_0.indexeddb.leveldb", j)))
				}
				if k++; k%2 == 0 {
					mkdir(tb, filepath.Join(idb, "https_web.whatsapp.com_0.indexeddb.leveldb"))
					items++
				}
			}
		}
		ff := filepath.Join(home, ".mozilla/firefox")
		ini := ""
		for n, p := range []string{"a1.default-release", "b2.work", "c3.test"} {
			ini += fmt.Sprintf("[Profile%d]\nName=%s\nIsRelative=1\nPath=%s\n\n", n, p[3:], p)
			st := filepath.Join(ff, p, "storage/default")
			for j := range 40 {
				mkdir(tb, filepath.Join(st, fmt.Sprintf("https+++site%02d.example", j)))
			}
			if k++; k%2 == 0 {
				mkdir(tb, filepath.Join(st, "https+++web.telegram.org"))
				items++
			}
		}
		writeFile(tb, filepath.Join(ff, "profiles.ini"), ini)
	}
	return items
}

// BenchmarkScanBrowsers is BenchmarkScan's generated root (50 users) with
// 3 browsers × 3 profiles per user. "off" and "on" run in the same process
// so that their difference is browser inspection's cost on a noisy shared
// machine; "inspection" times the browser pass alone. Target: it adds at
// most 2 ms to a scan.
func BenchmarkScanBrowsers(b *testing.B) {
	h, cat, want := benchHost(b)
	wantBrowser := genBrowsers(b, h.RootDir)
	h.Browsers = true
	inv, err := Scan(context.Background(), h, cat)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, m := range inv.Messengers {
		if m.Source == policy.SourceBrowser {
			n++
		}
	}
	if n != wantBrowser || len(inv.Messengers) != want+wantBrowser {
		b.Fatalf("%d browser items of %d; want %d of %d", n, len(inv.Messengers), wantBrowser, want+wantBrowser)
	}
	// "on" is a one-shot scan (agent scan: every folder listed); "service"
	// is a scheduled scan of the service, which remembers the listings of
	// unchanged site-storage folders (platform.DirMemo). The tree was made
	// a moment ago, so the memo's clock runs a minute ahead, as if the
	// scan came later.
	// "off-service" is the service's scan with browser inspection off: it
	// keeps a memo too (the dpkg database's packages), so "service" minus
	// "off-service" is what browser inspection adds to a scheduled scan.
	memo := &platform.DirMemo{Now: func() time.Time { return time.Now().Add(time.Minute) }}
	offMemo := &platform.DirMemo{Now: memo.Now}
	for _, mode := range []struct {
		name     string
		browsers bool
		memo     *platform.DirMemo
	}{{"off", false, nil}, {"on", true, nil}, {"off-service", false, offMemo}, {"service", true, memo}} {
		b.Run(mode.name, func(b *testing.B) {
			h.Browsers, h.Memo = mode.browsers, mode.memo
			if h.Memo != nil {
				if _, err := Scan(context.Background(), h, cat); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			cpu := cpuTime(b)
			for b.Loop() {
				if _, err := Scan(context.Background(), h, cat); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
	// "inspection-service-1" is the service's pass with one worker: the
	// service scans on all cores but one (platform.Host.Workers), which on
	// this benchmark's two-core machine is one.
	for _, run := range []struct {
		name    string
		memo    *platform.DirMemo
		workers int
	}{{"inspection", nil, 0}, {"inspection-service", memo, 0}, {"inspection-service-1", memo, 1}} {
		b.Run(run.name, func(b *testing.B) {
			h.Memo, h.Workers = run.memo, run.workers
			defer func() { h.Workers = 0 }()
			users := inv.Users
			b.ReportAllocs()
			cpu := cpuTime(b)
			for b.Loop() {
				scanBrowsers(context.Background(), h, cat, users, &policy.Inventory{})
			}
			b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}
