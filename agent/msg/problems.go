package msg

import (
	"slices"
	"strings"
	"sync"
)

// problemPatterns translate the messages of inventory problems
// (policy.Problem.Message): what a probe could not read or would not
// follow. They are written like the probe reasons in dynamic.go, and a
// problem no pattern here matches is tried with those. %v marks a value
// the probes build from a known set (describeErr's "does not exist", a
// folder's name in the browser probe), %s a value kept as it is (a path,
// a count, the text of an operating-system error). TestProblemTexts finds
// every problem text the platform packages write and fails when one has
// no pattern. Specific patterns come first, the generic ones last.
var problemPatterns = []struct{ en, de string }{
	// platform.Problems' summary of a probe that hit its bound
	{"%s more problems not listed", "%s weitere Probleme nicht aufgeführt"},
	// agent/scan, when no probe found a machine id
	{`no machine id found; using "local" as the device id`, `keine Maschinen-ID gefunden; Gerätekennung ist "local"`},
	// linux
	{"no messenger catalog; nothing matched", "kein Messenger-Katalog; nichts zugeordnet"},
	{"no package database could be read (dpkg status or RPM database), installed packages are not inventoried", "keine Paketdatenbank lesbar (dpkg-Status oder RPM-Datenbank), installierte Pakete werden nicht erfasst"},
	{"scan cancelled, the inventory is incomplete: %s", "Scan abgebrochen, die Bestandsaufnahme ist unvollständig: %s"},
	{"accounts not read, per-user sources are skipped: %v", "Benutzerkonten nicht gelesen, benutzerbezogene Quellen werden übersprungen: %s"},
	{"home not read, the messengers in it are unknown: %v", "Home-Verzeichnis nicht gelesen, die Messenger darin sind unbekannt: %s"},
	{"no usable machine id, the device id is empty: %v", "keine brauchbare Maschinen-ID, die Gerätekennung ist leer: %s"},
	{"hostname not read: %v", "Hostname nicht gelesen: %s"},
	{"OS version not read: %v", "Betriebssystemversion nicht gelesen: %s"},
	{"logind idle settings not read, IdleAction=lock is not counted: %v", "Leerlauf-Einstellungen von logind nicht gelesen, IdleAction=lock wird nicht berücksichtigt: %s"},
	{"dpkg status database is malformed, packages after the error are not inventoried: %s", "dpkg-Statusdatenbank fehlerhaft, Pakete nach dem Fehler werden nicht erfasst: %s"},
	{"dpkg status database not read, Debian packages are not inventoried: %v", "dpkg-Statusdatenbank nicht gelesen, Debian-Pakete werden nicht erfasst: %s"},
	{"RPM database found but no command runner is configured; RPM packages are not inventoried", "RPM-Datenbank gefunden, aber kein Befehlsaufruf eingerichtet; RPM-Pakete werden nicht erfasst"},
	{"RPM database found but the root has no OS path; RPM packages are not inventoried", "RPM-Datenbank gefunden, aber das Wurzelverzeichnis hat keinen Pfad im Betriebssystem; RPM-Pakete werden nicht erfasst"},
	{"rpm query failed, RPM packages are not inventoried: %v", "rpm-Abfrage fehlgeschlagen, RPM-Pakete werden nicht erfasst: %s"},
	{"rpm output is malformed: %v", "Ausgabe von rpm fehlerhaft: %s"},
	{"snap mount directory not read: %v", "Snap-Einhängeverzeichnis nicht gelesen: %s"},
	{"snap blob directory not read: %v", "Snap-Blob-Verzeichnis nicht gelesen: %s"},
	{"per-user Flatpak installation not read: %v", "Flatpak-Installation des Benutzers nicht gelesen: %s"},
	{"Flatpak installation not read: %v", "Flatpak-Installation nicht gelesen: %s"},
	{"application directory not read: %v", "Anwendungsverzeichnis nicht gelesen: %s"},
	{"directory not read, its messengers' data directories are unknown: %v", "Verzeichnis nicht gelesen, die Datenverzeichnisse seiner Messenger sind unbekannt: %s"},
	{"aggregator's service folder not read: %v", "Dienstordner des Messenger-Sammelprogramms nicht gelesen: %s"},
	{"directory not read: %v", "Verzeichnis nicht gelesen: %s"},
	{"process table not read: %v", "Prozesstabelle nicht gelesen: %s"},
	{"not followed: symbolic link", "nicht verfolgt: symbolischer Link"},
	{"not looked at: %v", "nicht geprüft: %s"},
	{"not read: %v", "nicht gelesen: %s"},
	{"more than %s categories; only the first %s were looked at", "mehr als %s Kategorien; nur die ersten %s wurden geprüft"},
	{"more than %s entries; the rest were not looked at", "mehr als %s Einträge; die übrigen wurden nicht geprüft"},
	{"more than %s entries; the rest were not read", "mehr als %s Einträge; die übrigen wurden nicht gelesen"},
	{"more than %s entries; the rest were skipped", "mehr als %s Einträge; die übrigen wurden übersprungen"},
	{"more services than are listed; only the first were reported", "mehr Dienste als aufgeführt; nur die ersten wurden gemeldet"},
	// darwin
	{"local accounts not read, per-user sources are skipped: directory records: %v; `dscl . -list /Users`: %v", "lokale Benutzerkonten nicht gelesen, benutzerbezogene Quellen werden übersprungen: Verzeichniseinträge: %s; `dscl . -list /Users`: %s"},
	{"more than %s account records; the rest were skipped", "mehr als %s Kontoeinträge; die übrigen wurden übersprungen"},
	{"skipped account record: %v", "Kontoeintrag übersprungen: %s"},
	{"applications folder not listed, installed apps are unknown: %v", "Programme-Ordner nicht aufgelistet, installierte Apps sind unbekannt: %s"},
	{"cannot list applications: %v", "Programme nicht auflistbar: %s"},
	{"cannot list folder: %v", "Ordner nicht auflistbar: %s"},
	{"cannot list processes: %v", "Prozesse nicht auflistbar: %s"},
	{"cannot look at folder: %v", "Ordner nicht prüfbar: %s"},
	{"cannot read home: %v", "Home-Verzeichnis nicht lesbar: %s"},
	{"cannot read idle time: %v", "Leerlaufzeit nicht lesbar: %s"},
	{"cannot read managed preferences: %v", "verwaltete Einstellungen nicht lesbar: %s"},
	{"cannot read the host name: %v", "Hostname nicht lesbar: %s"},
	{"cannot read the macOS version: %v", "macOS-Version nicht lesbar: %s"},
	{"cannot parse nvram output; Find My state unknown: %v", "Ausgabe von nvram nicht auswertbar; Zustand von „Wo ist?“ unbekannt: %s"},
	{"nvram -x -p failed; Find My state unknown: %v", "nvram -x -p fehlgeschlagen; Zustand von „Wo ist?“ unbekannt: %s"},
	{"pmset -g custom failed: %v", "pmset -g custom fehlgeschlagen: %s"},
	{"profiles -L failed: %v", "profiles -L fehlgeschlagen: %s"},
	{"no hardware UUID (%v); device id derived from the host name, which can change", "keine Hardware-UUID (%s); Gerätekennung aus dem Hostnamen abgeleitet, der sich ändern kann"},
	{"folder has too many entries; only part was searched", "Ordner hat zu viele Einträge; nur ein Teil wurde durchsucht"},
	{"skipped home: not a real directory (a symbolic link is not followed)", "Home-Verzeichnis übersprungen: kein echtes Verzeichnis (einem symbolischen Link wird nicht gefolgt)"},
	{"skipped user folders below: %v", "Benutzerordner darunter übersprungen: %s"},
	{"skipped bundle: %v", "Bundle übersprungen: %s"},
	{"skipped web app: %v", "Web-App übersprungen: %s"},
	{"skipped: Info.plist read budget for this scan is spent", "übersprungen: das Lesebudget für Info.plist ist in diesem Scan aufgebraucht"},
	{"skipped: symbolic link is not followed", "übersprungen: einem symbolischen Link wird nicht gefolgt"},
	{"skipped: symbolic link to %s is not followed", "übersprungen: dem symbolischen Link auf %s wird nicht gefolgt"},
	{"skipped: %v", "übersprungen: %s"},
	{"social-networking app with an invalid bundle identifier; not assessed", "App der Kategorie Soziale Netze mit ungültiger Bundle-ID; nicht bewertet"},
	{"web-app folder not inspected: %v", "Web-App-Ordner nicht geprüft: %s"},
	{"web-app folder not read: %v", "Web-App-Ordner nicht gelesen: %s"},
	// windows; Microsoft's German texts call a reparse point an
	// Analysepunkt and a hive a Registrierungsstruktur
	{"machine-wide installed programs not read: %v", "systemweit installierte Programme nicht gelesen: %s"},
	{"user profiles not listed, per-user sources are skipped: %v", "Benutzerprofile nicht aufgelistet, benutzerbezogene Quellen werden übersprungen: %s"},
	{"loaded user hives not listed, per-user registry sources may be skipped: %v", "geladene Registrierungsstrukturen (Hives) der Benutzer nicht aufgelistet, benutzerbezogene Registrierungsquellen werden eventuell übersprungen: %s"},
	{"user %s: hive not readable: %v", "Benutzer %s: Registrierungsstruktur (Hive) nicht lesbar: %s"},
	{"hive file: %v", "Hive-Datei: %s"},
	{"value %s is missing", "Wert %s fehlt"},
	// the registry reader's type errors (platform/windows/registry.go)
	{"value %s is %s, expected a string: unexpected registry value type", "Wert %s ist %s, erwartet war eine Zeichenkette: unerwarteter Typ des Registrierungswerts"},
	{"value %s is %s, expected a number: unexpected registry value type", "Wert %s ist %s, erwartet war eine Zahl: unerwarteter Typ des Registrierungswerts"},
	{"value %s is not a decimal number: unexpected registry value type", "Wert %s ist keine Dezimalzahl: unerwarteter Typ des Registrierungswerts"},
	{"profile %s is not on the scanned drive %s; its files are not checked", "Profil %s liegt nicht auf dem geprüften Laufwerk %s; seine Dateien werden nicht geprüft"},
	{"bad uninstall display_name pattern: %s", "ungültiges Muster in uninstall.display_name: %s"},
	{"bad uninstall publisher pattern: %s", "ungültiges Muster in uninstall.publisher: %s"},
	{"%s processes, only the first %s inspected", "%s Prozesse, nur die ersten %s geprüft"},
	{"%s malformed line(s) skipped, first at line %s", "%s fehlerhafte Zeile(n) übersprungen, die erste in Zeile %s"},
	{"%s malformed line(s), first at line %s", "%s fehlerhafte Zeile(n), die erste in Zeile %s"},
	// android
	{"no entry for %s in the dump", "kein Eintrag für %s in der Ausgabe"},
	// browsers (platform/browser, for every OS)
	{"%s data folder has more than %s entries; only the first were looked at", "Datenordner von %s hat mehr als %s Einträge; nur die ersten wurden geprüft"},
	{"%s has more than %s profiles; the rest were not inspected", "%s hat mehr als %s Profile; die übrigen wurden nicht geprüft"},
	{"%s profile not inspected: it is a symbolic link or reparse point, which is not followed", "Profil %s nicht geprüft: es ist ein symbolischer Link oder Analysepunkt, dem nicht gefolgt wird"},
	{"%v not inspected: a symbolic link or reparse point below the home is not followed", "%s nicht geprüft: einem symbolischen Link oder Analysepunkt unterhalb des Home-Verzeichnisses wird nicht gefolgt"},
	{"site storage folder not inspected: a symbolic link or reparse point is not followed", "Ordner der Website-Daten nicht geprüft: einem symbolischen Link oder Analysepunkt wird nicht gefolgt"},
	{"site storage folder has more than %s entries; the catalog's origins were looked up one by one", "Ordner der Website-Daten hat mehr als %s Einträge; die Ursprünge aus dem Katalog wurden einzeln nachgeschlagen"},
	{"a profile path outside the user's home is not inspected", "ein Profilpfad außerhalb des Home-Verzeichnisses des Benutzers wird nicht geprüft"},
	{"a relative profile path leaves the Firefox folder; that profile is not inspected", "ein relativer Profilpfad verlässt den Firefox-Ordner; dieses Profil wird nicht geprüft"},
	{"profile list not read, profile folders were searched instead: %v", "Profilliste nicht gelesen, stattdessen wurden die Profilordner durchsucht: %s"},
	{"profile list not understood, profile folders were searched instead: %s", "Profilliste nicht verstanden, stattdessen wurden die Profilordner durchsucht: %s"},
	{"more than %s entries; only the first were searched for profiles", "mehr als %s Einträge; nur die ersten wurden nach Profilen durchsucht"},
	{"more than %s profiles; the rest were not inspected", "mehr als %s Profile; die übrigen wurden nicht geprüft"},
}

// problemGeneric are the problems' generic shapes, tried after every
// specific pattern (the reasons' too: "package database not read: %s"
// must not become "%v not read: %v") and before the reasons' generic ones,
// which keep their values untranslated.
var problemGeneric = []struct{ en, de string }{
	{"%v not looked at: %v", "%s nicht geprüft: %s"},
	{"%v not read: %v", "%s nicht gelesen: %s"},
	// folder names inside the browser probe's problems (see also values)
	{"%s data folder", "Datenordner von %s"},
	{"%s profile", "Profil %s"},
	// errors of the platform readers and the command runner, when a
	// probe passes one on whole ("open x: refusing to follow ...")
	{"file exceeds the read limit (%s bytes > %s)", "Datei überschreitet die Lesegrenze (%s Bytes > %s)"},
	{"timed out after %s", "Zeitüberschreitung nach %s"},
	{"%s: output exceeds %s bytes", "%s: Ausgabe größer als %s Bytes"},
	{"%s is not below %s", "%s liegt nicht unter %s"},
	{"%s: refusing to follow a symbolic link", "%s: symbolischem Link wird nicht gefolgt"},
	{"%s: refusing to follow a junction or reparse point", "%s: einer Verzeichnisverbindung (Junction) oder einem Analysepunkt wird nicht gefolgt"},
	{"%s: not a regular file", "%s: keine reguläre Datei"},
	{"%s: not a directory", "%s: kein Verzeichnis"},
	{"%s: file exceeds the read limit (%s bytes > %s)", "%s: Datei überschreitet die Lesegrenze (%s Bytes > %s)"},
	{"%s: command not installed", "%s: Befehl nicht installiert"},
	{"%s: command not in the allowed table", "%s: Befehl nicht in der Liste der erlaubten Befehle"},
	{"%s: no recorded output for command", "%s: keine aufgezeichnete Ausgabe für den Befehl"},
}

// problemTable is problemPatterns, the probe reasons' patterns, then the
// generic ones of both: a probe may record a reason as a problem (Linux:
// "alice: <reason>"), and an error a problem passes on may have a
// reason's shape.
var problemTable = sync.OnceValue(func() []pattern {
	return compile(slices.Concat(problemPatterns, patterns, problemGeneric, genericPatterns))
})

// Problem translates the message of an inventory problem
// (policy.Problem.Message) into lang; a message no pattern matches stays
// as it is. Only the human output is translated: JSON keeps the probes'
// English, which is its contract.
func Problem(lang, s string) string {
	if FromLocale(lang) != DE || s == "" {
		return s
	}
	return problemParts(s)
}

// problemParts translates problems joined with "; " (policy's list of
// unread core sources), or one problem whose text has "; " inside: from
// each part on, the longest run of parts that is one known problem is
// translated as one; the rest stays as it is.
func problemParts(s string) string {
	parts := strings.Split(s, "; ")
	out := make([]string, 0, len(parts))
	for i := 0; i < len(parts); {
		j := len(parts)
		for ; j > i; j-- {
			if t, ok := problem(strings.Join(parts[i:j], "; ")); ok {
				out = append(out, t)
				break
			}
		}
		if j == i {
			out, j = append(out, parts[i]), i+1
		}
		i = j
	}
	return strings.Join(out, "; ")
}

// problem translates one problem, which may be labelled with what it is
// about: "alice: <reason>" (the Linux screen-lock probe names the user),
// "/etc/passwd: <message>" (policy names the path of an unread core
// source). A label is a path or a word without spaces (a user name); an
// error text of the operating system ("open /x: permission denied") is
// neither and stays as it is.
func problem(s string) (string, bool) {
	ps := problemTable()
	if t, ok := dynamic(ps, s); ok {
		return t, true
	}
	head, rest, ok := strings.Cut(s, ": ")
	if !ok || head == "" || strings.Contains(head, " ") && !strings.HasPrefix(head, "/") && !strings.Contains(head, `\`) {
		return "", false
	}
	if t, ok := dynamic(ps, rest); ok {
		return head + ": " + t, true
	}
	return "", false
}

// unreadMarkers begin, in policy's German finding texts, the list of
// unread core sources (policy's unread: "path: message; message"), which
// runs to the end of the text.
var unreadMarkers = []string{"Dieses Gerät konnte nicht geprüft werden: ", "Darauf ist kein Verlass: "}

// translateUnread translates the problems in the list of unread core
// sources at the end of a German finding text s; head is what comes
// before the marker, to be translated by the caller.
func translateUnread(s string) (head, translated string, ok bool) {
	for _, m := range unreadMarkers {
		i := strings.Index(s, m)
		if i < 0 {
			continue
		}
		list := s[i+len(m):]
		list, dot := strings.CutSuffix(list, ".")
		t := problemParts(list)
		if dot {
			t += "."
		}
		return s[:i], m + t, true
	}
	return "", "", false
}

// NamesUnread reports whether a German finding text s ends in the list of
// unread core sources, which Dynamic translates.
func NamesUnread(s string) bool {
	for _, m := range unreadMarkers {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}
