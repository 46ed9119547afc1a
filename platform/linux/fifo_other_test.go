//go:build !unix

package linux

import "testing"

func mkfifo(t testing.TB, p string) {
	t.Skip("FIFOs need a Unix system")
}
