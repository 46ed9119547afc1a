package windows

import (
	"fmt"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// maxProblemsPerProbe bounds the problems one probe may report, so that a
// machine with 10,000 malformed Uninstall keys yields a readable list and a
// count instead of 10,000 entries.
const maxProblemsPerProbe = 20

// problems collects what a scan could not read, per probe, bounded (see
// platform.Problems).
type problems struct {
	platform.Problems
}

func newProblems() *problems {
	return &problems{platform.Problems{Max: maxProblemsPerProbe}}
}

// add records err for probe at path (a registry or file path).
func (p *problems) add(probe, path string, err error) {
	p.Add(probe, path, err.Error())
}

func (p *problems) addf(probe, path, format string, args ...any) {
	p.Add(probe, path, fmt.Sprintf(format, args...))
}

// done returns the problems, with one summary line per probe that hit the
// bound.
func (p *problems) done() []policy.Problem { return p.List() }
