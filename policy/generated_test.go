package policy

import (
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestGeneratedDefaults checks that the generated catalog and default
// policy (default_gen.go) equal what the YAML loader makes of catalog.yaml
// and default.yaml: it fails when either file, or the schema, changed
// without `go generate ./policy/`.
func TestGeneratedDefaults(t *testing.T) {
	if LoadsEmbeddedYAML {
		t.Skip("built with -tags msgguard_yaml: the defaults are loaded from YAML")
	}
	const hint = "default_gen.go is stale: run `go generate ./policy/` and commit default_gen.go"
	all := cmp.Exporter(func(reflect.Type) bool { return true })

	wantCat, err := parseDefaultCatalog()
	if err != nil {
		t.Fatalf("catalog.yaml: %v", err)
	}
	gotCat, err := DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotCat, wantCat) {
		t.Errorf("%s\ncatalog (-generated +catalog.yaml):\n%s", hint, cmp.Diff(gotCat, wantCat, all))
	}

	want, err := parseDefault()
	if err != nil {
		t.Fatalf("default.yaml: %v", err)
	}
	got := Default()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s\npolicy (-generated +default.yaml):\n%s", hint, cmp.Diff(got, want, all))
	}
	if got.SHA256 != want.SHA256 || got.File != "default.yaml" {
		t.Errorf("%s: generated policy says file %q sha256 %s; default.yaml is %s", hint, got.File, got.SHA256, want.SHA256)
	}
}

// TestDefaultsAreFresh: callers may modify what Default and DefaultCatalog
// return (the documented contract), so each call must build new values.
func TestDefaultsAreFresh(t *testing.T) {
	a, b := Default(), Default()
	a.Messengers["whatsapp"] = MessengerRule{Decision: DecisionAllow}
	a.Catalog().Messengers[0].Name = "changed"
	if b.Messengers["whatsapp"].Decision == DecisionAllow || b.Catalog().Messengers[0].Name == "changed" {
		t.Fatal("two Default() calls share state")
	}
	c1, _ := DefaultCatalog()
	c2, _ := DefaultCatalog()
	c1.Messengers[0].Linux.Deb = append(c1.Messengers[0].Linux.Deb[:0], "changed")
	if len(c2.Messengers[0].Linux.Deb) > 0 && c2.Messengers[0].Linux.Deb[0] == "changed" {
		t.Fatal("two DefaultCatalog() calls share slices")
	}
}

// TestGeneratedDefaultsDetectChange makes sure the comparison above can
// fail: a catalog.yaml edit must show up as a difference.
func TestGeneratedDefaultsDetectChange(t *testing.T) {
	edited, err := LoadCatalog("catalog.yaml", []byte(catalogYAML+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	edited.Messengers[0].Linux.Deb = append(edited.Messengers[0].Linux.Deb, "a-new-package")
	gen, _ := DefaultCatalog()
	if reflect.DeepEqual(gen, edited) {
		t.Fatal("an added Debian package is not seen as a difference")
	}
}
