//go:build !(linux && (amd64 || arm64))

package platform

import "io/fs"

// lstatBelow has no fast path here: LstatBelow takes Lstat's.
func (d *DirFS) lstatBelow(_, _ string) (Ident, bool, error) { return Ident{}, false, nil }

// scanDir has no fast path here: ScanDir takes ReadDir's.
func (d *DirFS) scanDir(string, int, func(string, fs.FileMode)) (bool, bool, error) {
	return false, false, nil
}
