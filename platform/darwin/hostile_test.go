package darwin

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/platformtest"
	"github.com/msgguard/msgguard/policy"
)

// writeFile creates dir/name with parent folders.
func writeFile(t testing.TB, dir, name string, b []byte) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t testing.TB, target, dir, name string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// hostileMac builds a Mac whose applications folder holds every broken
// bundle from the issue, plus a user who links ~/Library into another
// user's home, around two good bundles that must still be found.
func hostileMac(t testing.TB) *platform.Host {
	t.Helper()
	root := t.TempDir()
	info := func(app string) string { return "Applications/" + app + "/Contents/Info.plist" }
	writeFile(t, root, info("Truncated.app"), readTestdata(t, "broken/truncated.bplist"))
	writeFile(t, root, info("BombXML.app"), readTestdata(t, "broken/bomb.xml"))
	writeFile(t, root, info("BombBinary.app"), readTestdata(t, "broken/bomb.bplist"))
	writeFile(t, root, info("Cycle.app"), readTestdata(t, "broken/cycle.bplist"))
	writeFile(t, root, info("Laughs.app"), readTestdata(t, "broken/laughs.bplist"))
	// 500 MB Info.plist, sparse: the size check must refuse it unread.
	writeFile(t, root, info("Huge.app"), nil)
	if err := os.Truncate(filepath.Join(root, info("Huge.app")), 500<<20); err != nil {
		t.Fatal(err)
	}
	symlink(t, "/", root, "Applications/Root.app")
	symlink(t, "/", root, "Applications/Contents.app/Contents")
	symlink(t, "/", root, "Applications/Vendor/Loop.app")
	writeFile(t, root, info("Signal.app"), readTestdata(t, "infoplist/Signal.bplist"))
	writeFile(t, root, "Users/mallory/"+info("WhatsApp.app"), readTestdata(t, "infoplist/WhatsApp.xml"))
	writeFile(t, root, "Users/alice/Library/Containers/net.whatsapp.WhatsApp/Data/.keep", nil)
	symlink(t, "../alice/Library", root, "Users/mallory/Library")
	run := platformtest.NewFakeRunner()
	run.Set("dscl . -list /Users UniqueID", "alice 501\nmallory 503\n")
	run.Set("dscl . -list /Users NFSHomeDirectory", "alice /Users/alice\nmallory /Users/mallory\n")
	return &platform.Host{GOOS: "darwin", Root: platform.NewDirFS(root), RootDir: root, Run: run}
}

func TestScanHostileBundlesStaysBounded(t *testing.T) {
	h := hostileMac(t)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	inv, err := Scan(context.Background(), h, defaultCatalog(t))
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatalf("Scan() error: %v", err)
	}
	if elapsed > 5*time.Second {
		t.Errorf("Scan of hostile bundles took %v; want well under 5s", elapsed)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("Scan of hostile bundles allocated %d MB; want under 64 MB", alloc>>20)
	}
	// Each hostile bundle is named in a problem saying what was skipped.
	wantProblems := map[string]string{
		"/Applications/Truncated.app/Contents/Info.plist":  "not an XML or binary property list",
		"/Applications/BombXML.app/Contents/Info.plist":    "nested too deeply",
		"/Applications/BombBinary.app/Contents/Info.plist": "nested too deeply",
		"/Applications/Cycle.app/Contents/Info.plist":      "reference cycle",
		"/Applications/Laughs.app/Contents/Info.plist":     "nested too deeply",
		"/Applications/Huge.app/Contents/Info.plist":       "exceeds the read limit",
		"/Applications/Root.app":                           `symbolic link to "/" is not followed`,
		"/Applications/Contents.app/Contents/Info.plist":   "symbolic link",
		"/Applications/Vendor/Loop.app":                    `symbolic link to "/" is not followed`,
		"/Users/mallory/Library":                           "symbolic link",
	}
	got := map[string]string{}
	for _, p := range inv.Problems {
		got[p.Path] = p.Message
	}
	for path, frag := range wantProblems {
		msg, ok := got[path]
		if !ok {
			t.Errorf("no problem recorded for %s; problems: %+v", path, inv.Problems)
			continue
		}
		if !strings.Contains(msg, frag) || !strings.Contains(msg, "skip") {
			t.Errorf("problem for %s = %q; want it to say it skipped (%q)", path, msg, frag)
		}
	}
	// The good bundles are still found and attributed; mallory's link into
	// alice's Library is not evidence for mallory.
	var ids []string
	for _, m := range inv.Messengers {
		ids = append(ids, m.ID+"/"+m.User+"/"+m.Source)
	}
	want := "signal//app-bundle whatsapp/alice/data-dir whatsapp/mallory/app-bundle"
	if strings.Join(ids, " ") != want {
		t.Errorf("messengers = %v; want %s", ids, want)
	}
}

func TestScanCapsProblemList(t *testing.T) {
	root := t.TempDir()
	for i := 0; i < maxProblemsPerProbe+10; i++ {
		writeFile(t, root, "Applications/"+strings.Repeat("x", i+1)+".app/Contents/Info.plist", []byte("garbage"))
	}
	h := &platform.Host{GOOS: "darwin", Root: platform.NewDirFS(root), Run: platformtest.NewFakeRunner()}
	inv, err := Scan(context.Background(), h, defaultCatalog(t))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var last policy.Problem
	for _, p := range inv.Problems {
		if p.Probe == "apps" {
			n++
			last = p
		}
	}
	if n != maxProblemsPerProbe+1 || !strings.Contains(last.Message, "10 more problems") {
		t.Errorf("apps problems = %d (last %q); want %d and a summary of 10 more", n, last.Message, maxProblemsPerProbe+1)
	}
}

func TestSymlinkedHomeIsSkipped(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "Users/alice/Applications/Signal.app/Contents/Info.plist", readTestdata(t, "infoplist/Signal.xml"))
	writeFile(t, root, "Users/alice/Library/Application Support/Signal/.keep", nil)
	symlink(t, "alice", root, "Users/trudy")
	run := platformtest.NewFakeRunner()
	run.Set("dscl . -list /Users UniqueID", "alice 501\ntrudy 502\n")
	run.Set("dscl . -list /Users NFSHomeDirectory", "alice /Users/alice\ntrudy /Users/trudy\n")
	h := &platform.Host{GOOS: "darwin", Root: platform.NewDirFS(root), Run: run}
	inv, err := Scan(context.Background(), h, defaultCatalog(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range inv.Messengers {
		if m.User != "alice" {
			t.Errorf("messenger %+v attributed through trudy's symlinked home", m)
		}
	}
	if len(inv.Messengers) != 2 {
		t.Errorf("got %d messengers; want alice's bundle and data folder", len(inv.Messengers))
	}
	found := false
	for _, p := range inv.Problems {
		if p.Path == "/Users/trudy" && strings.Contains(p.Message, "skipped home") {
			found = true
		}
	}
	if !found {
		t.Errorf("no problem for /Users/trudy; problems: %+v", inv.Problems)
	}
}
