package policy

import (
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestParseYAML pins the exported strict-YAML helper that agent/config
// shares: empty and null documents, syntax errors and the size cap.
func TestParseYAML(t *testing.T) {
	tests := []struct {
		name, in string
		null     bool   // IsYAMLNull(root)
		err      string // the *LoadError's text, "" for none
	}{
		{"empty", "", true, ""},
		{"only comments", "# nothing\n", true, ""},
		{"null document", "---\n~\n", true, ""},
		{"mapping", "a: 1\n", false, ""},
		{"two documents", "a: 1\n---\nb: 2\n", false, `f.yaml:2:1: only one YAML document is allowed (remove the second "---")`},
		{"syntax", "a: [\n", false, "f.yaml:1: syntax error: did not find expected node content"},
		{"too large", "a: 12345678901234567\n", false, "f.yaml: file is 21 bytes; the limit is 20"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, err := ParseYAML("f.yaml", []byte(tt.in), 20)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("ParseYAML(%q) error = %v; want %q", tt.in, err, tt.err)
				}
				if root != nil {
					t.Errorf("ParseYAML(%q) root = %v with an error; want nil", tt.in, root)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseYAML(%q) error = %v", tt.in, err)
			}
			if IsYAMLNull(root) != tt.null {
				t.Errorf("IsYAMLNull(ParseYAML(%q)) = %v; want %v", tt.in, !tt.null, tt.null)
			}
		})
	}
}

// TestEachYAMLPair: plain first-seen keys go to fn, duplicates and merge
// keys to bad with the line of the first definition (0 for merge keys).
func TestEachYAMLPair(t *testing.T) {
	root, err := ParseYAML("f.yaml", []byte("a: 1\nb: 2\na: 3\n<<: {c: 4}\n"), 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	var bad []int
	EachYAMLPair(root, func(key string, _, _ *yaml.Node) { keys = append(keys, key) },
		func(k *yaml.Node, first int) { bad = append(bad, k.Line, first) })
	if got, want := keys, []string{"a", "b"}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("keys = %v; want %v", got, want)
	}
	if want := []int{3, 1, 4, 0}; len(bad) != 4 || bad[0] != 3 || bad[1] != 1 || bad[2] != 4 || bad[3] != 0 {
		t.Errorf("bad (line, first) = %v; want %v", bad, want)
	}
}
