//go:build linux

package linux

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/msgguard/msgguard/platform/platformtest"
	"github.com/msgguard/msgguard/policy"
)

// TestHostileUserDatabases: a user's ~/.config/dconf/user that is
// truncated, garbage, a symlink (to another user's file or /etc/shadow), a
// FIFO, huge, or under a symlinked ~/.config gives that user an unknown
// screen lock with a reason that quotes no file content; other users are
// unaffected, nothing hangs, nothing is written.
func TestHostileUserDatabases(t *testing.T) {
	root := platformtest.CopyTree(t, filepath.Join(postureTestdata, "root-gnome"))
	const secret = "SECRET-CONTENT-7f3a"
	good, err := os.ReadFile(filepath.Join(root, "home/alice/.config/dconf/user"))
	if err != nil {
		t.Fatal(err)
	}
	postureWriteFile(t, root, "etc/shadow", "root:"+secret+":19000:0:99999:7:::\n")
	db := func(user string) string {
		p := filepath.Join(root, "home", user, ".config/dconf/user")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := map[string]func(p string) error{
		"truncated": func(p string) error { return os.WriteFile(p, good[:len(good)/2], 0o644) },
		"garbage":   func(p string) error { return os.WriteFile(p, []byte(strings.Repeat(secret, 40)), 0o644) },
		"tiny":      func(p string) error { return os.WriteFile(p, []byte("GVariant"), 0o644) },
		"linkuser":  func(p string) error { return os.Symlink(filepath.Join(root, "home/alice/.config/dconf/user"), p) },
		"linkshad":  func(p string) error { return os.Symlink("/etc/shadow", p) },
		"linkrel":   func(p string) error { return os.Symlink("../../../../etc/shadow", p) },
		"fifo":      func(p string) error { return syscall.Mkfifo(p, 0o644) },
		"huge": func(p string) error {
			if err := os.WriteFile(p, good, 0o644); err != nil {
				return err
			}
			return os.Truncate(p, 2<<30) // sparse 2 GiB
		},
	}
	var names []string
	for name, mk := range cases {
		if err := mk(db(name)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		names = append(names, name)
	}
	// ~/.config itself a symlink to another user's config.
	if err := os.Symlink(filepath.Join(root, "home/alice/.config"), filepath.Join(root, "home/cfglink/.config")); err != nil {
		if err := os.MkdirAll(filepath.Join(root, "home/cfglink"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(root, "home/alice/.config"), filepath.Join(root, "home/cfglink/.config")); err != nil {
			t.Fatal(err)
		}
	}
	names = append(names, "cfglink")
	for _, n := range names {
		postureWriteFile(t, root, "var/lib/AccountsService/users/"+n, "[User]\nSession=gnome\n")
	}
	before := postureSnapshot(t, filepath.Join(root, "home"))
	h := postureHost(t, root)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	inv := &policy.Inventory{}
	p := scanPosture(ctx, h, nil, postureUsers(append([]string{"alice"}, names...)...), debFacts{}, inv)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("scan took %v", d)
	}
	for _, l := range p.ScreenLock {
		if l.User == "alice" {
			if l.Enabled != policy.Yes {
				t.Errorf("alice affected by others' files: %+v", l)
			}
			continue
		}
		if l.Enabled != policy.Unknown || l.Reason == "" {
			t.Errorf("%s: Enabled=%v Reason=%q; want unknown with a reason", l.User, l.Enabled, l.Reason)
		}
		if strings.Contains(l.Reason, secret) || strings.Contains(l.Source, secret) || strings.Contains(l.Reason, "GVariant") {
			t.Errorf("%s: file content leaked into %q", l.User, l.Reason)
		}
		t.Logf("%s: %s", l.User, l.Reason)
	}
	for _, pr := range inv.Problems {
		if strings.Contains(pr.Message, secret) {
			t.Errorf("problem leaks content: %q", pr.Message)
		}
	}
	if after := postureSnapshot(t, filepath.Join(root, "home")); !postureEqualSnap(before, after) {
		t.Error("the scan changed files under home/")
	}
}

func postureSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		out[p] = info.Mode().String() + info.ModTime().String() + strings.Repeat("x", int(info.Size()%7))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func postureEqualSnap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
