package linux

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/platformtest"
	"github.com/msgguard/msgguard/policy"
)

func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (Debian package %q); skipping the real-tool test", tool, debianPackageOf(tool))
		}
	}
}

func debianPackageOf(tool string) string {
	switch tool {
	case "dpkg", "dpkg-deb":
		return "dpkg"
	case "rpm", "rpmbuild":
		return "rpm"
	}
	return tool
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// TestRealDebInstall builds .deb packages named like the real clients with
// dpkg-deb and installs them with dpkg into a scratch root (--root and
// --admindir and --log all inside t.TempDir: the real system is never
// touched), then scans that root.
func TestRealDebInstall(t *testing.T) {
	requireTools(t, "dpkg", "dpkg-deb")
	tmp := t.TempDir()
	root := filepath.Join(tmp, "root")
	admin := filepath.Join(root, dpkgAdminDir)
	for _, d := range []string{"info", "updates", "triggers"} {
		mkdir(t, filepath.Join(admin, d))
	}
	writeFile(t, filepath.Join(admin, "status"), "")
	writeFile(t, filepath.Join(root, "etc", "passwd"), "alice:x:1000:1000::/home/alice:/bin/bash\n")

	payload := map[string]string{
		"signal-desktop":   "debian-desktop/usr/share/applications/signal-desktop.desktop",
		"telegram-desktop": "debian-desktop/usr/share/applications/org.telegram.desktop.desktop",
	}
	var debs []string
	for name, desktop := range payload {
		pkg := filepath.Join(tmp, "build", name)
		control, err := os.ReadFile(filepath.Join("testdata", "debian-control", name+".control"))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(pkg, "DEBIAN", "control"), string(control))
		writeFile(t, filepath.Join(pkg, "usr", "share", "applications", filepath.Base(desktop)), readFixture(t, desktop))
		deb := filepath.Join(tmp, name+".deb")
		run(t, "dpkg-deb", "--root-owner-group", "--build", pkg, deb)
		debs = append(debs, deb)
	}
	args := append([]string{
		"--root=" + root, "--admindir=" + admin, "--log=" + filepath.Join(tmp, "dpkg.log"),
		"--force-not-root", "--force-depends", "--force-bad-path", "-i",
	}, debs...)
	run(t, "dpkg", args...)

	inv := scanWithin(t, root, 30*time.Second)
	for _, want := range []struct{ id, source, version, loc string }{
		{"signal", "deb", "7.86.0", "signal-desktop"},
		{"telegram", "deb", "4.6.5+ds-2+deb12u1", "telegram-desktop"},
		{"signal", "desktop", "", "/usr/share/applications/signal-desktop.desktop"},
		{"telegram", "desktop", "", "/usr/share/applications/org.telegram.desktop.desktop"},
	} {
		found := false
		for _, m := range inv.Messengers {
			found = found || (m.ID == want.id && m.Source == want.source && m.Version == want.version && m.Location == want.loc)
		}
		if !found {
			t.Errorf("missing %+v in %+v", want, inv.Messengers)
		}
	}
	for _, p := range inv.Problems {
		if p.Probe == "dpkg" || p.Probe == "desktop" {
			t.Errorf("Problem: %+v", p)
		}
	}
}

// rpmRoot makes a root that has an RPM database file.
func rpmRoot(t *testing.T) string {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "usr", "lib", "sysimage", "rpm", "rpmdb.sqlite"), "")
	return root
}

func rpmCmdline(root, dbpath string) string {
	return "rpm --root " + root + " --dbpath " + dbpath + " -qa --qf " + rpmQueryFormat
}

func TestRPMRecorded(t *testing.T) {
	qa, err := os.ReadFile(filepath.Join("testdata", "rpm", "rpm-qa.txt"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		setup       func(root string, r *platformtest.FakeRunner)
		noRunner    bool
		wantIDs     []string
		wantProblem string
	}{
		{"recorded output", func(root string, r *platformtest.FakeRunner) {
			r.Set(rpmCmdline(root, "/usr/lib/sysimage/rpm"), string(qa))
		}, false, []string{"skype 8.106.0.210-1 skypeforlinux", "slack 4.43.51-0.1.el8 slack", "teams 1.5.00.23861-1 teams"}, ""},
		{"command fails", func(root string, r *platformtest.FakeRunner) {
			r.SetErr(rpmCmdline(root, "/usr/lib/sysimage/rpm"), "", &platform.CommandError{Name: "rpm", Err: errors.New("exit status 1"), Stderr: []byte("error: rpmdb open failed")})
		}, false, nil, "rpm query failed, RPM packages are not inventoried: rpm: exit status 1"},
		{"malformed output", func(root string, r *platformtest.FakeRunner) {
			r.Set(rpmCmdline(root, "/usr/lib/sysimage/rpm"), "slack\t4.43.51-0.1.el8\nnot a line\n")
		}, false, []string{"slack 4.43.51-0.1.el8 slack"}, "rpm output is malformed"},
		{"no runner", func(string, *platformtest.FakeRunner) {}, true, nil, "no command runner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := rpmRoot(t)
			r := platformtest.NewFakeRunner()
			tt.setup(root, r)
			h := &platform.Host{GOOS: "linux", Root: platform.NewDirFS(root), RootDir: root, Run: r}
			if tt.noRunner {
				h.Run = nil
			}
			inv, err := Scan(context.Background(), h, rpmCatalog())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range inv.Messengers {
				if m.Source == "rpm" {
					got = append(got, m.ID+" "+m.Version+" "+m.Location)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.wantIDs, ",") {
				t.Errorf("rpm items = %v; want %v", got, tt.wantIDs)
			}
			p, ok := problemFor(inv, "/usr/lib/sysimage/rpm")
			if tt.wantProblem == "" && ok {
				t.Errorf("unexpected Problem %+v", p)
			}
			if tt.wantProblem != "" && (!ok || !strings.Contains(p.Message, tt.wantProblem)) {
				t.Errorf("Problem = %+v, %v; want %q", p, ok, tt.wantProblem)
			}
			if strings.Contains(p.Message, "rpmdb open failed") {
				t.Errorf("Problem carries command output: %q", p.Message)
			}
		})
	}
}

func rpmCatalog() *policy.Catalog {
	cat := testCatalog()
	for i := range cat.Messengers {
		if cat.Messengers[i].ID == "teams" {
			cat.Messengers[i].Linux.RPM = append(cat.Messengers[i].Linux.RPM, "teams")
		}
	}
	return cat
}

func TestRPMNotRunWithoutDatabase(t *testing.T) {
	r := platformtest.NewFakeRunner()
	root := t.TempDir()
	h := &platform.Host{GOOS: "linux", Root: platform.NewDirFS(root), RootDir: root, Run: r}
	if _, err := Scan(context.Background(), h, testCatalog()); err != nil {
		t.Fatal(err)
	}
	if calls := r.CallLog(); len(calls) != 0 {
		t.Errorf("commands run without an RPM database: %v", calls)
	}
}

// TestRealRPM installs empty packages named like real vendor RPMs into a
// scratch RPM database with the real rpm (--root inside t.TempDir) and
// scans it through the production ExecRunner and command table.
func TestRealRPM(t *testing.T) {
	requireTools(t, "rpm", "rpmbuild")
	runner := &platform.ExecRunner{Paths: Commands()}
	if _, err := runner.Resolve("rpm"); err != nil {
		t.Skipf("rpm not usable through the command table: %v", err)
	}
	tmp := t.TempDir()
	root := filepath.Join(tmp, "root")
	top := filepath.Join(tmp, "top")
	spec := "Name: slack\nVersion: 4.43.51\nRelease: 0.1.el8\nSummary: fixture\nLicense: Proprietary\nBuildArch: noarch\n\n%description\nfixture\n\n%files\n"
	writeFile(t, filepath.Join(top, "SPECS", "slack.spec"), spec)
	run(t, "rpmbuild", "-bb", "--quiet", "--define", "_topdir "+top, filepath.Join(top, "SPECS", "slack.spec"))
	rpms, _ := filepath.Glob(filepath.Join(top, "RPMS", "noarch", "*.rpm"))
	if len(rpms) != 1 {
		t.Fatalf("rpmbuild produced %v", rpms)
	}
	run(t, "rpm", "--root", root, "--dbpath", "/usr/lib/sysimage/rpm", "-i", "--nodeps", "--justdb", rpms[0])

	h := &platform.Host{GOOS: "linux", Root: platform.NewDirFS(root), RootDir: root, Run: runner}
	inv, err := Scan(context.Background(), h, testCatalog())
	if err != nil {
		t.Fatal(err)
	}
	if !hasMessenger(inv, "slack", "rpm", "slack") {
		t.Errorf("slack RPM not found: %+v problems %+v", inv.Messengers, inv.Problems)
	}
}
