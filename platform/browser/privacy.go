package browser

import (
	"sort"
	"strings"

	"github.com/msgguard/msgguard/policy"
)

// Privacy is what browser inspection reads and stores, for `agent
// privacy`: a works council must be able to see that no browsing history,
// cookie or site content is touched.
type Privacy struct {
	Enabled bool `json:"enabled"`
	// Read is what is looked at, Stored what is kept.
	Read   string `json:"read"`
	Stored string `json:"stored"`
	// Origins are the catalog's web origins: the only sites looked for.
	Origins []string `json:"origins"`
}

// PrivacyStatement describes browser inspection for cat in lang ("en" or
// "de"). enabled is the configuration switch (browsers.enabled).
func PrivacyStatement(cat *policy.Catalog, enabled bool, lang string) Privacy {
	de := policy.NormalizeLang(lang) == "de"
	tr := func(en, d string) string {
		if de {
			return d
		}
		return en
	}
	p := Privacy{Enabled: enabled, Origins: []string{}}
	if cat != nil {
		for _, e := range cat.Messengers {
			p.Origins = append(p.Origins, e.Web.Origins...)
		}
	}
	sort.Strings(p.Origins)
	if !enabled {
		p.Read = tr("nothing: browser inspection is switched off (browsers.enabled: false)",
			"nichts: die Browser-Prüfung ist abgeschaltet (browsers.enabled: false)")
		p.Stored = tr("nothing", "nichts")
		return p
	}
	p.Read = tr("in each local user's Chrome, Chromium, Edge, Brave, Vivaldi, Opera and Firefox profiles: the NAMES of the per-site storage folders "+
		"(IndexedDB, storage/default), and only to look for the messenger web origins below; the names of the browser and profile folders and the list of profiles (profiles.ini); "+
		"macOS app shims' Info.plist and Windows Start-menu shortcuts of browser web apps. Nothing inside a site's storage is opened: "+
		"no history, cookies, messages, accounts or other sites. Origins looked for: ",
		"in den Profilen von Chrome, Chromium, Edge, Brave, Vivaldi, Opera und Firefox jedes lokalen Benutzers: die NAMEN der Speicherordner "+
			"je Website (IndexedDB, storage/default), und nur, um die unten genannten Web-Adressen von Messengern zu finden; die Namen der Browser- und "+
			"Profilordner und die Profilliste (profiles.ini); Info.plist von macOS-App-Shims und Startmenü-Verknüpfungen von Browser-Web-Apps unter Windows. Kein Speicher einer "+
			"Website wird geöffnet: kein Verlauf, keine Cookies, Nachrichten, Konten oder anderen Websites. Gesuchte Adressen: ") +
		strings.Join(p.Origins, ", ")
	p.Stored = tr("for each messenger found: the browser, the profile name and the messenger id, as an inventory entry (source \"browser\" or \"web-app\") of the local user; "+
		"no other site is ever recorded, logged or reported",
		"für jeden gefundenen Messenger: Browser, Profilname und Messenger-Kennung als Inventareintrag (Quelle \"browser\" oder \"web-app\") des lokalen Benutzers; "+
			"keine andere Website wird je gespeichert, protokolliert oder gemeldet")
	return p
}
