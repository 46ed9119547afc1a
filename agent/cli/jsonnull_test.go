package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/msgguard/msgguard/agent/store"
)

// nullAllowed lists the JSON paths (object keys joined by ".", list
// elements as "[]") where null is documented as "no such object" rather
// than an empty list. Every other null fails TestReadVerbsJSONNoNullLists.
// It is empty: the optional objects of the read verbs' JSON (a report's
// service, an attestation or exemption on a finding, a summary's
// compliant) are omitted when absent, never null.
var nullAllowed = map[string]bool{}

// nullPaths returns the paths of every null in v, decoded from JSON.
func nullPaths(v any, path string, out *[]string) {
	switch x := v.(type) {
	case nil:
		*out = append(*out, path)
	case map[string]any:
		for k, e := range x {
			nullPaths(e, path+"."+k, out)
		}
	case []any:
		for _, e := range x {
			nullPaths(e, path+"[]", out)
		}
	}
}

// TestReadVerbsJSONNoNullLists runs every read verb with --json on a
// fresh (empty) database and on one holding a fixture scan, as root and as
// a local user, and fails on any null in the output outside nullAllowed:
// JSON is a contract, an empty list is [], never null.
func TestReadVerbsJSONNoNullLists(t *testing.T) {
	fresh := filepath.Join(t.TempDir(), "fresh.db")
	st, err := store.Open(fresh, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	scanned := filepath.Join(t.TempDir(), "scanned.db")
	if e, _, errb := testEnv(t); runCLI(t, e, "scan", "--root", fixtureRoot, "--db", scanned) != exitNotCompliant {
		t.Fatalf("scan: %s", errb)
	}
	// Administrators' records, an accepted baseline and a rescan, so that
	// the records, the audit log and the history are not empty either.
	until := time.Now().AddDate(0, 1, 0).Format("2006-01-02")
	for _, args := range [][]string{
		{"attest", "telegram.secret-chats-only", "--by", "Anna", "--note", "n"},
		{"exempt", "messenger.whatsapp", "--user", "alice", "--reason", "r", "--approver", "a", "--until", until},
		{"baseline", "accept", "--by", "Anna", "--why", "w"},
		{"scan", "--root", fixtureRoot},
	} {
		e, _, errb := testEnv(t)
		e.euid = 0
		if code := runCLI(t, e, append(args, "--db", scanned, "--socket", "")...); code != 0 && code != exitNotCompliant {
			t.Fatalf("agent %s: exit %d: %s", strings.Join(args, " "), code, errb)
		}
	}
	sources := []struct {
		name string
		args []string // how a verb that reads the device's state reaches it
	}{
		{"fresh db", []string{"--db", fresh, "--socket", ""}},
		{"scanned db", []string{"--db", scanned, "--socket", ""}},
	}
	if sock := serviceForReads(t); sock != "" {
		sources = append(sources, struct {
			name string
			args []string
		}{"service", []string{"--socket", sock}})
	}
	verbs := []struct {
		args  []string
		state bool // reads the device's state (takes --db/--socket)
	}{
		{[]string{"status"}, true},
		{[]string{"drift", "--since", "all"}, true},
		{[]string{"drift", "--since", "all", "--all"}, true},
		{[]string{"baseline", "show"}, true},
		{[]string{"attest", "--list"}, true},
		{[]string{"exempt", "--list"}, true},
		{[]string{"explain", "remote-wipe"}, true},
		{[]string{"explain", "messenger.whatsapp"}, true},
		{[]string{"explain", "attestation.telegram.secret-chats-only"}, true},
		{[]string{"privacy"}, false},
		{[]string{"phones"}, false},
		{[]string{"policy", "show"}, false},
		{[]string{"version"}, false},
	}
	for _, src := range sources {
		for _, euid := range []int{0, 1000} {
			for _, v := range verbs {
				args := append([]string(nil), v.args...)
				if v.state {
					args = append(args, src.args...)
				}
				args = append(args, "--json")
				name := fmt.Sprintf("%s, euid %d: agent %s", src.name, euid, strings.Join(args, " "))
				e, out, errb := testEnv(t)
				e.euid = euid
				e.phoneRun = noPhones{}
				code := runCLI(t, e, args...)
				if out.Len() == 0 {
					// Only a verb with nothing to show (no scan yet) may
					// answer with an error instead; it must say so.
					if src.name != "fresh db" || code == 0 || errb.Len() == 0 {
						t.Errorf("%s: exit %d, no output: %s", name, code, errb)
					}
					continue
				}
				var val any
				if err := json.Unmarshal(out.Bytes(), &val); err != nil {
					t.Errorf("%s: not JSON: %v\n%s", name, err, out)
					continue
				}
				var nulls []string
				nullPaths(val, "", &nulls)
				sort.Strings(nulls)
				for _, p := range nulls {
					if !nullAllowed[p] {
						t.Errorf("%s: null at %s", name, p)
					}
				}
			}
		}
	}
}
