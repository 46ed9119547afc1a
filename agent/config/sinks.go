package config

import (
	"strconv"

	yamlv3 "go.yaml.in/yaml/v3"
)

// This file belongs to the reporting/drift work: it defines the schema of
// one element of the `sinks:` list. Until sink types exist, the list must be
// empty — an entry is an error rather than silently ignored, so that an
// administrator never believes reports are being delivered when they are not.

// Sink is one reporting sink.
type Sink struct {
	// Name identifies the sink in health output and logs.
	Name string
	// Type selects the sink implementation.
	Type string
}

// supportedSink reports whether t is a sink type this version implements.
func supportedSink(t string) bool {
	switch t {
	}
	return false
}

// sinks decodes the `sinks:` list.
func (d *decoder) sinks(n *yaml, field string) []Sink {
	if n.Kind == yamlv3.ScalarNode && n.Tag == "!!null" {
		return []Sink{}
	}
	if n.Kind != yamlv3.SequenceNode {
		d.errorf(n, field, "expected a list, got %s", kindName(n))
		return nil
	}
	out := make([]Sink, 0, len(n.Content))
	for i, el := range n.Content {
		f := field + "[" + strconv.Itoa(i) + "]"
		var s Sink
		d.mapping(el, f, fields{
			"name": func(f string, v *yaml) { s.Name = d.str(v, f) },
			"type": func(f string, v *yaml) {
				s.Type = d.str(v, f)
				if !supportedSink(s.Type) {
					d.errorf(v, f, "unsupported sink type %q (no sink types are available in this version)", s.Type)
				}
			},
		})
		if s.Type == "" && el.Kind == yamlv3.MappingNode {
			d.errorf(el, f+".type", "missing")
		}
		out = append(out, s)
	}
	return out
}
