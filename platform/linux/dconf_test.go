package linux

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/msgguard/msgguard/platform/linux/gvdb"
)

func postureLookDconf(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("dconf")
	if err != nil {
		t.Skip("dconf not on PATH (Debian package dconf-cli)")
	}
	return p
}

func postureRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, out)
	}
}

// gvdbDump renders every item of a GVDB file (type + raw bytes), nested
// tables included, for comparing a committed fixture with a regenerated one.
func gvdbDump(t *testing.T, b []byte) map[string]string {
	t.Helper()
	root, err := gvdb.Open(b)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func(prefix string, tb gvdb.Table)
	walk = func(prefix string, tb gvdb.Table) {
		names, err := tb.Names()
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if v, err := tb.Value(n); err == nil {
				out[prefix+n] = v.Type() + " " + string(v.Bytes())
			} else if sub, err := tb.Table(n); err == nil {
				walk(prefix+n+"::", sub)
			} else if l, err := tb.List(n); err == nil {
				sort.Strings(l)
				out[prefix+n] = "L " + strings.Join(l, ",")
			}
		}
	}
	walk("", root)
	return out
}

// TestRegenerateDconfFixtures recompiles every committed dconf database from
// the keyfile directory beside it (NAME.d → NAME, the layout `dconf update`
// uses) with the real dconf tool and checks both hold the same items.
func TestRegenerateDconfFixtures(t *testing.T) {
	dconf := postureLookDconf(t)
	n := 0
	err := filepath.WalkDir(postureTestdata, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || !strings.HasSuffix(p, ".d") {
			return err
		}
		compiled := strings.TrimSuffix(p, ".d")
		if st, err := os.Lstat(compiled); err != nil || !st.Mode().IsRegular() {
			return nil // a .d directory that is not a dconf source (logind.conf.d)
		}
		n++
		out := filepath.Join(t.TempDir(), "db")
		postureRun(t, dconf, "compile", out, p)
		want, _ := os.ReadFile(compiled)
		got, _ := os.ReadFile(out)
		if diff := cmp.Diff(gvdbDump(t, want), gvdbDump(t, got)); diff != "" {
			t.Errorf("%s differs from a fresh `dconf compile` of %s (-committed +fresh):\n%s", compiled, p, diff)
		}
		return filepath.SkipDir
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 7 {
		t.Errorf("regenerated %d databases; want the 7 committed ones", n)
	}
}

// TestRegenerateSchemas recompiles the committed gschemas.compiled from the
// schema XML beside it with glib-compile-schemas (libglib2.0-bin).
func TestRegenerateSchemas(t *testing.T) {
	tool, err := exec.LookPath("glib-compile-schemas")
	if err != nil {
		t.Skip("glib-compile-schemas not on PATH (Debian package libglib2.0-bin)")
	}
	dir := filepath.Join(postureTestdata, "root-gnome/usr/share/glib-2.0/schemas")
	out := t.TempDir()
	postureRun(t, tool, "--targetdir="+out, dir)
	want, _ := os.ReadFile(filepath.Join(dir, "gschemas.compiled"))
	got, _ := os.ReadFile(filepath.Join(out, "gschemas.compiled"))
	if diff := cmp.Diff(gvdbDump(t, want), gvdbDump(t, got)); diff != "" {
		t.Errorf("gschemas.compiled differs from a fresh compile (-committed +fresh):\n%s", diff)
	}
}

func TestParseDconfProfile(t *testing.T) {
	got := parseDconfProfile([]byte("  user-db:user   # the user's own\n\n# comment\nsystem-db:local\nsystem-db:site\t\nfile-db:/opt/x.db"))
	want := []string{"user-db:user", "system-db:local", "system-db:site", "file-db:/opt/x.db"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseDconfProfile mismatch (-want +got):\n%s", diff)
	}
}

// TestDconfLockOrder follows dconf_engine_read: the highest-index locking
// source decides, and reads start there.
func TestDconfLockOrder(t *testing.T) {
	dconf := postureLookDconf(t)
	dir := t.TempDir()
	mk := func(name, keyfile, locks string) *dconfSource {
		postureWriteFile(t, dir, name+".d/00", keyfile)
		if locks != "" {
			postureWriteFile(t, dir, name+".d/locks/00", locks)
		}
		postureRun(t, dconf, "compile", filepath.Join(dir, name), filepath.Join(dir, name+".d"))
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return openDconfSource(name, b, nil)
	}
	user := mk("user", "[a]\nk=uint32 1\n", "/a/k\n") // locks in source 0 are ignored
	site := mk("site", "[a]\nk=uint32 2\n", "/a/k\n")
	local := mk("local", "[a]\nother=true\n", "/a/k\n") // locks without a value
	tests := []struct {
		name    string
		sources []*dconfSource
		want    string
		wantVal int64
		found   bool
	}{
		{"user only", []*dconfSource{user}, "user", 1, true},
		{"site locks over user", []*dconfSource{user, site}, "site", 2, true},
		{"last lock wins, value falls through to schema default", []*dconfSource{user, site, local}, "", 0, false},
		{"broken system db makes it unknown", []*dconfSource{user, {label: "bad", err: errors.New("bad")}}, "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := (&dconfProfile{sources: tt.sources}).read("/a/k")
			if tt.name == "broken system db makes it unknown" {
				if r.err == nil {
					t.Fatal("want an error")
				}
				return
			}
			if r.err != nil || r.found != tt.found || r.source != tt.want {
				t.Fatalf("read = %+v", r)
			}
			if tt.found {
				if n, _ := r.value.Int(); n != tt.wantVal {
					t.Errorf("value = %d; want %d", n, tt.wantVal)
				}
			}
		})
	}
}

func FuzzParseDconfProfile(f *testing.F) {
	f.Add([]byte("user-db:user\nsystem-db:local\n"))
	f.Add([]byte("# x\n service-db:keyfile/user "))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, l := range parseDconfProfile(b) {
			if l == "" || strings.Contains(l, "\n") || strings.Contains(l, "#") {
				t.Fatalf("bad line %q", l)
			}
		}
	})
}

func FuzzOpenDconfSource(f *testing.F) {
	b, err := os.ReadFile(filepath.Join(postureTestdata, "root-gnome/etc/dconf/db/local"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:40])
	f.Fuzz(func(t *testing.T, b []byte) {
		src := openDconfSource("x", bytes.Clone(b), nil)
		p := &dconfProfile{sources: []*dconfSource{src, src}}
		_ = p.read("/org/gnome/desktop/screensaver/lock-enabled")
	})
}
