//go:build !(linux && (amd64 || arm64))

package platform

// lstatBelow has no fast path here: LstatBelow takes Lstat's.
func (d *DirFS) lstatBelow(_, _ string) (Ident, bool, error) { return Ident{}, false, nil }
