package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/msgguard/msgguard/install"
)

// TestAgentDoesNotLinkNfpm pins that the packaging library stays out of
// the agent binary: only this command may import it.
func TestAgentDoesNotLinkNfpm(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/msgguard/msgguard/agent").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/goreleaser/") {
			t.Errorf("the agent links %s; only install/package may import nfpm", p)
		}
	}
}

func TestRejectsBadFlags(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"-o", dir, "-version", "1.0-1"},   // "-" is rpm's release separator
		{"-o", dir, "-version", "v1.0"},    // dpkg versions start with a digit
		{"-o", dir, "-version", "1.0 rc1"}, // blanks
		{"-o", dir, "-arch", "386"},
		{"-version", "1.0"}, // no -o
	} {
		if err := run(context.Background(), args, &bytes.Buffer{}); err == nil {
			t.Errorf("run(%q) = nil; want an error", args)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused runs wrote %d files", len(entries))
	}
}

// TestPackages builds both packages around a stand-in binary and reads
// them back with the distributions' own tools.
func TestPackages(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(t.TempDir(), "agent")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho stand-in\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-o", dir, "-version", "1.2.3~rc1", "-binary", bin}, &out); err != nil {
		t.Fatal(err)
	}
	deb := filepath.Join(dir, "msgguard_1.2.3~rc1_amd64.deb")
	rpm := filepath.Join(dir, "msgguard-1.2.3~rc1-1.x86_64.rpm")
	if got := strings.Fields(out.String()); len(got) != 2 || got[0] != deb || got[1] != rpm {
		t.Fatalf("printed %q; want %s and %s", got, deb, rpm)
	}
	wantUnit, err := install.PackagedSystemdUnit()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(wantUnit, "\nExecStart=/usr/bin/agent run --config /etc/msgguard/agent.yaml\n") {
		t.Errorf("packaged unit runs the wrong binary:\n%s", wantUnit)
	}

	t.Run("deb", func(t *testing.T) {
		if _, err := exec.LookPath("dpkg-deb"); err != nil {
			t.Skip("dpkg-deb not installed")
		}
		ctl := t.TempDir()
		mustRun(t, "dpkg-deb", "--control", deb, ctl)
		conffiles, _ := os.ReadFile(filepath.Join(ctl, "conffiles"))
		if got := strings.Fields(string(conffiles)); strings.Join(got, " ") != "/etc/msgguard/agent.yaml /etc/msgguard/policy.yaml" {
			t.Errorf("conffiles = %q", got)
		}
		for _, s := range []string{"postinst", "prerm", "postrm"} {
			checkScript(t, filepath.Join(ctl, s))
		}
		root := t.TempDir()
		mustRun(t, "dpkg-deb", "--extract", deb, root)
		unit, _ := os.ReadFile(filepath.Join(root, install.PackagedUnit))
		if string(unit) != wantUnit {
			t.Errorf("shipped unit differs from install.PackagedSystemdUnit:\n%s", unit)
		}
		if b, _ := os.ReadFile(filepath.Join(root, "usr/bin/agent")); !bytes.Contains(b, []byte("stand-in")) {
			t.Error("/usr/bin/agent is not the given binary")
		}
		if st, err := os.Stat(filepath.Join(root, "usr/bin/agent")); err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("/usr/bin/agent mode: %v %v", st, err)
		}
		control := mustRun(t, "dpkg-deb", "--field", deb, "Version", "Architecture")
		if control != "Version: 1.2.3~rc1\nArchitecture: amd64\n" {
			t.Errorf("control fields:\n%s", control)
		}
	})
	t.Run("rpm", func(t *testing.T) {
		if _, err := exec.LookPath("rpm"); err != nil {
			t.Skip("rpm not installed (Debian package rpm)")
		}
		if got := mustRun(t, "rpm", "-qp", "--configfiles", rpm); got != "/etc/msgguard/agent.yaml\n/etc/msgguard/policy.yaml\n" {
			t.Errorf("config files:\n%s", got)
		}
		// %config(noreplace): flag bit 16 (RPMFILE_NOREPLACE) with 1 (CONFIG).
		flags := mustRun(t, "rpm", "-qp", "--qf", "[%{FILEFLAGS} %{FILENAMES}\n]", rpm)
		for _, f := range []string{"17 /etc/msgguard/agent.yaml", "17 /etc/msgguard/policy.yaml"} {
			if !strings.Contains(flags, f+"\n") {
				t.Errorf("file flags lack %q:\n%s", f, flags)
			}
		}
		scripts := mustRun(t, "rpm", "-qp", "--scripts", rpm)
		for _, want := range []string{"postinstall scriptlet", "preuninstall scriptlet", "postuninstall scriptlet",
			"msgguard_start\n", "msgguard_stop\n", "systemctl disable --now"} {
			if !strings.Contains(scripts, want) {
				t.Errorf("rpm scriptlets lack %q", want)
			}
		}
		if strings.Contains(scripts, "#COMMON#") {
			t.Error("common.sh was not spliced in")
		}
	})
}

func checkScript(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("#!/bin/sh\n")) || bytes.Contains(b, []byte("#COMMON#")) {
		t.Errorf("%s: not a complete sh script:\n%s", path, b)
	}
	if out, err := exec.Command("sh", "-n", path).CombinedOutput(); err != nil {
		t.Errorf("%s: sh -n: %v\n%s", path, err, out)
	}
	if st, _ := os.Stat(path); st == nil || st.Mode().Perm()&0o111 == 0 {
		t.Errorf("%s is not executable", path)
	}
}

func mustRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return string(out)
}
