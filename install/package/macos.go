package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/msgguard/msgguard/install"
)

// macExecutable is where the macOS package puts the binary: a root-owned
// directory in every user's PATH that macOS's system integrity protection
// leaves to administrators.
const macExecutable = "/usr/local/sbin/agent"

// macPostinstall runs after pkgbuild's payload is in place. `agent install`
// creates the directories and the default configuration, finds the plist
// already there (the same text it renders) and bootstraps the job; on an
// upgrade it kickstarts the running one. pkgbuild(1): a postinstall script
// gets the package path, the install location and the target volume.
const macPostinstall = `#!/bin/sh
# msgguard postinstall (pkgbuild --scripts): install, enable and start the
# launchd job from the plist this package ships; configuration and data in
# /Library/Application Support/msgguard are kept across upgrades.
set -e
if [ "$3" != "/" ]; then
	echo "msgguard: installed on $3, not the running system; run 'sudo ` + macExecutable + ` install' after booting it"
	exit 0
fi
exec ` + macExecutable + ` install
`

// macPlist is the LaunchDaemon the package ships, rendered by the same
// code `agent install` runs.
func macPlist() (string, error) {
	p := install.PathsFor("darwin", "")
	m := &install.Manager{Paths: p}
	return install.LaunchdPlist(install.LaunchdPlistParams{Label: install.LaunchdLabel, Executable: macExecutable, Args: m.ServiceArgs(), Paths: p})
}

// writeMacOSRoot lays out a pkgbuild payload and scripts directory under
// dir/macos-ARCH. pkgbuild exists only on macOS, so the .pkg itself is
// built there (docs/deploy.md); this is everything it needs.
func writeMacOSRoot(ctx context.Context, root, dir, version, arch string) (string, error) {
	base := filepath.Join(dir, "macos-"+arch)
	if err := os.RemoveAll(base); err != nil {
		return "", err
	}
	payload := filepath.Join(base, "root")
	exe := filepath.Join(payload, macExecutable)
	plistPath := filepath.Join(payload, install.PathsFor("darwin", "").Unit)
	scripts := filepath.Join(base, "scripts")
	for _, d := range []string{filepath.Dir(exe), filepath.Dir(plistPath), scripts} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", err
		}
	}
	if err := buildAgentFor(ctx, root, exe, version, "darwin", arch); err != nil {
		return "", err
	}
	plist, err := macPlist()
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(plistPath, []byte(plist), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(scripts, "postinstall"), []byte(macPostinstall), 0o755); err != nil {
		return "", err
	}
	cmd := fmt.Sprintf("pkgbuild --root root --scripts scripts --identifier %s --version %s --install-location / --ownership recommended msgguard-%s-%s.pkg",
		install.LaunchdLabel, version, version, arch)
	if err := os.WriteFile(filepath.Join(base, "pkgbuild.sh"), []byte("#!/bin/sh\n# Run on macOS (pkgbuild is part of Xcode's command line tools).\nset -e\ncd \"$(dirname \"$0\")\"\n"+cmd+"\n"), 0o755); err != nil {
		return "", err
	}
	return base, nil
}
