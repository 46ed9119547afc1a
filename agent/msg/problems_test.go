package msg

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestProblemTexts: every problem message a platform package can write
// has a German pattern. Each message format is filled with sample values
// and translated as Problem translates it for the human output; the
// result must keep none of the format's English text.
func TestProblemTexts(t *testing.T) {
	_, problems := platformTexts(t, "../../platform")
	// agent/scan adds one of its own.
	_, own := platformTexts(t, "../scan")
	problems = append(problems, own...)
	found := map[string]bool{}
	for _, p := range problems {
		found[p.format] = true
	}
	// The collector must keep seeing problems of every kind: a helper's
	// last argument, AddCore, a policy.Problem literal, addf's format, an
	// error created in the call, and describeErr's own texts.
	for _, want := range []string{
		"not followed: symbolic link",                  // c.problem(..., "...")
		"more than %s entries; the rest were not read", // c.problem(..., fmt.Sprintf(...))
		"machine-wide installed programs not read: %s", // s.probs.AddCore(...)
		"no package database could be read (dpkg status or RPM database), installed packages are not inventoried", // policy.Problem{Message: ...}
		"profile %s is not on the scanned drive %s; its files are not checked",                                    // s.probs.addf(...)
		"user %s: hive not readable: %s",                    // s.probs.add(..., fmt.Errorf(...))
		"application directory not read: permission denied", // describeErr(err)
		"%s more problems not listed",                       // platform.Problems' summary
	} {
		if !found[want] {
			t.Errorf("the collector no longer finds the problem %q", want)
		}
	}
	if len(problems) < 100 {
		t.Fatalf("found only %d problem texts under ../../platform; is the collector looking at the right code?", len(problems))
	}
	kept := keptWords(slices.Concat(problemPatterns, patterns, problemGeneric, genericPatterns))
	for _, p := range problems {
		got := Problem(DE, fillSample(p.format))
		if w := englishLeft(p.format, got, kept); w != "" {
			t.Errorf("%s: problem %q has no German pattern in problems.go (translated: %q, still English: %q)", p.pos, p.format, got, w)
		}
	}
}

func TestProblem(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"application directory not read: permission denied", "Anwendungsverzeichnis nicht gelesen: keine Berechtigung"},
		{"application directory not read: open usr/share/applications: input/output error", "Anwendungsverzeichnis nicht gelesen: open usr/share/applications: input/output error"},
		{"not followed: symbolic link", "nicht verfolgt: symbolischer Link"},
		{"not read: refusing to follow a symbolic link", "nicht gelesen: symbolischem Link wird nicht gefolgt"},
		{"more than 4096 entries; the rest were not read", "mehr als 4096 Einträge; die übrigen wurden nicht gelesen"},
		{"3 more problems not listed", "3 weitere Probleme nicht aufgeführt"},
		// the browser probe names the folder
		{"Chrome data folder not read: permission denied", "Datenordner von Chrome nicht gelesen: keine Berechtigung"},
		{"site storage folder not looked at: does not exist", "Ordner der Website-Daten nicht geprüft: existiert nicht"},
		{"Firefox profile not inspected: a symbolic link or reparse point below the home is not followed",
			"Profil Firefox nicht geprüft: einem symbolischen Link oder Analysepunkt unterhalb des Home-Verzeichnisses wird nicht gefolgt"},
		// errors the Windows probe makes of an unreadable hive
		{"user anna: hive not readable: user is not logged in and hives cannot be loaded",
			"Benutzer anna: Registrierungsstruktur (Hive) nicht lesbar: Benutzer ist nicht angemeldet, und Registrierungsstrukturen (Hives) lassen sich nicht laden"},
		{"user anna: hive not readable: hive file: lstat Users/anna/NTUSER.DAT: refusing to follow a junction or reparse point",
			"Benutzer anna: Registrierungsstruktur (Hive) nicht lesbar: Hive-Datei: lstat Users/anna/NTUSER.DAT: einer Verzeichnisverbindung (Junction) oder einem Analysepunkt wird nicht gefolgt"},
		{"value ProfileImagePath is missing", "Wert ProfileImagePath fehlt"},
		{"2 malformed line(s) skipped, first at line 7", "2 fehlerhafte Zeile(n) übersprungen, die erste in Zeile 7"},
		{`value "DisplayName" is REG_DWORD, expected a string: unexpected registry value type`,
			`Wert "DisplayName" ist REG_DWORD, erwartet war eine Zeichenkette: unerwarteter Typ des Registrierungswerts`},
		{"pmset -g custom failed: no command runner configured", "pmset -g custom fehlgeschlagen: kein Befehlsaufruf eingerichtet"},
		{"rpm output is malformed: 1 malformed line(s), first at line 2", "Ausgabe von rpm fehlerhaft: 1 fehlerhafte Zeile(n), die erste in Zeile 2"},
		// agent/scan's own problem
		{`no machine id found; using "local" as the device id`, `keine Maschinen-ID gefunden; Gerätekennung ist "local"`},
		// a reason's own pattern wins over the problems' generic shape
		{"package database not read: bad header", "Paketdatenbank nicht gelesen: bad header"},
		// a user's name before a probe reason (Linux screen lock)
		{"alice: cannot read GNOME settings: permission denied", "alice: Einstellungen von GNOME nicht lesbar: permission denied"},
		// an error text of the operating system stays as it is
		{"open /home/alice/.config: input/output error", "open /home/alice/.config: input/output error"},
		{"something new", "something new"},
	} {
		if got := Problem("de", tt.in); got != tt.want {
			t.Errorf("Problem(de, %q) =\n %q; want\n %q", tt.in, got, tt.want)
		}
		if got := Problem("en", tt.in); got != tt.in {
			t.Errorf("Problem(en, %q) = %q; want it unchanged", tt.in, got)
		}
	}
	// policy's German texts that end in the list of unread core sources
	// (unread: "path: message", joined with "; "); a problem of that list
	// may have "; " inside.
	for _, tt := range []struct{ in, want string }{
		{"Dieses Gerät konnte nicht geprüft werden: /etc/passwd: accounts not read, per-user sources are skipped: does not exist.",
			"Dieses Gerät konnte nicht geprüft werden: /etc/passwd: Benutzerkonten nicht gelesen, benutzerbezogene Quellen werden übersprungen: existiert nicht."},
		{"Kein Messenger gefunden. Darauf ist kein Verlass: /var/db/dslocal/nodes/Default/users: local accounts not read, per-user sources are skipped: directory records: permission denied; `dscl . -list /Users`: exit status 1; no package database could be read (dpkg status or RPM database), installed packages are not inventoried.",
			"Kein Messenger gefunden. Darauf ist kein Verlass: /var/db/dslocal/nodes/Default/users: lokale Benutzerkonten nicht gelesen, benutzerbezogene Quellen werden übersprungen: Verzeichniseinträge: keine Berechtigung; `dscl . -list /Users`: exit status 1; keine Paketdatenbank lesbar (dpkg-Status oder RPM-Datenbank), installierte Pakete werden nicht erfasst."},
		{`X ist gesperrt. Prüfdetail: no active MDM enrollment. Darauf ist kein Verlass: HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList: user profiles not listed, per-user sources are skipped: the key does not exist.`,
			`X ist gesperrt. Prüfdetail: keine aktive MDM-Registrierung. Darauf ist kein Verlass: HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList: Benutzerprofile nicht aufgelistet, benutzerbezogene Quellen werden übersprungen: der Schlüssel existiert nicht.`},
	} {
		if !NamesUnread(tt.in) {
			t.Errorf("NamesUnread(%q) = false", tt.in)
		}
		if got := Dynamic("de", tt.in); got != tt.want {
			t.Errorf("Dynamic(de, %q) =\n %q; want\n %q", tt.in, got, tt.want)
		}
	}
	// The markers are policy's texts; a change there must reach here.
	src, err := os.ReadFile("../../policy/evaluate.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range unreadMarkers {
		if !strings.Contains(string(src), `"`+m+`%s."`) {
			t.Errorf("policy/evaluate.go no longer writes %q before the unread sources; update unreadMarkers", m)
		}
	}
	for _, p := range slices.Concat(problemPatterns, problemGeneric) {
		if strings.Contains(p.de, "%v") {
			t.Errorf("pattern %q: the German %q has %%v; write %%s", p.en, p.de)
		}
	}
}
