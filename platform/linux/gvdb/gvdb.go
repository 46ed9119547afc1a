// Package gvdb reads GVariant Database files: the binary format of dconf
// databases (~/.config/dconf/user, /etc/dconf/db/*) and of GSettings'
// gschemas.compiled. It answers "what value does this file hold for this
// key" without GLib, so a root agent can read another user's settings
// without running anything in that user's context.
//
// The format is defined by GNOME/gvdb gvdb/gvdb-format.h and
// gvdb/gvdb-reader.c (read, not copied): a 24-byte header, then hash tables
// of 24-byte items whose keys are chained through parent items. The header
// and hash structures are always little-endian; a byte-swapped signature
// marks a file whose GVariant values are stored big-endian.
//
// Every offset is bounds-checked: a truncated, garbage or hostile file gives
// an error, never a panic, and nothing is allocated from a size field in the
// file. Lookups allocate nothing; values are views into the file's bytes.
package gvdb

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Errors returned for malformed files. Messages name offsets, never file
// content.
var (
	ErrFormat   = errors.New("gvdb: malformed file")
	ErrNotFound = errors.New("gvdb: key not found")
)

const (
	headerSize = 24
	itemSize   = 24
	// signature words as little-endian u32: "GVar" "iant".
	sig0 = 1918981703
	sig1 = 1953390953
	// noParent marks a root item.
	noParent = 0xffffffff
)

// Item types (gvdb-format.h).
const (
	typeValue = 'v'
	typeTable = 'H'
	typeList  = 'L'
)

var le = binary.LittleEndian

// Table is one hash table of a GVDB file: the root table returned by Open or
// a nested table returned by Table.Table. It is a small value that refers to
// the file's bytes; copying it is cheap.
type Table struct {
	data []byte
	// swapped is true when values are stored big-endian (byte-swapped
	// signature); hash structures are little-endian either way.
	swapped    bool
	bloom      []byte // n_bloom_words * 4
	bloomShift uint32
	buckets    []byte // n_buckets * 4
	items      []byte // n_items * 24
}

// Open parses the header of a GVDB file and returns its root table. data is
// not copied: the caller must not modify it while the table is in use.
func Open(data []byte) (Table, error) {
	if len(data) < headerSize {
		return Table{}, fmt.Errorf("%w: %d bytes is shorter than the header", ErrFormat, len(data))
	}
	s0, s1 := le.Uint32(data[0:]), le.Uint32(data[4:])
	var swapped bool
	switch {
	case s0 == sig0 && s1 == sig1:
	case s0 == swap32(sig0) && s1 == swap32(sig1):
		swapped = true
	default:
		return Table{}, fmt.Errorf("%w: bad signature", ErrFormat)
	}
	if v := le.Uint32(data[8:]); v != 0 {
		return Table{}, fmt.Errorf("%w: unsupported version %d", ErrFormat, v)
	}
	return setupTable(data, swapped, data[16:24])
}

func swap32(v uint32) uint32 {
	return v>>24 | (v>>8)&0xff00 | (v<<8)&0xff0000 | v<<24
}

// deref resolves a {start,end} pointer, checking bounds and alignment like
// gvdb_table_dereference.
func deref(data []byte, ptr []byte, align uint32) ([]byte, bool) {
	start, end := le.Uint32(ptr), le.Uint32(ptr[4:])
	if start > end || uint64(end) > uint64(len(data)) || start&(align-1) != 0 {
		return nil, false
	}
	return data[start:end], true
}

func setupTable(data []byte, swapped bool, ptr []byte) (Table, error) {
	t := Table{data: data, swapped: swapped}
	region, ok := deref(data, ptr, 4)
	if !ok {
		return Table{}, fmt.Errorf("%w: hash table pointer out of bounds", ErrFormat)
	}
	if len(region) < 8 {
		return Table{}, fmt.Errorf("%w: hash table header truncated", ErrFormat)
	}
	bloomField, nBuckets := le.Uint32(region), le.Uint32(region[4:])
	nBloom := uint64(bloomField & (1<<27 - 1))
	t.bloomShift = bloomField >> 27
	rest := region[8:]
	if nBloom*4 > uint64(len(rest)) {
		return Table{}, fmt.Errorf("%w: bloom filter exceeds hash table", ErrFormat)
	}
	t.bloom, rest = rest[:nBloom*4], rest[nBloom*4:]
	if uint64(nBuckets)*4 > uint64(len(rest)) {
		return Table{}, fmt.Errorf("%w: bucket array exceeds hash table", ErrFormat)
	}
	t.buckets, rest = rest[:uint64(nBuckets)*4], rest[uint64(nBuckets)*4:]
	if len(rest)%itemSize != 0 {
		return Table{}, fmt.Errorf("%w: hash items are not a multiple of %d bytes", ErrFormat, itemSize)
	}
	t.items = rest
	return t, nil
}

// Len returns the number of hash items in the table.
func (t Table) Len() int { return len(t.items) / itemSize }

// Swapped reports whether the file's values are stored big-endian.
func (t Table) Swapped() bool { return t.swapped }

func (t Table) item(i uint32) []byte {
	off := uint64(i) * itemSize
	return t.items[off : off+itemSize]
}

// itemKey returns the key segment of an item, or false if out of bounds.
func (t Table) itemKey(it []byte) ([]byte, bool) {
	start := uint64(le.Uint32(it[8:]))
	size := uint64(le.Uint16(it[12:]))
	if start+size > uint64(len(t.data)) {
		return nil, false
	}
	return t.data[start : start+size], true
}

// hash is djb2 over the key with signed chars, as gvdb_table_lookup.
func hash(key string) uint32 {
	h := uint32(5381)
	for i := 0; i < len(key); i++ {
		h = h*33 + uint32(int32(int8(key[i])))
	}
	return h
}

func (t Table) bloomMatch(h uint32) bool {
	n := uint32(len(t.bloom) / 4)
	if n == 0 {
		return true
	}
	word := le.Uint32(t.bloom[((h/32)%n)*4:])
	mask := uint32(1)<<(h&31) | uint32(1)<<((h>>(t.bloomShift&31))&31)
	return word&mask == mask
}

// checkName reports whether item i's full name (its key segment preceded by
// its parents' segments) equals key. It walks the parent chain iteratively;
// each step consumes a non-empty segment, so a cyclic chain ends.
func (t Table) checkName(it []byte, key string) bool {
	n := uint32(t.Len())
	for {
		seg, ok := t.itemKey(it)
		if !ok || len(seg) > len(key) {
			return false
		}
		tail := key[len(key)-len(seg):]
		if string(seg) != tail { // compiler does not allocate for this comparison
			return false
		}
		key = key[:len(key)-len(seg)]
		parent := le.Uint32(it[4:])
		if len(key) == 0 && parent == noParent {
			return true
		}
		if parent >= n || len(seg) == 0 {
			return false
		}
		it = t.item(parent)
	}
}

// lookup finds the item named key with the given type.
func (t Table) lookup(key string, typ byte) ([]byte, bool) {
	nb := uint32(len(t.buckets) / 4)
	n := uint32(t.Len())
	if nb == 0 || n == 0 {
		return nil, false
	}
	h := hash(key)
	if !t.bloomMatch(h) {
		return nil, false
	}
	b := h % nb
	i := le.Uint32(t.buckets[b*4:])
	last := n
	if b != nb-1 {
		if l := le.Uint32(t.buckets[(b+1)*4:]); l <= n {
			last = l
		}
	}
	for ; i < last; i++ {
		it := t.item(i)
		if le.Uint32(it) == h && it[14] == typ && t.checkName(it, key) {
			return it, true
		}
	}
	return nil, false
}

// Value returns the value stored under key. It returns ErrNotFound when the
// table has no value item named key and an ErrFormat error when the item
// exists but its data is out of bounds or not a valid variant.
func (t Table) Value(key string) (Value, error) {
	it, ok := t.lookup(key, typeValue)
	if !ok {
		return Value{}, ErrNotFound
	}
	raw, ok := deref(t.data, it[16:24], 8)
	if !ok {
		return Value{}, fmt.Errorf("%w: value pointer out of bounds", ErrFormat)
	}
	// Items hold a serialised GVariant of type "v" (gvdb_table_value_from_item).
	return Value{data: raw, typ: variantType, swapped: t.swapped}.Variant()
}

// Has reports whether key names a value item with valid bounds, like
// gvdb_table_has_value (dconf uses it for its .locks tables).
func (t Table) Has(key string) bool {
	it, ok := t.lookup(key, typeValue)
	if !ok {
		return false
	}
	_, ok = deref(t.data, it[16:24], 8)
	return ok
}

// Table returns the nested hash table named key (an 'H' item), e.g. dconf's
// ".locks" or a schema in gschemas.compiled.
func (t Table) Table(key string) (Table, error) {
	it, ok := t.lookup(key, typeTable)
	if !ok {
		return Table{}, ErrNotFound
	}
	return setupTable(t.data, t.swapped, it[16:24])
}

// List returns the key segments of the children of the list item named key
// (dconf stores each directory as an 'L' item: List("/org/gnome/") might
// return "desktop/"). Each segment appended to key gives the child's name.
func (t Table) List(key string) ([]string, error) {
	it, ok := t.lookup(key, typeList)
	if !ok {
		return nil, ErrNotFound
	}
	list, ok := deref(t.data, it[16:24], 4)
	if !ok || len(list)%4 != 0 {
		return nil, fmt.Errorf("%w: list pointer out of bounds", ErrFormat)
	}
	n := uint32(t.Len())
	out := make([]string, 0, len(list)/4)
	for off := 0; off < len(list); off += 4 {
		idx := le.Uint32(list[off:])
		if idx >= n {
			return nil, fmt.Errorf("%w: list entry %d out of range", ErrFormat, idx)
		}
		seg, ok := t.itemKey(t.item(idx))
		if !ok {
			return nil, fmt.Errorf("%w: key of item %d out of bounds", ErrFormat, idx)
		}
		out = append(out, string(seg))
	}
	return out, nil
}

// maxNamesBytes bounds what Names may allocate for full names: a hostile
// file of long parent chains could otherwise ask for terabytes.
const maxNamesBytes = 16 << 20

// Names returns the full names of all items whose parent chain resolves, in
// item order (like gvdb_table_get_names). Items with out-of-bounds keys,
// out-of-range or cyclic parents are left out. It fails when the names would
// exceed 16 MiB in total.
func (t Table) Names() ([]string, error) {
	const (
		unvisited = iota
		visiting
		resolved
		broken
	)
	n := uint32(t.Len())
	names := make([]string, n)
	state := make([]uint8, n)
	total := 0
	var stack []uint32
	for i := uint32(0); i < n; i++ {
		// Walk up to a resolved item or a root, then fill in names downwards.
		stack = append(stack[:0], i)
		for {
			cur := stack[len(stack)-1]
			if state[cur] != unvisited {
				break
			}
			state[cur] = visiting
			p := le.Uint32(t.item(cur)[4:])
			if p == noParent || p >= n || state[p] != unvisited {
				break
			}
			stack = append(stack, p)
		}
		for k := len(stack) - 1; k >= 0; k-- {
			cur := stack[k]
			if state[cur] != visiting {
				continue
			}
			it := t.item(cur)
			seg, ok := t.itemKey(it)
			p := le.Uint32(it[4:])
			var prefix string
			switch {
			case !ok:
				state[cur] = broken
				continue
			case p == noParent:
			case p < n && state[p] == resolved:
				prefix = names[p]
			default:
				state[cur] = broken
				continue
			}
			total += len(prefix) + len(seg)
			if total > maxNamesBytes {
				return nil, fmt.Errorf("%w: names exceed %d bytes", ErrFormat, maxNamesBytes)
			}
			names[cur] = prefix + string(seg)
			state[cur] = resolved
		}
	}
	out := names[:0]
	for i, name := range names {
		if state[i] == resolved {
			out = append(out, name)
		}
	}
	return out, nil
}
