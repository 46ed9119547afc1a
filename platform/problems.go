package platform

import (
	"fmt"
	"sort"

	"github.com/msgguard/msgguard/policy"
)

// Problems collects what a scan could not read. Each distinct problem is
// listed once (one symlinked folder met by several catalog paths is one
// problem), and at most Max per probe, so that a hostile tree (ten thousand
// FIFOs named like .desktop files, ten thousand malformed Uninstall keys)
// yields a readable list and a count instead of ten thousand entries. The
// zero value lists everything; it is used by one goroutine.
type Problems struct {
	// Max bounds the problems listed per probe; 0 means no bound.
	Max    int
	list   []policy.Problem
	seen   map[string]bool
	counts map[string]int
}

// Add records a problem; path is a file, registry or command path, or "".
func (p *Problems) Add(probe, path, msg string) {
	key := probe + "\x00" + path + "\x00" + msg
	if p.seen[key] {
		return
	}
	if p.seen == nil {
		p.seen, p.counts = map[string]bool{}, map[string]int{}
	}
	p.seen[key] = true
	p.counts[probe]++
	if p.Max > 0 && p.counts[probe] > p.Max {
		return
	}
	p.list = append(p.list, policy.Problem{Probe: probe, Path: path, Message: msg})
}

// AddCore records a problem that leaves a core source unread (see
// policy.Problem.Core): the device's accounts, or the machine-wide list of
// installed software. It is always listed, whatever Max, because it
// decides the verdict ("could not check") and must not be hidden behind a
// count of unlisted problems.
func (p *Problems) AddCore(probe, path, msg string) {
	p.list = append(p.list, policy.Problem{Probe: probe, Path: path, Message: msg, Core: true})
}

// List returns the listed problems in the order they were added, then one
// summary per probe (sorted) that had more than Max.
func (p *Problems) List() []policy.Problem {
	out := p.list
	probes := make([]string, 0, len(p.counts))
	for probe, n := range p.counts {
		if p.Max > 0 && n > p.Max {
			probes = append(probes, probe)
		}
	}
	sort.Strings(probes)
	for _, probe := range probes {
		out = append(out, policy.Problem{Probe: probe, Message: fmt.Sprintf("%d more problems not listed", p.counts[probe]-p.Max)})
	}
	return out
}
