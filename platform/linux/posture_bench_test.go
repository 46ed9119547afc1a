package linux

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/msgguard/msgguard/platform/platformtest"
	"github.com/msgguard/msgguard/policy"
)

// BenchmarkPosture scans a GNOME root with 50 users, each with a real
// compiled dconf user database and an AccountsService record (target:
// ≤ 10 ms per scan).
func BenchmarkPosture(b *testing.B) {
	src := filepath.Join(postureTestdata, "root-gnome")
	root := platformtest.CopyTree(b, src)
	db, err := os.ReadFile(filepath.Join(src, "home/alice/.config/dconf/user"))
	if err != nil {
		b.Fatal(err)
	}
	var users []policy.User
	for i := 0; i < 50; i++ {
		name := "user" + strconv.Itoa(i)
		postureWriteFile(b, root, "home/"+name+"/.config/dconf/user", string(db))
		postureWriteFile(b, root, "var/lib/AccountsService/users/"+name, "[User]\nSession=gnome\n")
		users = append(users, policy.User{Name: name, UID: strconv.Itoa(2000 + i), Home: "/home/" + name})
	}
	h := postureHost(b, root)
	cat := &policy.Catalog{Agents: []policy.AgentSignature{fleetAgent}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		p := scanPosture(ctx, h, cat, users, readDebFacts(h.Root, newCatalogIndex(cat), nil), &policy.Inventory{})
		if len(p.ScreenLock) != 50 || p.ScreenLock[49].Enabled != policy.Yes {
			b.Fatalf("unexpected result %+v", p.ScreenLock[49])
		}
	}
}
