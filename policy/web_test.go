package policy

import (
	"strings"
	"testing"
)

func TestCatalogWebIdentifiers(t *testing.T) {
	for _, tt := range []struct{ name, web, want string }{
		{"scheme", "origins: [https://web.whatsapp.com]", "must be a lower-case host name"},
		{"path", "origins: [web.whatsapp.com/a]", "must be a lower-case host name"},
		{"upper", "origins: [Web.WhatsApp.com]", "must be a lower-case host name"},
		{"app url", "app_urls: [web.whatsapp.com]", "must be an https URL"},
		{"app id", "app_ids: [ABC]", "must be 32 letters a-p"},
		{"empty", "origins: ['']", "identifier is empty"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := "messengers:\n  - id: x\n    name: X\n    vendor: V\n    variant: private\n    web: {" + tt.web + "}\n"
			_, err := LoadCatalog("c.yaml", []byte(in))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "c.yaml:") {
				t.Errorf("LoadCatalog(%s) error = %v; want one naming the line and %q", tt.web, err, tt.want)
			}
		})
	}
	// One origin maps to one messenger.
	in := "messengers:\n  - {id: a, name: A, vendor: V, variant: private, web: {origins: [x.example]}}\n" +
		"  - {id: b, name: B, vendor: V, variant: private, web: {origins: [x.example]}}\n"
	if _, err := LoadCatalog("c.yaml", []byte(in)); err == nil || !strings.Contains(err.Error(), "already claimed") {
		t.Errorf("duplicate origin: error = %v", err)
	}
	cat, err := DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"whatsapp", "telegram", "facebook-messenger", "instagram", "slack", "teams", "teams-personal", "discord", "element", "skype", "google-chat", "wire"} {
		if e := cat.Messenger(id); e == nil || len(e.Web.Origins) == 0 {
			t.Errorf("catalog entry %s has no web origins", id)
		}
	}
}

func TestWebSessionSaysBusinessIsUnknown(t *testing.T) {
	inv := &Inventory{Device: Device{Kind: "computer", Platform: "linux"},
		Messengers: []Messenger{
			{ID: "whatsapp", Name: "WhatsApp", Variant: VariantPrivate, Source: SourceBrowser, User: "alice", Location: `Chrome, profile "Default"`},
			{ID: "telegram", Name: "Telegram", Variant: VariantPrivate, Source: SourceBrowser, User: "alice", Location: `Firefox, profile "x"`},
			{ID: "whatsapp", Name: "WhatsApp", Variant: VariantPrivate, Source: "deb", User: "bob", Location: "wasistlos"},
		}}
	for _, f := range Evaluate(Default(), inv, EvalOptions{}) {
		if f.Rule == "messenger.whatsapp" && f.User == "alice" {
			if f.Status != StatusFail || !strings.Contains(f.Message, "cannot tell a personal from a WhatsApp Business account") {
				t.Errorf("whatsapp web: %s %q", f.Status, f.Message)
			}
			if len(f.Evidence) != 1 || f.Evidence[0].Source != SourceBrowser || f.Evidence[0].Location != `Chrome, profile "Default"` {
				t.Errorf("evidence = %+v", f.Evidence)
			}
		}
		if (f.Rule == "messenger.whatsapp" && f.User == "bob") || f.Rule == "messenger.telegram" {
			if strings.Contains(f.Message, "web session") {
				t.Errorf("%s for %q mentions web sessions: %q", f.Rule, f.User, f.Message)
			}
		}
	}
}
