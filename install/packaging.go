package install

// The Linux package's layout. install/package builds the .deb and .rpm
// from these and from the same unit template `agent install` renders, so
// that a packaged agent and a hand-installed one run under the same unit.
const (
	// PackageName is the .deb/.rpm package name.
	PackageName = "msgguard"
	// PackagedExecutable is where the package puts the binary: in PATH for
	// every user, since `agent status` is meant for users too.
	PackagedExecutable = "/usr/bin/agent"
	// PackagedUnit is the vendor unit directory (systemd.unit(5) "Unit
	// File Load Path"); /etc/systemd/system stays the administrator's
	// (and `agent install`'s).
	PackagedUnit = "/usr/lib/systemd/system/" + ServiceName + ".service"
)

// PackagedSystemdUnit renders the unit the Linux package ships.
func PackagedSystemdUnit() (string, error) {
	p := PathsFor("linux", "")
	m := &Manager{Paths: p}
	return SystemdUnit(SystemdUnitParams{
		Executable: PackagedExecutable,
		Args:       m.ServiceArgs(),
		Paths:      p,
		Header:     PackageHeader,
	})
}
