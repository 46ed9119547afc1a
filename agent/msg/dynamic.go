package msg

import (
	"regexp"
	"strings"
	"sync"
)

// Messages that other packages build in English from their own data (drift
// events, probe reasons) are translated by pattern: each pattern is the
// English format with %s for a value kept as it is and %v for a value that
// is itself translated (a status, "system-wide", "user alice"), and the
// German format with %s in the same order. Dynamic translates each
// "; "-separated part on its own (drift appends folded rule changes so),
// except the state summary, which has one inside.
var patterns = []struct{ en, de string }{
	// drift events (agent/drift: diff.go, drift.go)
	{"messenger %s (%s) appeared %v", "Messenger %s (%s) hinzugekommen, %s"},
	{"messenger %s (%s) disappeared %v", "Messenger %s (%s) entfernt, %s"},
	{"messenger %s (%s) moved from %v to %v", "Messenger %s (%s) gewechselt von %s zu %s"},
	{"messenger %s %v: variant %s → %s", "Messenger %s %s: Variante %s → %s"},
	{"messenger %s (user %s) version %v → %v", "Messenger %s (Benutzer %s) Version %s → %s"},
	{"messenger %s version %v → %v", "Messenger %s Version %s → %s"},
	{"rule %s (subject %s, user %s): %v → %v", "Regel %s (Gegenstand %s, Benutzer %s): %s → %s"},
	{"rule %s (subject %s): %v → %v", "Regel %s (Gegenstand %s): %s → %s"},
	{"rule %s (user %s): %v → %v", "Regel %s (Benutzer %s): %s → %s"},
	{"rule %s: %v → %v", "Regel %s: %s → %s"},
	{"%s (subject %s, user %s): %v → %v", "%s (Gegenstand %s, Benutzer %s): %s → %s"},
	{"%s (subject %s): %v → %v", "%s (Gegenstand %s): %s → %s"},
	{"%s (user %s): %v → %v", "%s (Benutzer %s): %s → %s"},
	{"state summary: %v; %s failing, %s unknown, %s passing findings", "Zustandsübersicht: %s; %s nicht erfüllt, %s nicht feststellbar, %s erfüllt"},
	{"baseline accepted by %s: %s", "Ausgangszustand übernommen von %s: %s"},
	{"drift state reset, new baseline set: %v", "Drift-Zustand zurückgesetzt, neuer Ausgangszustand: %s"},
	{"policy changed from %s to %s", "Richtlinie geändert von %s zu %s"},
	// probe reasons (platform/...), shown after "Prüfdetail:" in German
	// findings; the rest stay English
	{"user is not logged in; macOS answers the screen-lock setting only inside the user's session", "Benutzer nicht angemeldet; macOS nennt die Bildschirmsperre nur in der Sitzung des Benutzers"},
	{"the catalog lists no management agents to look for", "der Katalog nennt keine Verwaltungsprogramme, nach denen gesucht werden könnte"},
	{"no screen lock: the encryption keys are not protected by a user credential", "keine Bildschirmsperre: die Schlüssel der Verschlüsselung sind durch kein Benutzerkennwort geschützt"},
	{"no passcode: iOS enables Data Protection only when a passcode is set", "kein Code: iOS schaltet den Datenschutz nur mit gesetztem Code ein"},
	{"partially encrypted: %s", "teilweise verschlüsselt: %s"},
	{"package database not read: %s", "Paketdatenbank nicht gelesen: %s"},
	{"no active MDM enrollment", "keine aktive MDM-Registrierung"},
	{"encrypted but protection is off (suspended or waiting for activation)", "verschlüsselt, aber der Schutz ist aus (angehalten oder wartet auf Aktivierung)"},
	{"no management agent that can wipe this device is installed and active (looked for %s)", "kein Verwaltungsprogramm, das dieses Gerät löschen kann, ist installiert und aktiv (gesucht: %s)"},
	{"no device owner and no work-profile owner: no MDM manages this phone", "kein Geräte- und kein Arbeitsprofil-Eigentümer: kein MDM verwaltet dieses Smartphone"},
	{"supervision and MDM enrolment could not be read over USB", "Betreuung und MDM-Registrierung ließen sich über USB nicht lesen"},
	{"no mount contains the swap file", "kein Dateisystem enthält die Auslagerungsdatei"},
	// values inside them
	{"for user %s (%s profile)", "für Benutzer %s (Profil %s)"},
	{"for user %s", "für Benutzer %s"},
	{"user %s", "Benutzer %s"},
}

// values are single words and phrases inside patterns.
var values = map[string]string{
	"(none)":            "(keine)",
	"system-wide":       "systemweit",
	"another user":      "einem anderen Benutzer",
	"fail":              "nicht erfüllt",
	"pass":              "erfüllt",
	"unknown":           "nicht feststellbar",
	"not_applicable":    "nicht zutreffend",
	"exempt":            "ausgenommen",
	"attested":          "bestätigt",
	"compliant":         "konform",
	"not compliant":     "nicht konform",
	"baseline accepted": "Ausgangszustand übernommen",
	"database rebuilt":  "Datenbank neu angelegt",
	"true":              "ja",
	"false":             "nein",
}

type pattern struct {
	re        *regexp.Regexp
	translate []bool
	de        string
}

var compiled = sync.OnceValue(func() []pattern {
	verb := regexp.MustCompile(`%[sv]`)
	out := make([]pattern, 0, len(patterns))
	for _, p := range patterns {
		var re strings.Builder
		var tr []bool
		re.WriteString("^")
		last := 0
		for _, m := range verb.FindAllStringIndex(p.en, -1) {
			re.WriteString(regexp.QuoteMeta(p.en[last:m[0]]))
			re.WriteString("(.+?)")
			tr = append(tr, p.en[m[0]+1] == 'v')
			last = m[1]
		}
		re.WriteString(regexp.QuoteMeta(p.en[last:]) + "$")
		out = append(out, pattern{re: regexp.MustCompile(re.String()), translate: tr, de: p.de})
	}
	return out
})

// Dynamic translates a message another package built in English (see
// patterns); a message no pattern matches stays as it is.
//
// A German finding text ends in the probe's English reason after
// "Prüfdetail:" (policy's withReason); Dynamic translates that reason.
func Dynamic(lang, s string) string {
	if FromLocale(lang) != DE || s == "" {
		return s
	}
	if head, reason, ok := strings.Cut(s, " Prüfdetail: "); ok {
		if t, ok := dynamic(strings.TrimSuffix(reason, ".")); ok {
			return head + " Prüfdetail: " + t + "."
		}
		return s
	}
	parts := strings.Split(s, "; ")
	if len(parts) == 1 || strings.HasPrefix(s, "state summary: ") {
		if t, ok := dynamic(s); ok {
			return t
		}
		return s
	}
	for i, p := range parts {
		if t, ok := dynamic(p); ok {
			parts[i] = t
		}
	}
	return strings.Join(parts, "; ")
}

func dynamic(s string) (string, bool) {
	if t, ok := values[s]; ok {
		return t, true
	}
	for _, p := range compiled() {
		m := p.re.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		args := make([]string, len(m)-1)
		for i, v := range m[1:] {
			if p.translate[i] {
				if t, ok := dynamic(v); ok {
					v = t
				}
			}
			args[i] = v
		}
		var b strings.Builder
		rest := p.de
		for _, a := range args {
			before, after, _ := strings.Cut(rest, "%s")
			b.WriteString(before + a)
			rest = after
		}
		b.WriteString(rest)
		return b.String(), true
	}
	return "", false
}
