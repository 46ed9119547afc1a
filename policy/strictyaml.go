package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// This file is the strict-YAML layer shared by the policy and catalog
// loaders and by the agent's configuration (agent/config): parsing exactly
// one document with a size cap, turning yaml.v3's syntax errors into the
// line the problem is really on, and walking a mapping's keys with
// duplicate and non-plain keys refused. Each caller words its own messages
// for the fields it knows; the parsing rules are the same for every file an
// administrator writes.

// ParseYAML parses data as exactly one YAML document and returns the
// document's content node. It returns a nil node and a nil error when the
// file holds no document at all (empty, or only comments), and the null
// node for a document that is just "~" or "---"; IsYAMLNull tells both
// apart from content. A file larger than limit, a syntax error, a second
// document or a parser panic is returned as a *LoadError naming file and,
// where known, the line (Column is 0 for syntax errors: yaml.v3 reports
// none).
func ParseYAML(file string, data []byte, limit int) (root *yaml.Node, err *LoadError) {
	if len(data) > limit {
		return nil, &LoadError{File: file, Msg: fmt.Sprintf("file is %d bytes; the limit is %d", len(data), limit)}
	}
	defer func() {
		// yaml.v3 has panicked on some malformed inputs in the past; a
		// file an administrator wrote must never crash the agent.
		if r := recover(); r != nil {
			root, err = nil, &LoadError{File: file, Msg: "not valid YAML (parser failure)"}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if e := dec.Decode(&doc); e != nil {
		if errors.Is(e, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(file, data, e)
	}
	var extra yaml.Node
	switch e := dec.Decode(&extra); {
	case e == nil:
		return nil, &LoadError{File: file, Line: extra.Line, Column: extra.Column,
			Msg: "only one YAML document is allowed (remove the second \"---\")"}
	case !errors.Is(e, io.EOF):
		return nil, syntaxError(file, data, e)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: doc.Line, Column: doc.Column}, nil
	}
	return doc.Content[0], nil
}

// IsYAMLNull reports whether n is absent or an empty value ("key:" with
// nothing after it, "~", "null").
func IsYAMLNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// EachYAMLPair calls fn for every entry of the mapping node n whose key is
// a plain name seen for the first time, in file order. Every other key is
// passed to bad: firstLine is the line of the first definition for a
// duplicate key, and 0 for a key that is not a plain name (a complex key or
// a "<<" merge key, which would copy settings from elsewhere unseen). The
// caller checks that n is a mapping.
func EachYAMLPair(n *yaml.Node, fn func(key string, k, v *yaml.Node), bad func(k *yaml.Node, firstLine int)) {
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
			bad(k, 0)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			bad(k, first)
			continue
		}
		seen[k.Value] = k.Line
		fn(k.Value, k, v)
	}
}

func syntaxError(file string, data []byte, err error) *LoadError {
	msg := err.Error()
	m := yamlLineRe().FindStringSubmatch(msg)
	if m == nil {
		return &LoadError{File: file, Msg: "syntax error: " + strings.TrimPrefix(msg, "yaml: ")}
	}
	line, _ := strconv.Atoi(m[1])
	return &LoadError{File: file, Line: problemLine(data, line, m[2]), Msg: "syntax error: " + m[2]}
}
