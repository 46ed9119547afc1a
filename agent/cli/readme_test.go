package cli

import (
	"flag"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite the README's example outputs")

// readmePath is the README whose examples this test owns.
const readmePath = "../../README.md"

// TestReadmeExamples: the example outputs in README.md are what the agent
// prints for the Debian fixture tree, so they cannot drift from the code.
// Each example sits between <!-- golden NAME --> and <!-- end golden -->;
// run with -update-readme after a change in what the agent prints. The
// policy digest is shown as xxxxxxxxxxxx so that a policy edit does not
// change the README.
func TestReadmeExamples(t *testing.T) {
	saved := time.Local
	time.Local = time.UTC
	defer func() { time.Local = saved }()
	at := time.Date(2026, 11, 27, 14, 18, 55, 0, time.UTC)
	db := t.TempDir() + "/state.db"
	run := func(args ...string) string {
		e, out, errb := testEnv(t)
		e.now = func() time.Time { return at }
		e.euid = 0 // the administrator's view, as with sudo
		code := runCLI(t, e, args...)
		if code > exitNotCompliant {
			t.Fatalf("agent %s: exit %d: %s", strings.Join(args, " "), code, errb)
		}
		return "$ sudo agent " + strings.Join(readable(args), " ") + "\n" + out.String()
	}
	examples := map[string]string{
		"scan":      run("scan", "--root", fixtureRoot, "--db", db, "--lang", "en"),
		"status-de": run("status", "--db", db, "--lang", "de"),
		"explain":   run("explain", "messenger.whatsapp", "--db", db, "--lang", "en"),
	}
	digest := regexp.MustCompile(`sha256 [0-9a-f]{12}`)
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for name, out := range examples {
		out = digest.ReplaceAllString(out, "sha256 xxxxxxxxxxxx")
		start, end := "<!-- golden "+name+" -->\n```\n", "```\n<!-- end golden -->"
		i := strings.Index(got, start)
		if i < 0 {
			t.Errorf("README.md has no %q block", start)
			continue
		}
		j := strings.Index(got[i:], end)
		if j < 0 {
			t.Errorf("README.md: the %s block has no end marker", name)
			continue
		}
		got = got[:i+len(start)] + out + got[i+j:]
	}
	if got == string(b) {
		return
	}
	if *updateReadme {
		if err := os.WriteFile(readmePath, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's example outputs differ from what the agent prints; run go test ./agent/cli -run TestReadmeExamples -update-readme\n%s", firstDiff(string(b), got))
}

// readable shortens the fixture paths in an example's command line.
func readable(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		if args[i] == "--db" || args[i] == "--lang" && args[i+1] == "en" {
			i++
			continue
		}
		if args[i] == "--root" {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// firstDiff shows the first line where a and b differ.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return "line " + strconv.Itoa(i+1) + ":\n README: " + al[i] + "\n agent:  " + bl[i]
		}
	}
	return "lengths differ"
}
