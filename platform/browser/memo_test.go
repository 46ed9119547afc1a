//go:build linux || darwin

package browser

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/msgguard/msgguard/platform"
)

// TestMemoSeesNewOrigins: a remembered site-storage folder is not listed
// again while unchanged, and a session added later (even with the folder's
// modification time set back, as touch -d can) is found.
func TestMemoSeesNewOrigins(t *testing.T) {
	const idb = "home/alice/.config/google-chrome/Default/IndexedDB"
	root := tree(t, idb+"/https_web.whatsapp.com_0.indexeddb.leveldb/")
	// A clock a minute ahead, so that the just-made folder counts as
	// settled and is remembered.
	memo := &platform.DirMemo{Now: func() time.Time { return time.Now().Add(time.Minute) }}
	in := &Inspector{FS: platform.NewDirFS(root), Index: NewIndex(testCatalog(t)), Installs: Installs("linux"), Memo: memo}
	scan := func() []string {
		var ids []string
		for _, m := range in.Home(context.Background(), "alice", "home/alice") {
			ids = append(ids, m.ID)
		}
		return ids
	}
	if got := scan(); len(got) != 1 || got[0] != "whatsapp" {
		t.Fatalf("first scan = %v", got)
	}
	dir := filepath.Join(root, filepath.FromSlash(idb))
	st, err := os.Lstat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := memo.Get(idb, st); !ok {
		t.Fatalf("the unchanged folder was not remembered")
	}
	if got := scan(); len(got) != 1 {
		t.Fatalf("second scan = %v", got)
	}
	if err := os.Mkdir(filepath.Join(dir, "https_app.slack.com_0.indexeddb.leveldb"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(dir, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	if got := scan(); len(got) != 2 {
		t.Errorf("after a new session and a reset modification time: %v; want whatsapp and slack", got)
	}
}

func TestMemoForgetsRecentChanges(t *testing.T) {
	const idb = "home/alice/.config/google-chrome/Default/IndexedDB"
	root := tree(t, idb+"/https_web.whatsapp.com_0.indexeddb.leveldb/")
	memo := &platform.DirMemo{} // the real clock: the folder changed just now
	in := &Inspector{FS: platform.NewDirFS(root), Index: NewIndex(testCatalog(t)), Installs: Installs("linux"), Memo: memo}
	in.Home(context.Background(), "alice", "home/alice")
	st, err := os.Lstat(filepath.Join(root, filepath.FromSlash(idb)))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := memo.Get(idb, st); ok {
		t.Errorf("a folder changed less than two seconds before its listing was remembered")
	}
}

func TestMemoProfilesINI(t *testing.T) {
	const ff = "home/alice/.mozilla/firefox/"
	root := tree(t,
		ff+"profiles.ini=[Profile0]\nName=main\nIsRelative=1\nPath=a.main\n[Profile1]\nName=abs\nIsRelative=0\nPath=/home/alice/b\n",
		ff+"a.main/storage/default/https+++web.whatsapp.com/",
		"home/alice/b/storage/default/https+++app.slack.com/")
	memo := &platform.DirMemo{Now: func() time.Time { return time.Now().Add(time.Minute) }}
	in := &Inspector{FS: platform.NewDirFS(root), Index: NewIndex(testCatalog(t)), Installs: Installs("linux"), Memo: memo,
		Abs: func(p string) (string, bool) { return platform.RelPath(p), true }}
	for i := range 2 {
		got := in.Home(context.Background(), "alice", "home/alice")
		if len(got) != 2 || got[0].Location != `Firefox, profile "main"` || got[1].Location != `Firefox, profile "abs"` {
			t.Errorf("scan %d: %+v", i, got)
		}
	}
	st, err := os.Lstat(filepath.Join(root, ff, "profiles.ini"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := memo.Get(ff+"profiles.ini", st); !ok {
		t.Errorf("profiles.ini was not remembered")
	}
}
