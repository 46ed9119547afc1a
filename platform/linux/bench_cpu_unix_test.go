//go:build unix

package linux

import (
	"syscall"
	"testing"
	"time"
)

// reportCPU reports the process's CPU time (user+system, all threads) per
// iteration as "cpu-ns/op". On a shared, loaded machine the wall time
// (ns/op) includes waiting for a core; the CPU time mostly does not.
func reportCPU(b *testing.B) func() {
	var r0 syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r0); err != nil {
		return func() {}
	}
	return func() {
		var r1 syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r1); err != nil || b.N == 0 {
			return
		}
		cpu := time.Duration(r1.Utime.Nano() - r0.Utime.Nano() + r1.Stime.Nano() - r0.Stime.Nano())
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
