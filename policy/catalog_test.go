package policy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// requiredIDs are the stable catalog ids the README promises; other
// packages, policies and stored findings refer to them.
var requiredIDs = []string{
	"whatsapp", "whatsapp-business", "facebook-messenger", "instagram", "skype", "telegram", "threema",
	"threema-work", "signal", "viber", "teamwire", "slack", "teams", "teams-personal", "element", "wire",
	"discord", "zoom", "wechat", "line", "session", "rocketchat", "mattermost", "deltachat", "simplex",
	"webex", "google-chat",
}

func TestDefaultCatalog(t *testing.T) {
	c, err := DefaultCatalog()
	if err != nil {
		t.Fatalf("DefaultCatalog() error: %v", err)
	}
	for _, id := range requiredIDs {
		e := c.Messenger(id)
		if e == nil {
			t.Errorf("catalog lacks required id %q", id)
			continue
		}
		if len(e.Sources) == 0 {
			t.Errorf("%s: no sources cited", id)
		}
	}
	if got := len(c.Messengers); got < len(requiredIDs) {
		t.Errorf("len(Messengers) = %d; want >= %d", got, len(requiredIDs))
	}
	for _, id := range []string{"intune", "fleet", "workspace-one", "jumpcloud", "prey"} {
		if c.Agent(id) == nil {
			t.Errorf("catalog lacks agent %q", id)
		}
	}
}

// TestCatalogFacts pins identifiers that other packages and the article's
// scenarios depend on, so an edit of catalog.yaml cannot drop them silently.
func TestCatalogFacts(t *testing.T) {
	c, err := DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id      string
		variant Variant
		family  string
		has     func(e *CatalogEntry) []string
		want    string
	}{
		{"whatsapp", VariantPrivate, "whatsapp", func(e *CatalogEntry) []string { return e.IOS.BundleIDs }, "net.whatsapp.WhatsApp"},
		{"whatsapp", VariantPrivate, "whatsapp", func(e *CatalogEntry) []string { return e.Android.Packages }, "com.whatsapp"},
		{"whatsapp", VariantPrivate, "whatsapp", func(e *CatalogEntry) []string { return e.Linux.Flatpak }, "com.rtosta.zapzap"},
		{"whatsapp", VariantPrivate, "whatsapp", func(e *CatalogEntry) []string { return e.Linux.Flatpak }, "com.github.eneshecan.WhatsAppForLinux"},
		{"whatsapp", VariantPrivate, "whatsapp", func(e *CatalogEntry) []string { return e.Linux.Flatpak }, "com.github.xeco23.WasIstLos"},
		{"whatsapp", VariantPrivate, "whatsapp", func(e *CatalogEntry) []string { return e.Linux.Deb }, "whatsapp-for-linux"},
		{"whatsapp", VariantPrivate, "whatsapp", func(e *CatalogEntry) []string { return e.Linux.DesktopURLs }, "web.whatsapp.com"},
		{"whatsapp", VariantPrivate, "whatsapp", func(e *CatalogEntry) []string { return e.Darwin.TeamIDs }, "57T9237FN3"},
		{"whatsapp-business", VariantBusiness, "whatsapp", func(e *CatalogEntry) []string { return e.IOS.BundleIDs }, "net.whatsapp.WhatsAppSMB"},
		{"whatsapp-business", VariantBusiness, "whatsapp", func(e *CatalogEntry) []string { return e.Android.Packages }, "com.whatsapp.w4b"},
		{"telegram", VariantDual, "telegram", func(e *CatalogEntry) []string { return e.IOS.BundleIDs }, "ph.telegra.Telegraph"},
		{"telegram", VariantDual, "telegram", func(e *CatalogEntry) []string { return e.Linux.Deb }, "telegram-desktop"},
		{"threema", VariantDual, "threema", func(e *CatalogEntry) []string { return e.IOS.BundleIDs }, "ch.threema.iapp"},
		{"threema-work", VariantBusiness, "threema", func(e *CatalogEntry) []string { return e.IOS.BundleIDs }, "ch.threema.work.iapp"},
		{"threema-work", VariantBusiness, "threema", func(e *CatalogEntry) []string { return e.Android.Packages }, "ch.threema.app.work"},
		{"signal", VariantDual, "signal", func(e *CatalogEntry) []string { return e.IOS.BundleIDs }, "org.whispersystems.signal"},
		{"signal", VariantDual, "signal", func(e *CatalogEntry) []string { return e.Linux.Deb }, "signal-desktop"},
		{"teams", VariantBusiness, "teams", func(e *CatalogEntry) []string { return e.Linux.Flatpak }, "com.github.IsmaelMartinez.teams_for_linux"},
		{"teams", VariantBusiness, "teams", func(e *CatalogEntry) []string { return e.Linux.DesktopURLs }, "teams.microsoft.com"},
		{"teams", VariantBusiness, "teams", func(e *CatalogEntry) []string { return e.Windows.MSIX }, "MSTeams_8wekyb3d8bbwe"},
		{"teams-personal", VariantPrivate, "teams", func(e *CatalogEntry) []string { return e.Windows.MSIX }, "MicrosoftTeams_8wekyb3d8bbwe"},
		{"facebook-messenger", VariantPrivate, "facebook-messenger", func(e *CatalogEntry) []string { return e.Linux.DesktopURLs }, "messenger.com"},
		{"instagram", VariantPrivate, "instagram", func(e *CatalogEntry) []string { return e.Linux.DesktopURLs }, "instagram.com"},
		{"slack", VariantBusiness, "slack", func(e *CatalogEntry) []string { return e.Linux.DesktopURLs }, "app.slack.com"},
		{"skype", VariantPrivate, "skype", func(e *CatalogEntry) []string { return e.Linux.Deb }, "skypeforlinux"},
	}
	for _, tt := range tests {
		t.Run(tt.id+"/"+tt.want, func(t *testing.T) {
			e := c.Messenger(tt.id)
			if e == nil {
				t.Fatalf("no entry %q", tt.id)
			}
			if e.Variant != tt.variant || e.FamilyID() != tt.family {
				t.Errorf("variant, family = %s, %s; want %s, %s", e.Variant, e.FamilyID(), tt.variant, tt.family)
			}
			if !contains(tt.has(e), tt.want) {
				t.Errorf("%s lacks identifier %q", tt.id, tt.want)
			}
		})
	}
}

func TestCatalogAgents(t *testing.T) {
	c, err := DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, a := range c.Agents {
		got[a.ID] = append(append(append([]string{}, a.Packages...), a.Units...), a.UserUnits...)
	}
	want := map[string][]string{
		"intune":        {"intune-portal", "intune-daemon.service", "intune-daemon.socket", "intune-agent.service", "intune-agent.timer"},
		"fleet":         {"fleet-osquery", "orbit.service"},
		"workspace-one": {"workspaceone-intelligent-hub", "ws1Hub.service"},
		"jumpcloud":     {"jcagent", "jcagent.service"},
		"prey":          {"prey", "prey-agent.service"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("agent packages+units mismatch (-want +got):\n%s", diff)
	}
}

func TestCatalogFamily(t *testing.T) {
	c, err := DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range c.Family("whatsapp") {
		ids = append(ids, e.ID)
	}
	if diff := cmp.Diff([]string{"whatsapp", "whatsapp-business"}, ids); diff != "" {
		t.Errorf("Family(whatsapp) mismatch (-want +got):\n%s", diff)
	}
	if c.Messenger("nope") != nil || c.Agent("nope") != nil {
		t.Error("lookup of unknown id returned an entry")
	}
}

func TestLoadCatalogErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // exact LoadError.Error() strings
	}{
		{
			name: "duplicate id",
			in: `messengers:
  - {id: a, name: A, variant: private}
  - {id: a, name: A2, variant: business}
`,
			want: []string{`c.yaml:3:10: messengers[1].id: id "a" is already defined (messengers[0]); choose another id`},
		},
		{
			name: "unknown variant",
			in: `messengers:
  - id: a
    name: A
    variant: consumer
`,
			want: []string{`c.yaml:4:14: messengers[0].variant: unknown variant "consumer" (want business, private or dual)`},
		},
		{
			name: "missing name and variant",
			in: `messengers:
  - id: a
`,
			want: []string{
				`c.yaml:2:5: messengers[0].name: name is required`,
				`c.yaml:2:5: messengers[0].variant: variant is required (business, private or dual)`,
			},
		},
		{
			name: "empty name",
			in:   "messengers:\n  - {id: a, name: \"\", variant: dual}\n",
			want: []string{`c.yaml:2:5: messengers[0].name: name is required`},
		},
		{
			name: "bad id",
			in:   "messengers:\n  - {id: Whats App, name: A, variant: dual}\n",
			want: []string{`c.yaml:2:10: messengers[0].id: id "Whats App" must be lower-case letters, digits and dashes`},
		},
		{
			name: "identifier claimed twice",
			in: `messengers:
  - {id: a, name: A, variant: dual, linux: {deb: [same]}}
  - {id: b, name: B, variant: dual, linux: {deb: [same]}}
`,
			want: []string{`c.yaml:3:5: messengers[1]: Debian package "same" is already claimed by "a"; one identifier must map to one messenger`},
		},
		{
			name: "bad pattern",
			in:   "messengers:\n  - {id: a, name: A, variant: dual, linux: {appimage: [\"[x\"]}}\n",
			want: []string{`c.yaml:2:56: messengers[0].linux.appimage[0]: bad pattern "[x": syntax error in pattern`},
		},
		{
			name: "agent without identifiers",
			in:   "agents:\n  - {id: x, name: X}\n",
			want: []string{`c.yaml:2:5: agents[0]: an agent needs at least one of packages, units, user_units, processes or paths`},
		},
		{
			name: "agent bad wipe method",
			in:   "agents:\n  - {id: x, name: X, units: [x.service], wipe_method: nuke}\n",
			want: []string{`c.yaml:2:55: agents[0].wipe_method: unknown wipe_method "nuke" (want native, script or none)`},
		},
		{
			name: "unknown key with hint",
			in:   "messengers:\n  - {id: a, name: A, variant: dual, linux: {debs: [x]}}\n",
			want: []string{`c.yaml:2:45: messengers[0].linux.debs: unknown key "debs"; did you mean "deb"?`},
		},
		{
			name: "bad source tag",
			in:   "messengers:\n  - {id: a, name: A, variant: dual, sources: [{what: x, tag: X}]}\n",
			want: []string{`c.yaml:2:62: messengers[0].sources[0].tag: unknown tag "X" (want V, T or U)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadCatalog("c.yaml", []byte(tt.in))
			if err == nil {
				t.Fatalf("LoadCatalog() = %+v, nil; want errors", c)
			}
			var got []string
			for _, le := range LoadErrors(err) {
				got = append(got, le.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s\nfull error:\n%v", diff, err)
			}
			if !strings.Contains(err.Error(), tt.want[0]) {
				t.Errorf("err.Error() = %q; want it to contain %q", err, tt.want[0])
			}
		})
	}
}

// FuzzLoadCatalog: arbitrary catalog files never panic and either load with
// valid entries or fail with LoadErrors only.
func FuzzLoadCatalog(f *testing.F) {
	// Seed with the first entry of the real catalog rather than all of it:
	// a 50 KB seed slows every fuzz execution to a crawl.
	full := string(CatalogYAML())
	start := strings.Index(full, "messengers:")
	second := strings.Index(full[start:], "\n  - id: whatsapp-business")
	f.Add([]byte(full[start : start+second+1]))
	f.Add([]byte("messengers:\n  - {id: a, name: A, variant: dual, linux: {deb: [x]}}\n"))
	f.Add([]byte("agents:\n  - {id: x, name: X, units: [x.service], wipe_method: script}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := LoadCatalog("fuzz.yaml", data)
		if err != nil {
			if c != nil || len(LoadErrors(err)) == 0 {
				t.Fatalf("bad error result: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, e := range c.Messengers {
			if e.ID == "" || e.Name == "" || seen[e.ID] {
				t.Fatalf("invalid entry loaded: %+v", e)
			}
			seen[e.ID] = true
		}
	})
}
