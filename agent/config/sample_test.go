package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/msgguard/msgguard/install"
)

// TestSample checks that the sample parses to the defaults, and that
// uncommenting it (which sets every value to its default) does too.
func TestSample(t *testing.T) {
	for _, goos := range []string{"linux", "darwin", "windows"} {
		p := install.PathsFor(goos, "")
		def := Default(p)
		s := Sample(p)
		got, err := Parse("sample.yaml", s, def)
		if err != nil {
			t.Fatalf("%s: Parse(sample): %v", goos, err)
		}
		if diff := cmp.Diff(def, got); diff != "" {
			t.Errorf("%s: sample differs from defaults:\n%s", goos, diff)
		}
		// Prose comments are "# Text"; settings are "#key:" or, nested,
		// "#  key:".
		var lines []string
		for _, l := range strings.Split(string(s), "\n") {
			if !(strings.HasPrefix(l, "# ") && len(l) > 2 && l[2] != ' ') {
				lines = append(lines, strings.TrimPrefix(l, "#"))
			}
		}
		un := strings.Join(lines, "\n")
		got, err = Parse("uncommented.yaml", []byte(un), def)
		if err != nil {
			t.Fatalf("%s: Parse(uncommented sample): %v\n%s", goos, err, un)
		}
		if diff := cmp.Diff(def, got); diff != "" {
			t.Errorf("%s: uncommented sample differs from defaults:\n%s", goos, diff)
		}
		if !strings.Contains(un, "interval: 1h0m0s") {
			t.Errorf("%s: uncommented sample lacks the interval", goos)
		}
	}
}
