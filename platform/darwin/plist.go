package darwin

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"howett.net/plist"
)

// Property-list limits. howett.net/plist parses the whole document into a
// tree before it looks at the destination type, recurses once per nesting
// level in both its XML and binary parsers, and checks binary containers for
// cycles with a linear scan of the current path (quadratic in depth). A
// hostile Info.plist in a user-writable ~/Applications could therefore burn
// stack and CPU. We reject such files before handing them over: real
// Info.plist, dslocal and profiles documents nest fewer than ten levels.
const (
	// maxPlistDepth bounds container nesting (dict/array/set).
	maxPlistDepth = 32
	// maxInfoPlistSize caps an app's Info.plist. Typical ones are a few KB;
	// apps with many document types reach a few hundred KB.
	maxInfoPlistSize = 2 << 20
	// maxRecordPlistSize caps a dslocal user record (a few KB, mostly the
	// ShadowHashData blob, which we never decode into our types).
	maxRecordPlistSize = 1 << 20
)

// Errors of decodePlist. Their messages never quote the document: the
// parsers' own errors can (encoding/xml names the offending elements,
// howett.net/plist passes on strconv and time errors with the value), and a
// dslocal record or an nvram dump holds personal data.
var (
	errPlistFormat = errors.New("not an XML or binary property list")
	errPlistDepth  = errors.New("property list nested too deeply")
	errPlistValue  = errors.New("property list has a malformed value or one of an unexpected type")
)

// decodePlist checks b with checkPlist and decodes it into v. Only the binary
// and XML formats are accepted: the OpenStep text parser that howett.net/plist
// falls back to is never reached, because a document passing checkPlist is
// well-formed XML with a <plist> root or a structurally valid bplist.
func decodePlist(b []byte, v any) (err error) {
	if err := checkPlist(b); err != nil {
		return err
	}
	// howett.net/plist re-panics runtime errors (index out of range on a
	// malformed bplist); a probe must never take the agent down.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoding property list: parser panic: %w", errPlistValue)
		}
	}()
	if _, err := plist.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decoding property list: %w", errPlistValue)
	}
	return nil
}

// checkPlist reports whether b is a binary or XML property list whose
// containers nest at most maxPlistDepth levels.
func checkPlist(b []byte) error {
	if bytes.HasPrefix(b, []byte("bplist")) {
		return checkBinaryPlist(b)
	}
	return checkXMLPlist(b)
}

// checkXMLPlist streams b through encoding/xml (strict, so end tags must
// match) counting element depth, and requires a <plist> root element.
func checkXMLPlist(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return fmt.Errorf("%w: XML syntax error on line %d", errPlistFormat, se.Line)
			}
			return errPlistFormat
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if t.Name.Local != "plist" {
					return fmt.Errorf("%w: the root element is not <plist>", errPlistFormat)
				}
				if roots > 1 {
					return fmt.Errorf("%w: more than one root element", errPlistFormat)
				}
			}
			depth++
			// <plist><dict><key/><dict>...: each container level is one
			// element level, plus the <plist> root and a leaf element.
			if depth > maxPlistDepth+2 {
				return errPlistDepth
			}
		case xml.EndElement:
			depth--
		}
	}
	if roots == 0 {
		return fmt.Errorf("%w: no root element", errPlistFormat)
	}
	return nil
}

// bplist object markers (CoreFoundation CFBinaryPList.c, "HEADER" comment).
const (
	bpArray = 0xA0
	bpSet   = 0xC0
	bpDict  = 0xD0
)

// bplist is the trailer of a binary property list plus the document.
type bplist struct {
	b           []byte
	offsetSize  int
	refSize     int
	numObjects  uint64
	topObject   uint64
	offsetTable uint64
}

// checkBinaryPlist validates the bplist00 trailer and offset table and walks
// the object graph iteratively from the top object, refusing reference
// cycles and nesting deeper than maxPlistDepth. Each object is expanded once
// (heights are memoised), so the walk is linear in the document size even
// for a graph that shares one container many times.
func checkBinaryPlist(b []byte) error {
	p, err := parseBplistTrailer(b)
	if err != nil {
		return err
	}
	return p.checkDepth()
}

func parseBplistTrailer(b []byte) (*bplist, error) {
	const header, trailer = 8, 32
	if len(b) < header+trailer+1 || !bytes.HasPrefix(b, []byte("bplist00")) {
		return nil, fmt.Errorf("%w: truncated or unknown binary version", errPlistFormat)
	}
	t := b[len(b)-trailer:]
	p := &bplist{
		b:           b,
		offsetSize:  int(t[6]),
		refSize:     int(t[7]),
		numObjects:  binary.BigEndian.Uint64(t[8:]),
		topObject:   binary.BigEndian.Uint64(t[16:]),
		offsetTable: binary.BigEndian.Uint64(t[24:]),
	}
	end := uint64(len(b) - trailer)
	switch {
	case p.offsetSize < 1 || p.offsetSize > 8, p.refSize < 1 || p.refSize > 8:
		return nil, fmt.Errorf("%w: bad integer sizes in trailer", errPlistFormat)
	case p.numObjects == 0 || p.numObjects > uint64(len(b)):
		return nil, fmt.Errorf("%w: bad object count", errPlistFormat)
	case p.topObject >= p.numObjects:
		return nil, fmt.Errorf("%w: top object out of range", errPlistFormat)
	case p.offsetTable < header || p.offsetTable > end:
		return nil, fmt.Errorf("%w: offset table out of range", errPlistFormat)
	case (end-p.offsetTable)/uint64(p.offsetSize) < p.numObjects:
		return nil, fmt.Errorf("%w: offset table too short", errPlistFormat)
	}
	return p, nil
}

// uint reads an n-byte big-endian unsigned integer at off.
func (p *bplist) uint(off uint64, n int) (uint64, bool) {
	if off+uint64(n) > uint64(len(p.b)) || off+uint64(n) < off {
		return 0, false
	}
	var v uint64
	for _, c := range p.b[off : off+uint64(n)] {
		v = v<<8 | uint64(c)
	}
	return v, true
}

// children returns the offset of the reference list of object i and the
// number of references in it; count 0 for non-containers.
func (p *bplist) children(i uint64) (refs uint64, count uint64, err error) {
	off, ok := p.uint(p.offsetTable+i*uint64(p.offsetSize), p.offsetSize)
	if !ok || off < 8 || off >= p.offsetTable {
		return 0, 0, fmt.Errorf("%w: object %d offset out of range", errPlistFormat, i)
	}
	marker := p.b[off]
	kind := marker & 0xF0
	if kind != bpArray && kind != bpSet && kind != bpDict {
		return 0, 0, nil
	}
	count, refs = uint64(marker&0x0F), off+1
	if count == 0x0F {
		// The count follows as an int object: marker 0x1n, 2^n bytes.
		im, ok := p.uint(refs, 1)
		if !ok || im&0xF0 != 0x10 || im&0x0F > 3 {
			return 0, 0, fmt.Errorf("%w: object %d has a bad length", errPlistFormat, i)
		}
		n := 1 << (im & 0x0F)
		if count, ok = p.uint(refs+1, n); !ok {
			return 0, 0, fmt.Errorf("%w: object %d has a bad length", errPlistFormat, i)
		}
		refs += 1 + uint64(n)
	}
	if kind == bpDict {
		count *= 2 // keys then values
	}
	if count > p.offsetTable || refs+count*uint64(p.refSize) > p.offsetTable {
		return 0, 0, fmt.Errorf("%w: object %d runs past the object table", errPlistFormat, i)
	}
	return refs, count, nil
}

type bpFrame struct {
	obj, refs, count, next uint64
	height                 uint8
}

func (p *bplist) checkDepth() error {
	const (
		unseen = iota
		active
		done
	)
	state := make([]uint8, p.numObjects)
	height := make([]uint8, p.numObjects)
	var stack []bpFrame
	push := func(obj uint64) error {
		refs, count, err := p.children(obj)
		if err != nil {
			return err
		}
		if len(stack) >= maxPlistDepth {
			return errPlistDepth
		}
		state[obj] = active
		stack = append(stack, bpFrame{obj: obj, refs: refs, count: count})
		return nil
	}
	if err := push(p.topObject); err != nil {
		return err
	}
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if f.next == f.count {
			state[f.obj], height[f.obj] = done, f.height+1
			h := height[f.obj]
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && h > stack[len(stack)-1].height {
				stack[len(stack)-1].height = h
			}
			continue
		}
		child, _ := p.uint(f.refs+f.next*uint64(p.refSize), p.refSize)
		f.next++
		if child >= p.numObjects {
			return fmt.Errorf("%w: reference out of range", errPlistFormat)
		}
		switch state[child] {
		case active:
			return fmt.Errorf("%w: reference cycle", errPlistFormat)
		case done:
			if height[child] > f.height {
				f.height = height[child]
			}
			if int(f.height)+len(stack) > maxPlistDepth {
				return errPlistDepth
			}
		default:
			if err := push(child); err != nil {
				return err
			}
		}
	}
	return nil
}

// plistString decodes a plist string and ignores values of any other type,
// so that one odd key (a version stored as a number) does not lose the rest
// of an Info.plist.
type plistString string

// UnmarshalPlist implements plist.Unmarshaler.
func (s *plistString) UnmarshalPlist(unmarshal func(any) error) error {
	var v string
	if err := unmarshal(&v); err != nil {
		*s = ""
		return nil
	}
	*s = plistString(v)
	return nil
}

// plistPresent records that a key exists without decoding its value: used
// for nvram's Find My token, whose value holds the owner's Apple ID.
type plistPresent bool

// UnmarshalPlist implements plist.Unmarshaler.
func (p *plistPresent) UnmarshalPlist(func(any) error) error {
	*p = true
	return nil
}

// plistBool decodes a boolean that configuration profiles deliver either as
// <true/>/<false/> or, in older profiles, as the integer 1/0.
type plistBool bool

// UnmarshalPlist implements plist.Unmarshaler.
func (p *plistBool) UnmarshalPlist(unmarshal func(any) error) error {
	var b bool
	if err := unmarshal(&b); err == nil {
		*p = plistBool(b)
		return nil
	}
	var n int64
	if err := unmarshal(&n); err != nil {
		return fmt.Errorf("want a boolean or 0/1: %w", err)
	}
	*p = n != 0
	return nil
}

// plistInt decodes an integer that may also arrive as a real or a numeric
// string (defaults(1) writes whatever type the caller asked for).
type plistInt int64

// UnmarshalPlist implements plist.Unmarshaler.
func (p *plistInt) UnmarshalPlist(unmarshal func(any) error) error {
	var n int64
	if err := unmarshal(&n); err == nil {
		*p = plistInt(n)
		return nil
	}
	var f float64
	if err := unmarshal(&f); err == nil && f >= -1e12 && f <= 1e12 {
		*p = plistInt(f)
		return nil
	}
	var s string
	if err := unmarshal(&s); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
			*p = plistInt(n)
			return nil
		}
	}
	return errors.New("want an integer")
}
