//go:build linux || darwin

package browser

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
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
	if _, ok := memo.Get("home/alice", strings.TrimPrefix(idb, "home/alice/"), platform.IdentOf(st)); !ok {
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
	if _, ok := memo.Get("home/alice", strings.TrimPrefix(idb, "home/alice/"), platform.IdentOf(st)); ok {
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
	if _, ok := memo.Get("home/alice", ".mozilla/firefox/profiles.ini", platform.IdentOf(st)); !ok {
		t.Errorf("profiles.ini was not remembered")
	}
}

// TestMemoNeverListsThroughALink: the service answers unchanged folders
// from the memo without checking every path component, but a folder that
// is not remembered is listed only after the whole path from the home was
// checked. A profile's storage folder swapped for a link to other folders
// after the first scans is refused, not listed.
func TestMemoNeverListsThroughALink(t *testing.T) {
	const ff = "home/alice/.mozilla/firefox/"
	const idb = "home/alice/.config/google-chrome/Default/IndexedDB"
	root := tree(t,
		ff+"profiles.ini=[Profile0]\nName=main\nIsRelative=1\nPath=a.main\n",
		ff+"a.main/storage/default/https+++web.whatsapp.com/",
		idb+"/https_web.whatsapp.com_0.indexeddb.leveldb/",
		"home/alice/elsewhere/storage/default/https+++app.slack.com/",
		"home/alice/elsewhere/Default/IndexedDB/https_app.slack.com_0.indexeddb.leveldb/")
	memo := &platform.DirMemo{Now: func() time.Time { return time.Now().Add(time.Minute) }}
	var problems []string
	in := &Inspector{FS: platform.NewDirFS(root), Index: NewIndex(testCatalog(t)), Installs: Installs("linux"), Memo: memo,
		Problem: func(p, msg string) { problems = append(problems, p+": "+msg) }}
	scan := func() []string {
		problems = nil
		var got []string
		for _, m := range in.Home(context.Background(), "alice", "home/alice") {
			got = append(got, m.ID+" in "+m.Location)
		}
		return got
	}
	for i := range 2 {
		if got := scan(); len(got) != 2 || len(problems) != 0 {
			t.Fatalf("scan %d: %v, problems %v", i, got, problems)
		}
	}
	// The storage folder of the Firefox profile becomes a link to another
	// folder; so does Chrome's whole IndexedDB folder's parent profile.
	for _, sw := range []struct{ at, to string }{
		{ff + "a.main/storage", "../../../elsewhere/storage"},
		{"home/alice/.config/google-chrome/Default", "../../elsewhere/Default"},
	} {
		p := filepath.Join(root, filepath.FromSlash(sw.at))
		if err := os.RemoveAll(p); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(sw.to, p); err != nil {
			t.Fatal(err)
		}
	}
	got := scan()
	for _, g := range got {
		if strings.Contains(g, "slack") {
			t.Errorf("listed through a link: %v", got)
		}
	}
	if len(problems) != 2 {
		t.Errorf("problems = %q; want the two links reported", problems)
	}
}

// TestMemoChecksBeforeListing: a browser folder still remembered although
// it is now reached through a link (~/.config moved and linked back, so
// the folder's identity is unchanged) lets the walk start without checking
// the path; but a changed folder below it is listed only after the path was
// checked from the home, which finds the link, reports it and lists
// nothing.
func TestMemoChecksBeforeListing(t *testing.T) {
	scan, problems := linkAboveIndexedDB(t, Installs("linux"))
	if got := scan(); len(got) != 0 {
		t.Errorf("listed a changed folder through a link: %+v", got)
	}
	if len(*problems) == 0 {
		t.Errorf("the link was not reported")
	}
}

// TestMemoRemembersOnlyWhatItListed: a site-storage folder whose path was
// refused (a link above it) was not listed, so nothing is remembered for
// it; every later scan checks and reports again rather than answering
// "no origins" from the memo. One browser only, so that no shared parent
// folder reports the link on its own.
func TestMemoRemembersOnlyWhatItListed(t *testing.T) {
	chrome := []Install{Installs("linux")[0]}
	if chrome[0].Dir != ".config/google-chrome" {
		t.Fatalf("Installs(linux)[0] = %+v; the test expects Chrome", chrome[0])
	}
	scan, problems := linkAboveIndexedDB(t, chrome)
	for i := range 3 {
		got := scan()
		if len(got) != 0 || len(*problems) != 1 || !strings.Contains((*problems)[0], "symbolic link") {
			t.Errorf("scan %d after the link: %+v, problems %q; want nothing listed and the link reported", i, got, *problems)
		}
	}
}

// linkAboveIndexedDB scans alice's home (Chrome's IndexedDB with one
// WhatsApp session) twice with installs, so that the memo is warm; then
// moves ~/.config away and links it back, which leaves the remembered
// folders' identities unchanged, and adds a Slack session below the link.
// scan inspects the home again; problems holds the last scan's problems.
func linkAboveIndexedDB(t *testing.T, installs []Install) (scan func() []policy.Messenger, problems *[]string) {
	t.Helper()
	const idb = "home/alice/.config/google-chrome/Default/IndexedDB"
	root := tree(t, idb+"/https_web.whatsapp.com_0.indexeddb.leveldb/", "home/alice/moved/")
	memo := &platform.DirMemo{Now: func() time.Time { return time.Now().Add(time.Minute) }}
	problems = new([]string)
	in := &Inspector{FS: platform.NewDirFS(root), Index: NewIndex(testCatalog(t)), Installs: installs, Memo: memo,
		Problem: func(p, msg string) { *problems = append(*problems, p+": "+msg) }}
	scan = func() []policy.Messenger {
		*problems = nil
		return in.Home(context.Background(), "alice", "home/alice")
	}
	for range 2 {
		if got := scan(); len(got) != 1 {
			t.Fatalf("before: %+v", got)
		}
	}
	config := filepath.Join(root, "home/alice/.config")
	if err := os.Rename(config, filepath.Join(root, "home/alice/moved/.config")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("moved/.config", config); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, filepath.FromSlash(idb), "https_app.slack.com_0.indexeddb.leveldb"), 0o755); err != nil {
		t.Fatal(err)
	}
	return scan, problems
}
