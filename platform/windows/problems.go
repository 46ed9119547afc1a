package windows

import (
	"fmt"
	"sort"

	"github.com/msgguard/msgguard/policy"
)

// maxProblemsPerProbe bounds the problems one probe may report, so that a
// machine with 10,000 malformed Uninstall keys yields a readable list and a
// count instead of 10,000 entries.
const maxProblemsPerProbe = 20

// problems collects what a scan could not read, per probe, bounded.
type problems struct {
	list    []policy.Problem
	counts  map[string]int
	dropped map[string]int
	seen    map[string]bool
}

func newProblems() *problems {
	return &problems{counts: map[string]int{}, dropped: map[string]int{}, seen: map[string]bool{}}
}

// add records err for probe at path (a registry or file path).
func (p *problems) add(probe, path string, err error) {
	p.addMsg(probe, path, err.Error())
}

func (p *problems) addf(probe, path, format string, args ...any) {
	p.addMsg(probe, path, fmt.Sprintf(format, args...))
}

func (p *problems) addMsg(probe, path, msg string) {
	key := probe + "\x00" + path + "\x00" + msg
	if p.seen[key] {
		return // one link refused for twelve data dirs is one problem
	}
	p.seen[key] = true
	p.counts[probe]++
	if p.counts[probe] > maxProblemsPerProbe {
		p.dropped[probe]++
		return
	}
	p.list = append(p.list, policy.Problem{Probe: probe, Path: path, Message: msg})
}

// done returns the problems, with one summary line per probe that hit the
// bound.
func (p *problems) done() []policy.Problem {
	probes := make([]string, 0, len(p.dropped))
	for probe := range p.dropped {
		probes = append(probes, probe)
	}
	sort.Strings(probes)
	out := p.list
	for _, probe := range probes {
		out = append(out, policy.Problem{Probe: probe, Message: fmt.Sprintf("%d more problems not listed", p.dropped[probe])})
	}
	return out
}
