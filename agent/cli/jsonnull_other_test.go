//go:build !linux

package cli

import "testing"

// serviceForReads: the in-process service test harness is Linux-only.
func serviceForReads(*testing.T) string { return "" }
