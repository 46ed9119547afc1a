package linux

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/msgguard/msgguard/platform/platformtest"

	"github.com/google/go-cmp/cmp"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

const postureTestdata = "testdata/posture"

func postureHost(t testing.TB, root string) *platform.Host {
	t.Helper()
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	return &platform.Host{GOOS: "linux", Root: platform.NewDirFS(abs), RootDir: abs}
}

func postureUsers(names ...string) []policy.User {
	var out []policy.User
	for i, n := range names {
		out = append(out, policy.User{Name: n, UID: strconv.Itoa(1000 + i), Home: "/home/" + n})
	}
	return out
}

// lockSummary is the part of a ScreenLock compared exactly; sources and
// reasons are checked by substring.
type lockSummary struct {
	Desktop       string
	Applicable    policy.Tri
	Enabled       policy.Tri
	Idle, Grace   int
	LockOnSuspend policy.Tri
}

func summarize(l policy.ScreenLock) lockSummary {
	s := lockSummary{Desktop: l.Desktop, Applicable: l.Applicable, Enabled: l.Enabled, Idle: -1, Grace: -1, LockOnSuspend: l.LockOnSuspend}
	if l.IdleSeconds != nil {
		s.Idle = *l.IdleSeconds
	}
	if l.GraceSeconds != nil {
		s.Grace = *l.GraceSeconds
	}
	return s
}

type lockWant struct {
	sum    lockSummary
	source []string // substrings of Source
	policy string   // substring of Policy
	reason string   // substring of Reason
}

func TestScreenLockScenarios(t *testing.T) {
	yes, no, unk := policy.Yes, policy.No, policy.Unknown
	tests := []struct {
		root  string
		users []string
		want  map[string]lockWant
	}{
		{"root-gnome", []string{"alice", "bob", "carol", "dave", "erin", "gina", "henry", "ivan"}, map[string]lockWant{
			// live session; user raised idle and grace, system lock holds lock-enabled
			"alice": {lockSummary{"gnome", yes, yes, 600, 30, yes},
				[]string{"live session 2", "lock-enabled=true (/etc/dconf/db/local (locked))", "idle-delay=600 (~/.config/dconf/user)", "lock-delay=30 (~/.config/dconf/user)"},
				"locked in /etc/dconf/db/local: lock-enabled=true", ""},
			// the user turned locking off, the locked system value wins
			"bob": {lockSummary{"gnome", yes, yes, 300, 0, yes},
				[]string{"/var/lib/AccountsService/users/bob", "lock-enabled=true (/etc/dconf/db/local (locked))", "idle-delay=300 (/etc/dconf/db/local)", "lock-delay=0 (schema default)"}, "", ""},
			"carol": {lockSummary{"gnome", yes, yes, 300, 0, yes}, []string{"idle-delay=300 (/etc/dconf/db/local)"}, "", ""},
			// idle-delay 0: the session never goes idle, so it never locks
			"dave": {lockSummary{"gnome", yes, no, 0, 0, yes}, []string{"idle-delay=0 (~/.config/dconf/user)"}, "", ""},
			// an int32 for a uint32 key is ignored by GSettings
			"erin": {lockSummary{"gnome", yes, yes, 300, 0, yes}, []string{"idle-delay=300 (schema default (value in ~/.config/dconf/user has type i, not u, and is ignored))"}, "", ""},
			"gina": {lockSummary{"cinnamon", yes, yes, 600, 0, no}, []string{"idle-delay=600 (~/.config/dconf/user)", "lock-on-suspend=false (schema default)"}, "", ""},
			// MATE counts minutes
			"henry": {lockSummary{"mate", yes, yes, 600, 60, yes}, []string{"idle-delay=10 (~/.config/dconf/user)", "lock-delay=1 (~/.config/dconf/user)", "minutes"}, "", ""},
			// no record: all installed desktops (GNOME, MATE) lock by default
			"ivan": {lockSummary{"gnome", yes, yes, 300, 0, yes}, []string{"weakest of installed desktops gnome, mate"}, "", ""},
		}},
		{"root-kde", []string{"kate", "ken", "lars"}, map[string]lockWant{
			"kate": {lockSummary{"kde", yes, yes, 300, 10, yes}, []string{"Timeout=5 min (default)", "LockGrace=10 s (/etc/xdg/kscreenlockerrc)"}, "immutable (KDE Kiosk [$i]): Autolock=true", ""},
			"ken":  {lockSummary{"kde", yes, yes, 900, 0, yes}, []string{"live session 3", "Timeout=15 min (~/.config/kscreenlockerrc)", "LockGrace=0 s (~/.config/kscreenlockerrc)"}, "", ""},
			// Autolock=false in the user file loses to the immutable system key
			"lars": {lockSummary{"kde", yes, yes, 300, 10, no}, []string{"Autolock=true (/etc/xdg/kscreenlockerrc)", "LockOnResume=false (~/.config/kscreenlockerrc)"}, "", ""},
		}},
		{"root-xfce", []string{"xavier", "xena", "sam", "yann"}, map[string]lockWant{
			"xavier": {lockSummary{"xfce", yes, yes, 600, 0, yes}, []string{"/saver/idle-activation/delay=10 min (/etc/xdg/xfce4/xfconf/xfce-perchannel-xml/xfce4-screensaver.xml)"}, "logind IdleAction=lock after 900 s", ""},
			"xena": {lockSummary{"xfce", yes, no, 600, 120, no},
				[]string{"/lock/enabled=false (~/.config/xfce4/xfconf/xfce-perchannel-xml/xfce4-screensaver.xml)", "lock-screen-suspend-hibernate=false (~/.config/xfce4/xfconf/xfce-perchannel-xml/xfce4-power-manager.xml)"}, "", ""},
			"sam":  {lockSummary{"sway", yes, unk, -1, -1, unk}, nil, "", "sway: its screen locker is configured in the user's own scripts"},
			"yann": {lockSummary{"sway", yes, unk, -1, -1, unk}, []string{"weakest of installed desktops sway, xfce"}, "", "logind IdleAction=lock after 900 s"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.root, func(t *testing.T) {
			h := postureHost(t, filepath.Join(postureTestdata, tt.root))
			inv := &policy.Inventory{}
			p := scanPosture(context.Background(), h, nil, postureUsers(tt.users...), debFacts{}, inv)
			if !p.Inspected {
				t.Fatal("Inspected = false")
			}
			if len(p.ScreenLock) != len(tt.users) {
				t.Fatalf("got %d screen-lock entries; want %d", len(p.ScreenLock), len(tt.users))
			}
			for _, l := range p.ScreenLock {
				w, ok := tt.want[l.User]
				if !ok {
					t.Fatalf("unexpected user %q", l.User)
				}
				if diff := cmp.Diff(w.sum, summarize(l)); diff != "" {
					t.Errorf("%s: screen lock mismatch (-want +got):\n%s\nsource: %s\nreason: %s", l.User, diff, l.Source, l.Reason)
				}
				for _, s := range w.source {
					if !strings.Contains(l.Source, s) {
						t.Errorf("%s: Source = %q; want it to contain %q", l.User, l.Source, s)
					}
				}
				if !strings.Contains(l.Policy, w.policy) {
					t.Errorf("%s: Policy = %q; want it to contain %q", l.User, l.Policy, w.policy)
				}
				if !strings.Contains(l.Reason, w.reason) || (w.sum.Enabled == policy.Unknown) != (l.Reason != "") {
					t.Errorf("%s: Reason = %q; want %q (and set exactly when unknown)", l.User, l.Reason, w.reason)
				}
			}
		})
	}
}

func TestNoGraphicalDesktopIsNotApplicable(t *testing.T) {
	root := t.TempDir()
	h := postureHost(t, root)
	p := scanPosture(context.Background(), h, nil, postureUsers("svc"), debFacts{}, &policy.Inventory{})
	got := p.ScreenLock[0]
	if got.Applicable != policy.No || got.Enabled != policy.Unknown || got.Reason == "" {
		t.Errorf("server user: %+v; want Applicable=No with a reason", got)
	}
}

func TestLogindRescuesGNOMEWithLockOff(t *testing.T) {
	root := platformtest.CopyTree(t, filepath.Join(postureTestdata, "root-gnome"))
	// A desktop lock turned off but the session still goes idle: logind's
	// IdleAction=lock locks it.
	postureWriteFile(t, root, "etc/dconf/db/local.d/locks/screenlock", "")
	compileOrCopy(t, root)
	postureWriteFile(t, root, "etc/systemd/logind.conf", "[Login]\nIdleAction=lock\nIdleActionSec=10min\n")
	h := postureHost(t, root)
	p := scanPosture(context.Background(), h, nil, postureUsers("bob"), debFacts{}, &policy.Inventory{})
	got := p.ScreenLock[0]
	if got.Enabled != policy.Yes || got.IdleSeconds == nil || *got.IdleSeconds != 600 || !strings.Contains(got.Source, "logind IdleAction=lock after 600 s (/etc/systemd/logind.conf)") {
		t.Errorf("bob with logind lock: %+v (source %q)", summarize(got), got.Source)
	}
}

// compileOrCopy replaces the fixture's compiled local db with one built
// without locks, when dconf is available; otherwise it skips.
func compileOrCopy(t *testing.T, root string) {
	t.Helper()
	dconf := postureLookDconf(t)
	postureRun(t, dconf, "compile", filepath.Join(root, "etc/dconf/db/local"), filepath.Join(root, "etc/dconf/db/local.d"))
}

func postureWriteFile(t testing.TB, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLiveProcesses: on a live host the process table, read once, decides
// both a user's desktop (a running gnome-shell) and an agent's activity (a
// running orbit whose service is not enabled).
func TestLiveProcesses(t *testing.T) {
	root := platformtest.CopyTree(t, filepath.Join(postureTestdata, "root-gnome"))
	if err := os.Remove(filepath.Join(root, "etc/systemd/system/multi-user.target.wants/orbit.service")); err != nil {
		t.Fatal(err)
	}
	postureWriteFile(t, root, "proc/4242/comm", "gnome-shell\n")
	postureWriteFile(t, root, "proc/4242/status", "Name:\tgnome-shell\nUid:\t4000\t4000\t4000\t4000\n")
	postureWriteFile(t, root, "proc/77/comm", "orbit\n")
	postureWriteFile(t, root, "proc/77/status", "Name:\torbit\nUid:\t0\t0\t0\t0\n")
	h := postureHost(t, root)
	h.Live = true
	cat := &policy.Catalog{Agents: []policy.AgentSignature{fleetAgent}}
	users := []policy.User{{Name: "zoe", UID: "4000", Home: "/home/zoe"}}
	p := scanPosture(context.Background(), h, cat, users, readDebFacts(h.Root, newCatalogIndex(cat), nil), &policy.Inventory{})
	if l := p.ScreenLock[0]; l.Desktop != desktopGNOME || !strings.Contains(l.Source, "desktop from running desktop shell") {
		t.Errorf("zoe's screen lock: desktop %q, source %q; want GNOME from the running shell", l.Desktop, l.Source)
	}
	if w := p.RemoteWipe; w.Capable != policy.Yes || !strings.Contains(w.Source, "process orbit running") {
		t.Errorf("remote wipe = %+v; want capable through the running orbit process", w)
	}
}

// TestUnreadableSessionRecordsAreNotNotApplicable: "no graphical desktop"
// (not applicable) needs the session records; when one could not be read
// the answer is unknown, with the reason.
func TestUnreadableSessionRecordsAreNotNotApplicable(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(root string) *platform.Host
		reason string
	}{
		{"session directory not listable", func(root string) *platform.Host {
			postureWriteFile(t, root, "usr/share/xsessions/gnome.desktop", "[Desktop Entry]\nName=GNOME\n")
			h := postureHost(t, root)
			h.Root = deniedFS{DirFS: h.Root.(*platform.DirFS), dir: "usr/share/xsessions"}
			return h
		}, "/usr/share/xsessions could not be read"},
		{"AccountsService record not a file", func(root string) *platform.Host {
			if err := os.MkdirAll(filepath.Join(root, accountsServiceDir, "svc"), 0o755); err != nil {
				t.Fatal(err)
			}
			return postureHost(t, root)
		}, "/" + accountsServiceDir + "/svc could not be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.setup(t.TempDir())
			p := scanPosture(context.Background(), h, nil, postureUsers("svc"), debFacts{}, &policy.Inventory{})
			got := p.ScreenLock[0]
			if got.Applicable != policy.Unknown || got.Enabled != policy.Unknown || !strings.Contains(got.Reason, tt.reason) {
				t.Errorf("screen lock = %+v; want applicable and enabled unknown, reason containing %q", got, tt.reason)
			}
		})
	}
}

// TestUnreadableLogindIsAProblem: logind settings that cannot be read are
// not silently taken for "logind does not lock".
func TestUnreadableLogindIsAProblem(t *testing.T) {
	root := t.TempDir()
	postureWriteFile(t, root, "etc/systemd/logind.conf", "[Login]\nIdleAction=lock\nIdleActionSec=soon\n")
	inv := &policy.Inventory{}
	scanPosture(context.Background(), postureHost(t, root), nil, postureUsers("svc"), debFacts{}, inv)
	found := false
	for _, p := range inv.Problems {
		found = found || (p.Probe == "screen_lock" && strings.Contains(p.Message, "logind idle settings not read") && strings.Contains(p.Message, "IdleActionSec"))
	}
	if !found {
		t.Errorf("problems = %+v; want the unreadable logind settings", inv.Problems)
	}
}
