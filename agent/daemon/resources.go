package daemon

import (
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/msgguard/msgguard/agent/config"
	"github.com/msgguard/msgguard/platform/procs"
)

// Usage is one sample of the agent's own resource use.
type Usage = procs.Usage

// SelfSampler samples this process (on Linux from /proc/self/stat and
// statm, see platform/procs).
func SelfSampler() (func() (Usage, error), error) {
	return procs.SelfSampler()
}

// resources compares samples with the budget. It only observes: systemd's
// MemoryMax/CPUQuota enforce hard limits; here the agent says in its log
// and health when it is over its own, lower, budget (as osquery's watchdog
// thresholds do, without killing anything).
type resources struct {
	budget  config.Budget
	sampler func() (Usage, error)
	log     zerolog.Logger

	mu               sync.Mutex
	rss              uint64
	cpuPct           float64
	lastCPU          time.Duration
	lastAt           time.Time
	overRSS, overCPU bool
}

func newResources(b config.Budget, sampler func() (Usage, error), log zerolog.Logger) *resources {
	return &resources{budget: b, sampler: sampler, log: log}
}

func (r *resources) sample(now time.Time) {
	if r.sampler == nil {
		return
	}
	u, err := r.sampler()
	if err != nil {
		r.log.Debug().Err(err).Msg("resource_sample_failed")
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rss = u.RSS
	if !r.lastAt.IsZero() && now.After(r.lastAt) {
		r.cpuPct = 100 * float64(u.CPU-r.lastCPU) / float64(now.Sub(r.lastAt))
	}
	r.lastCPU, r.lastAt = u.CPU, now
	rssBudget := uint64(r.budget.RSSMB) << 20
	if over := rssBudget > 0 && u.RSS > rssBudget; over != r.overRSS {
		r.overRSS = over
		ev := r.log.Info()
		if over {
			ev = r.log.Warn()
		}
		ev.Uint64("rss_bytes", u.RSS).Int("budget_mb", r.budget.RSSMB).Bool("over", over).Msg("rss_budget")
	}
	if over := r.budget.CPUPercent > 0 && r.cpuPct > r.budget.CPUPercent; over != r.overCPU {
		r.overCPU = over
		ev := r.log.Info()
		if over {
			ev = r.log.Warn()
		}
		ev.Float64("cpu_percent", r.cpuPct).Float64("budget_percent", r.budget.CPUPercent).Bool("over", over).Msg("cpu_budget")
	}
}

// state returns the last RSS and the over-budget problems.
func (r *resources) state() (uint64, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var p []string
	if r.overRSS {
		p = append(p, fmt.Sprintf("memory %d MB over the %d MB budget", r.rss>>20, r.budget.RSSMB))
	}
	if r.overCPU {
		p = append(p, fmt.Sprintf("CPU %.1f%% over the %.1f%% budget", r.cpuPct, r.budget.CPUPercent))
	}
	return r.rss, p
}
