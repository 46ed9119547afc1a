package procs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"
)

// maxProcFile caps a read of /proc/<pid>/status or cmdline; both are a few
// kilobytes (cmdline is bounded by ARG_MAX, which can be larger, but only
// its first argument is used).
const maxProcFile = 64 << 10

// List returns the running processes; processes that exit while being
// read are left out.
func List(ctx context.Context) ([]Process, error) {
	return listIn(ctx, "/proc")
}

func listIn(ctx context.Context, proc string) ([]Process, error) {
	d, err := os.Open(proc)
	if err != nil {
		return nil, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, err
	}
	out := make([]Process, 0, len(names))
	for _, n := range names {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		pid, err := strconv.ParseInt(n, 10, 32)
		if err != nil || pid <= 0 {
			continue // not a process directory ("self", "sys", ...)
		}
		p, err := read(filepath.Join(proc, n), int32(pid))
		if err != nil {
			continue // exited, or a kernel thread's unreadable entry
		}
		out = append(out, p)
	}
	return out, nil
}

// read reads one /proc/<pid> directory.
func read(dir string, pid int32) (Process, error) {
	status, err := readCapped(filepath.Join(dir, "status"))
	if err != nil {
		return Process{}, err
	}
	p, err := parseStatus(status)
	if err != nil {
		return Process{}, fmt.Errorf("%s/status: %w", dir, err)
	}
	p.PID = pid
	if len(p.Name) >= 15 {
		// comm is cut at TASK_COMM_LEN-1 = 15 bytes.
		if cmdline, err := readCapped(filepath.Join(dir, "cmdline")); err == nil {
			p.Name = extendName(p.Name, cmdline)
		}
	}
	p.Exe, _ = os.Readlink(filepath.Join(dir, "exe"))
	uid := p.UID
	p.username = func(context.Context) (string, error) {
		if uid < 0 {
			return "", errors.New("uid unknown")
		}
		u, err := user.LookupId(strconv.FormatInt(uid, 10))
		if err != nil {
			return "", err
		}
		return u.Username, nil
	}
	return p, nil
}

// parseStatus reads Name and the real Uid from /proc/<pid>/status
// ("Name:\tbash", "Uid:\t1000\t1000\t1000\t1000").
func parseStatus(b []byte) (Process, error) {
	p := Process{UID: -1}
	seenName := false
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		key, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		switch string(key) {
		case "Name":
			p.Name = string(bytes.Trim(value, " \t"))
			seenName = true
		case "Uid":
			if f := bytes.Fields(value); len(f) > 0 {
				if n, err := strconv.ParseInt(string(f[0]), 10, 64); err == nil {
					p.UID = n
				}
			}
		}
	}
	if !seenName {
		return p, errors.New("no Name field")
	}
	return p, nil
}

// extendName completes a cut comm from the command line's first argument
// when that argument's base name starts with it.
func extendName(comm string, cmdline []byte) string {
	arg0, _, _ := bytes.Cut(cmdline, []byte{0})
	if len(arg0) == 0 {
		return comm
	}
	if base := filepath.Base(string(arg0)); len(base) > len(comm) && base[:len(comm)] == comm {
		return base
	}
	return comm
}

func readCapped(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxProcFile))
}

// userHZ is the unit of the CPU times in /proc/<pid>/stat: USER_HZ, which
// the kernel fixes at 100 for user space on every architecture Go runs on
// (include/asm-generic/param.h; proc(5) "utime").
const userHZ = 100

// SelfSampler returns a function that samples this process: RSS from
// /proc/self/statm (resident pages), CPU from /proc/self/stat (utime and
// stime, fields 14 and 15).
func SelfSampler() (func() (Usage, error), error) {
	page := uint64(os.Getpagesize())
	sample := func() (Usage, error) {
		statm, err := readCapped("/proc/self/statm")
		if err != nil {
			return Usage{}, err
		}
		f := bytes.Fields(statm)
		if len(f) < 2 {
			return Usage{}, errors.New("/proc/self/statm: too few fields")
		}
		resident, err := strconv.ParseUint(string(f[1]), 10, 64)
		if err != nil {
			return Usage{}, fmt.Errorf("/proc/self/statm: %w", err)
		}
		stat, err := readCapped("/proc/self/stat")
		if err != nil {
			return Usage{}, err
		}
		cpu, err := parseStatCPU(stat)
		if err != nil {
			return Usage{}, fmt.Errorf("/proc/self/stat: %w", err)
		}
		return Usage{RSS: resident * page, CPU: cpu}, nil
	}
	if _, err := sample(); err != nil {
		return nil, err
	}
	return sample, nil
}

// parseStatCPU returns utime+stime from a /proc/<pid>/stat line. The
// command name (field 2) is in parentheses and may hold spaces and ")", so
// the fields are counted from the last ")".
func parseStatCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("no command name")
	}
	f := bytes.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, errors.New("too few fields")
	}
	ut, err1 := strconv.ParseUint(string(f[11]), 10, 64)
	st, err2 := strconv.ParseUint(string(f[12]), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(ut+st) * time.Second / userHZ, nil
}
