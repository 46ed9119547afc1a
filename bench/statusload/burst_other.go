//go:build !linux

package statusload

import "time"

// Burst sends n status requests at once and returns their latencies, how
// many failed and the first failure. Elsewhere than on Linux (where it is
// event-driven, see burst_linux.go) each request has a goroutine of its
// own.
func Burst(socket string, n int) (lat []time.Duration, failed int, first error) {
	return burstGoroutines(socket, n)
}
