//go:build !unix

package platform

import "os"

// trustedExecutable reports whether p is a regular file. On Windows the table
// only names paths under %SystemRoot% and %ProgramFiles%, which only
// administrators can write.
func trustedExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
