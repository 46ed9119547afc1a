//go:build !unix

package platform

import "os"

// openRefusesLinks: os.Open follows links and reparse points here, so the
// Lstat before an open is never skipped.
const openRefusesLinks = false

func linkRefused(_ string, err error) error { return err }

// openNoFollow opens read-only. Windows has no FIFOs in the file namespace
// and ReadFile's Lstat already refuses reparse-point links.
func openNoFollow(p string) (*os.File, error) {
	return os.Open(p)
}
