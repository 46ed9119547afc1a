package gvdb

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Value is a serialised GVariant: its type string and data, both views into
// the file. Decoding follows the GVariant serialisation specification 1.0
// (https://developer.gnome.org/documentation/specifications/gvariant-specification-1.0.html):
// fixed-size numbers in the file's value byte order, strings NUL-terminated,
// containers with little-endian framing offsets at their end. Only normal-form
// data is accepted: where GLib would quietly substitute a default for a
// malformed value, Value returns an error so the caller can say "unknown".
type Value struct {
	data    []byte
	typ     string
	swapped bool
}

// variantType is the type of a GVDB item's payload.
const variantType = "v"

// maxDepth bounds type-string nesting (GLib's limit is 128); it keeps a
// hostile "((((…" type from exhausting the stack.
const maxDepth = 64

// Type returns the value's GVariant type string, e.g. "b", "u", "(u)".
func (v Value) Type() string { return v.typ }

// Is reports whether the value has exactly the type string t.
func (v Value) Is(t string) bool { return v.typ == t }

// Bytes returns the raw serialised data.
func (v Value) Bytes() []byte { return v.data }

func (v Value) order() binary.ByteOrder {
	if v.swapped {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

func (v Value) fixed(t string, size int) ([]byte, error) {
	if v.typ != t {
		return nil, fmt.Errorf("%w: value has type %s, not %s", ErrFormat, v.typ, t)
	}
	if len(v.data) != size {
		return nil, fmt.Errorf("%w: %s value has %d bytes, want %d", ErrFormat, t, len(v.data), size)
	}
	return v.data, nil
}

// Bool decodes a "b" value.
func (v Value) Bool() (bool, error) {
	b, err := v.fixed("b", 1)
	if err != nil {
		return false, err
	}
	switch b[0] {
	case 0:
		return false, nil
	case 1:
		return true, nil
	}
	return false, fmt.Errorf("%w: boolean byte is not 0 or 1", ErrFormat)
}

// Byte decodes a "y" value.
func (v Value) Byte() (byte, error) {
	b, err := v.fixed("y", 1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

// Int16 decodes an "n" value.
func (v Value) Int16() (int16, error) {
	b, err := v.fixed("n", 2)
	if err != nil {
		return 0, err
	}
	return int16(v.order().Uint16(b)), nil
}

// Uint16 decodes a "q" value.
func (v Value) Uint16() (uint16, error) {
	b, err := v.fixed("q", 2)
	if err != nil {
		return 0, err
	}
	return v.order().Uint16(b), nil
}

// Int32 decodes an "i" value.
func (v Value) Int32() (int32, error) {
	b, err := v.fixed("i", 4)
	if err != nil {
		return 0, err
	}
	return int32(v.order().Uint32(b)), nil
}

// Uint32 decodes a "u" value.
func (v Value) Uint32() (uint32, error) {
	b, err := v.fixed("u", 4)
	if err != nil {
		return 0, err
	}
	return v.order().Uint32(b), nil
}

// Int64 decodes an "x" value.
func (v Value) Int64() (int64, error) {
	b, err := v.fixed("x", 8)
	if err != nil {
		return 0, err
	}
	return int64(v.order().Uint64(b)), nil
}

// Uint64 decodes a "t" value.
func (v Value) Uint64() (uint64, error) {
	b, err := v.fixed("t", 8)
	if err != nil {
		return 0, err
	}
	return v.order().Uint64(b), nil
}

// Double decodes a "d" value.
func (v Value) Double() (float64, error) {
	b, err := v.fixed("d", 8)
	if err != nil {
		return 0, err
	}
	return math.Float64frombits(v.order().Uint64(b)), nil
}

// Int returns any integer value ("y", "n", "q", "i", "u", "x", "t") as an
// int64, failing for a "t" above the int64 range.
func (v Value) Int() (int64, error) {
	switch v.typ {
	case "y":
		b, err := v.Byte()
		return int64(b), err
	case "n":
		n, err := v.Int16()
		return int64(n), err
	case "q":
		n, err := v.Uint16()
		return int64(n), err
	case "i":
		n, err := v.Int32()
		return int64(n), err
	case "u":
		n, err := v.Uint32()
		return int64(n), err
	case "x":
		return v.Int64()
	case "t":
		n, err := v.Uint64()
		if err == nil && n > math.MaxInt64 {
			return 0, fmt.Errorf("%w: uint64 value exceeds int64", ErrFormat)
		}
		return int64(n), err
	}
	return 0, fmt.Errorf("%w: value has type %s, not an integer", ErrFormat, v.typ)
}

// StringBytes returns the bytes of an "s", "o" or "g" value without its
// terminating NUL. The slice aliases the file; it does not allocate.
func (v Value) StringBytes() ([]byte, error) {
	switch v.typ {
	case "s", "o", "g":
	default:
		return nil, fmt.Errorf("%w: value has type %s, not a string", ErrFormat, v.typ)
	}
	n := len(v.data)
	if n == 0 || v.data[n-1] != 0 {
		return nil, fmt.Errorf("%w: string is not NUL-terminated", ErrFormat)
	}
	for _, c := range v.data[:n-1] {
		if c == 0 {
			return nil, fmt.Errorf("%w: string contains a NUL byte", ErrFormat)
		}
	}
	return v.data[:n-1], nil
}

// String returns an "s", "o" or "g" value as a Go string (one allocation).
func (v Value) String() (string, error) {
	b, err := v.StringBytes()
	return string(b), err
}

// Variant unwraps a "v" value: child data, a NUL byte, the child's type.
func (v Value) Variant() (Value, error) {
	if v.typ != "v" {
		return Value{}, fmt.Errorf("%w: value has type %s, not a variant", ErrFormat, v.typ)
	}
	sep := -1
	for i := len(v.data) - 1; i >= 0; i-- {
		if v.data[i] == 0 {
			sep = i
			break
		}
	}
	if sep < 0 {
		return Value{}, fmt.Errorf("%w: variant has no type separator", ErrFormat)
	}
	typ := v.data[sep+1:]
	rest, err := skipType(typ, 0)
	if err != nil || len(rest) != 0 {
		return Value{}, fmt.Errorf("%w: variant type string is not one complete type", ErrFormat)
	}
	// The type string aliases the file; converting would allocate, so the
	// Value keeps it as a string header over the same bytes.
	return Value{data: v.data[:sep], typ: unsafeString(typ), swapped: v.swapped}, nil
}

// NumChildren returns the number of members of a tuple, dict entry or array.
func (v Value) NumChildren() (int, error) {
	switch {
	case isTuple(v.typ):
		members, err := tupleMembers(v.typ)
		if err != nil {
			return 0, err
		}
		return countTypes(members)
	case len(v.typ) > 0 && v.typ[0] == 'a':
		n, _, err := v.arrayLayout()
		return n, err
	}
	return 0, fmt.Errorf("%w: value has type %s, not a container", ErrFormat, v.typ)
}

// Child returns member i of a tuple or dict entry, or element i of an array.
// GSettings schema keys are tuples whose member 0 is the default value.
func (v Value) Child(i int) (Value, error) {
	switch {
	case isTuple(v.typ):
		return v.tupleChild(i)
	case len(v.typ) > 0 && v.typ[0] == 'a':
		return v.arrayChild(i)
	}
	return Value{}, fmt.Errorf("%w: value has type %s, not a container", ErrFormat, v.typ)
}

func isTuple(t string) bool {
	return len(t) >= 2 && (t[0] == '(' && t[len(t)-1] == ')' || t[0] == '{' && t[len(t)-1] == '}')
}

func tupleMembers(t string) (string, error) {
	if !isTuple(t) {
		return "", fmt.Errorf("%w: not a tuple type", ErrFormat)
	}
	return t[1 : len(t)-1], nil
}

func countTypes(members string) (int, error) {
	n := 0
	for s := members; len(s) > 0; n++ {
		r, err := skipTypeString(s, 0)
		if err != nil {
			return 0, err
		}
		s = r
	}
	return n, nil
}

// offsetSize is the width of framing offsets in a container of n bytes.
func offsetSize(n int) int {
	switch {
	case n == 0:
		return 0
	case n <= 0xff:
		return 1
	case n <= 0xffff:
		return 2
	case uint64(n) <= 0xffffffff:
		return 4
	}
	return 8
}

// readOffset reads a little-endian framing offset of width w at off.
func readOffset(b []byte, off, w int) uint64 {
	switch w {
	case 1:
		return uint64(b[off])
	case 2:
		return uint64(binary.LittleEndian.Uint16(b[off:]))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b[off:]))
	}
	return binary.LittleEndian.Uint64(b[off:])
}

func alignUp(n, a int) int { return (n + a - 1) &^ (a - 1) }

func (v Value) tupleChild(want int) (Value, error) {
	members, _ := tupleMembers(v.typ)
	n := len(v.data)
	if size, fixed, err := typeLayout(v.typ); err != nil {
		return Value{}, err
	} else if fixed && n != size {
		return Value{}, fmt.Errorf("%w: fixed-size tuple has %d bytes, want %d", ErrFormat, n, size)
	}
	osz := offsetSize(n)
	offEnd := n // framing offsets are consumed from the end backwards
	pos := 0
	for idx := 0; len(members) > 0; idx++ {
		rest, err := skipTypeString(members, 0)
		if err != nil {
			return Value{}, err
		}
		mt := members[:len(members)-len(rest)]
		align, size, fixed, err := typeInfo(mt)
		if err != nil {
			return Value{}, err
		}
		start := alignUp(pos, align)
		var end int
		switch {
		case fixed:
			end = start + size
		case len(rest) == 0:
			end = offEnd
		default:
			offEnd -= osz
			if osz == 0 || offEnd < 0 {
				return Value{}, fmt.Errorf("%w: tuple framing offsets truncated", ErrFormat)
			}
			o := readOffset(v.data, offEnd, osz)
			if o > uint64(n) {
				return Value{}, fmt.Errorf("%w: tuple framing offset out of bounds", ErrFormat)
			}
			end = int(o)
		}
		if start > end || end > offEnd {
			return Value{}, fmt.Errorf("%w: tuple member %d out of bounds", ErrFormat, idx)
		}
		if idx == want {
			return Value{data: v.data[start:end], typ: mt, swapped: v.swapped}, nil
		}
		pos = end
		members = rest
	}
	return Value{}, fmt.Errorf("%w: tuple has no member %d", ErrFormat, want)
}

// arrayLayout returns the element count of an array and, for arrays of
// variable-size elements, the offset width.
func (v Value) arrayLayout() (int, int, error) {
	elem := v.typ[1:]
	_, size, fixed, err := typeInfo(elem)
	if err != nil {
		return 0, 0, err
	}
	n := len(v.data)
	if fixed {
		if n%size != 0 {
			return 0, 0, fmt.Errorf("%w: array length is not a multiple of its element size", ErrFormat)
		}
		return n / size, 0, nil
	}
	if n == 0 {
		return 0, 0, nil
	}
	osz := offsetSize(n)
	if n < osz {
		return 0, 0, fmt.Errorf("%w: array framing truncated", ErrFormat)
	}
	last := readOffset(v.data, n-osz, osz)
	if last > uint64(n) || (uint64(n)-last)%uint64(osz) != 0 {
		return 0, 0, fmt.Errorf("%w: array framing offsets out of bounds", ErrFormat)
	}
	count := (uint64(n) - last) / uint64(osz)
	if count == 0 {
		return 0, 0, fmt.Errorf("%w: array framing offsets out of bounds", ErrFormat)
	}
	return int(count), osz, nil
}

func (v Value) arrayChild(i int) (Value, error) {
	elem := v.typ[1:]
	align, size, fixed, err := typeInfo(elem)
	if err != nil {
		return Value{}, err
	}
	count, osz, err := v.arrayLayout()
	if err != nil {
		return Value{}, err
	}
	if i < 0 || i >= count {
		return Value{}, fmt.Errorf("%w: array has no element %d", ErrFormat, i)
	}
	if fixed {
		return Value{data: v.data[i*size : (i+1)*size], typ: elem, swapped: v.swapped}, nil
	}
	n := len(v.data)
	offStart := n - count*osz
	start := 0
	if i > 0 {
		start = alignUp(int(readOffset(v.data, offStart+(i-1)*osz, osz)), align)
	}
	end := int(readOffset(v.data, offStart+i*osz, osz))
	if start > end || end > offStart {
		return Value{}, fmt.Errorf("%w: array element %d out of bounds", ErrFormat, i)
	}
	return Value{data: v.data[start:end], typ: elem, swapped: v.swapped}, nil
}

// typeInfo returns the alignment and, for fixed-size types, the size of a
// single complete type string.
func typeInfo(t string) (align, size int, fixed bool, err error) {
	align, err = typeAlign(t, 0)
	if err != nil {
		return 0, 0, false, err
	}
	size, fixed, err = typeLayout(t)
	return align, size, fixed, err
}

func typeAlign(t string, depth int) (int, error) {
	if depth > maxDepth || len(t) == 0 {
		return 0, fmt.Errorf("%w: bad type string", ErrFormat)
	}
	switch t[0] {
	case 'b', 'y', 's', 'o', 'g':
		return 1, nil
	case 'n', 'q':
		return 2, nil
	case 'i', 'u', 'h':
		return 4, nil
	case 'x', 't', 'd', 'v':
		return 8, nil
	case 'a', 'm':
		return typeAlign(t[1:], depth+1)
	case '(', '{':
		if len(t) < 2 {
			return 0, fmt.Errorf("%w: bad type string", ErrFormat)
		}
		a := 1
		for s := t[1 : len(t)-1]; len(s) > 0; {
			rest, err := skipTypeString(s, depth+1)
			if err != nil {
				return 0, err
			}
			ma, err := typeAlign(s[:len(s)-len(rest)], depth+1)
			if err != nil {
				return 0, err
			}
			a = max(a, ma)
			s = rest
		}
		return a, nil
	}
	return 0, fmt.Errorf("%w: bad type string", ErrFormat)
}

// typeLayout returns the fixed size of t, or fixed=false for variable-size
// types. A tuple is fixed-size when all members are; its size is the members
// laid out with their alignment, rounded up to the tuple's alignment; the
// unit tuple "()" has size 1.
func typeLayout(t string) (int, bool, error) {
	return typeLayoutDepth(t, 0)
}

func typeLayoutDepth(t string, depth int) (int, bool, error) {
	if depth > maxDepth || len(t) == 0 {
		return 0, false, fmt.Errorf("%w: bad type string", ErrFormat)
	}
	switch t[0] {
	case 'b', 'y':
		return 1, true, nil
	case 'n', 'q':
		return 2, true, nil
	case 'i', 'u', 'h':
		return 4, true, nil
	case 'x', 't', 'd':
		return 8, true, nil
	case 's', 'o', 'g', 'v', 'a', 'm':
		return 0, false, nil
	case '(', '{':
		if len(t) < 2 {
			return 0, false, fmt.Errorf("%w: bad type string", ErrFormat)
		}
		pos, a := 0, 1
		for s := t[1 : len(t)-1]; len(s) > 0; {
			rest, err := skipTypeString(s, depth+1)
			if err != nil {
				return 0, false, err
			}
			mt := s[:len(s)-len(rest)]
			ma, err := typeAlign(mt, depth+1)
			if err != nil {
				return 0, false, err
			}
			size, fixed, err := typeLayoutDepth(mt, depth+1)
			if err != nil || !fixed {
				return 0, false, err
			}
			a = max(a, ma)
			pos = alignUp(pos, ma) + size
			s = rest
		}
		if pos == 0 {
			return 1, true, nil
		}
		return alignUp(pos, a), true, nil
	}
	return 0, false, fmt.Errorf("%w: bad type string", ErrFormat)
}

// skipType consumes one complete type from b and returns the rest.
func skipType(b []byte, depth int) ([]byte, error) {
	rest, err := skipTypeString(unsafeString(b), depth)
	if err != nil {
		return nil, err
	}
	return b[len(b)-len(rest):], nil
}

// skipTypeString consumes one complete type from s (GVariant type grammar:
// basic types, "v", "a"T, "m"T, "(" T* ")", "{" basic T "}").
func skipTypeString(s string, depth int) (string, error) {
	if depth > maxDepth {
		return "", fmt.Errorf("%w: type string nested too deeply", ErrFormat)
	}
	if len(s) == 0 {
		return "", fmt.Errorf("%w: truncated type string", ErrFormat)
	}
	switch s[0] {
	case 'b', 'y', 'n', 'q', 'i', 'u', 'x', 't', 'h', 'd', 's', 'o', 'g', 'v':
		return s[1:], nil
	case 'a', 'm':
		return skipTypeString(s[1:], depth+1)
	case '(':
		s = s[1:]
		for {
			if len(s) == 0 {
				return "", fmt.Errorf("%w: unterminated tuple type", ErrFormat)
			}
			if s[0] == ')' {
				return s[1:], nil
			}
			var err error
			if s, err = skipTypeString(s, depth+1); err != nil {
				return "", err
			}
		}
	case '{':
		if len(s) < 2 || !isBasic(s[1]) {
			return "", fmt.Errorf("%w: dict entry key is not a basic type", ErrFormat)
		}
		rest, err := skipTypeString(s[2:], depth+1)
		if err != nil {
			return "", err
		}
		if len(rest) == 0 || rest[0] != '}' {
			return "", fmt.Errorf("%w: unterminated dict entry type", ErrFormat)
		}
		return rest[1:], nil
	}
	return "", fmt.Errorf("%w: bad type character", ErrFormat)
}

func isBasic(c byte) bool {
	switch c {
	case 'b', 'y', 'n', 'q', 'i', 'u', 'x', 't', 'h', 'd', 's', 'o', 'g':
		return true
	}
	return false
}
