package config

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	yamlv3 "go.yaml.in/yaml/v3"

	"github.com/msgguard/msgguard/policy"
)

// yaml is a parsed YAML node; the decoder walks nodes itself rather than
// using yaml's reflection so that every error carries the line and column
// of the offending key or value and unknown keys are always errors.
type yaml = yamlv3.Node

// Error is one configuration error at a position in the file.
type Error struct {
	File   string
	Line   int
	Column int
	// Field is the dotted path of the setting ("scan.interval",
	// "sinks[0].type"); empty for document-level errors.
	Field string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: ", e.File, e.Line, e.Column)
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every error found in one file, in document order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap lets errors.As find an *Error.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// maxErrors stops a garbage file from producing megabytes of messages.
const maxErrors = 50

// decoder walks a YAML node tree and collects errors. Exported through
// decode helpers so that sinks.go (owned by the reporting work) can use the
// same strict, positioned decoding.
type decoder struct {
	file string
	errs ErrorList
}

// fields maps a key to the function decoding its value; the function gets
// the dotted field path and the value node.
type fields map[string]func(field string, v *yaml)

func (d *decoder) errorf(n *yaml, field, format string, args ...any) {
	if len(d.errs) >= maxErrors {
		return
	}
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Column: col, Field: field, Msg: fmt.Sprintf(format, args...)})
	if len(d.errs) == maxErrors {
		d.errs = append(d.errs, &Error{File: d.file, Line: line, Column: col, Msg: "too many errors"})
	}
}

// document parses data with the strict-YAML rules shared with the policy
// loader (policy.ParseYAML: one document, size cap, syntax errors on the
// line they are really on) and returns the top-level mapping, or nil for an
// empty document or after recording an error.
func (d *decoder) document(data []byte) *yaml {
	root, lerr := policy.ParseYAML(d.file, data, MaxSize)
	if lerr != nil {
		// Config errors always carry a position; yaml.v3 reports no
		// column for syntax errors and none at all for a few.
		line, col := max(lerr.Line, 1), max(lerr.Column, 1)
		d.errs = append(d.errs, &Error{File: d.file, Line: line, Column: col, Field: lerr.Field, Msg: lerr.Msg})
		return nil
	}
	if policy.IsYAMLNull(root) {
		return nil
	}
	if hasAlias(root, 0) {
		d.errorf(root, "", "YAML anchors and aliases are not allowed")
		return nil
	}
	if root.Kind != yamlv3.MappingNode {
		d.errorf(root, "", "expected a mapping of settings, got %s", kindName(root))
		return nil
	}
	return root
}

// hasAlias reports whether n contains an alias (or is nested absurdly deep).
// Aliases are refused so that a "billion laughs" file cannot blow up memory.
func hasAlias(n *yaml, depth int) bool {
	if n.Kind == yamlv3.AliasNode || n.Anchor != "" || depth > 20 {
		return true
	}
	for _, c := range n.Content {
		if hasAlias(c, depth+1) {
			return true
		}
	}
	return false
}

func kindName(n *yaml) string {
	switch n.Kind {
	case yamlv3.MappingNode:
		return "a mapping"
	case yamlv3.SequenceNode:
		return "a list"
	case yamlv3.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an unsupported node"
}

func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// mapping decodes a mapping node with exactly the known keys: unknown and
// duplicate keys are errors. A null value (an empty section) is accepted.
func (d *decoder) mapping(n *yaml, field string, known fields) {
	if n.Kind == yamlv3.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yamlv3.MappingNode {
		d.errorf(n, field, "expected a mapping, got %s", kindName(n))
		return
	}
	policy.EachYAMLPair(n, func(key string, k, v *yaml) {
		f := join(field, key)
		fn, ok := known[key]
		if !ok {
			d.errorf(k, f, "unknown setting%s", suggest(key, known))
			return
		}
		fn(f, v)
	}, func(k *yaml, first int) {
		if first == 0 {
			d.errorf(k, field, "keys must be plain strings")
			return
		}
		d.errorf(k, join(field, k.Value), "duplicate key")
	})
}

// suggest names the known keys so that a typo is easy to fix.
func suggest(key string, known fields) string {
	names := make([]string, 0, len(known))
	for k := range known {
		names = append(names, k)
	}
	slices.Sort(names)
	return " (known: " + strings.Join(names, ", ") + ")"
}

func (d *decoder) scalar(n *yaml, field string) (string, bool) {
	if n.Kind != yamlv3.ScalarNode {
		d.errorf(n, field, "expected a single value, got %s", kindName(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) str(n *yaml, field string) string {
	s, ok := d.scalar(n, field)
	if !ok {
		return ""
	}
	if n.Tag == "!!null" {
		return ""
	}
	if n.Tag != "!!str" {
		d.errorf(n, field, "expected a string, got %s", kindName(n))
		return ""
	}
	return s
}

func (d *decoder) boolean(n *yaml, field string) bool {
	s, ok := d.scalar(n, field)
	if !ok {
		return false
	}
	if n.Tag != "!!bool" {
		d.errorf(n, field, "expected true or false, got %s", kindName(n))
		return false
	}
	return s == "true" || s == "True" || s == "TRUE"
}

func (d *decoder) intRange(n *yaml, field string, lo, hi int) int {
	s, ok := d.scalar(n, field)
	if !ok {
		return 0
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
	if n.Tag != "!!int" || err != nil {
		d.errorf(n, field, "expected a whole number, got %s", kindName(n))
		return 0
	}
	if v < int64(lo) || v > int64(hi) {
		d.errorf(n, field, "%d is out of range [%d, %d]", v, lo, hi)
		return 0
	}
	return int(v)
}

func (d *decoder) floatRange(n *yaml, field string, lo, hi float64) float64 {
	s, ok := d.scalar(n, field)
	if !ok {
		return 0
	}
	v, err := strconv.ParseFloat(s, 64)
	if (n.Tag != "!!int" && n.Tag != "!!float") || err != nil || math.IsNaN(v) {
		d.errorf(n, field, "expected a number, got %s", kindName(n))
		return 0
	}
	if v < lo || v > hi {
		d.errorf(n, field, "%g is out of range [%g, %g]", v, lo, hi)
		return 0
	}
	return v
}

// durationRange decodes a Go duration string ("1h", "90s"). A bare number is
// refused: "interval: 60" is ambiguous (seconds? minutes?).
func (d *decoder) durationRange(n *yaml, field string, lo, hi time.Duration) time.Duration {
	s, ok := d.scalar(n, field)
	if !ok {
		return 0
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		msg := "expected a duration such as 90s, 15m or 1h"
		if errors.Is(err, strconv.ErrRange) || strings.Contains(err.Error(), "overflow") {
			msg = "duration out of range"
		}
		d.errorf(n, field, "%s, got %s", msg, kindName(n))
		return 0
	}
	if v < lo || v > hi {
		d.errorf(n, field, "%s is out of range [%s, %s]", v, lo, hi)
		return 0
	}
	return v
}
