//go:build linux

package wholeproc

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/msgguard/msgguard/bench/statusload"
)

// BenchmarkStatusDuringScans: 1,000 GET /v1/status at once, each on its
// own connection as 1,000 `agent status` processes would. cpu-per-request
// reports the service's CPU time per request (from /proc/PID/stat, no
// scans running); during-scans keeps another connection scanning back to
// back and reports the latencies' p50 and p99 over all rounds and the
// agent's RSS after them. On a shared machine the latencies include
// waiting for a CPU; the CPU time does not.
// MSGGUARD_BENCH_ROOT names a larger root (bench/benchroot's) to scan
// instead of the Debian desktop fixture.
func BenchmarkStatusDuringScans(b *testing.B) {
	extra := ""
	a := build(b, extra)
	if r := os.Getenv("MSGGUARD_BENCH_ROOT"); r != "" {
		a.root = r
		rewriteRoot(b, a)
	}
	p := a.start(b)
	const n = 1000
	// burst sends n status requests at once and returns their latencies.
	burst := func(b *testing.B) []time.Duration {
		lat, failed, first := statusload.Burst(a.socket, n)
		if failed > 0 {
			b.Errorf("%d of %d status requests failed, the first: %v", failed, n, first)
		}
		return lat
	}
	// The service's own CPU time per request, without scans: robust
	// against a busy machine, unlike the latencies.
	b.Run("cpu-per-request", func(b *testing.B) {
		var reqs int
		cpu0 := p.CPU(b)
		for b.Loop() {
			burst(b)
			reqs += n
		}
		b.ReportMetric(float64(p.CPU(b)-cpu0)/float64(reqs)/1e3, "agent-CPU-µs/req")
	})
	b.Run("during-scans", func(b *testing.B) {
		scans := statusload.StartScans(a.socket)
		time.Sleep(50 * time.Millisecond)
		var all []time.Duration
		for b.Loop() {
			all = append(all, burst(b)...)
		}
		nscans, err := scans.Stop()
		if err != nil {
			b.Errorf("scan: %v", err)
		}
		b.ReportMetric(float64(percentile(all, 50))/1e6, "p50-ms")
		b.ReportMetric(float64(percentile(all, 99))/1e6, "p99-ms")
		b.ReportMetric(float64(nscans), "scans")
		b.ReportMetric(float64(p.StatusKB(b, "VmRSS")), "RSS-kB")
		b.ReportMetric(float64(p.StatusKB(b, "VmHWM")), "HWM-kB")
	})
}

// BenchmarkIdleRSS: the service's resident set 60 s after start (after its
// first scan), from /proc/PID/status, split into anonymous memory and file
// pages (mostly the binary's text). MSGGUARD_IDLE=10s shortens the wait.
func BenchmarkIdleRSS(b *testing.B) {
	a := build(b, "")
	if r := os.Getenv("MSGGUARD_BENCH_ROOT"); r != "" {
		a.root = r
		rewriteRoot(b, a)
	}
	started := time.Now()
	p := a.start(b)
	wait := time.Minute
	if d, err := time.ParseDuration(os.Getenv("MSGGUARD_IDLE")); err == nil {
		wait = d
	}
	time.Sleep(time.Until(started.Add(wait)))
	for b.Loop() {
	}
	for _, f := range []string{"VmRSS", "RssAnon", "RssFile", "VmHWM"} {
		b.ReportMetric(float64(p.StatusKB(b, f)), f+"-kB")
	}
}

// rewriteRoot writes a's config again after its root changed.
func rewriteRoot(t testing.TB, a *agent) {
	t.Helper()
	cfg := fmt.Sprintf("root: %q\ndatabase: %q\nsocket: %q\nlog:\n  level: warn\n", a.root, a.db, a.socket)
	if err := os.WriteFile(a.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
}
