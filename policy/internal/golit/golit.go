// Package golit writes Go source for a value: a composite literal that
// builds an equal value (reflect.DeepEqual), found by walking the value with
// reflection. The policy package's generator uses it to compile the embedded
// catalog and default policy into Go, so that a start does not parse YAML;
// because it walks whatever fields the types have, a new schema field needs
// no change here, only a new `go generate`.
//
// Supported: booleans, numbers, strings, structs (also with unexported
// fields of the package the code is written into), slices, arrays, maps,
// pointers, and time.Time. Zero fields are left out; a non-nil empty slice
// or map is kept as such, because DeepEqual tells it from nil.
package golit

import (
	"cmp"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// Emitter writes expressions for the package with import path Pkg: that
// package's types are written unqualified, others with their package name,
// recorded in Imports.
type Emitter struct {
	Pkg string
	// Skip, when set, leaves a struct field out of the literal (for a field
	// the generated code fills itself, such as a derived pointer).
	Skip func(parent reflect.Type, f reflect.StructField) bool

	imports map[string]bool
}

// Imports returns the import paths the emitted expressions need, sorted.
func (e *Emitter) Imports() []string {
	var out []string
	for p := range e.imports {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Expr returns a Go expression for v. Pass a pointer (reflect.ValueOf(&x))
// to get &T{...}.
func (e *Emitter) Expr(v reflect.Value) (s string, err error) {
	defer func() {
		if r := recover(); r != nil {
			if ge, ok := r.(golitError); ok {
				err = ge
				return
			}
			panic(r)
		}
	}()
	var b strings.Builder
	e.value(&b, addressable(v), false, "")
	return b.String(), nil
}

type golitError struct{ msg string }

func (g golitError) Error() string { return "golit: " + g.msg }

func fail(path, format string, args ...any) {
	if path == "" {
		path = "value"
	}
	panic(golitError{path + ": " + fmt.Sprintf(format, args...)})
}

var timeType = reflect.TypeFor[time.Time]()

// value writes v. elide leaves out the type of a composite literal, which
// Go allows for the elements of slices, arrays and maps.
func (e *Emitter) value(b *strings.Builder, v reflect.Value, elide bool, path string) {
	t := v.Type()
	if !v.CanInterface() && v.CanAddr() {
		// Reached through an unexported field: reflect marks it read-only,
		// which only stops Interface and Set. Generated code in that
		// package may set the field, so the generator may read it.
		v = reflect.NewAt(t, unsafe.Pointer(v.UnsafeAddr())).Elem()
	}
	if t == timeType {
		e.time(b, readable(v, path))
		return
	}
	switch t.Kind() {
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			fail(path, "%v has no constant form", f)
		}
		s := strconv.FormatFloat(f, 'g', -1, t.Bits())
		if f == 0 && math.Signbit(f) {
			s = "math.Copysign(0, -1)"
			e.use("math")
		}
		b.WriteString(s)
	case reflect.String:
		b.WriteString(strconv.Quote(v.String()))
	case reflect.Struct:
		if !elide {
			b.WriteString(e.typeName(t, path))
		}
		b.WriteString("{")
		first := true
		for i := range t.NumField() {
			f := t.Field(i)
			if e.Skip != nil && e.Skip(t, f) {
				continue
			}
			fv := v.Field(i)
			if fv.IsZero() {
				continue
			}
			if !f.IsExported() && t.PkgPath() != e.Pkg {
				fail(path, "%s has unexported field %s, which code in %s cannot set", t, f.Name, e.Pkg)
			}
			if first {
				b.WriteString("\n")
				first = false
			}
			b.WriteString(f.Name)
			b.WriteString(": ")
			e.value(b, fv, false, path+"."+f.Name)
			b.WriteString(",\n")
		}
		b.WriteString("}")
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && v.IsNil() {
			b.WriteString("nil")
			return
		}
		if !elide {
			b.WriteString(e.typeName(t, path))
		}
		b.WriteString("{")
		if v.Len() > 0 {
			b.WriteString("\n")
		}
		for i := range v.Len() {
			e.value(b, v.Index(i), elidable(t.Elem()), fmt.Sprintf("%s[%d]", path, i))
			b.WriteString(",\n")
		}
		b.WriteString("}")
	case reflect.Map:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		if !elide {
			b.WriteString(e.typeName(t, path))
		}
		b.WriteString("{")
		type entry struct{ k, v string }
		var entries []entry
		for it := v.MapRange(); it.Next(); {
			var kb, vb strings.Builder
			kp := fmt.Sprintf("%s[%v]", path, it.Key())
			e.value(&kb, it.Key(), elidable(t.Key()), kp)
			e.value(&vb, addressable(it.Value()), elidable(t.Elem()), kp)
			entries = append(entries, entry{kb.String(), vb.String()})
		}
		// Sorted by the key's source text: the output must not depend on
		// map iteration order.
		slices.SortFunc(entries, func(a, b entry) int { return cmp.Compare(a.k, b.k) })
		if len(entries) > 0 {
			b.WriteString("\n")
		}
		for _, en := range entries {
			b.WriteString(en.k)
			b.WriteString(": ")
			b.WriteString(en.v)
			b.WriteString(",\n")
		}
		b.WriteString("}")
	case reflect.Pointer:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		switch t.Elem().Kind() {
		case reflect.Struct, reflect.Slice, reflect.Array, reflect.Map:
			if t.Elem() != timeType {
				b.WriteString("&")
				e.value(b, v.Elem(), false, path)
				return
			}
		}
		// new(T(x)) (Go 1.26: new takes an expression).
		b.WriteString("new(")
		b.WriteString(e.typeName(t.Elem(), path))
		b.WriteString("(")
		e.value(b, v.Elem(), false, path)
		b.WriteString("))")
	case reflect.Interface:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		fail(path, "interface values are not supported (%s)", t)
	default:
		fail(path, "%s values are not supported", t.Kind())
	}
}

// elidable reports whether an element of type t may be written without its
// type inside a composite literal.
func elidable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Struct:
		return t != timeType
	case reflect.Slice, reflect.Array, reflect.Map:
		return true
	}
	return false
}

// time writes a time.Time. UTC stays UTC; any other location becomes a
// fixed zone with the same name and offset, which is what parsing an RFC
// 3339 time yields.
func (e *Emitter) time(b *strings.Builder, t time.Time) {
	e.use("time")
	if t.IsZero() {
		b.WriteString("time.Time{}")
		return
	}
	if t.Location() == time.UTC {
		fmt.Fprintf(b, "time.Date(%d, %d, %d, %d, %d, %d, %d, time.UTC)",
			t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond())
		return
	}
	name, off := t.Zone()
	fmt.Fprintf(b, "time.Unix(%d, %d).In(time.FixedZone(%q, %d))", t.Unix(), t.Nanosecond(), name, off)
}

// readable returns v as a time.Time even where v was reached through an
// unexported field (reflect refuses Interface there).
func readable(v reflect.Value, path string) time.Time {
	if v.CanInterface() {
		return v.Interface().(time.Time)
	}
	if v.CanAddr() {
		return *(*time.Time)(unsafe.Pointer(v.UnsafeAddr()))
	}
	fail(path, "cannot read a time.Time held in an unexported, unaddressable place")
	return time.Time{}
}

// addressable returns an addressable copy of v (map values are not
// addressable), so that unexported fields below it can be read.
func addressable(v reflect.Value) reflect.Value {
	if v.CanAddr() || !v.CanInterface() {
		return v
	}
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	return c
}

func (e *Emitter) use(pkg string) {
	if e.imports == nil {
		e.imports = map[string]bool{}
	}
	e.imports[pkg] = true
}

// typeName returns t as written in the generated package.
func (e *Emitter) typeName(t reflect.Type, path string) string {
	if t.Name() != "" {
		switch {
		case t.PkgPath() == "":
			return t.Name() // predeclared
		case strings.ContainsAny(t.Name(), "[]"):
			fail(path, "generic type %s is not supported", t)
		case t.PkgPath() == e.Pkg:
			return t.Name()
		}
		e.use(t.PkgPath())
		pkg := t.PkgPath()[strings.LastIndexByte(t.PkgPath(), '/')+1:]
		return pkg + "." + t.Name()
	}
	switch t.Kind() {
	case reflect.Slice:
		return "[]" + e.typeName(t.Elem(), path)
	case reflect.Array:
		return fmt.Sprintf("[%d]%s", t.Len(), e.typeName(t.Elem(), path))
	case reflect.Map:
		return "map[" + e.typeName(t.Key(), path) + "]" + e.typeName(t.Elem(), path)
	case reflect.Pointer:
		return "*" + e.typeName(t.Elem(), path)
	}
	fail(path, "unnamed %s type %s is not supported", t.Kind(), t)
	return ""
}
