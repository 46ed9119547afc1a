package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/msgguard/msgguard/platform/platformtest"
)

// englishGiveaways are English words that do not occur in German text;
// the human output of a read verb in German must have none outside the
// names germanAllowed knows. Lower case only: German nouns such as "Scan"
// and "Version" are German too.
var englishGiveaways = regexp.MustCompile(`\b(the|The|not|user|users|could|cannot|is|are|were|and|or|of|for|with|without|from|found|no|No|none|this|This|that|which|whether|Whether|failed|unreadable|unknown|read|set|since|until|by|on|off|yet|events?|findings?|rules?|policy|device|scanned|service|running|profile|embedded|enrolled|passed|failing|phones?|attested|exempt)\b`)

// germanAllowed are the names in the fixture's German output that contain
// such a word: catalog product names, the policy's name, the error text
// of the operating system, ids, paths and the commands and flags the
// text tells the reader to run. A space in a pattern matches a line break
// too (the report wraps).
var germanAllowed = regexp.MustCompile(strings.ReplaceAll(strings.Join([]string{
	`Microsoft Teams \((work or school|free)\)`,
	`GDPR messenger policy \(msgguard default\)`,
	`no such file or directory`,
	`agent (attest|exempt|explain) [A-Za-z.-]+`, // a command to run
	`'agent [a-z][^']*'`,                        // a quoted command to run
	`(?:^|\s)-[a-z-]+`,                          // flags in help
	`^agent [a-z]+( [a-z]+)?:`,                  // the verb an error is of
	`--[a-z-]+`,                                 // flags
	`/\S*`,                                      // paths
	`\b[a-z0-9]+(?:[.-][a-z0-9]+)+\b`,           // rule ids, package names, host names
}, "|"), " ", `\s+`))

// withoutFieldLists drops privacy's lists of the JSON fields it stores
// ("Felder: device.id, findings[].rule, ..." and their continuation
// lines): field names, not text.
func withoutFieldLists(s string) string {
	var out []string
	inFields := false
	for _, l := range strings.Split(s, "\n") {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "Felder:"):
			inFields = true
			continue
		case inFields && strings.HasPrefix(l, "    ") && !strings.HasPrefix(t, "wo:") && !strings.HasPrefix(t, "aufbewahrt:"):
			continue
		}
		inFields = false
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// TestReadVerbsGerman: every read verb's text output with --lang de, on a
// fixture scan with an attestation and an exemption, has no English word
// outside names, ids and paths.
func TestReadVerbsGerman(t *testing.T) {
	db := filepath.Join(t.TempDir(), "state.db")
	if e, _, errb := testEnv(t); runCLI(t, e, "scan", "--root", fixtureRoot, "--db", db) != exitNotCompliant {
		t.Fatalf("scan: %s", errb)
	}
	e, _, errb := testEnv(t)
	e.euid = 0
	if code := runCLI(t, e, "attest", "telegram.secret-chats-only", "--by", "Anna", "--note", "Schulung", "--db", db, "--socket", ""); code != 0 {
		t.Fatalf("attest: exit %d: %s", code, errb)
	}
	e, _, errb = testEnv(t)
	e.euid = 0
	if code := runCLI(t, e, "exempt", "disk-encryption", "--subject", "/", "--reason", "Altgerät wird ersetzt", "--approver", "IT-Leitung",
		"--until", time.Now().AddDate(0, 2, 0).Format("2006-01-02"), "--db", db); code != 0 {
		t.Fatalf("exempt: exit %d: %s", code, errb)
	}
	for _, args := range [][]string{
		{"status", "--db", db, "--socket", ""},
		{"status", "--verbose", "--db", db, "--socket", ""},
		{"drift", "--db", db, "--socket", "", "--since", "all"},
		{"baseline", "show", "--db", db, "--socket", ""},
		{"attest", "--list", "--db", db},
		{"exempt", "--list", "--db", db},
		{"explain", "remote-wipe", "--db", db, "--socket", ""},
		{"explain", "disk-encryption", "--db", db, "--socket", ""},
		{"explain", "messenger.telegram", "--db", db, "--socket", ""},
		{"privacy"},
		{"phones"},
		{"policy", "show"},
		{"version"},
	} {
		name := strings.Join(args[:min(2, len(args))], " ")
		e, out, errb := testEnv(t)
		e.euid = 0
		e.phoneRun = noPhones{}
		if code := runCLI(t, e, append(args, "--lang", "de")...); code > exitUsage {
			t.Errorf("%s --lang de: exit %d: %s", name, code, errb)
			continue
		}
		if out.Len() == 0 {
			t.Errorf("%s --lang de printed nothing", name)
		}
		text := withoutFieldLists(out.String())
		text = germanAllowed.ReplaceAllStringFunc(text, func(s string) string {
			return strings.Repeat("_", len(s)) // keeps the lines apart
		})
		for i, line := range strings.Split(text, "\n") {
			if w := englishGiveaways.FindString(line); w != "" {
				t.Errorf("%s --lang de: %q is English in line %d:\n%s", name, w, i+1, line)
			}
		}
	}
}

// TestErrorsGerman: the CLI's own errors on stderr follow --lang (or the
// environment), with the same exit codes in both languages.
func TestErrorsGerman(t *testing.T) {
	db := filepath.Join(t.TempDir(), "state.db")
	if e, _, errb := testEnv(t); runCLI(t, e, "scan", "--root", fixtureRoot, "--db", db) != exitNotCompliant {
		t.Fatalf("scan: %s", errb)
	}
	missing := filepath.Join(t.TempDir(), "none.db")
	for _, tt := range []struct {
		args []string
		code int
		de   string // in German stderr
		en   string // in English stderr
	}{
		{[]string{"status", "--db", missing, "--socket", ""}, exitNoScan, "noch kein Scan in", "no scan recorded yet in"},
		{[]string{"status", "--bogus"}, exitUsage, "agent status: unbekannte Option -bogus", "agent status: unknown flag -bogus"},
		{[]string{"status", "--verbose=vielleicht"}, exitUsage, "ungültiger Wert \"vielleicht\" für -verbose (erlaubt: true oder false)", "invalid value \"vielleicht\" for -verbose"},
		{[]string{"status", "--db"}, exitUsage, "Option -db braucht einen Wert", "flag -db needs a value"},
		{[]string{"status", "extra", "--db", db}, exitUsage, "unerwartetes Argument \"extra\"", "unexpected argument \"extra\""},
		{[]string{"drift", "--since", "gestern", "--db", db}, exitUsage, "--since: erwartet ein Alter wie 7d", "--since: want an age such as 7d"},
		{[]string{"explain", "no.such-rule", "--db", db}, exitUsage, "unbekannte Regel \"no.such-rule\"", "unknown rule \"no.such-rule\""},
		{[]string{"attest", "--list", "x", "--db", db}, exitUsage, "--list nimmt keine Regel", "--list takes no rule"},
		{[]string{"attest", "--until", "morgen", "x"}, exitUsage, "--until: \"morgen\" ist kein Datum", "--until: \"morgen\" is not a date"},
		{[]string{"exempt", "disk-encryption", "--reason", "r", "--approver", "a", "--until", "2020-01-01", "--db", db}, exitUsage,
			"liegt nicht in der Zukunft", "is not in the future"},
		{[]string{"policy", "frob"}, exitUsage, "unbekannter Unterbefehl \"frob\"", "unknown subcommand \"frob\""},
		{[]string{"frob"}, exitUsage, "unbekannter Befehl \"frob\"", "unknown command \"frob\""},
		{[]string{"explain"}, exitUsage, "Aufruf: agent explain", "usage: agent explain"},
	} {
		for _, lang := range []string{"de", "en"} {
			e, _, errb := testEnv(t)
			e.euid = 0
			args := append(append([]string{}, tt.args...), "--lang", lang)
			if tt.args[0] != "policy" {
				// Before the other flags, as people type it.
				args = append([]string{tt.args[0], "--lang", lang}, tt.args[1:]...)
			}
			if tt.args[0] == "frob" {
				// No verb to take --lang: the environment decides.
				args = tt.args
				e.getenv = func(k string) string { return map[string]string{"LANG": lang}[k] }
			}
			code := runCLI(t, e, args...)
			want := map[string]string{"de": tt.de, "en": tt.en}[lang]
			if code != tt.code || !strings.Contains(errb.String(), want) {
				t.Errorf("%v: exit %d, stderr:\n%s\nwant exit %d and %q", args, code, errb, tt.code, want)
			}
			if lang != "de" {
				continue
			}
			// The first line is the error; the usage after it is help.
			first, _, _ := strings.Cut(errb.String(), "\n")
			first = germanAllowed.ReplaceAllString(first, "_")
			if w := englishGiveaways.FindString(first); w != "" {
				t.Errorf("%v: %q is English in %q", args, w, first)
			}
		}
	}
}

// TestErrorLangAfterArgument: a --lang after an argument the flag package
// stops at still decides the language of the error about that argument.
func TestErrorLangAfterArgument(t *testing.T) {
	e, _, errb := testEnv(t)
	if code := runCLI(t, e, "status", "extra", "--lang", "de"); code != exitUsage || !strings.Contains(errb.String(), `unerwartetes Argument "extra"`) {
		t.Errorf("exit %d, stderr %q; want exit 2 in German", code, errb)
	}
}

// TestHelpGerman: the help of the CLI and of every verb follows --lang.
func TestHelpGerman(t *testing.T) {
	e, _, errb := testEnv(t)
	if code := runCLI(t, e, "help", "--lang", "de"); code != 0 || !strings.Contains(errb.String(), "Befehle:") {
		t.Errorf("help --lang de: exit %d:\n%s", code, errb)
	}
	for _, v := range verbs() {
		e, _, errb := testEnv(t)
		e.getenv = func(k string) string { return map[string]string{"LANG": "de_DE.UTF-8"}[k] }
		runCLI(t, e, v.name, "-h")
		text := errb.String()
		if !strings.Contains(text, "Aufruf: agent "+v.name) {
			t.Errorf("%s -h with LANG=de_DE.UTF-8:\n%s", v.name, text)
			continue
		}
		// Skip the usage lines: their syntax (--db FILE) is the same in
		// both languages.
		for i, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(line, "Aufruf:") || strings.HasPrefix(line, "       ") {
				continue
			}
			line = germanAllowed.ReplaceAllString(line, "_")
			if w := englishGiveaways.FindString(line); w != "" {
				t.Errorf("%s -h: %q is English in line %d: %s", v.name, w, i+1, line)
			}
		}
	}
}

// probeIDs are the probe ids in problem evidence and in scan.incomplete's
// list of probes.
var probeIDs = regexp.MustCompile(`Nachweis: [a-z_-]+ ·|\((?:[a-z_-]+(?:, )?)+\);`)

// TestProblemsGerman: the problems a scan reports (what a probe could not
// read or would not follow) are German in the human output with --lang
// de (scan, status --verbose, explain): the evidence of scan.incomplete and scan.could-not-check, the
// verdict line and the findings that say they cannot be relied on. The
// JSON keeps the probes' English, its contract.
func TestProblemsGerman(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fixture needs symbolic links")
	}
	// A link named like Signal's desktop entry in bob's home, pointing
	// at /etc/shadow: refused, and reported.
	root := platformtest.CopyTree(t, fixtureRoot)
	if err := os.Symlink("/etc/shadow", filepath.Join(root, "home/bob/.local/share/applications/signal-desktop.desktop")); err != nil {
		t.Fatal(err)
	}
	// Without /etc/passwd no home is read: a core problem, so the verdict
	// is "could not check".
	noPasswd := platformtest.CopyTree(t, fixtureRoot)
	if err := os.Remove(filepath.Join(noPasswd, "etc/passwd")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, root, rule string
		en               string   // the problem as the probe wrote it, in the JSON
		de               []string // in the German output (spaces match line breaks)
	}{
		{"symlink", root, "scan.incomplete", "not followed: symbolic link",
			[]string{"nicht verfolgt: symbolischer Link"}},
		{"no passwd", noPasswd, "scan.could-not-check", "accounts not read, per-user sources are skipped: does not exist",
			[]string{
				"NICHT PRÜFBAR: nicht gelesen: /etc/passwd Benutzerkonten nicht gelesen",
				"Dieses Gerät konnte nicht geprüft werden: /etc/passwd: Benutzerkonten nicht gelesen, benutzerbezogene Quellen werden übersprungen: existiert nicht.",
				"Darauf ist kein Verlass: /etc/passwd: Benutzerkonten nicht gelesen",
				"Nachweis: users · /etc/passwd · Benutzerkonten nicht gelesen, benutzerbezogene Quellen werden übersprungen: existiert nicht",
			}},
	} {
		db := filepath.Join(t.TempDir(), "state.db")
		// The scan itself, in German: agent/scan words scan.incomplete in
		// English, the CLI in the scan's language.
		e, out, errb := testEnv(t)
		if runCLI(t, e, "scan", "--root", tt.root, "--db", db, "--verbose", "--lang", "de") != exitNotCompliant {
			t.Fatalf("%s: scan: %s", tt.name, errb)
		}
		if strings.Contains(out.String(), tt.en) || strings.Contains(out.String(), "could not be inspected") {
			t.Errorf("%s: scan --verbose --lang de shows English:\n%s", tt.name, out)
		}
		e, out, _ = testEnv(t)
		runCLI(t, e, "status", "--json", "--lang", "de", "--db", db, "--socket", "")
		if !strings.Contains(out.String(), `"message": "`+tt.en+`"`) && !strings.Contains(out.String(), `"message":"`+tt.en+`"`) {
			t.Errorf("%s: status --json --lang de does not keep the problem %q in English:\n%s", tt.name, tt.en, out)
		}
		var text strings.Builder
		for _, args := range [][]string{
			{"status", "--verbose", "--db", db, "--socket", ""},
			{"explain", tt.rule, "--db", db, "--socket", ""},
		} {
			e, out, errb := testEnv(t)
			e.euid = 0
			if code := runCLI(t, e, append(args, "--lang", "de")...); code > exitUsage {
				t.Errorf("%s: %s --lang de: exit %d: %s", tt.name, args[0], code, errb)
			}
			if strings.Contains(out.String(), tt.en) {
				t.Errorf("%s: %s --lang de shows the problem in English:\n%s", tt.name, args[0], out)
			}
			masked := germanAllowed.ReplaceAllStringFunc(out.String(), func(s string) string {
				return strings.Repeat("_", len(s))
			})
			// Probe ids ("users", "desktop") are ids: the evidence's
			// source, and the list in scan.incomplete's message.
			masked = probeIDs.ReplaceAllStringFunc(masked, func(s string) string {
				return strings.Repeat("_", len(s))
			})
			for i, line := range strings.Split(masked, "\n") {
				if w := englishGiveaways.FindString(line); w != "" {
					t.Errorf("%s: %s --lang de: %q is English in line %d:\n%s", tt.name, args[0], w, i+1, line)
				}
			}
			text.WriteString(out.String())
		}
		flat := strings.Join(strings.Fields(text.String()), " ")
		for _, want := range tt.de {
			if !strings.Contains(flat, want) {
				t.Errorf("%s: the German output lacks %q:\n%s", tt.name, want, text.String())
			}
		}
	}
}
