package windows

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/msgguard/msgguard/platform"
)

// TestAggregatorServices: Ferdium in alice's %APPDATA% with three recipe
// folders (and its temp folder) reports the services by folder name.
func TestAggregatorServices(t *testing.T) {
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS(filepath.Join("testdata", "office", "root"))); err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{"whatsapp", "msteams", "telegram", "temp", "My Stuff"} {
		if err := os.MkdirAll(filepath.Join(root, "Users", "alice", "AppData", "Roaming", "Ferdium", "recipes", svc), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f := loadFixture(t, "office")
	f.h.Root, f.h.RootDir = platform.NewDirFS(root), root
	inv := scanFixture(t, f)
	var got []string
	for _, m := range inv.Messengers {
		if m.ID == "ferdium" {
			got = append(got, m.User+" "+m.Location+" ["+m.Services+"]")
		}
	}
	want := []string{
		`alice C:\Users\alice\AppData\Roaming\Ferdium []`,
		`alice C:\Users\alice\AppData\Roaming\Ferdium\recipes [msteams, telegram, whatsapp]`,
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("ferdium evidence = %q; want %q", got, want)
	}
}
