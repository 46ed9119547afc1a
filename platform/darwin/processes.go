package darwin

import (
	"strings"

	"github.com/msgguard/msgguard/platform/procs"
	"github.com/msgguard/msgguard/policy"
)

// maxProcesses bounds the process table walk.
const maxProcesses = 20000

// scanProcesses records running catalog processes. It runs only on the live
// system (Host.Live): a fixture root has no process table. The kernel keeps
// at most MAXCOMLEN (16) bytes of a command name (p_comm in <sys/proc.h>),
// so a longer catalog name also matches its 15/16-byte prefix.
func scanProcesses(s *scan) {
	ps, err := procs.List(s.ctx)
	if err != nil {
		s.problem("processes", "", "cannot list processes: "+err.Error())
		return
	}
	if len(ps) > maxProcesses {
		ps = ps[:maxProcesses]
	}
	type key struct{ id, user string }
	seen := map[key]bool{}
	for _, p := range ps {
		name := p.Name
		if name == "" {
			continue
		}
		e := matchProcess(s.cat, name)
		if e == nil {
			continue
		}
		user, _ := p.Username(s.ctx)
		if k := (key{e.ID, user}); !seen[k] {
			seen[k] = true
			s.inv.Messengers = append(s.inv.Messengers, policy.Messenger{
				ID: e.ID, Name: e.Name, Variant: e.Variant, Source: policy.SourceProcess, User: user,
			})
		}
	}
}

// matchProcess returns the catalog entry whose darwin process name matches.
func matchProcess(cat *policy.Catalog, name string) *policy.CatalogEntry {
	for i := range cat.Messengers {
		e := &cat.Messengers[i]
		for _, want := range e.Darwin.Processes {
			if name == want || (len(name) >= 15 && len(want) > len(name) && strings.HasPrefix(want, name)) {
				return e
			}
		}
	}
	return nil
}
