//go:build !linux

package procs

import (
	"context"
	"os"
	"time"

	"github.com/shirou/gopsutil/v4/process"
)

// List returns the running processes through gopsutil; processes that
// exit while being read are left out.
func List(ctx context.Context) ([]Process, error) {
	ps, err := process.ProcessesWithContext(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Process, 0, len(ps))
	for _, p := range ps {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		name, err := p.NameWithContext(ctx)
		if err != nil {
			continue // exited, or a protected process
		}
		exe, _ := p.ExeWithContext(ctx)
		info := Process{PID: p.Pid, Name: name, Exe: exe, UID: -1, username: p.UsernameWithContext}
		if uids, err := p.UidsWithContext(ctx); err == nil && len(uids) > 0 {
			info.UID = int64(uids[0])
		}
		out = append(out, info)
	}
	return out, nil
}

// SelfSampler samples this process with gopsutil.
func SelfSampler() (func() (Usage, error), error) {
	p, err := process.NewProcess(int32(os.Getpid()))
	if err != nil {
		return nil, err
	}
	return func() (Usage, error) {
		mem, err := p.MemoryInfo()
		if err != nil {
			return Usage{}, err
		}
		t, err := p.Times()
		if err != nil {
			return Usage{}, err
		}
		return Usage{RSS: mem.RSS, CPU: time.Duration((t.User + t.System) * float64(time.Second))}, nil
	}, nil
}
