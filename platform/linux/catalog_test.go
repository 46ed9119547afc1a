package linux

import "github.com/msgguard/msgguard/policy"

// testCatalog is a small catalog built in Go with the Linux identifiers of
// the embedded catalog (policy/catalog.yaml, whose sources lines cite where
// each comes from), so that the probes are tested independently of the embedded
// catalog file.
func testCatalog() *policy.Catalog {
	return &policy.Catalog{Messengers: []policy.CatalogEntry{
		{ID: "whatsapp", Name: "WhatsApp", Vendor: "Meta", Variant: policy.VariantPrivate, Family: "whatsapp",
			Linux: policy.LinuxIDs{
				DesktopURLs: []string{"web.whatsapp.com"},
				Flatpak:     []string{"com.rtosta.zapzap"},
			}},
		{ID: "signal", Name: "Signal", Vendor: "Signal Messenger", Variant: policy.VariantPrivate,
			Linux: policy.LinuxIDs{
				Deb: []string{"signal-desktop", "signal-desktop-beta"}, Snap: []string{"signal-desktop"},
				Flatpak: []string{"org.signal.Signal"}, Desktop: []string{"signal-desktop"},
				DataDirs: []string{".config/Signal"}, Processes: []string{"signal-desktop"},
			}},
		{ID: "telegram", Name: "Telegram", Vendor: "Telegram", Variant: policy.VariantPrivate,
			Linux: policy.LinuxIDs{
				Deb: []string{"telegram-desktop"}, RPM: []string{"telegram-desktop"}, Snap: []string{"telegram-desktop"},
				Flatpak: []string{"org.telegram.desktop"}, Desktop: []string{"org.telegram.desktop", "telegramdesktop"},
				DesktopURLs: []string{"web.telegram.org"},
				DataDirs:    []string{".local/share/TelegramDesktop"}, Processes: []string{"telegram-desktop", "Telegram"},
			}},
		{ID: "element", Name: "Element", Vendor: "Element", Variant: policy.VariantDual,
			Linux: policy.LinuxIDs{
				Deb: []string{"element-desktop"}, Flatpak: []string{"im.riot.Riot"}, Desktop: []string{"element-desktop"},
				DataDirs: []string{".config/Element"}, Processes: []string{"element-desktop"},
			}},
		{ID: "slack", Name: "Slack", Vendor: "Salesforce", Variant: policy.VariantBusiness,
			Linux: policy.LinuxIDs{
				Deb: []string{"slack-desktop"}, RPM: []string{"slack"}, Snap: []string{"slack"},
				Flatpak: []string{"com.slack.Slack"}, Desktop: []string{"slack"},
				DesktopURLs: []string{"app.slack.com"},
				DataDirs:    []string{".config/Slack"}, Processes: []string{"slack"},
			}},
		{ID: "teams", Name: "Microsoft Teams", Vendor: "Microsoft", Variant: policy.VariantBusiness,
			Linux: policy.LinuxIDs{
				Deb: []string{"teams", "teams-for-linux"}, RPM: []string{"teams-for-linux"},
				Flatpak:     []string{"com.github.IsmaelMartinez.teams_for_linux"},
				Desktop:     []string{"teams-for-linux"},
				DesktopURLs: []string{"teams.microsoft.com", "teams.live.com"},
				Processes:   []string{"teams-for-linux"},
			}},
		{ID: "skype", Name: "Skype", Vendor: "Microsoft", Variant: policy.VariantPrivate,
			Linux: policy.LinuxIDs{
				Deb: []string{"skypeforlinux"}, RPM: []string{"skypeforlinux"}, Snap: []string{"skype"},
				Flatpak: []string{"com.skype.Client"}, Desktop: []string{"skypeforlinux"},
				DataDirs: []string{".config/skypeforlinux"},
			}},
		{ID: "simplex", Name: "SimpleX Chat", Vendor: "SimpleX Chat", Variant: policy.VariantPrivate,
			Linux: policy.LinuxIDs{
				Flatpak: []string{"chat.simplex.simplex"}, AppImage: []string{"simplex-desktop-*.appimage"},
			}},
		{ID: "session", Name: "Session", Vendor: "Session", Variant: policy.VariantPrivate,
			Linux: policy.LinuxIDs{
				Deb: []string{"session-desktop"}, Flatpak: []string{"network.loki.Session"},
				AppImage: []string{"session-desktop-linux-*.AppImage"}, DataDirs: []string{".config/Session"},
			}},
		{ID: "teamwire", Name: "Teamwire", Vendor: "Teamwire", Variant: policy.VariantBusiness,
			Linux: policy.LinuxIDs{DataDirs: []string{".config/teamwire/teamwire.cfg", ".config/teamwire.cfg"}}},
	}}
}
