package golit

import (
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

type inner struct {
	S     string
	N     *int
	Tags  []string
	Empty []string
	when  time.Time
}

type kind string

type outer struct {
	Name   string
	Kind   kind
	Count  int64
	Ratio  float64
	On     bool
	Items  []inner
	ByName map[string]inner
	ByKind map[kind][]string
	Ptr    *inner
	Arr    [2]uint8
	Skip   string
	hidden int
}

// TestExprCompilesToEqualValue writes a program holding the emitted literal
// and the value's fmt form, runs it, and compares: the only honest check
// that the source builds the same value.
func TestExprCompilesToEqualValue(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	n := 7
	v := &outer{
		Name: "a \"quoted\"\nname ü", Kind: "business", Count: -3, Ratio: 0.25, On: true,
		Items: []inner{{S: "x", N: &n, Tags: []string{"a", ""}, Empty: []string{}}, {}},
		ByName: map[string]inner{"b": {S: "b", when: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)},
			"a": {S: "a", when: time.Date(2026, 2, 1, 10, 0, 0, 0, time.FixedZone("", 3600))}},
		ByKind: map[kind][]string{"private": nil, "dual": {"d"}},
		Ptr:    &inner{S: "p"},
		Arr:    [2]uint8{0, 9},
		Skip:   "left out",
		hidden: 42,
	}
	e := &Emitter{Pkg: reflect.TypeFor[outer]().PkgPath(), Skip: func(_ reflect.Type, f reflect.StructField) bool { return f.Name == "Skip" }}
	expr, err := e.Expr(reflect.ValueOf(v))
	if err != nil {
		t.Fatal(err)
	}
	want := *v
	want.Skip = ""
	var imports strings.Builder
	for _, p := range e.Imports() {
		imports.WriteString("import \"" + p + "\"\n")
	}
	// The types above, copied into the program, and a DeepEqual against a
	// value built the ordinary way.
	src := "package main\n\nimport (\"fmt\"; \"reflect\"; \"os\")\n" + imports.String() + `
type inner struct {
	S     string
	N     *int
	Tags  []string
	Empty []string
	when  time.Time
}
type kind string
type outer struct {
	Name   string
	Kind   kind
	Count  int64
	Ratio  float64
	On     bool
	Items  []inner
	ByName map[string]inner
	ByKind map[kind][]string
	Ptr    *inner
	Arr    [2]uint8
	Skip   string
	hidden int
}
func main() {
	got := ` + expr + `
	n := 7
	want := &outer{
		Name: "a \"quoted\"\nname ü", Kind: "business", Count: -3, Ratio: 0.25, On: true,
		Items: []inner{{S: "x", N: &n, Tags: []string{"a", ""}, Empty: []string{}}, {}},
		ByName: map[string]inner{"b": {S: "b", when: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)},
			"a": {S: "a", when: time.Date(2026, 2, 1, 10, 0, 0, 0, time.FixedZone("", 3600))}},
		ByKind: map[kind][]string{"private": nil, "dual": {"d"}},
		Ptr:    &inner{S: "p"},
		Arr:    [2]uint8{0, 9},
		hidden: 42,
	}
	if !reflect.DeepEqual(got, want) {
		fmt.Printf("got  %#v\nwant %#v\n", got, want)
		os.Exit(1)
	}
	if got.Items[0].Empty == nil || got.ByKind["private"] != nil {
		fmt.Println("nil and empty slices are not kept apart")
		os.Exit(1)
	}
}
`
	formatted, err := format.Source([]byte(src))
	if err != nil {
		t.Fatalf("emitted source does not parse: %v\n%s", err, src)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), formatted, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module golittest\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "run", ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generated program: %v\n%s\n%s", err, out, formatted)
	}
}

func TestExprIsDeterministic(t *testing.T) {
	m := map[string]int{}
	for i := range 100 {
		m[string(rune('a'+i%26))+string(rune('a'+i/26))] = i
	}
	first, err := (&Emitter{Pkg: "p"}).Expr(reflect.ValueOf(m))
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		again, _ := (&Emitter{Pkg: "p"}).Expr(reflect.ValueOf(m))
		if again != first {
			t.Fatal("map output depends on iteration order")
		}
	}
}

func TestExprRefuses(t *testing.T) {
	type withFunc struct{ F func() }
	type withIface struct{ I any }
	type withForeign struct{ V reflect.Value }
	for name, v := range map[string]any{
		"func":               withFunc{F: func() {}},
		"interface":          withIface{I: 1},
		"channel":            make(chan int),
		"foreign unexported": withForeign{V: reflect.ValueOf(1)},
		"anonymous struct":   struct{ A int }{A: 1},
	} {
		if _, err := (&Emitter{Pkg: "p"}).Expr(reflect.ValueOf(v)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
