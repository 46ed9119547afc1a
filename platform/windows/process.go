package windows

import (
	"context"
	"strings"

	"github.com/msgguard/msgguard/platform/procs"
	"github.com/msgguard/msgguard/policy"
)

// maxProcesses bounds the process table walk.
const maxProcesses = 10_000

// scanProcesses reports running catalog messengers with their user. Only on
// a live host: a fixture root has no process table. The user is the
// process token's account ("DOMAIN\alice" from gopsutil) mapped to the
// profile of the same name; the domain part is dropped.
func (s *scanner) scanProcesses(ctx context.Context, profiles []profile) {
	if !s.h.Live || len(s.m.procs) == 0 {
		return
	}
	ps, err := procs.List(ctx)
	if err != nil {
		s.probs.add(policy.SourceProcess, "", err)
		return
	}
	if len(ps) > maxProcesses {
		s.probs.addf(policy.SourceProcess, "", "%d processes, only the first %d inspected", len(ps), maxProcesses)
		ps = ps[:maxProcesses]
	}
	names := make(map[string]string, len(profiles))
	for _, p := range profiles {
		names[strings.ToLower(p.user.Name)] = p.user.Name
	}
	for _, p := range ps {
		name := p.Name
		e := s.m.procs[procKey(name)]
		if e == nil {
			continue
		}
		s.add(messenger(e, policy.SourceProcess, processUser(ctx, p, names), "", name))
	}
}

func processUser(ctx context.Context, p procs.Process, names map[string]string) string {
	u, err := p.Username(ctx)
	if err != nil {
		return ""
	}
	if i := strings.LastIndexByte(u, '\\'); i >= 0 {
		u = u[i+1:]
	}
	if n, ok := names[strings.ToLower(u)]; ok {
		return n
	}
	return u
}
