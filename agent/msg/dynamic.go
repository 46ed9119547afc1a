package msg

import (
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Messages that other packages build in English from their own data (drift
// events, probe reasons) are translated by pattern: each pattern is the
// English format with %s for a value kept as it is and %v for a value that
// is itself translated (a status, "system-wide", "user alice"), and the
// German format with %s in the same order. Dynamic translates each
// "; "-separated part on its own (drift appends folded rule changes so,
// probes join reasons so), or a longer run of parts where a pattern has
// "; " inside.
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
	{"%s: %v → %v", "%s: %s → %s"},
	{"outbox of sink %s was full: %s older low-severity event(s) dropped", "Warteschlange des Empfängers %s war voll: %s ältere Ereignisse niedriger Schwere verworfen"},
	{"state summary: %v; %s failing, %s unknown, %s passing findings", "Zustandsübersicht: %s; %s nicht erfüllt, %s nicht feststellbar, %s erfüllt"},
	{"baseline accepted by %s: %s", "Ausgangszustand übernommen von %s: %s"},
	{"drift state reset, new baseline set: %v", "Drift-Zustand zurückgesetzt, neuer Ausgangszustand: %s"},
	{"policy changed from %s to %s", "Richtlinie geändert von %s zu %s"},
	// the service's health problems (agent/daemon, agent/status,
	// agent/cli/cmd_run.go)
	{"sink %s: %s events queued after failed deliveries: %s", "Empfänger %s: %s Ereignisse warten nach fehlgeschlagener Zustellung: %s"},
	{"database rebuilt %s after corruption (%s); the damaged file was kept as %s", "Datenbank am %s nach Beschädigung neu angelegt (%s); die beschädigte Datei liegt unter %s"},
	{"the database was corrupt (%s); at %s it was moved to %s and a new one started", "die Datenbank war beschädigt (%s); am %s wurde sie nach %s verschoben und neu angelegt"},
	{"last scan failed: %s", "letzter Scan fehlgeschlagen: %s"},
	{"policy file %s rejected; %s stays in force", "Richtliniendatei %s abgelehnt; %s gilt weiter"},
	{"memory %s MB over the %s MB budget", "Speicher %s MB über dem Budget von %s MB"},
	{"CPU %s% over the %s% budget", "CPU %s % über dem Budget von %s %"},
	{"sink: %s", "Empfänger: %s"},
	{"database unavailable since %s: %v; next try at %s", "Datenbank nicht verfügbar seit %s: %s; nächster Versuch um %s"},
	{"the database is not open yet", "die Datenbank ist noch nicht geöffnet"},
	// the refusal of a service waiting for its database (agent/daemon,
	// Waiting), after "der Dienst läuft, aber:"
	{"is waiting for its database (unavailable since %s; next try at %s)", "wartet auf seine Datenbank (nicht verfügbar seit %s; nächster Versuch um %s)"},
	{"is waiting for its database", "wartet auf seine Datenbank"},
	// errors the CLI prints that other packages build: the store, the
	// local API client, compliance records, the policy; the CLI's own
	// backend (agent/cli/backend.go), whose errors also come back over
	// the local API
	{"database %s unavailable: %s", "Datenbank %s nicht verfügbar: %s"},
	{"agent answered %s: %s", "der Dienst antwortete mit %s: %s"},
	{"access denied: %s", "Zugriff verweigert: %s"},
	{"reading policy: %s", "Richtlinie nicht gelesen: %s"},
	{"rule %s is observed by the agent, not attested; only attestation rules can be attested (to waive it, use agent exempt)", "Regel %s prüft der Agent selbst, sie wird nicht bestätigt; bestätigen lassen sich nur Bestätigungsregeln (zum Aussetzen: agent exempt)"},
	{"no device to attest for", "kein Gerät, für das bestätigt werden könnte"},
	{"--until %s is not in the future", "--until %s liegt nicht in der Zukunft"},
	{"--until %s is beyond the rule's validity of %s (at most %s)", "--until %s liegt nach dem Ende der Gültigkeit der Regel von %s (höchstens %s)"},
	{"a broken policy cannot be exempted", "eine fehlerhafte Richtlinie lässt sich nicht aussetzen"},
	{"no device to exempt", "kein Gerät für die Ausnahme"},
	{"--until is required: every exemption ends (at most %s from now)", "--until ist erforderlich: jede Ausnahme endet (höchstens %s ab jetzt)"},
	{"--until %s is more than max_exemption (%s) from now", "--until %s liegt mehr als max_exemption (%s) in der Zukunft"},
	{"--until: %s is not a date; write YYYY-MM-DD or an RFC 3339 time", "--until: %s ist kein Datum; YYYY-MM-DD oder eine Zeit nach RFC 3339 angeben"},
	{"%s is not a date; write YYYY-MM-DD or an RFC 3339 time", "%s ist kein Datum; YYYY-MM-DD oder eine Zeit nach RFC 3339 angeben"},
	{"rule %s is off in the policy %s (%s is false), so it produces no findings", "Regel %s ist in der Richtlinie %s ausgeschaltet (%s ist false) und liefert daher keine Befunde"},
	{"unknown rule %s (the policy %s produces no findings with it)", "unbekannte Regel %s (die Richtlinie %s liefert dazu keine Befunde)"},
	{"unknown rule %s", "unbekannte Regel %s"},
	{"did you mean %s? (the policy %s produces no findings with it)", "gemeint war vielleicht %s? (die Richtlinie %s liefert dazu keine Befunde)"},
	{"no scan recorded yet in %s; run 'agent scan' first (a confirmation belongs to a scanned device)", "noch kein Scan in %s gespeichert; zuerst 'agent scan' ausführen (eine Bestätigung gehört zu einem geprüften Gerät)"},
	{"no scan of this computer recorded yet; run 'agent scan' first", "noch kein Scan dieses Computers gespeichert; zuerst 'agent scan' ausführen"},
	{"no device %s in the database (see the device ids in 'agent status --json')", "kein Gerät %s in der Datenbank (die Gerätekennungen zeigt 'agent status --json')"},
	{"only an administrator may record this", "nur ein Administrator darf das erfassen"},
	{"the msgguard service is running and holds the database; stop it ('agent stop'), record, then start it again ('agent start')", "der msgguard-Dienst läuft und hält die Datenbank; ihn anhalten ('agent stop'), erfassen und wieder starten ('agent start')"},
	{"no scan recorded yet", "noch kein Scan gespeichert"},
	{"database is locked by another process", "die Datenbank ist von einem anderen Prozess gesperrt"},
	{"database is corrupt", "die Datenbank ist beschädigt"},
	{"the msgguard service is running and holds the database; ask it (leave out --db), or stop it ('agent stop') to read the database", "der msgguard-Dienst läuft und hält die Datenbank; ihn fragen (ohne --db) oder anhalten ('agent stop'), um die Datenbank zu lesen"},
	{"the running service cannot answer this (an older version?)", "der laufende Dienst kann das nicht beantworten (eine ältere Version?)"},
	{"want an age such as 7d or 24h, an RFC 3339 time, or all; got %s", "erwartet ein Alter wie 7d oder 24h, eine Zeit nach RFC 3339 oder all; angegeben: %s"},
	// Probe reasons (platform/...), shown after "Prüfdetail:" in German
	// findings. TestProbeReasons finds every reason the platform packages
	// write and fails when one has no pattern here. A %s never spans "; ",
	// so patterns with a leading %s match one part of a joined reason;
	// the generic ones ("%s not set") come last.
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
	// linux
	{"mount table /%s not read: %s", "Einhängetabelle /%s nicht gelesen: %s"},
	{"no mount for / in /%s", "kein Einhängepunkt für / in /%s"},
	{"%s is on %s (%s), not a block device", "%s liegt auf %s (%s), nicht auf einem Blockgerät"},
	{"%s is not a block device path", "%s ist kein Pfad eines Blockgeräts"},
	{"%s is a loop device backed by a file; its encryption is not followed", "%s ist ein Loop-Gerät auf einer Datei; dessen Verschlüsselung wird nicht weiterverfolgt"},
	{"device stack deeper than expected", "Gerätestapel tiefer als erwartet"},
	{"invalid ZFS dataset name", "ungültiger ZFS-Datasetname"},
	{"ZFS dataset %s: `zfs get encryption` failed: %s", "ZFS-Dataset %s: `zfs get encryption` fehlgeschlagen: %s"},
	{"unexpected `zfs get encryption` output", "unerwartete Ausgabe von `zfs get encryption`"},
	{"%s is installed (%s) but its service is neither enabled nor running", "%s ist installiert (%s), aber sein Dienst ist weder aktiviert noch gestartet"},
	{"%s is installed (%s) but offers no remote wipe on Linux", "%s ist installiert (%s), kann unter Linux aber nicht aus der Ferne löschen"},
	{"no graphical desktop found, but %s could not be read", "keine grafische Arbeitsumgebung gefunden, aber %s war nicht lesbar"},
	{"no graphical desktop: no live graphical session, no recorded session and no session files in /usr/share/xsessions or /usr/share/wayland-sessions", "keine grafische Arbeitsumgebung: keine laufende grafische Sitzung, keine aufgezeichnete Sitzung und keine Sitzungsdateien in /usr/share/xsessions oder /usr/share/wayland-sessions"},
	{"%s: its screen locker is configured in the user's own scripts or compositor config (swayidle, xss-lock, xautolock, ...), which this agent does not inspect", "%s: die Bildschirmsperre ist in eigenen Skripten oder der Compositor-Konfiguration des Benutzers eingerichtet (swayidle, xss-lock, xautolock, ...), die der Agent nicht prüft"},
	{"logind IdleAction=lock after %s s (%s) locks only sessions that report idle", "logind IdleAction=lock nach %s s (%s) sperrt nur Sitzungen, die Leerlauf melden"},
	{"cannot read %s settings: %s", "Einstellungen von %s nicht lesbar: %s"},
	{"xfce4-screensaver is not installed (/%s); other lockers (light-locker, xscreensaver) are not inspected", "xfce4-screensaver ist nicht installiert (/%s); andere Bildschirmsperren (light-locker, xscreensaver) werden nicht geprüft"},
	// darwin
	{"cannot tell whether the user is logged in: who failed: %s", "nicht feststellbar, ob der Benutzer angemeldet ist: who fehlgeschlagen: %s"},
	{"sysadminctl reported an unrecognised delay %s", "sysadminctl meldete eine unbekannte Verzögerung %s"},
	{"sysadminctl printed no answer", "sysadminctl gab keine Antwort aus"},
	{"sysadminctl's answer was not recognised", "Antwort von sysadminctl nicht erkannt"},
	{"sysadminctl failed: %s", "sysadminctl fehlgeschlagen: %s"},
	{"sysadminctl printed nothing on standard output; it answers on standard error, which this command runner does not return on success", "sysadminctl gab auf der Standardausgabe nichts aus; es antwortet auf der Standardfehlerausgabe, die dieser Befehlsaufruf bei Erfolg nicht zurückgibt"},
	{"fdesetup status answer not recognised", "Antwort von fdesetup status nicht erkannt"},
	{"fdesetup status failed: %s", "fdesetup status fehlgeschlagen: %s"},
	{"profiles status says not enrolled but an MDM payload is installed", "profiles status meldet keine Registrierung, aber ein MDM-Profil ist installiert"},
	{"cannot tell MDM enrollment: %s", "MDM-Registrierung nicht feststellbar: %s"},
	// windows
	{"BitLocker WMI query failed: %s", "BitLocker-WMI-Abfrage fehlgeschlagen: %s"},
	{"BitLocker WMI output unreadable", "BitLocker-WMI-Ausgabe nicht lesbar"},
	{"WMI listed no fixed encryptable volume", "WMI meldet kein festes verschlüsselbares Laufwerk"},
	{"unknown conversion status %s", "unbekannter Konvertierungsstatus %s"},
	{"%s failed (exception 0x%s)", "%s fehlgeschlagen (Ausnahme 0x%s)"},
	{"%s failed (0x%s)", "%s fehlgeschlagen (0x%s)"},
	{"MDM enrollments unreadable: %s", "MDM-Registrierungen nicht lesbar: %s"},
	{"%v (stale, failed or local enrollment keys ignored)", "%s (veraltete, fehlgeschlagene oder lokale Registrierungsschlüssel ignoriert)"},
	{"Entra ID joined, which is identity, not device management", "in Entra ID eingebunden; das ist Identitäts-, keine Geräteverwaltung"},
	{"Exchange ActiveSync policies present, but an ActiveSync wipe only clears mail", "Exchange-ActiveSync-Richtlinien vorhanden, aber eine ActiveSync-Löschung entfernt nur E-Mails"},
	{"machine inactivity policy unreadable: %s", "Inaktivitätsrichtlinie des Computers nicht lesbar: %s"},
	{"machine inactivity policy has an unexpected type", "Inaktivitätsrichtlinie des Computers hat einen unerwarteten Typ"},
	{"machine inactivity limit not set", "Inaktivitätsgrenze des Computers nicht gesetzt"},
	{"MDM DeviceLock policy unreadable: %s", "MDM-Richtlinie DeviceLock nicht lesbar: %s"},
	{"MDM inactivity lock not set", "MDM-Sperre bei Inaktivität nicht gesetzt"},
	{"MDM DevicePasswordEnabled=1 disables MaxInactivityTimeDeviceLock", "MDM DevicePasswordEnabled=1 schaltet MaxInactivityTimeDeviceLock ab"},
	{"user hive could not be read: %s", "Registrierungsstruktur (Hive) des Benutzers nicht lesbar: %s"},
	{"screen saver settings unreadable: %s", "Bildschirmschoner-Einstellungen nicht lesbar: %s"},
	{"screen saver does not lock: %v", "Bildschirmschoner sperrt nicht: %s"},
	{"screen saver: %v", "Bildschirmschoner: %s"},
	{"no screen saver selected (SCRNSAVE.EXE %v)", "kein Bildschirmschoner ausgewählt (SCRNSAVE.EXE %s)"},
	{"ScreenSaverIsSecure=%v", "ScreenSaverIsSecure ist %s"},
	{"lock on wake: %v", "Sperre beim Aufwachen: %s"},
	{"the user's own sign-in-on-wake setting (DelayLockInterval) is in the unreadable hive", "die eigene Einstellung des Benutzers zur Anmeldung beim Aufwachen (DelayLockInterval) steht in der nicht lesbaren Registrierungsstruktur (Hive)"},
	// android
	{"dumpsys lock_settings could not be read: %s", "dumpsys lock_settings nicht lesbar: %s"},
	{"dumpsys lock_settings lists no state for this user", "dumpsys lock_settings nennt keinen Zustand für diesen Benutzer"},
	{"unrecognised credential type %s", "unbekannte Art der Displaysperre %s"},
	{"this Android release does not report the credential type in dumpsys lock_settings (Android 10 and older)", "diese Android-Version nennt die Art der Displaysperre nicht in dumpsys lock_settings (Android 10 und älter)"},
	{"getprop could not be read", "getprop nicht lesbar"},
	{"ro.crypto.state is not set", "ro.crypto.state ist nicht gesetzt"},
	{"screen lock unknown, so whether a credential protects the keys is unknown", "Bildschirmsperre unbekannt, daher ist auch unbekannt, ob ein Kennwort die Schlüssel schützt"},
	{"device and profile owners could not be read: %s", "Geräte- und Profileigentümer nicht lesbar: %s"},
	{"profile owner of user 0", "Profileigentümer von Benutzer 0"},
	{"the only owner is parental supervision, %s: a parent's control, not a company's remote wipe; no MDM manages this phone", "einziger Eigentümer ist die Elternaufsicht %s: eine Kontrolle durch Eltern, kein Löschen aus der Ferne durch die Firma; kein MDM verwaltet dieses Smartphone"},
	{"company-owned phone with a work profile (COPE): the profile owner can factory-reset the device", "firmeneigenes Smartphone mit Arbeitsprofil (COPE): der Profileigentümer kann das Gerät auf Werkseinstellungen zurücksetzen"},
	{"only the work profile can be wiped (%v); the personal profile is out of the company's reach", "nur das Arbeitsprofil kann gelöscht werden (%s); auf das private Profil hat die Firma keinen Zugriff"},
	// ios
	{"passcode state could not be read: %s", "Code-Status nicht lesbar: %s"},
	{"ideviceinfo returned no PasswordProtected value", "ideviceinfo lieferte keinen Wert für PasswordProtected"},
	{"supervised (organisation-owned) device; whether an MDM, which could erase it, is enrolled is not visible over USB — check the MDM console", "betreutes (firmeneigenes) Gerät; ob ein MDM registriert ist, das es löschen könnte, ist über USB nicht sichtbar – in der MDM-Konsole prüfen"},
	{"not supervised; an MDM enrolment (which could erase it) is not visible over USB — check the MDM console", "nicht betreut; eine MDM-Registrierung (die es löschen könnte) ist über USB nicht sichtbar – in der MDM-Konsole prüfen"},
	{"passcode state unknown, so Data Protection is unknown", "Code-Status unbekannt, daher ist auch der Datenschutz (Data Protection) unbekannt"},
}

// genericPatterns come after the specific ones: a shape such as "%s not
// set" would take a specific reason's text as its value.
var genericPatterns = []struct{ en, de string }{
	{"%s has an unexpected type", "%s hat einen unerwarteten Typ"},
	{"%s is not a number", "%s ist keine Zahl"},
	{"%s not set", "%s nicht gesetzt"},
	{"%s unreadable: %s", "%s nicht lesbar: %s"},
	{"%s not readable: %s", "%s nicht lesbar: %s"},
	{"%s not read: %s", "%s nicht gelesen: %s"},
	{"%s not found in /%s", "%s nicht gefunden in /%s"},
	{"%s not found: %s", "%s nicht gefunden: %s"},
	{"%s failed", "%s fehlgeschlagen"},
	// values inside them
	{"for user %s (%s profile)", "für Benutzer %s (Profil %s)"},
	{"for user %s", "für Benutzer %s"},
	{"user %s", "Benutzer %s"},
}

// values are single words and phrases inside patterns.
var values = sync.OnceValue(func() map[string]string {
	return map[string]string{
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
		"not set":           "nicht gesetzt",
		"empty":             "leer",
		// what the probes' describeErr and regReason make of an
		// error, and the platform readers' own errors (platform's
		// ErrSymlink, ErrNotRegular, ErrCommandNotFound, ...), as
		// they appear in problems
		"does not exist":                        "existiert nicht",
		"permission denied":                     "keine Berechtigung",
		"unknown error":                         "unbekannter Fehler",
		"the key does not exist":                "der Schlüssel existiert nicht",
		"refusing to follow a symbolic link":    "symbolischem Link wird nicht gefolgt",
		"not a regular file":                    "keine reguläre Datei",
		"command not installed":                 "Befehl nicht installiert",
		"command not in the allowed table":      "Befehl nicht in der Liste der erlaubten Befehle",
		"no command runner configured":          "kein Befehlsaufruf eingerichtet",
		"no recorded output for command":        "keine aufgezeichnete Ausgabe für den Befehl",
		"timed out":                             "Zeitüberschreitung",
		"skipped: the device stopped answering": "übersprungen: das Gerät antwortet nicht mehr",
		"not a directory":                       "kein Verzeichnis",
		// why the Windows probe could not open a user's hive
		"user is not logged in and hives cannot be loaded": "Benutzer ist nicht angemeldet, und Registrierungsstrukturen (Hives) lassen sich nicht laden",
		"profile is not on the scanned drive":              "Profil liegt nicht auf dem geprüften Laufwerk",
		"refusing to follow a junction or reparse point":   "einer Verzeichnisverbindung (Junction) oder einem Analysepunkt wird nicht gefolgt",
		// names of folders in the browser probe's problems
		"browser folder":          "Browserordner",
		"site storage folder":     "Ordner der Website-Daten",
		"Firefox profiles folder": "Firefox-Profilordner",
		"Firefox folder":          "Firefox-Ordner",
	}
})

type pattern struct {
	re        *regexp.Regexp
	translate []bool
	de        string
}

var compiled = sync.OnceValue(func() []pattern { return compile(slices.Concat(patterns, genericPatterns)) })

// compile turns patterns into regular expressions.
func compile(patterns []struct{ en, de string }) []pattern {
	verb := regexp.MustCompile(`%[sv]`)
	out := make([]pattern, 0, len(patterns))
	for _, p := range patterns {
		var re strings.Builder
		var tr []bool
		re.WriteString("^")
		last := 0
		for _, m := range verb.FindAllStringIndex(p.en, -1) {
			re.WriteString(regexp.QuoteMeta(p.en[last:m[0]]))
			// A value never spans "; ", which joins the parts of a
			// message.
			re.WriteString("((?:[^;]|;[^ ])+?)")
			tr = append(tr, p.en[m[0]+1] == 'v')
			last = m[1]
		}
		re.WriteString(regexp.QuoteMeta(p.en[last:]) + "$")
		out = append(out, pattern{re: regexp.MustCompile(re.String()), translate: tr, de: p.de})
	}
	return out
}

// Dynamic translates a message another package built in English (see
// patterns); a message no pattern matches stays as it is.
//
// A German finding text ends in the probe's English reason after
// "Prüfdetail:" (policy's withReason), or in the English problems of the
// core sources a scan could not read (policy's unread); Dynamic
// translates both.
func Dynamic(lang, s string) string {
	if FromLocale(lang) != DE || s == "" {
		return s
	}
	// A finding that rests on the absence of something a core source
	// would show ends in the list of those sources' problems.
	if head, list, ok := translateUnread(s); ok {
		h := strings.TrimRight(head, " ")
		if strings.Contains(h, " Prüfdetail: ") {
			h = Dynamic(lang, h)
		}
		return h + head[len(strings.TrimRight(head, " ")):] + list
	}
	if head, rest, ok := strings.Cut(s, " Prüfdetail: "); ok {
		// The reason ends the sentence; a longer text (explain's) may
		// go on after it with more sentences in German.
		for end := len(rest); end > 0; end = strings.LastIndex(rest[:end-1], ". ") + 1 {
			reason := strings.TrimSuffix(rest[:end], ".")
			if t, ok := translateParts(compiled(), reason, "; "); ok {
				return head + " Prüfdetail: " + t + rest[len(reason):]
			}
		}
		return s
	}
	t, _ := translateParts(compiled(), s, "; ")
	return t
}

// translateParts translates s, which probes may have joined from reasons
// with sep: from each part on, the longest run of parts one pattern
// matches is translated as one (a pattern may itself contain sep); parts
// no pattern matches stay as they are. ok reports whether any part was
// translated.
func translateParts(ps []pattern, s, sep string) (string, bool) {
	parts := strings.Split(s, sep)
	out := make([]string, 0, len(parts))
	changed := false
	for i := 0; i < len(parts); {
		j := len(parts)
		for ; j > i; j-- {
			if t, ok := dynamic(ps, strings.Join(parts[i:j], sep)); ok {
				out = append(out, t)
				changed = true
				break
			}
		}
		if j == i {
			out, j = append(out, parts[i]), i+1
		}
		i = j
	}
	return strings.Join(out, sep), changed
}

// translateValue translates a %v value: a word, a reason, or a list of
// them joined with ", ". A list whose every item is known is translated
// item by item first, so that a pattern with a leading %s ("%s not set")
// does not take the items before it as its value.
func translateValue(ps []pattern, s string) (string, bool) {
	if items := strings.Split(s, ", "); len(items) > 1 {
		all := true
		for i, it := range items {
			t, ok := dynamic(ps, it)
			if !ok {
				all = false
				break
			}
			items[i] = t
		}
		if all {
			return strings.Join(items, ", "), true
		}
	}
	if t, ok := dynamic(ps, s); ok {
		return t, true
	}
	return translateParts(ps, s, ", ")
}

// dynamic translates s with the first of ps that matches it whole.
func dynamic(ps []pattern, s string) (string, bool) {
	if t, ok := values()[s]; ok {
		return t, true
	}
	for _, p := range ps {
		m := p.re.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		args := make([]string, len(m)-1)
		for i, v := range m[1:] {
			if p.translate[i] {
				if t, ok := translateValue(ps, v); ok {
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
