package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/msgguard/msgguard/policy"
)

// TestGeneratedFileIsCurrent regenerates default_gen.go the way `go
// generate ./policy/` does and compares it with the committed file, so a
// changed catalog.yaml, default.yaml, schema or generator cannot go
// unnoticed.
func TestGeneratedFileIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the generator")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	out := filepath.Join(t.TempDir(), "default_gen.go")
	cmd := exec.Command(goTool, "run", "-tags", "msgguard_yaml", ".", "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gendefault: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join("..", "..", "default_gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, committed) {
		t.Fatal("policy/default_gen.go is stale: run `go generate ./policy/` and commit it")
	}
}

// TestGenerateNeedsYAMLTag: built without the tag, the generator would
// copy the generated values into themselves; it must refuse.
func TestGenerateNeedsYAMLTag(t *testing.T) {
	if policy.LoadsEmbeddedYAML {
		t.Skip("built with the tag")
	}
	if _, err := generate(); err == nil {
		t.Fatal("generate succeeded without -tags msgguard_yaml")
	}
}
