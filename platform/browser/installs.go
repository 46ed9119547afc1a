package browser

// Installs returns where the browsers keep their data on goos, relative to
// a user's home. The folders are the browsers' documented or long-standing
// user-data locations:
//   - Chromium family: chromium docs/user_data_dir.md (Linux
//     ~/.config/google-chrome, chromium; macOS ~/Library/Application
//     Support/Google/Chrome, Chromium; Windows %LOCALAPPDATA%\Google\Chrome\User
//     Data, Chromium\User Data); Edge, Brave and Vivaldi use the same layout
//     under their vendor's folder (Microsoft Learn, "Microsoft Edge user
//     data directory"; brave/brave-browser wiki "User Data Directory").
//     Opera keeps the profile directly in its folder ("Opera Stable").
//   - Snap and Flatpak: the snap's $SNAP_USER_COMMON (snapcraft.io docs,
//     "Environment variables") and Flatpak's per-app ~/.var/app/<id>
//     (docs.flatpak.org, "Sandbox Permissions"), where the packaged
//     browser keeps its XDG config.
//   - Firefox: the folder with profiles.ini (support.mozilla.org,
//     "Profiles: where Firefox stores your bookmarks, passwords and other
//     user data"); Firefox 147+ creates new Linux profiles under
//     $XDG_CONFIG_HOME/mozilla/firefox.
func Installs(goos string) []Install {
	switch goos {
	case "linux":
		return linuxInstalls
	case "darwin":
		return darwinInstalls
	case "windows":
		return windowsInstalls
	}
	return nil
}

var linuxInstalls = []Install{
	{Name: "Chrome", Engine: Chromium, Dir: ".config/google-chrome"},
	{Name: "Chrome Beta", Engine: Chromium, Dir: ".config/google-chrome-beta"},
	{Name: "Chrome Dev", Engine: Chromium, Dir: ".config/google-chrome-unstable"},
	{Name: "Chrome (Flatpak)", Engine: Chromium, Dir: ".var/app/com.google.Chrome/config/google-chrome"},
	{Name: "Chromium", Engine: Chromium, Dir: ".config/chromium"},
	{Name: "Chromium (snap)", Engine: Chromium, Dir: "snap/chromium/common/chromium"},
	{Name: "Chromium (Flatpak)", Engine: Chromium, Dir: ".var/app/org.chromium.Chromium/config/chromium"},
	{Name: "Edge", Engine: Chromium, Dir: ".config/microsoft-edge"},
	{Name: "Edge Beta", Engine: Chromium, Dir: ".config/microsoft-edge-beta"},
	{Name: "Edge Dev", Engine: Chromium, Dir: ".config/microsoft-edge-dev"},
	{Name: "Edge (Flatpak)", Engine: Chromium, Dir: ".var/app/com.microsoft.Edge/config/microsoft-edge"},
	{Name: "Brave", Engine: Chromium, Dir: ".config/BraveSoftware/Brave-Browser"},
	{Name: "Brave (Flatpak)", Engine: Chromium, Dir: ".var/app/com.brave.Browser/config/BraveSoftware/Brave-Browser"},
	{Name: "Vivaldi", Engine: Chromium, Dir: ".config/vivaldi"},
	{Name: "Opera", Engine: Chromium, Dir: ".config/opera", RootProfile: true},
	{Name: "Firefox", Engine: Firefox, Dir: ".mozilla/firefox"},
	{Name: "Firefox", Engine: Firefox, Dir: ".config/mozilla/firefox"},
	{Name: "Firefox (snap)", Engine: Firefox, Dir: "snap/firefox/common/.mozilla/firefox"},
	{Name: "Firefox (Flatpak)", Engine: Firefox, Dir: ".var/app/org.mozilla.firefox/.mozilla/firefox"},
}

var darwinInstalls = []Install{
	{Name: "Chrome", Engine: Chromium, Dir: "Library/Application Support/Google/Chrome"},
	{Name: "Chrome Beta", Engine: Chromium, Dir: "Library/Application Support/Google/Chrome Beta"},
	{Name: "Chromium", Engine: Chromium, Dir: "Library/Application Support/Chromium"},
	{Name: "Edge", Engine: Chromium, Dir: "Library/Application Support/Microsoft Edge"},
	{Name: "Brave", Engine: Chromium, Dir: "Library/Application Support/BraveSoftware/Brave-Browser"},
	{Name: "Vivaldi", Engine: Chromium, Dir: "Library/Application Support/Vivaldi"},
	{Name: "Opera", Engine: Chromium, Dir: "Library/Application Support/com.operasoftware.Opera", RootProfile: true},
	{Name: "Firefox", Engine: Firefox, Dir: "Library/Application Support/Firefox"},
}

var windowsInstalls = []Install{
	{Name: "Chrome", Engine: Chromium, Dir: "AppData/Local/Google/Chrome/User Data"},
	{Name: "Chrome Beta", Engine: Chromium, Dir: "AppData/Local/Google/Chrome Beta/User Data"},
	{Name: "Chromium", Engine: Chromium, Dir: "AppData/Local/Chromium/User Data"},
	{Name: "Edge", Engine: Chromium, Dir: "AppData/Local/Microsoft/Edge/User Data"},
	{Name: "Brave", Engine: Chromium, Dir: "AppData/Local/BraveSoftware/Brave-Browser/User Data"},
	{Name: "Vivaldi", Engine: Chromium, Dir: "AppData/Local/Vivaldi/User Data"},
	{Name: "Opera", Engine: Chromium, Dir: "AppData/Roaming/Opera Software/Opera Stable", RootProfile: true},
	{Name: "Firefox", Engine: Firefox, Dir: "AppData/Roaming/Mozilla/Firefox"},
}
