package policy

// The embedded catalog and default policy are compiled into Go
// (default_gen.go), so that a start costs no YAML parsing; a company's own
// policy file is still parsed by Load. After changing catalog.yaml,
// default.yaml or the schema's types, regenerate; TestGeneratedDefaults
// fails until then.
//
//go:generate go run -tags msgguard_yaml ./internal/gendefault -o default_gen.go
