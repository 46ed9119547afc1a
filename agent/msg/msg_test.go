package msg

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
)

// verbs are the printf verbs of s, in order.
var verbRE = regexp.MustCompile(`%[-+# 0]*[0-9]*(?:\.[0-9]+)?[a-zA-Z%]`)

// TestCatalog: every message the CLI passes to T has a German text with
// the same format verbs in the same order, and the catalog has no unused
// entries.
func TestCatalog(t *testing.T) {
	used := map[string]bool{}
	files, _ := filepath.Glob("../cli/*.go")
	fset := token.NewFileSet()
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "T" {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); !ok || id.Name != "msg" {
				return true
			}
			lit, ok := call.Args[1].(*ast.BasicLit)
			if !ok {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			used[s] = true
			if _, ok := de[s]; !ok {
				t.Errorf("%s: %q has no German text", fset.Position(lit.Pos()), s)
			}
			return true
		})
	}
	if len(used) < 100 {
		t.Fatalf("found only %d messages in ../cli; is the parser looking at the right files?", len(used))
	}
	for en, g := range de {
		if !used[en] {
			t.Errorf("%q is in the catalog but no longer used", en)
		}
		if !slices.Equal(verbRE.FindAllString(en, -1), verbRE.FindAllString(g, -1)) {
			t.Errorf("format verbs differ:\n en %q\n de %q", en, g)
		}
		if g == "" {
			t.Errorf("%q: empty German text", en)
		}
	}
}

func TestLanguage(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
		ok   bool
	}{{"en", EN, true}, {"DE", DE, true}, {"De", DE, true}, {" en ", EN, true}, {"fr", "", false}, {"", "", false}, {"de_DE", "", false}} {
		if got, ok := Parse(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("Parse(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"LANG": "de_DE.UTF-8"}, DE},
		{map[string]string{"LANG": "de_DE.UTF-8", "LC_ALL": "C"}, EN},
		{map[string]string{"LANG": "C", "LC_MESSAGES": "de_AT.UTF-8"}, DE},
		{map[string]string{}, EN},
	} {
		if got := FromEnv(env(tt.env)); got != tt.want {
			t.Errorf("FromEnv(%v) = %q; want %q", tt.env, got, tt.want)
		}
	}
	if T("de_DE.UTF-8", "met") != "erfüllt" || T("en", "met") != "met" || T("de", "no such message") != "no such message" {
		t.Error("T does not look up by language")
	}
}
