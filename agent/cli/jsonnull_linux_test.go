//go:build linux

package cli

import "testing"

// serviceForReads starts the in-process service on the fixture root and
// returns its socket ("" in -short mode).
func serviceForReads(t *testing.T) string {
	if testing.Short() {
		return ""
	}
	cfg, _ := inProcessService(t)
	return cfg.Socket
}
