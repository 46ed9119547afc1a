package policy

// Variant says whether a messenger app serves business use, private use, or
// both from one app.
type Variant string

// KindAggregator marks a catalog entry that wraps other messengers.
const KindAggregator = "aggregator"

const (
	VariantBusiness Variant = "business"
	VariantPrivate  Variant = "private"
	VariantDual     Variant = "dual"
)

// Catalog is the list of known messengers and device-management agents with
// their identifiers on every platform. The probes match what they find against
// it; the policy refers to its ids.
type Catalog struct {
	Messengers []CatalogEntry `yaml:"messengers" json:"messengers"`
	// Agents are management agents that give the company remote-wipe power
	// (Intune, Fleet, Workspace ONE, JumpCloud, Prey, ...).
	Agents []AgentSignature `yaml:"agents" json:"agents"`
}

// CatalogEntry describes one messenger.
type CatalogEntry struct {
	ID      string  `yaml:"id" json:"id"`
	Name    string  `yaml:"name" json:"name"`
	Vendor  string  `yaml:"vendor" json:"vendor"`
	Variant Variant `yaml:"variant" json:"variant"`
	// Kind is "" for a messenger and KindAggregator for an app that wraps
	// other messengers' web clients in one window (Ferdium, Franz, Rambox):
	// the policy's aggregators rule decides those it does not name.
	Kind string `yaml:"kind,omitempty" json:"kind,omitempty"`
	// Family groups the private and business apps of one service (whatsapp
	// and whatsapp-business share family "whatsapp"); separation rules
	// compare variants within a family. Empty means the id itself.
	Family  string     `yaml:"family,omitempty" json:"family,omitempty"`
	Linux   LinuxIDs   `yaml:"linux,omitempty" json:"linux,omitempty"`
	Darwin  DarwinIDs  `yaml:"darwin,omitempty" json:"darwin,omitempty"`
	Windows WindowsIDs `yaml:"windows,omitempty" json:"windows,omitempty"`
	Android AndroidIDs `yaml:"android,omitempty" json:"android,omitempty"`
	IOS     IOSIDs     `yaml:"ios,omitempty" json:"ios,omitempty"`
	// Web identifies the messenger's web client inside browsers on every
	// desktop platform.
	Web     WebIDs      `yaml:"web,omitempty" json:"web,omitempty"`
	Sources []SourceRef `yaml:"sources,omitempty" json:"sources,omitempty"`
}

// FamilyID returns Family, or ID where no family is set.
func (e *CatalogEntry) FamilyID() string {
	if e.Family != "" {
		return e.Family
	}
	return e.ID
}

// LinuxIDs are the identifiers of a messenger on Linux.
type LinuxIDs struct {
	Deb     []string `yaml:"deb,omitempty" json:"deb,omitempty"`
	RPM     []string `yaml:"rpm,omitempty" json:"rpm,omitempty"`
	Snap    []string `yaml:"snap,omitempty" json:"snap,omitempty"`
	Flatpak []string `yaml:"flatpak,omitempty" json:"flatpak,omitempty"`
	// Desktop are .desktop file names without the extension.
	Desktop []string `yaml:"desktop,omitempty" json:"desktop,omitempty"`
	// DesktopPatterns are case-sensitive path.Match patterns on .desktop
	// file names without the extension, for installers that add a hash to
	// the name (Telegram's tarball writes org.telegram.desktop._<md5>).
	DesktopPatterns []string `yaml:"desktop_patterns,omitempty" json:"desktop_patterns,omitempty"`
	// DesktopURLs are URL prefixes found in Exec= lines of browser-installed
	// web apps (e.g. "web.whatsapp.com").
	DesktopURLs []string `yaml:"desktop_urls,omitempty" json:"desktop_urls,omitempty"`
	// AppImage are case-insensitive path.Match patterns for file names.
	AppImage []string `yaml:"appimage,omitempty" json:"appimage,omitempty"`
	// DataDirs are paths relative to a user's home.
	DataDirs []string `yaml:"data_dirs,omitempty" json:"data_dirs,omitempty"`
	// ServiceDirs are directories relative to a user's home whose
	// subdirectory names are the ids of the services an aggregator has set
	// up (Ferdium's recipes/whatsapp); only those names are reported.
	ServiceDirs []string `yaml:"service_dirs,omitempty" json:"service_dirs,omitempty"`
	Processes   []string `yaml:"processes,omitempty" json:"processes,omitempty"`
}

// DarwinIDs are the identifiers of a messenger on macOS.
type DarwinIDs struct {
	BundleIDs []string `yaml:"bundle_ids,omitempty" json:"bundle_ids,omitempty"`
	TeamIDs   []string `yaml:"team_ids,omitempty" json:"team_ids,omitempty"`
	// DataDirs are paths relative to a user's home (~/Library/...).
	DataDirs []string `yaml:"data_dirs,omitempty" json:"data_dirs,omitempty"`
	// ServiceDirs are as in LinuxIDs, relative to the home.
	ServiceDirs []string `yaml:"service_dirs,omitempty" json:"service_dirs,omitempty"`
	Processes   []string `yaml:"processes,omitempty" json:"processes,omitempty"`
}

// WindowsIDs are the identifiers of a messenger on Windows.
type WindowsIDs struct {
	Uninstall []UninstallMatch `yaml:"uninstall,omitempty" json:"uninstall,omitempty"`
	// MSIX are package family names.
	MSIX []string `yaml:"msix,omitempty" json:"msix,omitempty"`
	// DataDirs are relative to the user profile, with forward slashes
	// (e.g. "AppData/Local/Programs/signal-desktop").
	DataDirs []string `yaml:"data_dirs,omitempty" json:"data_dirs,omitempty"`
	// ServiceDirs are as in LinuxIDs, relative to the user profile.
	ServiceDirs []string `yaml:"service_dirs,omitempty" json:"service_dirs,omitempty"`
	Processes   []string `yaml:"processes,omitempty" json:"processes,omitempty"`
}

// UninstallMatch matches an Uninstall registry key. DisplayName is a
// case-insensitive path.Match pattern; Publisher, when set, must match too.
type UninstallMatch struct {
	DisplayName string `yaml:"display_name" json:"display_name"`
	Publisher   string `yaml:"publisher,omitempty" json:"publisher,omitempty"`
}

// AndroidIDs are Android package names (case-sensitive).
type AndroidIDs struct {
	Packages []string `yaml:"packages,omitempty" json:"packages,omitempty"`
}

// IOSIDs are iOS bundle identifiers.
type IOSIDs struct {
	BundleIDs []string `yaml:"bundle_ids,omitempty" json:"bundle_ids,omitempty"`
	// BundlePrefixes match bundle ids that start with them, for apps built
	// per customer (Threema OnPrem: ch.threema.onprem.<customer>). A prefix
	// must end in "." so that it names a whole namespace.
	BundlePrefixes []string `yaml:"bundle_prefixes,omitempty" json:"bundle_prefixes,omitempty"`
}

// WebIDs identify a messenger's web client. Browsers keep per-site storage
// in a folder named after the site's origin, and name an installed web app
// after a hash of its URL; both are matched against these.
type WebIDs struct {
	// Origins are host names served over https (e.g. "web.whatsapp.com"),
	// lower case, without scheme, port or path.
	Origins []string `yaml:"origins,omitempty" json:"origins,omitempty"`
	// AppURLs are the unhashed ids of the messenger's installable web app:
	// its manifest id, or its start URL when the manifest names no id
	// (e.g. "https://web.whatsapp.com/"). Chromium derives the app id from
	// it (see platform/browser.AppID).
	AppURLs []string `yaml:"app_urls,omitempty" json:"app_urls,omitempty"`
	// AppIDs are Chromium web-app ids (32 letters a-p) known from a
	// public source, for apps whose unhashed id is not known.
	AppIDs []string `yaml:"app_ids,omitempty" json:"app_ids,omitempty"`
}

// SourceRef cites where an identifier was verified.
type SourceRef struct {
	What string `yaml:"what" json:"what"`
	Tag  string `yaml:"tag,omitempty" json:"tag,omitempty"` // V, T or U (docs/sources.md)
	Ref  string `yaml:"ref,omitempty" json:"ref,omitempty"`
}

// AgentSignature identifies a device-management agent that can wipe the
// device on the company's behalf.
type AgentSignature struct {
	ID       string `yaml:"id" json:"id"`
	Name     string `yaml:"name" json:"name"`
	Provider string `yaml:"provider,omitempty" json:"provider,omitempty"`
	// Packages are Debian/RPM package names.
	Packages []string `yaml:"packages,omitempty" json:"packages,omitempty"`
	// Units are systemd unit names.
	Units     []string `yaml:"units,omitempty" json:"units,omitempty"`
	Processes []string `yaml:"processes,omitempty" json:"processes,omitempty"`
	// Paths are files or directories whose presence shows the agent.
	Paths []string `yaml:"paths,omitempty" json:"paths,omitempty"`
	// UserUnits are systemd user units (started per login session, e.g.
	// Intune's intune-agent.timer); a probe finds them under
	// /usr/lib/systemd/user or /etc/systemd/user.
	UserUnits []string `yaml:"user_units,omitempty" json:"user_units,omitempty"`
	// WipeMethod says how the company wipes through this agent: "native"
	// (a built-in wipe or erase command), "script" (only by running an
	// admin-written script, e.g. Fleet with scripts enabled), "none" (the
	// agent manages the device but offers no wipe on this platform), or ""
	// when not known. Probes report it beside the provider.
	WipeMethod string      `yaml:"wipe_method,omitempty" json:"wipe_method,omitempty"`
	Sources    []SourceRef `yaml:"sources,omitempty" json:"sources,omitempty"`
}
