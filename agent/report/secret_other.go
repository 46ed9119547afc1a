//go:build !unix

package report

import (
	"errors"
	"io/fs"
)

// checkSecretMode only refuses non-regular files here: Windows protects
// files with ACLs, which Go's mode bits do not show. The install step puts
// secrets under %ProgramData%\msgguard, which only Administrators and
// SYSTEM may read.
func checkSecretMode(fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	return nil
}
