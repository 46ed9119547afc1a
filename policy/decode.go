package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize caps a policy or catalog file. Real policies are a few
// kilobytes; the cap keeps a hostile file from costing memory or time.
const MaxFileSize = 1 << 20

// maxErrors stops reporting after this many problems: a file that is not a
// policy at all would otherwise produce one error per line.
const maxErrors = 50

// LoadError is one problem in a policy or catalog file. Line and Column are
// 1-based; Column is 0 where the YAML parser does not report one (syntax
// errors), Line is 0 for problems of the whole file (too large, empty).
// Field is the dotted path of the offending field ("messengers.whatsapp.decision",
// "catalog.messengers[0].id"), empty for syntax errors.
type LoadError struct {
	File   string
	Line   int
	Column int
	Field  string
	Msg    string
}

// Error reads "file:line:col: field.path: message"; the column is left out
// when unknown and the field when empty, so a syntax error reads
// "file:line: message".
func (e *LoadError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
		if e.Column > 0 {
			b.WriteString(":")
			b.WriteString(strconv.Itoa(e.Column))
		}
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// LoadErrors returns every *LoadError inside err (which Load and LoadCatalog
// build with errors.Join), in file order. It returns nil for other errors.
func LoadErrors(err error) []*LoadError {
	if err == nil {
		return nil
	}
	var out []*LoadError
	var walk func(error)
	walk = func(e error) {
		if le, ok := e.(*LoadError); ok {
			out = append(out, le)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var le *LoadError
		if errors.As(e, &le) {
			out = append(out, le)
		}
	}
	walk(err)
	return out
}

// position is where a node starts in the file.
type position struct{ line, col int }

// decoder walks a yaml.Node tree into Go values strictly: unknown keys,
// duplicate keys, wrong scalar types and aliases are errors with a line and
// column. It records the position of every decoded field so that semantic
// checks after decoding can point at the right line too.
//
// It exists because yaml.v3's KnownFields reports unknown keys but stops at
// the first one, reports no column, silently accepts duplicate keys when
// decoding into a yaml.Node, and coerces scalars ("yes" into a bool field).
type decoder struct {
	file   string
	errs   []*LoadError
	pos    map[string]position // value node per field path
	keyPos map[string]position // key node per map entry path
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, pos: map[string]position{}, keyPos: map[string]position{}}
}

// nodeDecoder is implemented by types with their own YAML shape (Text,
// Decision, Severity, Variant).
type nodeDecoder interface {
	decodeNode(d *decoder, n *yaml.Node, path string)
}

func (d *decoder) add(p position, path, msg string) {
	if len(d.errs) == maxErrors {
		d.errs = append(d.errs, &LoadError{File: d.file, Msg: "too many errors; stopped reporting"})
	}
	if len(d.errs) > maxErrors {
		return
	}
	d.errs = append(d.errs, &LoadError{File: d.file, Line: p.line, Column: p.col, Field: path, Msg: msg})
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	d.add(position{n.Line, n.Column}, path, fmt.Sprintf(format, args...))
}

// at returns the recorded position of path (its value), falling back to the
// closest recorded parent so a check on an absent field points at its
// enclosing mapping.
func (d *decoder) at(path string) position {
	for p := path; ; {
		if pos, ok := d.pos[p]; ok {
			return pos
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return d.pos[""]
		}
		p = p[:i]
	}
}

// atKey returns the position of a map entry's key, or of its value.
func (d *decoder) atKey(path string) position {
	if pos, ok := d.keyPos[path]; ok {
		return pos
	}
	return d.at(path)
}

// err returns the collected errors joined, or nil.
func (d *decoder) err() error {
	if len(d.errs) == 0 {
		return nil
	}
	// Decoding and the semantic checks run in two passes; report in
	// reading order. A "too many errors" marker stays last.
	n := min(len(d.errs), maxErrors)
	sort.SliceStable(d.errs[:n], func(i, j int) bool {
		a, b := d.errs[i], d.errs[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	errs := make([]error, len(d.errs))
	for i, e := range d.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// yamlLineRe matches yaml.v3 syntax errors: "yaml: line 3: did not find ...".
var yamlLineRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^yaml: line (\d+): (.*)$`) })

// parseDocument parses data into the content node of its single YAML
// document (ParseYAML). Errors are recorded on d; nil means nothing to decode.
func (d *decoder) parseDocument(data []byte) *yaml.Node {
	root, err := ParseYAML(d.file, data, MaxFileSize)
	if err != nil {
		d.add(position{err.Line, err.Column}, err.Field, err.Msg)
		return nil
	}
	if IsYAMLNull(root) {
		p := position{}
		if root != nil {
			p = position{root.Line, root.Column}
		}
		d.add(p, "", "file is empty")
		return nil
	}
	return root
}

// maxRefineSize bounds the files whose syntax-error line is refined (each
// refinement step re-parses a prefix of the file).
const maxRefineSize = 64 << 10

// problemLine returns the line a YAML syntax error is really on. yaml.v3
// reports the line where the enclosing construct starts ("line 3: did not
// find expected key" for a mis-indented key on line 6), which sends an admin
// to the wrong place. The first line whose inclusion makes the file fail with
// the same message is the culprit: a binary search over line-prefixes of the
// file finds it with O(log n) parses. reported is returned when the search
// does not apply.
func problemLine(data []byte, reported int, msg string) int {
	if len(data) > maxRefineSize || reported < 1 {
		return reported
	}
	ends := lineEnds(data)
	if reported > len(ends) {
		return reported
	}
	fails := func(k int) bool { return prefixFailsWith(data[:ends[k-1]], msg) }
	lo, hi := reported, len(ends) // fails(hi) holds for the whole file
	if !fails(hi) {
		return reported
	}
	if fails(lo) {
		return lo
	}
	for hi-lo > 1 { // invariant: !fails(lo) && fails(hi)
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// lineEnds returns the end offset (after the newline) of every line.
func lineEnds(data []byte) []int {
	var ends []int
	for i, b := range data {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		ends = append(ends, len(data))
	}
	return ends
}

// prefixFailsWith reports whether parsing b fails with the given problem.
func prefixFailsWith(b []byte, msg string) (fails bool) {
	defer func() {
		if recover() != nil {
			fails = false
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) {
			return false
		}
		m := yamlLineRe().FindStringSubmatch(err.Error())
		return m != nil && m[2] == msg
	}
}

// decode fills v (addressable) from n.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	d.pos[path] = position{n.Line, n.Column}
	if n.Kind == yaml.AliasNode {
		d.errorf(n, path, "aliases (*%s) are not allowed; write the value out", n.Value)
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // "key:" with no value keeps the zero value
	}
	if v.CanAddr() {
		if nd, ok := v.Addr().Interface().(nodeDecoder); ok {
			nd.decodeNode(d, n, path)
			return
		}
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Pointer:
		elem := reflect.New(v.Type().Elem())
		d.decode(n, elem.Elem(), path)
		v.Set(elem)
	case reflect.String:
		if s, ok := d.str(n, path); ok {
			v.SetString(s)
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		d.decodeInt(n, v, path)
	case reflect.Bool:
		if !d.expectScalar(n, path, "!!bool", "true or false") {
			return
		}
		var b bool
		if err := n.Decode(&b); err != nil {
			d.errorf(n, path, "expected true or false, got %q", n.Value)
			return
		}
		v.SetBool(b)
	default:
		d.errorf(n, path, "internal error: cannot decode into %s", v.Type())
	}
}

// str returns a string scalar.
func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	if !d.expectScalar(n, path, "!!str", "a string") {
		return "", false
	}
	return n.Value, true
}

func (d *decoder) decodeInt(n *yaml.Node, v reflect.Value, path string) {
	if !d.expectScalar(n, path, "!!int", "a whole number") {
		return
	}
	var i int64
	if err := n.Decode(&i); err != nil || v.OverflowInt(i) {
		d.errorf(n, path, "number %s is out of range", n.Value)
		return
	}
	v.SetInt(i)
}

// expectScalar checks that n is a scalar with the given resolved tag.
func (d *decoder) expectScalar(n *yaml.Node, path, tag, want string) bool {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == tag {
		return true
	}
	hint := ""
	if tag == "!!str" && n.Kind == yaml.ScalarNode {
		hint = " (put it in quotes)"
	}
	d.errorf(n, path, "expected %s, got %s%s", want, describe(n), hint)
	return false
}

// describe names what a node is, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return fmt.Sprintf("the string %q", truncate(n.Value, 40))
		case "!!int":
			return "a whole number"
		case "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "an empty value"
		case "!!timestamp":
			return "a date"
		}
		return "a " + strings.TrimPrefix(n.ShortTag(), "!!") + " value"
	}
	return "something else"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// mapping iterates the key/value pairs of a mapping node, reporting
// non-string and duplicate keys. fn is called for every valid pair.
func (d *decoder) mapping(n *yaml.Node, path string, fn func(key string, k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping (key: value), got %s", describe(n))
		return
	}
	EachYAMLPair(n, fn, func(k *yaml.Node, first int) {
		if first == 0 {
			d.errorf(k, path, "keys must be plain names (merge keys and complex keys are not allowed)")
			return
		}
		d.errorf(k, join(path, k.Value), "duplicate key %q (first defined on line %d)", k.Value, first)
	})
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	fields := structFields(v.Type())
	d.mapping(n, path, func(key string, k, val *yaml.Node) {
		idx, ok := fields[key]
		if !ok {
			msg := fmt.Sprintf("unknown key %q", key)
			if s := suggest(key, fieldNames(fields)); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			d.errorf(k, join(path, key), "%s", msg)
			return
		}
		fp := join(path, key)
		d.keyPos[fp] = position{k.Line, k.Column}
		d.decode(val, v.FieldByIndex(idx), fp)
	})
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if v.Type().Key().Kind() != reflect.String {
		d.errorf(n, path, "internal error: map key type %s", v.Type().Key())
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	d.mapping(n, path, func(key string, k, val *yaml.Node) {
		fp := join(path, key)
		d.keyPos[fp] = position{k.Line, k.Column}
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, elem, fp)
		v.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), elem)
	})
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "expected a list, got %s", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(s)
}

// structFields maps YAML key names to field index paths, from `yaml:"name"`
// tags; an embedded struct tagged `yaml:",inline"` (RuleCommon) contributes
// its fields as if they were the outer struct's. Fields tagged "-" or
// without a tag are not decodable.
func structFields(t reflect.Type) map[string][]int {
	m := make(map[string][]int, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.Anonymous && name == "" && opts == "inline" && f.Type.Kind() == reflect.Struct {
			for k, idx := range structFields(f.Type) {
				m[k] = append([]int{i}, idx...)
			}
			continue
		}
		if name == "" || name == "-" {
			continue
		}
		m[name] = []int{i}
	}
	return m
}

func fieldNames(m map[string][]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// suggest returns the candidate closest to s (edit distance at most 2, or a
// case-insensitive match), for "did you mean" hints; "" when none is close.
func suggest(s string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if strings.EqualFold(c, s) {
			return c
		}
		// Strictly closer only: the first candidate wins ties, so the
		// order of candidates (catalog order) decides, deterministically.
		if dist := editDistance(s, c, bestDist); dist < bestDist {
			best, bestDist = c, dist
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, or max when it is at
// least limit (the inputs are short keys; the cap bounds the work).
func editDistance(a, b string, limit int) int {
	if len(a) > 64 || len(b) > 64 {
		return limit
	}
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	if prev[len(b)] > limit {
		return limit
	}
	return prev[len(b)]
}

// decodeEnum reads a string scalar that must be one of allowed.
func (d *decoder) decodeEnum(n *yaml.Node, path, what string, allowed []string) (string, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return "", false
	}
	for _, a := range allowed {
		if s == a {
			return s, true
		}
	}
	msg := fmt.Sprintf("unknown %s %q (want %s)", what, truncate(s, 40), orList(allowed))
	d.errorf(n, path, "%s", msg)
	return "", false
}

// orList renders ["a","b","c"] as "a, b or c".
func orList(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}

func (s *Severity) decodeNode(d *decoder, n *yaml.Node, path string) {
	if v, ok := d.decodeEnum(n, path, "severity", []string{"info", "low", "medium", "high", "critical"}); ok {
		*s = Severity(v)
	}
}

func (va *Variant) decodeNode(d *decoder, n *yaml.Node, path string) {
	if v, ok := d.decodeEnum(n, path, "variant", []string{"business", "private", "dual"}); ok {
		*va = Variant(v)
	}
}
