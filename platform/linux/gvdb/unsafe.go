package gvdb

import "unsafe"

// unsafeString views b as a string without copying. The Table's data must
// not be modified while values from it are in use (Open documents this), so
// the string stays immutable in practice; it keeps lookups allocation-free.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
