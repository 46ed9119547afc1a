package phonetest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	in := "serial: X1\n# comment\n-- getprop --\n[a]: [b]\n-- dpm list-owners [exit=255] --\nusage\n-- pm list users [hang] --\n"
	want := Fixture{ID: "X1", Cmds: []Recording{
		{Cmd: "getprop", Body: "[a]: [b]\n"},
		{Cmd: "dpm list-owners", Body: "usage\n", Exit: 255, Stderr: true},
		{Cmd: "pm list users", Hang: true},
	}}
	got, err := Parse(in, "serial")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
	for _, bad := range []string{
		"udid: X1\n-- getprop --\n",               // wrong identifier line
		"serial: X1\n-- getprop [exit=x] --\n",    // bad exit status
		"serial: X1\n-- getprop [sometimes] --\n", // unknown annotation
	} {
		if _, err := Parse(bad, "serial"); err == nil {
			t.Errorf("Parse(%q) succeeded; want an error", bad)
		}
	}
}
