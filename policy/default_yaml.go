//go:build msgguard_yaml

package policy

import "fmt"

// LoadsEmbeddedYAML is true under the msgguard_yaml build tag: the embedded
// catalog and default policy are loaded from their YAML at every call. The
// generator (internal/gendefault) builds with this tag, so that it reads the
// YAML and never the generated file it replaces.
const LoadsEmbeddedYAML = true

func genDefaultCatalog() *Catalog {
	c, err := parseDefaultCatalog()
	if err != nil {
		panic(fmt.Sprintf("policy: embedded catalog.yaml does not load: %v", err))
	}
	return c
}

func genDefaultPolicy() *Policy {
	p, err := parseDefault()
	if err != nil {
		panic(fmt.Sprintf("policy: embedded default.yaml does not load: %v", err))
	}
	return p
}
