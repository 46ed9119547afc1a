//go:build !unix

package platform

// readRegular has no raw path here: ReadListed takes the general one.
func (d *DirFS) readRegular(_ string, _ int64, buf []byte) ([]byte, bool, error) {
	return buf[:0], false, nil
}
