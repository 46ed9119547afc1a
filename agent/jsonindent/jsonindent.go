// Package jsonindent writes a value as indented JSON, byte for byte what
// encoding/json's Encoder writes with SetIndent("", "  "), at a fraction of
// the cost: json.Marshal's compact output is indented by a loop that only
// tracks strings and brackets, instead of the general validating scanner
// Encoder.SetIndent runs over every byte (encoding/json's indent.go).
package jsonindent

import (
	"encoding/json"
	"io"
	"sync"
)

// bufPool keeps the encode buffers of a process that writes many reports
// (the service's API) from growing the heap per request.
var bufPool = sync.Pool{New: func() any { return new([]byte) }}

// Encode writes v as JSON indented by two spaces and a final newline, like
// json.NewEncoder(w) with SetIndent("", "  "). Like the Encoder it escapes
// <, > and & in strings.
func Encode(w io.Writer, v any) error {
	compact, err := json.Marshal(v)
	if err != nil {
		return err
	}
	bp := bufPool.Get().(*[]byte)
	out := Append((*bp)[:0], compact)
	out = append(out, '\n')
	_, err = w.Write(out)
	if cap(out) <= 1<<20 {
		*bp = out
		bufPool.Put(bp)
	}
	return err
}

// Append appends the indented form of compact, which must be JSON without
// insignificant white space (json.Marshal's output), to dst.
func Append(dst, compact []byte) []byte {
	depth := 0
	newline := func() {
		dst = append(dst, '\n')
		for range depth {
			dst = append(dst, ' ', ' ')
		}
	}
	for i := 0; i < len(compact); i++ {
		c := compact[i]
		switch c {
		case '"':
			// Copy the string whole; a backslash escapes the next byte.
			j := i + 1
			for j < len(compact) && compact[j] != '"' {
				if compact[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j, len(compact)-1)
			dst = append(dst, compact[i:j+1]...)
			i = j
		case '{', '[':
			dst = append(dst, c)
			// An empty object or array stays on its line: {} and [].
			if i+1 < len(compact) && (compact[i+1] == '}' || compact[i+1] == ']') {
				dst = append(dst, compact[i+1])
				i++
				continue
			}
			depth++
			newline()
		case '}', ']':
			depth--
			newline()
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			newline()
		case ':':
			dst = append(dst, ':', ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
