package jsonindent

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// stdlib is what the CLI wrote before: encoding/json's indenting Encoder.
func stdlib(t testing.TB, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func ours(t testing.TB, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Encode(&b, v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type report struct {
	Name     string            `json:"name"`
	Empty    []string          `json:"empty"`
	Nil      []string          `json:"nil"`
	Map      map[string]any    `json:"map"`
	EmptyMap map[string]string `json:"empty_map"`
	When     time.Time         `json:"when"`
	Nested   [][]int           `json:"nested"`
	Ptr      *report           `json:"ptr,omitempty"`
	Raw      json.RawMessage   `json:"raw"`
}

func TestEncodeMatchesEncoder(t *testing.T) {
	values := []any{
		nil, true, 1.5, "a", []int{}, map[string]int{}, []any{[]any{}, map[string]any{}},
		`quote " backslash \ slash / <html> & unicode ü € \u2028 control ` + "\x01\t\n",
		report{
			Name: `a "b": {c}, [d]`, Empty: []string{}, Map: map[string]any{"k,": []any{1, "x:", nil, map[string]any{}}, "{": "}"},
			EmptyMap: map[string]string{}, When: time.Date(2026, 12, 6, 1, 2, 3, 0, time.UTC), Nested: [][]int{{}, {1, 2}, nil},
			Ptr: &report{Name: "inner\\", Raw: json.RawMessage(`{"x": [1, 2] }`)}, Raw: json.RawMessage(`[]`),
		},
	}
	for _, v := range values {
		if got, want := ours(t, v), stdlib(t, v); !bytes.Equal(got, want) {
			t.Errorf("Encode(%#v):\n%s\nencoding/json:\n%s", v, got, want)
		}
	}
}

func TestEncodeError(t *testing.T) {
	var b bytes.Buffer
	if err := Encode(&b, map[string]any{"f": func() {}}); err == nil || b.Len() != 0 {
		t.Errorf("Encode(func) = %v, wrote %q; want an error and nothing written", err, b.String())
	}
}

// FuzzAppend: for any JSON document, Append on its compact form equals
// json.Indent's output.
func FuzzAppend(f *testing.F) {
	f.Add(`{"a":[1,{"b":"c\"}"}],"d":{},"e":[]}`)
	f.Add(`"\\\""`)
	f.Add(`[[[]],{"":{"":[]}}]`)
	f.Fuzz(func(t *testing.T, doc string) {
		var v any
		if json.Unmarshal([]byte(doc), &v) != nil {
			return
		}
		compact, err := json.Marshal(v)
		if err != nil {
			return
		}
		var want bytes.Buffer
		if err := json.Indent(&want, compact, "", "  "); err != nil {
			t.Fatal(err)
		}
		if got := Append(nil, compact); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("Append(%s):\n%s\njson.Indent:\n%s", compact, got, want.Bytes())
		}
	})
}

// benchValue is shaped like a status report: a few hundred findings.
func benchValue() any {
	type finding struct {
		Rule, Subject, Status, Severity, Message string
		Evidence                                 []string
	}
	fs := make([]finding, 300)
	for i := range fs {
		fs[i] = finding{"messenger.whatsapp", "whatsapp", "fail", "high", strings.Repeat("WhatsApp is not allowed on this device. ", 3), []string{"/usr/share/applications/whatsapp.desktop", "deb whatsapp-for-linux 1.6.4"}}
	}
	return map[string]any{"device": map[string]string{"id": "x", "kind": "computer"}, "findings": fs, "problems": []string{}}
}

func BenchmarkEncode(b *testing.B) {
	v := benchValue()
	b.ReportAllocs()
	for b.Loop() {
		if err := Encode(&bytes.Buffer{}, v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncoderSetIndent(b *testing.B) {
	v := benchValue()
	b.ReportAllocs()
	for b.Loop() {
		enc := json.NewEncoder(&bytes.Buffer{})
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			b.Fatal(err)
		}
	}
}
