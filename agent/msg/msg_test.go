package msg

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// verbs are the printf verbs of s, in order.
var verbRE = regexp.MustCompile(`%[-+# 0]*[0-9]*(?:\.[0-9]+)?[a-zA-Z%]`)

// TestCatalog: every message the CLI passes to T (or marks with N) has a
// German text with the same format verbs in the same order, and the
// catalog has no unused entries.
func TestCatalog(t *testing.T) {
	used := map[string]bool{}
	files, _ := filepath.Glob("../cli/*.go")
	fset := token.NewFileSet()
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || !(sel.Sel.Name == "T" && len(call.Args) == 2 || sel.Sel.Name == "N" && len(call.Args) == 1) {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); !ok || id.Name != "msg" {
				return true
			}
			lit, ok := call.Args[len(call.Args)-1].(*ast.BasicLit)
			if !ok {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			used[s] = true
			if _, ok := de()[s]; !ok {
				t.Errorf("%s: %q has no German text", fset.Position(lit.Pos()), s)
			}
			return true
		})
	}
	if len(used) < 100 {
		t.Fatalf("found only %d messages in ../cli; is the parser looking at the right files?", len(used))
	}
	for en, g := range de() {
		if !used[en] {
			t.Errorf("%q is in the catalog but no longer used", en)
		}
		if !slices.Equal(verbRE.FindAllString(en, -1), verbRE.FindAllString(g, -1)) {
			t.Errorf("format verbs differ:\n en %q\n de %q", en, g)
		}
		if g == "" {
			t.Errorf("%q: empty German text", en)
		}
	}
}

func TestLanguage(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
		ok   bool
	}{{"en", EN, true}, {"DE", DE, true}, {"De", DE, true}, {" en ", EN, true}, {"fr", "", false}, {"", "", false}, {"de_DE", "", false}} {
		if got, ok := Parse(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("Parse(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"LANG": "de_DE.UTF-8"}, DE},
		{map[string]string{"LANG": "de_DE.UTF-8", "LC_ALL": "C"}, EN},
		{map[string]string{"LANG": "C", "LC_MESSAGES": "de_AT.UTF-8"}, DE},
		{map[string]string{}, EN},
	} {
		if got := FromEnv(env(tt.env)); got != tt.want {
			t.Errorf("FromEnv(%v) = %q; want %q", tt.env, got, tt.want)
		}
	}
	if T("de_DE.UTF-8", "met") != "erfüllt" || T("en", "met") != "met" || T("de", "no such message") != "no such message" {
		t.Error("T does not look up by language")
	}
}

func TestDynamic(t *testing.T) {
	for _, p := range slices.Concat(patterns, genericPatterns, problemPatterns, problemGeneric) {
		if n := strings.Count(p.en, "%s") + strings.Count(p.en, "%v"); n != strings.Count(p.de, "%s") || strings.Contains(p.de, "%v") {
			t.Errorf("pattern %q: the German %q needs %d %%s", p.en, p.de, n)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"messenger WhatsApp (consumer) appeared for user alice", "Messenger WhatsApp (consumer) hinzugekommen, für Benutzer alice"},
		{"messenger WhatsApp (consumer) disappeared system-wide", "Messenger WhatsApp (consumer) entfernt, systemweit"},
		{"messenger whatsapp (consumer) moved from another user to user alice", "Messenger whatsapp (consumer) gewechselt von einem anderen Benutzer zu Benutzer alice"},
		{"rule disk-encryption (subject /home): pass → fail", "Regel disk-encryption (Gegenstand /home): erfüllt → nicht erfüllt"},
		{"rule screen-lock: (none) → unknown; rule x (user bob): fail → pass", "Regel screen-lock: (keine) → nicht feststellbar; Regel x (Benutzer bob): nicht erfüllt → erfüllt"},
		{"state summary: not compliant; 2 failing, 0 unknown, 9 passing findings", "Zustandsübersicht: nicht konform; 2 nicht erfüllt, 0 nicht feststellbar, 9 erfüllt"},
		{"something else entirely", "something else entirely"},
		{"Ob / verschlüsselt ist, ließ sich nicht feststellen. Prüfdetail: partially encrypted: encryption in progress.",
			"Ob / verschlüsselt ist, ließ sich nicht feststellen. Prüfdetail: teilweise verschlüsselt: encryption in progress."},
		// Probes join reasons with "; "; each part is translated, and a
		// pattern's %s never swallows the parts before it.
		{"Ob niemand sperrt. Prüfdetail: no active MDM enrollment (stale, failed or local enrollment keys ignored); Entra ID joined, which is identity, not device management.",
			"Ob niemand sperrt. Prüfdetail: keine aktive MDM-Registrierung (veraltete, fehlgeschlagene oder lokale Registrierungsschlüssel ignoriert); in Entra ID eingebunden; das ist Identitäts-, keine Geräteverwaltung."},
		{"X. Prüfdetail: machine inactivity policy unreadable: Access is denied.; screen saver: ScreenSaveActive not set, ScreenSaveTimeOut is not a number; lock on wake: DelayLockInterval has an unexpected type; 0: gone.",
			"X. Prüfdetail: Inaktivitätsrichtlinie des Computers nicht lesbar: Access is denied.; Bildschirmschoner: ScreenSaveActive nicht gesetzt, ScreenSaveTimeOut ist keine Zahl; Sperre beim Aufwachen: DelayLockInterval hat einen unerwarteten Typ; 0: gone."},
		{"X. Prüfdetail: screen saver does not lock: ScreenSaverIsSecure=not set, no screen saver selected (SCRNSAVE.EXE empty).",
			"X. Prüfdetail: Bildschirmschoner sperrt nicht: ScreenSaverIsSecure ist nicht gesetzt, kein Bildschirmschoner ausgewählt (SCRNSAVE.EXE leer)."},
		// explain's text goes on after the reason.
		{"Die Firma kann es nicht. Prüfdetail: no active MDM enrollment. Geht das Gerät verloren, muss die Firma es löschen können.",
			"Die Firma kann es nicht. Prüfdetail: keine aktive MDM-Registrierung. Geht das Gerät verloren, muss die Firma es löschen können."},
		{"Die Firma kann es nicht. Prüfdetail: something new. Geht das Gerät verloren.",
			"Die Firma kann es nicht. Prüfdetail: something new. Geht das Gerät verloren."},
		{"remote-wipe.capable: false → true", "remote-wipe.capable: nein → ja"},
		// health problems of the service
		{"sink syslog: 3 events queued after failed deliveries: dial tcp 10.0.0.1:514: connect: connection refused",
			"Empfänger syslog: 3 Ereignisse warten nach fehlgeschlagener Zustellung: dial tcp 10.0.0.1:514: connect: connection refused"},
		{"database rebuilt 2026-03-02 09:00:00 CET after corruption (invalid page); the damaged file was kept as /var/lib/msgguard/state.db.corrupt",
			"Datenbank am 2026-03-02 09:00:00 CET nach Beschädigung neu angelegt (invalid page); die beschädigte Datei liegt unter /var/lib/msgguard/state.db.corrupt"},
		{"CPU 12.5% over the 10.0% budget", "CPU 12.5 % über dem Budget von 10.0 %"},
		// A value in a %s slot is kept, even when it looks like a word.
		{"baseline accepted by pass: fail", "Ausgangszustand übernommen von pass: fail"},
	} {
		if got := Dynamic("de", tt.in); got != tt.want {
			t.Errorf("Dynamic(de, %q) =\n %q; want\n %q", tt.in, got, tt.want)
		}
		if got := Dynamic("en", tt.in); got != tt.in {
			t.Errorf("Dynamic(en, %q) = %q; want it unchanged", tt.in, got)
		}
	}
}
