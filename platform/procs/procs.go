// Package procs lists the running processes of the live system for the
// probes, and samples the agent's own resource use. On Linux it reads
// /proc itself (proc(5)); elsewhere it uses gopsutil. Linux builds thereby
// do not link gopsutil at all, whose cpu package reads /proc/stat twice at
// every start of every verb (gopsutil v4 cpu/cpu.go init).
package procs

import (
	"context"
	"time"
)

// Process is what the probes need of a running process.
type Process struct {
	PID int32
	// Name is the command name. On Linux the kernel keeps 15 bytes of it
	// (comm); a longer one is completed from the command line when that
	// starts with it, as gopsutil does.
	Name string
	// Exe is the executable's path, "" when unreadable.
	Exe string
	// UID is the real user id, -1 where unknown (Windows).
	UID int64

	username func(context.Context) (string, error)
}

// Username returns the account the process runs as ("alice"; on Windows
// "DOMAIN\alice").
func (p Process) Username(ctx context.Context) (string, error) {
	return p.username(ctx)
}

// Usage is one sample of a process's resource use.
type Usage struct {
	// RSS is the resident set size in bytes.
	RSS uint64
	// CPU is user+system CPU time consumed since the process started.
	CPU time.Duration
}
