package cli

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
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
	`--[a-z-]+`,                       // flags
	`/\S*`,                            // paths
	`\b[a-z0-9]+(?:[.-][a-z0-9]+)+\b`, // rule ids, package names, host names
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
