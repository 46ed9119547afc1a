package linux

// Commands returns the command table for Linux: each command name a probe
// may run, with the absolute paths tried in order. The agent builds
// platform.ExecRunner{Paths: linux.Commands()}, so a name missing here is
// refused and nothing is ever looked up in $PATH. Only root-owned system
// directories are listed (usrmerge systems have /bin → /usr/bin, older ones
// keep some tools in /bin only).
//
// It returns a fresh map on every call so that callers may extend it.
func Commands() map[string][]string {
	return map[string][]string{
		// rpm queries the RPM database when one exists under the root
		// (rpm.go); Debian ships it in /usr/bin, Fedora/openSUSE too.
		"rpm": {"/usr/bin/rpm", "/bin/rpm"},
		// zfs reads a ZFS root's encryption property (encryption.go);
		// Debian's and Ubuntu's zfsutils-linux install it in /sbin, which
		// is /usr/sbin on usrmerge systems.
		"zfs": {"/usr/sbin/zfs", "/sbin/zfs"},
	}
}
