package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadVerbsJSONAndLang: every read verb takes --json (and prints valid
// JSON) and --lang en|de in any case; any other language is exit 2; with
// LANG=de_DE.UTF-8 the text output is German.
func TestReadVerbsJSONAndLang(t *testing.T) {
	db := filepath.Join(t.TempDir(), "state.db")
	if e, _, errb := testEnv(t); runCLI(t, e, "scan", "--root", fixtureRoot, "--db", db) != exitNotCompliant {
		t.Fatalf("scan: %s", errb)
	}
	if e, _, errb := testEnv(t); func() bool { e.euid = 0; return true }() && runCLI(t, e, "attest", "telegram.secret-chats-only", "--by", "Anna", "--db", db, "--socket", "") != 0 {
		t.Fatalf("attest: %s", errb)
	}
	verbs := [][]string{
		{"status", "--db", db},
		{"drift", "--db", db, "--since", "all"},
		{"baseline", "show", "--db", db},
		{"attest", "--list", "--db", db},
		{"exempt", "--list", "--db", db},
		{"explain", "remote-wipe", "--db", db},
		{"privacy"},
		{"phones"},
		{"policy", "show"},
		{"version"},
	}
	// German words each verb's text output has in German.
	german := map[string]string{
		"status": "Richtlinie", "drift": "seit", "baseline": "Ausgangszustand", "attest": "GÜLTIG",
		"exempt": "keine lokalen Ausnahmen", "explain": "WAS UND WARUM", "privacy": "GESPEICHERT",
		"phones": "keine Smartphones", "policy": "ENTSCHEIDUNG", "version": "msgguard agent",
	}
	// phones exits 2 when no phone tool could run; it still prints.
	worst := func(name string) int {
		if name == "phones" {
			return exitUsage
		}
		return exitNotCompliant
	}
	for _, args := range verbs {
		name := strings.Join(args[:1], " ")
		e, out, errb := testEnv(t)
		e.phoneRun = noPhones{}
		if code := runCLI(t, e, append(args, "--json", "--lang", "DE")...); code > worst(name) {
			t.Errorf("%s --json --lang DE: exit %d: %s", name, code, errb)
		} else if !json.Valid(out.Bytes()) {
			t.Errorf("%s --json: not JSON:\n%s", name, out)
		}
		e, _, errb = testEnv(t)
		e.phoneRun = noPhones{}
		if code := runCLI(t, e, append(args, "--lang", "fr")...); code != exitUsage || !strings.Contains(errb.String(), "want en or de") {
			t.Errorf("%s --lang fr: exit %d, %q; want exit 2", name, code, errb)
		}
		e, out, errb = testEnv(t)
		e.phoneRun = noPhones{}
		e.getenv = func(k string) string {
			return map[string]string{"HOME": t.TempDir(), "LANG": "de_DE.UTF-8"}[k]
		}
		if code := runCLI(t, e, args...); code > worst(name) {
			t.Errorf("%s with LANG=de_DE.UTF-8: exit %d: %s", name, code, errb)
		} else if w := german[name]; !strings.Contains(strings.ToUpper(out.String()), strings.ToUpper(w)) {
			t.Errorf("%s with LANG=de_DE.UTF-8 lacks %q:\n%s", name, w, out)
		}
	}
}

// noPhones is a phone tool runner for a machine without adb and
// libimobiledevice.
type noPhones struct{}

func (noPhones) Output(context.Context, string, ...string) ([]byte, error) {
	return nil, fmt.Errorf("%w: not installed", fs.ErrNotExist)
}
