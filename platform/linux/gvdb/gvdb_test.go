package gvdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// schemasPath is a real gschemas.compiled produced by glib-compile-schemas
// 2.74 from the schema XML beside it (see the posture testdata README).
const schemasPath = "../testdata/posture/root-gnome/usr/share/glib-2.0/schemas/gschemas.compiled"

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustOpen(t testing.TB, b []byte) Table {
	t.Helper()
	tb, err := Open(b)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return tb
}

// decode renders a value as a comparable Go value.
func decode(t *testing.T, v Value) any {
	t.Helper()
	var (
		out any
		err error
	)
	switch {
	case v.Is("b"):
		out, err = v.Bool()
	case v.Is("y"), v.Is("n"), v.Is("q"), v.Is("i"), v.Is("u"), v.Is("x"):
		out, err = v.Int()
	case v.Is("t"):
		out, err = v.Uint64()
	case v.Is("d"):
		out, err = v.Double()
	case v.Is("s"), v.Is("o"), v.Is("g"):
		out, err = v.String()
	case v.Is("v"):
		var c Value
		if c, err = v.Variant(); err == nil {
			out = map[string]any{"<" + c.Type() + ">": decode(t, c)}
		}
	default:
		var n int
		if n, err = v.NumChildren(); err == nil {
			list := []any{}
			for i := 0; i < n; i++ {
				c, cerr := v.Child(i)
				if cerr != nil {
					t.Fatalf("Child(%d) of %s: %v", i, v.Type(), cerr)
				}
				list = append(list, decode(t, c))
			}
			out = list
		}
	}
	if err != nil {
		t.Fatalf("decode %s: %v", v.Type(), err)
	}
	return out
}

func TestTypesFromDconfCompile(t *testing.T) {
	for _, order := range []string{"little-endian", "big-endian"} {
		t.Run(order, func(t *testing.T) {
			b := readFixture(t, "testdata/types")
			if order == "big-endian" {
				b = byteswapFile(t, b)
			}
			tb := mustOpen(t, b)
			if got := tb.Swapped(); got != (order == "big-endian") {
				t.Fatalf("Swapped() = %v", got)
			}
			want := map[string]struct {
				typ string
				val any
			}{
				"/org/example/basic/b-true":          {"b", true},
				"/org/example/basic/b-false":         {"b", false},
				"/org/example/basic/byte":            {"y", int64(42)},
				"/org/example/basic/int16":           {"n", int64(-300)},
				"/org/example/basic/uint16":          {"q", int64(65000)},
				"/org/example/basic/int32":           {"i", int64(-123456)},
				"/org/example/basic/uint32":          {"u", int64(600)},
				"/org/example/basic/int64":           {"x", int64(-9000000000)},
				"/org/example/basic/uint64":          {"t", uint64(18000000000000000000)},
				"/org/example/basic/double":          {"d", 2.5},
				"/org/example/basic/string":          {"s", "hello world"},
				"/org/example/basic/empty":           {"s", ""},
				"/org/example/basic/path":            {"o", "/org/example"},
				"/org/example/basic/sig":             {"g", "a{sv}"},
				"/org/example/containers/strv":       {"as", []any{"one", "two", "three"}},
				"/org/example/containers/ints":       {"ai", []any{int64(1), int64(2), int64(3)}},
				"/org/example/containers/empty-strv": {"as", []any{}},
				"/org/example/containers/tuple":      {"(is)", []any{int64(7), "seven"}},
				"/org/example/containers/pair":       {"(ub)", []any{int64(5), true}},
				"/org/example/containers/dict":       {"a{ss}", []any{[]any{"k1", "v1"}, []any{"k2", "v2"}}},
				"/org/example/containers/nested":     {"v", map[string]any{"<u>": int64(42)}},
				"/org/example/containers/unit":       {"()", []any{}},
			}
			for key, w := range want {
				v, err := tb.Value(key)
				if err != nil {
					t.Errorf("Value(%q): %v", key, err)
					continue
				}
				if v.Type() != w.typ {
					t.Errorf("Value(%q).Type() = %q; want %q", key, v.Type(), w.typ)
					continue
				}
				if diff := cmp.Diff(w.val, decode(t, v)); diff != "" {
					t.Errorf("Value(%q) mismatch (-want +got):\n%s", key, diff)
				}
			}
			if _, err := tb.Value("/org/example/basic/missing"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Value(missing) error = %v; want ErrNotFound", err)
			}
			// A directory is an 'L' item, not a value.
			if _, err := tb.Value("/org/example/basic/"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Value(dir) error = %v; want ErrNotFound", err)
			}
			dirs, err := tb.List("/org/example/")
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if diff := cmp.Diff([]string{"basic/", "containers/"}, sorted(dirs)); diff != "" {
				t.Errorf("List mismatch (-want +got):\n%s", diff)
			}
			locks, err := tb.Table(".locks")
			if err != nil {
				t.Fatalf("Table(.locks): %v", err)
			}
			for key, want := range map[string]bool{
				"/org/example/basic/uint32": true,
				"/org/example/basic/b-true": true,
				"/org/example/basic/int32":  false,
			} {
				if got := locks.Has(key); got != want {
					t.Errorf("locks.Has(%q) = %v; want %v", key, got, want)
				}
			}
		})
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestSchemasCompiled(t *testing.T) {
	for _, order := range []string{"little-endian", "big-endian"} {
		t.Run(order, func(t *testing.T) {
			b := readFixture(t, schemasPath)
			if order == "big-endian" {
				b = byteswapFile(t, b)
			}
			root := mustOpen(t, b)
			tests := []struct {
				schema, key string
				want        any
			}{
				{"org.gnome.desktop.session", "idle-delay", []any{int64(300)}},
				{"org.gnome.desktop.screensaver", "lock-enabled", []any{true}},
				{"org.gnome.desktop.screensaver", "lock-delay", []any{int64(0)}},
				{"org.mate.session", "idle-delay", []any{int64(5)}},
				{"org.mate.screensaver", "lock-delay", []any{int64(0)}},
				{"org.cinnamon.desktop.session", "idle-delay", []any{int64(900)}},
				{"org.mate.session", "default-session", []any{[]any{"mate-settings-daemon"}}},
				{"org.gnome.desktop.session", ".path", "/org/gnome/desktop/session/"},
				{"org.mate.screensaver", ".path", "/org/mate/screensaver/"},
			}
			for _, tt := range tests {
				schema, err := root.Table(tt.schema)
				if err != nil {
					t.Fatalf("Table(%q): %v", tt.schema, err)
				}
				v, err := schema.Value(tt.key)
				if err != nil {
					t.Fatalf("%s Value(%q): %v", tt.schema, tt.key, err)
				}
				if diff := cmp.Diff(tt.want, decode(t, v)); diff != "" {
					t.Errorf("%s %s mismatch (-want +got):\n%s", tt.schema, tt.key, diff)
				}
			}
			if _, err := root.Table("org.example.absent"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Table(absent) error = %v; want ErrNotFound", err)
			}
		})
	}
}

func TestNames(t *testing.T) {
	tb := mustOpen(t, readFixture(t, "testdata/types"))
	names, err := tb.Names()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"/": true, "/org/": true, "/org/example/basic/uint32": true, ".locks": true}
	for _, n := range names {
		delete(want, n)
	}
	if len(want) != 0 {
		t.Errorf("Names() misses %v (got %q)", want, names)
	}
}

// itemOffset returns the file offset of root item i of a well-formed file.
func itemOffset(t *testing.T, b []byte, i int) int {
	t.Helper()
	start := int(binary.LittleEndian.Uint32(b[16:]))
	nBloom := int(binary.LittleEndian.Uint32(b[start:]) & (1<<27 - 1))
	nBuckets := int(binary.LittleEndian.Uint32(b[start+4:]))
	return start + 8 + 4*nBloom + 4*nBuckets + i*itemSize
}

func TestMalformed(t *testing.T) {
	good := readFixture(t, "testdata/types")
	patch := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	tb := mustOpen(t, good)
	n := tb.Len()
	tests := []struct {
		name    string
		data    []byte
		openErr bool
	}{
		{"empty", nil, true},
		{"header only half", good[:12], true},
		{"bad signature", patch(func(b []byte) { b[0] = 'X' }), true},
		{"invalidated by dconf (first byte zeroed)", patch(func(b []byte) { b[0] = 0 }), true},
		{"bad version", patch(func(b []byte) { b[8] = 1 }), true},
		{"root pointer past end", patch(func(b []byte) { binary.LittleEndian.PutUint32(b[20:], 1<<30) }), true},
		{"root pointer reversed", patch(func(b []byte) { binary.LittleEndian.PutUint32(b[16:], 200); binary.LittleEndian.PutUint32(b[20:], 100) }), true},
		{"root misaligned", patch(func(b []byte) { binary.LittleEndian.PutUint32(b[16:], 25) }), true},
		{"huge bucket count", patch(func(b []byte) {
			binary.LittleEndian.PutUint32(b[binary.LittleEndian.Uint32(b[16:])+4:], 0xffffffff)
		}), true},
		{"huge bloom count", patch(func(b []byte) {
			binary.LittleEndian.PutUint32(b[binary.LittleEndian.Uint32(b[16:]):], 1<<27-1)
		}), true},
		{"parents form a cycle", patch(func(b []byte) {
			for i := 0; i < n; i++ {
				off := itemOffset(t, b, i)
				binary.LittleEndian.PutUint32(b[off+4:], uint32((i+1)%n))
			}
		}), false},
		{"keys out of bounds", patch(func(b []byte) {
			for i := 0; i < n; i++ {
				binary.LittleEndian.PutUint32(b[itemOffset(t, b, i)+8:], 0xfffffff0)
			}
		}), false},
		{"values out of bounds", patch(func(b []byte) {
			for i := 0; i < n; i++ {
				off := itemOffset(t, b, i)
				binary.LittleEndian.PutUint32(b[off+16:], 8)
				binary.LittleEndian.PutUint32(b[off+20:], 0xfffffff8)
			}
		}), false},
		{"buckets point past items", patch(func(b []byte) {
			start := int(binary.LittleEndian.Uint32(b[16:]))
			nb := int(binary.LittleEndian.Uint32(b[start+4:]))
			for i := 0; i < nb; i++ {
				binary.LittleEndian.PutUint32(b[start+8+4*i:], 0xfffffff0)
			}
		}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb, err := Open(tt.data)
			if (err != nil) != tt.openErr {
				t.Fatalf("Open error = %v; want error %v", err, tt.openErr)
			}
			if err != nil {
				if !errors.Is(err, ErrFormat) {
					t.Errorf("Open error %v is not ErrFormat", err)
				}
				return
			}
			v, err := tb.Value("/org/example/basic/uint32")
			if err == nil {
				t.Errorf("Value on a damaged file = %v; want an error", v.Type())
			}
			exercise(tb, 0)
		})
	}
}

// TestTruncated opens every prefix of the real files: none may panic, and
// each lookup either fails or returns a value inside the prefix.
func TestTruncated(t *testing.T) {
	for _, name := range []string{"testdata/types", schemasPath} {
		good := readFixture(t, name)
		step := 1 + len(good)/600 // every prefix of small files, ~600 of large ones
		for n := 0; n < len(good); n += step {
			if tb, err := Open(good[:n:n]); err == nil {
				exercise(tb, 0)
			}
		}
	}
}

func TestGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	good := readFixture(t, "testdata/types")
	for i := 0; i < 500; i++ {
		b := bytes.Clone(good)
		for k := 0; k < 1+rng.IntN(16); k++ {
			b[rng.IntN(len(b))] = byte(rng.Uint32())
		}
		if tb, err := Open(b); err == nil {
			exercise(tb, 0)
		}
	}
}

// exercise touches everything reachable in a table, as the fuzzer does.
func exercise(tb Table, depth int) {
	if depth > 4 {
		return
	}
	names, _ := tb.Names()
	for _, n := range names {
		if v, err := tb.Value(n); err == nil {
			exerciseValue(v, 0)
		}
		if sub, err := tb.Table(n); err == nil {
			exercise(sub, depth+1)
		}
		_, _ = tb.List(n)
		_ = tb.Has(n)
	}
}

func exerciseValue(v Value, depth int) {
	if depth > 8 {
		return
	}
	_, _ = v.Bool()
	_, _ = v.Int()
	_, _ = v.Uint64()
	_, _ = v.Double()
	_, _ = v.String()
	if c, err := v.Variant(); err == nil {
		exerciseValue(c, depth+1)
	}
	if n, err := v.NumChildren(); err == nil {
		for i := 0; i < n && i < 64; i++ {
			if c, err := v.Child(i); err == nil {
				exerciseValue(c, depth+1)
			}
		}
	}
}

func TestLookupAllocatesNothing(t *testing.T) {
	tb := mustOpen(t, readFixture(t, "testdata/types"))
	locks, err := tb.Table(".locks")
	if err != nil {
		t.Fatal(err)
	}
	schemas := mustOpen(t, readFixture(t, schemasPath))
	allocs := testing.AllocsPerRun(100, func() {
		v, err := tb.Value("/org/example/basic/uint32")
		if err != nil {
			panic(err)
		}
		if _, err := v.Uint32(); err != nil {
			panic(err)
		}
		if _, err := tb.Value("/org/example/basic/missing"); err == nil {
			panic("found missing key")
		}
		_ = locks.Has("/org/example/basic/uint32")
		s, err := schemas.Table("org.gnome.desktop.session")
		if err != nil {
			panic(err)
		}
		d, err := s.Value("idle-delay")
		if err != nil {
			panic(err)
		}
		c, err := d.Child(0)
		if err != nil {
			panic(err)
		}
		if _, err := c.Uint32(); err != nil {
			panic(err)
		}
		p, _ := s.Value(".path")
		if _, err := p.StringBytes(); err != nil {
			panic(err)
		}
	})
	if allocs != 0 {
		t.Errorf("lookups allocated %v times per run; want 0", allocs)
	}
}

func BenchmarkLookup(b *testing.B) {
	tb := mustOpen(b, readFixture(b, "testdata/types"))
	b.ReportAllocs()
	for b.Loop() {
		v, err := tb.Value("/org/example/basic/uint32")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := v.Uint32(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSchemaDefault(b *testing.B) {
	root := mustOpen(b, readFixture(b, schemasPath))
	b.ReportAllocs()
	for b.Loop() {
		s, err := root.Table("org.gnome.desktop.screensaver")
		if err != nil {
			b.Fatal(err)
		}
		v, err := s.Value("lock-delay")
		if err != nil {
			b.Fatal(err)
		}
		c, err := v.Child(0)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Uint32(); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzOpen(f *testing.F) {
	for _, name := range []string{"testdata/types", schemasPath} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte("GVariant\x00\x00\x00\x00\x00\x00\x00\x00\x18\x00\x00\x00\x20\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tb, err := Open(b)
		if err != nil {
			return
		}
		exercise(tb, 0)
	})
}

// FuzzVariant decodes arbitrary bytes as a value of an arbitrary type.
func FuzzVariant(f *testing.F) {
	f.Add([]byte("seven\x00\x07\x00\x00\x00\x06"), false)
	f.Add([]byte{1, 0, '(', 'b', ')'}, true)
	f.Add([]byte("one\x00two\x00\x04\x08\x00as"), false)
	f.Fuzz(func(t *testing.T, b []byte, swapped bool) {
		exerciseValue(Value{data: b, typ: variantType, swapped: swapped}, 0)
	})
}

// byteswapFile turns a little-endian GVDB file into its big-endian form the
// way gvdb-builder.c does with byteswap=TRUE: the signature words are
// swapped and every value is g_variant_byteswap'ed; the hash structures stay
// little-endian. It is used to test the big-endian path with real content.
func byteswapFile(t *testing.T, le []byte) []byte {
	t.Helper()
	b := bytes.Clone(le)
	for _, off := range []int{0, 4} {
		v := binary.LittleEndian.Uint32(b[off:])
		binary.BigEndian.PutUint32(b[off:], v)
	}
	// Navigate the little-endian original, swap in the clone: Values alias
	// the slice they were read from, so map offsets across.
	orig := mustOpen(t, le)
	var walk func(tb Table)
	walk = func(tb Table) {
		names, err := tb.Names()
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if v, err := tb.Value(n); err == nil {
				swapValue(t, b, le, v)
			}
			if sub, err := tb.Table(n); err == nil {
				walk(sub)
			}
		}
	}
	walk(orig)
	return b
}

func swapValue(t *testing.T, dst, src []byte, v Value) {
	t.Helper()
	size, fixed, err := typeLayout(v.typ)
	if err != nil {
		t.Fatal(err)
	}
	if fixed && !isTuple(v.typ) {
		if len(v.data) == 0 {
			return
		}
		off := offsetIn(src, v.data)
		seg := dst[off : off+size]
		for i, j := 0, len(seg)-1; i < j; i, j = i+1, j-1 {
			seg[i], seg[j] = seg[j], seg[i]
		}
		return
	}
	switch {
	case v.Is("v"):
		c, err := v.Variant()
		if err != nil {
			t.Fatal(err)
		}
		swapValue(t, dst, src, c)
	case isTuple(v.typ) || v.typ[0] == 'a':
		n, err := v.NumChildren()
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			c, err := v.Child(i)
			if err != nil {
				t.Fatal(err)
			}
			swapValue(t, dst, src, c)
		}
	}
}

// offsetIn returns the offset of sub within buf (sub aliases buf).
func offsetIn(buf, sub []byte) int {
	return len(buf[:cap(buf)]) - cap(sub)
}

// TestRegenerateFromKeyfile recompiles testdata/types from its keyfile
// source with the real dconf tool, when installed, and checks that both
// files read the same.
func TestRegenerateFromKeyfile(t *testing.T) {
	dconf, err := exec.LookPath("dconf")
	if err != nil {
		t.Skip("dconf not on PATH (Debian package dconf-cli); committed fixture not regenerated")
	}
	out := filepath.Join(t.TempDir(), "types")
	if msg, err := exec.Command(dconf, "compile", out, "testdata/types.d").CombinedOutput(); err != nil {
		t.Fatalf("dconf compile: %v: %s", err, msg)
	}
	want := dumpAll(t, mustOpen(t, readFixture(t, "testdata/types")))
	got := dumpAll(t, mustOpen(t, readFixture(t, out)))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("regenerated database differs from testdata/types (-committed +regenerated):\n%s", diff)
	}
}

// dumpAll renders every value and nested table of a file.
func dumpAll(t *testing.T, tb Table) map[string]any {
	t.Helper()
	out := map[string]any{}
	names, err := tb.Names()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if v, err := tb.Value(n); err == nil {
			out[n] = decode(t, v)
		} else if sub, err := tb.Table(n); err == nil {
			out[n] = dumpAll(t, sub)
		} else if l, err := tb.List(n); err == nil {
			out[n] = sorted(l)
		}
	}
	return out
}
