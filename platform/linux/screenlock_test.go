package linux

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDesktopFamily(t *testing.T) {
	tests := []struct {
		in    string
		fam   string
		known bool
	}{
		{"GNOME", "gnome", true}, {"ubuntu:GNOME", "gnome", true}, {"ubuntu", "gnome", true},
		{"GNOME-Classic:GNOME", "gnome", true}, {"KDE", "kde", true}, {"plasmawayland", "kde", true},
		{"XFCE", "xfce", true}, {"X-Cinnamon", "cinnamon", true}, {"MATE", "mate", true},
		{"Budgie:GNOME", "budgie", false}, {"sway", "sway", false}, {"i3", "i3", false}, {"", "", false},
	}
	for _, tt := range tests {
		fam, known := desktopFamily(tt.in)
		if fam != tt.fam || known != tt.known {
			t.Errorf("desktopFamily(%q) = %q, %v; want %q, %v", tt.in, fam, known, tt.fam, tt.known)
		}
	}
}

func TestParseTimespan(t *testing.T) {
	tests := map[string]int{"30min": 1800, "600": 600, "1h 30min": 5400, "10m": 600, "2s": 2, "1.5h": 5400, "1w": 604800}
	for in, want := range tests {
		if got, err := parseTimespan(in); err != nil || got != want {
			t.Errorf("parseTimespan(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "abc", "10 parsecs", "-5"} {
		if _, err := parseTimespan(bad); err == nil {
			t.Errorf("parseTimespan(%q) succeeded", bad)
		}
	}
}

func TestReadLogindDropIns(t *testing.T) {
	root := t.TempDir()
	postureWriteFile(t, root, "etc/systemd/logind.conf", "[Login]\n#IdleAction=ignore\nIdleAction=suspend\n")
	postureWriteFile(t, root, "usr/lib/systemd/logind.conf.d/10-vendor.conf", "[Login]\nIdleAction=lock\nIdleActionSec=5min\n")
	// Same name in /etc masks the vendor file.
	postureWriteFile(t, root, "etc/systemd/logind.conf.d/10-vendor.conf", "[Login]\nIdleActionSec=20min\n")
	postureWriteFile(t, root, "run/systemd/logind.conf.d/50-run.conf", "[Login]\nIdleAction=lock\n")
	got := readLogind(postureHost(t, root))
	want := logindIdle{action: "lock", actionSource: "/run/systemd/logind.conf.d/50-run.conf", seconds: 1200, secondsSource: "/etc/systemd/logind.conf.d/10-vendor.conf"}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(logindIdle{})); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if !got.locks() {
		t.Error("locks() = false")
	}

	// A drop-in linked to /dev/null masks its namesakes (systemd.unit(5));
	// a link anywhere else is refused, not followed.
	if err := os.Remove(filepath.Join(root, "etc/systemd/logind.conf.d/10-vendor.conf")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/null", filepath.Join(root, "etc/systemd/logind.conf.d/10-vendor.conf")); err != nil {
		t.Fatal(err)
	}
	got = readLogind(postureHost(t, root))
	want = logindIdle{action: "lock", actionSource: "/run/systemd/logind.conf.d/50-run.conf", seconds: 1800, secondsSource: "default"}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(logindIdle{})); diff != "" {
		t.Errorf("masked vendor drop-in (-want +got):\n%s", diff)
	}
	if err := os.Symlink("/etc/shadow", filepath.Join(root, "etc/systemd/logind.conf.d/20-link.conf")); err != nil {
		t.Fatal(err)
	}
	if got := readLogind(postureHost(t, root)); got.err == nil || got.locks() {
		t.Errorf("drop-in linked to /etc/shadow: %+v; want an error and no lock", got)
	}
}

func TestKConfigImmutability(t *testing.T) {
	var c kconfigCascade
	c.add(parseKConfig([]byte("[Daemon]\nTimeout[$i]=3\nLockGrace=9\n"), "/sys"), "/sys")
	c.add(parseKConfig([]byte("[Daemon]\nTimeout=60\nLockGrace=1\nAutolock[de]=false\n"), "~/user"), "~/user")
	if e := c.entries["Timeout"]; e.value != "3" || !e.immutable {
		t.Errorf("Timeout = %+v; want immutable 3", e)
	}
	if e := c.entries["LockGrace"]; e.value != "1" {
		t.Errorf("LockGrace = %+v; want the user's 1", e)
	}
	if _, ok := c.entries["Autolock"]; ok {
		t.Error("localised key taken as the value")
	}
	// A group marked immutable freezes every key; a file-level [$i] too.
	var g kconfigCascade
	g.add(parseKConfig([]byte("[Daemon][$i]\nAutolock=true\n"), "/sys"), "/sys")
	g.add(parseKConfig([]byte("[Daemon]\nAutolock=false\nTimeout=0\n"), "~/user"), "~/user")
	v := kdeVerdictFrom(g)
	if v.enabled.String() != "true" || *v.idle != 300 {
		t.Errorf("immutable group: %+v", v)
	}
	var f kconfigCascade
	f.add(parseKConfig([]byte("[$i]\n[Daemon]\nTimeout=2\n"), "/sys"), "/sys")
	f.add(parseKConfig([]byte("[Daemon]\nAutolock=false\n"), "~/user"), "~/user")
	if v := kdeVerdictFrom(f); v.enabled.String() != "true" || *v.idle != 120 {
		t.Errorf("immutable file: %+v", v)
	}
	// No password asked → not a lock.
	var p kconfigCascade
	p.add(parseKConfig([]byte("[Daemon]\nRequirePassword=false\n"), "~/user"), "~/user")
	if v := kdeVerdictFrom(p); v.enabled.String() != "false" {
		t.Errorf("RequirePassword=false: %+v", v)
	}
}

func FuzzParseKConfig(f *testing.F) {
	f.Add([]byte("[$i]\n[Daemon][$i]\nAutolock[$i]=true\nTimeout=5.5\n[Greeter]\nx=y\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c kconfigCascade
		c.add(parseKConfig(b, "x"), "x")
		_ = kdeVerdictFrom(c)
	})
}

func FuzzParseXfconfChannel(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0"?><channel name="x"><property name="a" type="empty"><property name="b" type="bool" value="true"/></property></channel>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		props, err := parseXfconfChannel(b, "x")
		if err == nil && len(props) > xfceMaxProps {
			t.Fatal("too many properties")
		}
	})
}

func FuzzParseIniFile(f *testing.F) {
	f.Add([]byte("[User]\nSession=gnome\n#c\n"))
	f.Add([]byte("UID=1000\nUSER=alice\nTYPE=wayland\nDESKTOP=GNOME\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = parseIniFile(b)
		_, _ = parseLoginSession("1", b)
		_, _ = parseTimespan(string(b))
	})
}
