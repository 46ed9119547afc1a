//go:build !linux

package daemon

// dropTextPages is Linux-only (it reads /proc/self/maps).
func dropTextPages() uint64 { return 0 }
