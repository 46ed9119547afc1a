package linux

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// TestDpkgMemo: the service does not read an unchanged dpkg database
// again, and sees every change: a new file (dpkg renames status-new over
// it), an edit in place with the modification time set back, and another
// catalog. A malformed database is never remembered.
func TestDpkgMemo(t *testing.T) {
	cat, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	status := filepath.Join(root, filepath.FromSlash(dpkgStatus))
	if err := os.MkdirAll(filepath.Dir(status), 0o755); err != nil {
		t.Fatal(err)
	}
	const signal = "Package: signal-desktop\nStatus: install ok installed\nVersion: 7.0.0\n\n"
	const telegram = "Package: telegram-desktop\nStatus: install ok installed\nVersion: 4.14.9\n\n"
	write := func(content string) { // as dpkg does: a new file renamed over the old
		if err := os.WriteFile(status+"-new", []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(status+"-new", status); err != nil {
			t.Fatal(err)
		}
	}
	write(signal)
	fsys := platform.NewDirFS(root)
	memo := &platform.DirMemo{Now: func() time.Time { return time.Now().Add(time.Minute) }}
	idx := newCatalogIndex(cat)
	names := func(f debFacts) []string {
		if f.err != nil {
			return []string{"error: " + f.err.Error()}
		}
		var out []string
		for _, p := range f.pkgs {
			out = append(out, p.Name+" "+p.Version)
		}
		return out
	}
	want := func(step string, f debFacts, w ...string) {
		t.Helper()
		got := names(f)
		if len(got) != len(w) {
			t.Fatalf("%s: %q; want %q", step, got, w)
		}
		for i := range w {
			if got[i] != w[i] {
				t.Fatalf("%s: %q; want %q", step, got, w)
			}
		}
	}
	want("first read", readDebFacts(fsys, idx, memo), "signal-desktop 7.0.0")
	st, err := os.Lstat(status)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := memo.Get(idx.debKey, dpkgStatus, platform.IdentOf(st)); !ok {
		t.Fatal("the unchanged database was not remembered")
	}
	want("unchanged", readDebFacts(fsys, idx, memo), "signal-desktop 7.0.0")

	write(signal + telegram)
	want("after dpkg wrote a new file", readDebFacts(fsys, idx, memo), "signal-desktop 7.0.0", "telegram-desktop 4.14.9")

	// An edit in place of the same size with the old modification time:
	// the change time still moves.
	st, err = os.Lstat(status)
	if err != nil {
		t.Fatal(err)
	}
	edited := signal + "Package: telegram-desktop\nStatus: install ok installed\nVersion: 4.14.8\n\n"
	if len(edited) != len(signal+telegram) {
		t.Fatalf("test setup: the edit changes the size (%d != %d)", len(edited), len(signal+telegram))
	}
	time.Sleep(10 * time.Millisecond)
	if err := os.WriteFile(status, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(status, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	want("after an edit in place", readDebFacts(fsys, idx, memo), "signal-desktop 7.0.0", "telegram-desktop 4.14.8")

	// Another catalog's read is its own.
	other := newCatalogIndex(&policy.Catalog{Messengers: []policy.CatalogEntry{{ID: "tg", Name: "Telegram", Linux: policy.LinuxIDs{Deb: []string{"telegram-desktop"}}}}})
	write(signal + telegram)
	want("the default catalog", readDebFacts(fsys, idx, memo), "signal-desktop 7.0.0", "telegram-desktop 4.14.9")
	want("another catalog", readDebFacts(fsys, other, memo), "telegram-desktop 4.14.9")

	// A malformed database is read, and reported, every time.
	write("Package: signal-desktop\nthis line is not a field\n")
	for i := range 2 {
		if f := readDebFacts(fsys, idx, memo); !isDpkgSyntaxError(f.err) {
			t.Errorf("read %d of a malformed database: %v", i, names(f))
		}
	}
}
