package linux

import (
	"context"
	"path"
	"strconv"
	"strings"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/procs"
	"github.com/msgguard/msgguard/policy"
)

// procInfo is what the inventory needs of a running process.
type procInfo struct {
	Name string // comm, extended past the kernel's 15 bytes (procs.Process)
	Exe  string // /proc/<pid>/exe target, "" when unreadable
	UID  int64  // real uid, -1 when unknown
}

// scanProcesses matches running processes against the catalog. It runs
// only on the live root (h.Live): the process table belongs to the
// running system, not to a mounted image.
func (c *collector) scanProcesses(ctx context.Context, h *platform.Host, users []policy.User) {
	procs, err := listProcesses(ctx)
	if err != nil {
		c.problem("process", "", "process table not read: "+err.Error())
	}
	c.matchProcesses(procs, uidNames(h, users))
}

// listProcesses reads the process table (platform/procs reads /proc).
// Processes that exit while being read are skipped.
func listProcesses(ctx context.Context) ([]procInfo, error) {
	ps, err := procs.List(ctx)
	out := make([]procInfo, 0, len(ps))
	for _, p := range ps {
		out = append(out, procInfo{Name: p.Name, Exe: p.Exe, UID: p.UID})
	}
	return out, err
}

// matchProcesses adds one item per matching process (the collector later
// folds the many helper processes of one app into one).
func (c *collector) matchProcesses(procs []procInfo, names map[int64]string) {
	for _, p := range procs {
		// The kernel marks the executable of an upgraded, still running
		// program " (deleted)".
		exe := strings.TrimSuffix(p.Exe, " (deleted)")
		e := c.idx.process[p.Name]
		if e == nil && exe != "" {
			e = c.idx.process[path.Base(exe)]
		}
		if e == nil {
			continue
		}
		loc := exe
		if loc == "" {
			loc = p.Name
		}
		c.add(e, sourceProcess, procUser(p.UID, names), "", loc)
	}
}

func procUser(uid int64, names map[int64]string) string {
	if uid < 0 {
		return ""
	}
	if n, ok := names[uid]; ok {
		return n
	}
	return "uid " + strconv.FormatInt(uid, 10)
}

// uidNames maps uids to account names: every passwd account (a messenger
// could run as a system account), the human users first.
func uidNames(h *platform.Host, users []policy.User) map[int64]string {
	m := map[int64]string{}
	for _, u := range users {
		if n, err := strconv.ParseInt(u.UID, 10, 64); err == nil {
			m[n] = u.Name
		}
	}
	if b, err := platform.ReadFile(h.Root, "etc/passwd", maxPasswdSize); err == nil {
		entries, _ := parsePasswd(b)
		for _, e := range entries {
			if _, ok := m[int64(e.UID)]; !ok {
				m[int64(e.UID)] = e.Name
			}
		}
	}
	return m
}
