//go:build !unix

package platform

import "os"

// openNoFollow opens read-only. Windows has no FIFOs in the file namespace
// and ReadFile's Lstat already refuses reparse-point links.
func openNoFollow(p string) (*os.File, error) {
	return os.Open(p)
}
