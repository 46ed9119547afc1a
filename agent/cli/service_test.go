//go:build linux

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/msgguard/msgguard/agent/agenttest"

	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/localapi"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/agent/store"
	"github.com/msgguard/msgguard/policy"
)

// The tests in this file run the real agent binary: `agent run` as a
// process with temporary paths, queried through its socket.

// agentTree is a temporary installation: binary, config, policy, database
// and socket. Its directory is 0755 so that an unprivileged client can
// reach the socket.
type agentTree struct {
	dir, bin, config, policy, db, socket, root string
}

// newAgentTree builds the agent and writes its config; poll is the
// policy poll interval.
func newAgentTree(t testing.TB, poll string) *agentTree {
	t.Helper()
	// Not t.TempDir(): socket paths must fit in sun_path (108 bytes).
	dir, err := os.MkdirTemp("", "mgint")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs(fixtureRoot)
	if err != nil {
		t.Fatal(err)
	}
	a := &agentTree{
		dir: dir, bin: filepath.Join(dir, "agent"), config: filepath.Join(dir, "agent.yaml"),
		policy: filepath.Join(dir, "policy.yaml"), db: filepath.Join(dir, "data", "state.db"),
		socket: filepath.Join(dir, "run", "agent.sock"), root: root,
	}
	agenttest.Build(t, a.bin)
	a.writePolicy(t, "")
	cfg := fmt.Sprintf(`policy: %q
root: %q
database: %q
socket: %q
scan:
  initial_delay: 0s
  policy_poll: %s
log:
  level: debug
`, a.policy, a.root, a.db, a.socket, poll)
	if err := os.WriteFile(a.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return a
}

// writePolicy installs the default policy, renamed if name is set, or
// garbage if name is "!garbage". The file is replaced atomically.
func (a *agentTree) writePolicy(t testing.TB, name string) {
	t.Helper()
	content := string(policy.DefaultYAML())
	switch {
	case name == "!garbage":
		content = "messengers: [}}} not a policy\n\x00\x01"
	case name != "":
		re := "\nname: " + name + "\n"
		content = strings.Replace(content, "\nname: GDPR messenger policy (msgguard default)\n", re, 1)
		if !strings.Contains(content, re) {
			t.Fatal("default policy has no name line to replace")
		}
	}
	tmp := a.policy + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, a.policy); err != nil {
		t.Fatal(err)
	}
}

// start runs the agent; client waits until it answers with a report.
func (a *agentTree) start(t testing.TB) *agenttest.Proc {
	t.Helper()
	return agenttest.Start(t, a.bin, a.config)
}

func (a *agentTree) client(t testing.TB, p *agenttest.Proc) *localapi.Client {
	t.Helper()
	return p.Client(t, a.socket, 15*time.Second)
}

func waitStatus(t *testing.T, c *localapi.Client, what string, ok func(*status.Report) bool) *status.Report {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := c.Status(context.Background())
		if err == nil && ok(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (last: %v, err %v)", what, summary(r), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func summary(r *status.Report) string {
	if r == nil {
		return "no report"
	}
	return fmt.Sprintf("policy %q errors %v scanned %v", r.Policy.Name, r.Policy.Errors, r.ScannedAt)
}

func hasRule(r *status.Report, rule string, st policy.Status) bool {
	for _, f := range r.Findings {
		if f.Rule == rule && f.Status == st {
			return true
		}
	}
	return false
}

func userFindings(r *status.Report) []string {
	var out []string
	for _, f := range r.Findings {
		if f.User != "" {
			out = append(out, f.Rule+"/"+f.User)
		}
	}
	return out
}

func requireRootForService(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: builds and runs the agent binary")
	}
	if os.Geteuid() != 0 {
		t.Skip("the agent refuses a policy not owned by root when run as root, and the test checks peer credentials as root and nobody; run as root")
	}
}

// asNobody runs the agent binary as uid/gid 65534.
func (a *agentTree) asNobody(args ...string) (stdout, stderr string, code int) {
	cmd := exec.Command(a.bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd.Env = []string{"HOME=/nonexistent", "LANG=C", "PATH=/usr/bin:/bin"}
	cmd.Dir = "/"
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code = 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
		e.WriteString(err.Error())
	}
	return o.String(), e.String(), code
}

// TestService builds the agent once and runs the daemon through the
// service's life: queries as root and as nobody, policy changes, a scan
// burst, SIGTERM; then the faults.
func TestService(t *testing.T) {
	requireRootForService(t)
	a := newAgentTree(t, "100ms")
	p := a.start(t)
	c := a.client(t, p)
	ctx := context.Background()

	t.Run("root sees everything", func(t *testing.T) {
		r, err := c.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.Redacted || r.Source != "service" || r.Service == nil || !r.Service.Running {
			t.Fatalf("status: redacted %v source %q service %+v", r.Redacted, r.Source, r.Service)
		}
		if len(userFindings(r)) == 0 || len(r.Inventory.Users) == 0 {
			t.Errorf("root view has no per-user findings or users: %v", userFindings(r))
		}
	})

	t.Run("nobody gets the redacted view", func(t *testing.T) {
		out, errOut, code := a.asNobody("status", "--socket", a.socket, "--json")
		if code != exitCompliant && code != exitNotCompliant {
			t.Fatalf("status as nobody: exit %d: %s", code, errOut)
		}
		var r status.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("status --json as nobody: %v\n%s", err, out)
		}
		if !r.Redacted || r.Source != "service" {
			t.Errorf("nobody's view: redacted %v source %q", r.Redacted, r.Source)
		}
		if uf := userFindings(&r); len(uf) != 0 || len(r.Inventory.Users) != 0 {
			t.Errorf("nobody sees other users: findings %v users %v", uf, r.Inventory.Users)
		}
		if len(r.Findings) == 0 {
			t.Error("nobody sees no device-level findings")
		}
		for _, m := range r.Inventory.Messengers {
			if m.User != "" {
				t.Errorf("nobody sees %s's messenger %s", m.User, m.ID)
			}
		}
		// And may not trigger scans.
		_, errOut, code = a.asNobody("scan", "--socket", a.socket)
		if code != exitUsage || !strings.Contains(errOut, "only root may ask it to scan") {
			t.Errorf("scan as nobody: exit %d, %q; want refusal", code, errOut)
		}
	})

	t.Run("policy change rescans", func(t *testing.T) {
		before, _ := c.Status(ctx)
		a.writePolicy(t, "Second policy")
		r := waitStatus(t, c, "a rescan with the new policy", func(r *status.Report) bool {
			return r.Policy.Name == "Second policy"
		})
		if !r.ScannedAt.After(before.ScannedAt) || len(r.Policy.Errors) != 0 {
			t.Errorf("after change: %s (before %v)", summary(r), before.ScannedAt)
		}
	})

	t.Run("garbage policy keeps the last good one", func(t *testing.T) {
		a.writePolicy(t, "!garbage")
		r := waitStatus(t, c, "the rejected policy's errors", func(r *status.Report) bool {
			return len(r.Policy.Errors) > 0
		})
		if r.Policy.Name != "Second policy" {
			t.Errorf("policy in force = %q; want the last good one", r.Policy.Name)
		}
		if !hasRule(r, policy.RulePolicyInvalid, policy.StatusFail) {
			t.Error("no failing policy.invalid finding")
		}
		if h := r.Service.Health; h.OK || !strings.Contains(strings.Join(h.Problems, "\n"), "rejected") {
			t.Errorf("health = %+v; want the rejected policy named", h)
		}
		// The service keeps running and answering.
		if _, err := c.Health(ctx); err != nil {
			t.Fatalf("health after garbage: %v", err)
		}
		a.writePolicy(t, "Fixed policy")
		r = waitStatus(t, c, "recovery", func(r *status.Report) bool { return r.Policy.Name == "Fixed policy" })
		if len(r.Policy.Errors) != 0 || hasRule(r, policy.RulePolicyInvalid, policy.StatusFail) || !r.Service.Health.OK {
			t.Errorf("after fix: %s health %+v", summary(r), r.Service.Health)
		}
	})

	t.Run("agent scan asks the service", func(t *testing.T) {
		before, _ := c.Status(ctx)
		cmd := exec.Command(a.bin, "scan", "--socket", a.socket, "--json")
		out, err := cmd.Output()
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == exitNotCompliant) {
			t.Fatalf("agent scan: %v", err)
		}
		var r status.Report
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("scan --json: %v", err)
		}
		if r.Source != "service" || !r.ScannedAt.After(before.ScannedAt) {
			t.Errorf("scan via service: source %q scanned %v (before %v)", r.Source, r.ScannedAt, before.ScannedAt)
		}
	})

	t.Run("1000 concurrent status requests during scans", func(t *testing.T) {
		drift := func() int {
			v, err := c.Drift(ctx, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			return len(v.Scans)
		}
		scansBefore := drift()
		const scans = 5
		scanErr := make(chan error, 1)
		go func() {
			for range scans {
				if _, err := c.Scan(ctx); err != nil {
					scanErr <- err
					return
				}
			}
			scanErr <- nil
		}()
		var wg sync.WaitGroup
		var failed atomic.Int32
		var firstErr atomic.Value
		for range 1000 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// A client per request: 1,000 connections, as 1,000
				// separate `agent status` runs would open.
				cl := localapi.NewClient(a.socket)
				defer cl.Close()
				if _, err := cl.Status(ctx); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}()
		}
		wg.Wait()
		if err := <-scanErr; err != nil {
			t.Fatalf("scan during the burst: %v", err)
		}
		if n := failed.Load(); n != 0 {
			t.Errorf("%d of 1000 status requests failed; first: %v", n, firstErr.Load())
		}
		if got := drift() - scansBefore; got != scans {
			t.Errorf("%d scans recorded; want %d (none lost)", got, scans)
		}
	})

	t.Run("attest through the service as root", func(t *testing.T) {
		const rule = "attestation.telegram.secret-chats-only"
		if before, _ := c.Status(ctx); !hasRule(before, rule, policy.StatusFail) {
			t.Fatalf("before: %s is not failing", rule)
		}
		out, err := a.asRoot("attest", "telegram.secret-chats-only", "--by", "IT Ops", "--note", "ticket 41", "--socket", a.socket)
		if err != nil {
			t.Fatalf("agent attest: %v\n%s", err, out)
		}
		if !strings.Contains(out, "recorded: "+rule+" attested by IT Ops") || !strings.Contains(out, "the service rescanned; 'agent status' shows it") {
			t.Errorf("agent attest output:\n%s", out)
		}
		// Right away: the service rescanned before answering.
		r, err := c.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var f *status.Finding
		for i := range r.Findings {
			if r.Findings[i].Rule == rule {
				f = &r.Findings[i]
			}
		}
		if f == nil || f.Status != policy.StatusAttested || f.Attestation == nil || f.Attestation.By != "IT Ops" {
			t.Errorf("status right after attest: %+v; want attested by IT Ops", f)
		}
		// The CLI's status says the same.
		if out, _ := a.asRoot("status", "--socket", a.socket, "--verbose", "--lang", "en"); !strings.Contains(out, "IT Ops") {
			t.Errorf("agent status does not show the attestation:\n%s", out)
		}
	})

	t.Run("records as nobody are refused", func(t *testing.T) {
		for _, args := range [][]string{
			{"attest", "telegram.contact-sync-off", "--by", "mallory"},
			{"exempt", "remote-wipe", "--reason", "r", "--approver", "mallory", "--until", time.Now().AddDate(0, 1, 0).Format(time.DateOnly)},
			{"baseline", "accept", "--by", "mallory", "--why", "w"},
		} {
			_, errOut, code := a.asNobody(append(args, "--socket", a.socket)...)
			if code != exitUsage || !strings.Contains(errOut, "only an administrator may record this") {
				t.Errorf("agent %s as nobody: exit %d, %q; want refusal", args[0], code, errOut)
			}
		}
		r, err := c.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !hasRule(r, "attestation.telegram.contact-sync-off", policy.StatusFail) || hasRule(r, "remote-wipe", policy.StatusExempt) {
			t.Error("a refused record changed the findings")
		}
		if strings.Contains(p.Out.String(), "mallory") {
			t.Error("a refused record reached the log")
		}
	})

	t.Run("attest --list through the service as root and as nobody", func(t *testing.T) {
		const rule = "attestation.telegram.secret-chats-only"
		out, err := a.asRoot("attest", "--list", "--socket", a.socket)
		if err != nil {
			t.Fatalf("agent attest --list as root: %v\n%s", err, out)
		}
		for _, want := range []string{rule, "IT Ops", "ticket 41"} {
			if !strings.Contains(out, want) {
				t.Errorf("attest --list as root lacks %q:\n%s", want, out)
			}
		}
		out, errOut, code := a.asNobody("attest", "--list", "--socket", a.socket)
		if code != 0 {
			t.Fatalf("attest --list as nobody: exit %d: %s", code, errOut)
		}
		if !strings.Contains(out, rule) || !strings.Contains(out, "(not shown)") || !strings.Contains(out, "administrators only; run as root") {
			t.Errorf("attest --list as nobody is not the redacted list:\n%s", out)
		}
		for _, secret := range []string{"IT Ops", "ticket 41"} {
			if strings.Contains(out, secret) {
				t.Errorf("attest --list as nobody shows %q:\n%s", secret, out)
			}
		}
		// explain keeps to the device's findings for nobody, whose account
		// the inventory does not know.
		out, errOut, code = a.asNobody("explain", "messenger.whatsapp", "--socket", a.socket, "--json")
		if code != 0 {
			t.Fatalf("explain as nobody: exit %d: %s", code, errOut)
		}
		var x struct {
			Findings []status.Finding `json:"findings"`
			Redacted bool             `json:"redacted"`
		}
		if err := json.Unmarshal([]byte(out), &x); err != nil {
			t.Fatalf("explain --json as nobody: %v\n%s", err, out)
		}
		if !x.Redacted {
			t.Error("explain as nobody is not marked redacted")
		}
		for _, f := range x.Findings {
			if f.User != "" {
				t.Errorf("explain as nobody shows %s's finding", f.User)
			}
		}
	})

	t.Run("baseline accept through the service", func(t *testing.T) {
		out, err := a.asRoot("baseline", "accept", "--by", "IT Ops", "--why", "ticket 42", "--socket", a.socket)
		if err != nil || !strings.HasPrefix(out, "accepted the current state of ") {
			t.Fatalf("agent baseline accept: %v\n%s", err, out)
		}
		v, err := c.Drift(ctx, time.Now().Add(-time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, ev := range v.Events {
			if ev.Kind == drift.KindBaselineAccepted && ev.By == "IT Ops" && ev.Reason == "ticket 42" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d baseline_accepted events by IT Ops in /v1/drift; want 1: %+v", n, v.Events)
		}
	})

	t.Run("SIGTERM stops within 20 s", func(t *testing.T) {
		start := time.Now()
		p.Stop(t)
		t.Logf("stopped %v after SIGTERM", time.Since(start).Round(time.Millisecond))
		if _, err := os.Lstat(a.socket); err == nil {
			t.Error("socket left behind after a clean stop")
		}
		st, err := store.Open(a.db, store.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			t.Fatalf("database after stop: %v", err)
		}
		st.Close()
		if !strings.Contains(p.Out.String(), `"agent_stopped"`) {
			t.Error("no agent_stopped log line")
		}
	})

	t.Run("database locked by another process", func(t *testing.T) {
		if err := os.MkdirAll(filepath.Dir(a.db), 0o700); err != nil {
			t.Fatal(err)
		}
		// bbolt takes an flock; another process (this test) holding it
		// makes the agent's open time out.
		st, err := store.Open(a.db, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		start := time.Now()
		out, err := exec.Command(a.bin, "run", "--config", a.config).CombinedOutput()
		took := time.Since(start)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitUsage {
			t.Fatalf("agent run with a locked database: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "locked by another process") || !strings.Contains(string(out), "hint:") {
			t.Errorf("message does not say the database is locked:\n%s", out)
		}
		if took > 5*time.Second {
			t.Errorf("took %v to give up", took)
		}
	})

	t.Run("symlink at the socket path is refused, not followed", func(t *testing.T) {
		victim := filepath.Join(a.dir, "victim")
		if err := os.WriteFile(victim, []byte("keep"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(a.socket), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(victim, a.socket); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(a.bin, "run", "--config", a.config).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "not a socket") {
			t.Errorf("agent run over a symlinked socket path: %v\n%s", err, out)
		}
		if st, _ := os.Stat(victim); st.Mode().Perm() != 0o600 {
			t.Errorf("symlink target mode changed to %v", st.Mode().Perm())
		}
		if b, _ := os.ReadFile(victim); string(b) != "keep" {
			t.Error("symlink target changed")
		}
		os.Remove(a.socket)
	})

	t.Run("kill -9 during a scan, then restart", func(t *testing.T) {
		recs := func(c *localapi.Client) []string {
			v, err := c.Drift(context.Background(), time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range v.Scans {
				ids = append(ids, r.ID)
			}
			return ids
		}
		var before []string
		// The fixture scan takes milliseconds: ask for scans (SIGHUP) and
		// kill the agent, until a kill lands while a scan runs (the log
		// shows more scan_started than scan_done lines).
		midScan := false
		for attempt := 0; attempt < 10 && !midScan; attempt++ {
			p := a.start(t)
			c := a.client(t, p)
			before = recs(c)
			for range 4 {
				p.Cmd.Process.Signal(syscall.SIGHUP)
				time.Sleep(time.Duration(attempt+1) * time.Millisecond)
			}
			p.Cmd.Process.Kill()
			<-p.Done
			p.Done <- nil
			log := p.Out.String()
			midScan = strings.Count(log, `"scan_started"`) > strings.Count(log, `"scan_done"`)+strings.Count(log, `"scan_failed"`)
		}
		if !midScan {
			t.Log("no kill landed during a scan in 10 attempts; checked kills between scans only")
		}
		if _, err := os.Lstat(a.socket); err != nil {
			t.Fatalf("expected the killed agent's stale socket: %v", err)
		}

		p2 := a.start(t) // removes the stale socket
		c2 := a.client(t, p2)
		after := recs(c2)
		have := map[string]bool{}
		for _, id := range after {
			have[id] = true
		}
		for _, id := range before {
			if !have[id] {
				t.Errorf("scan %s lost after kill -9", id)
			}
		}
		h, err := c2.Health(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.Join(h.Problems, " "), "corrupt") {
			t.Errorf("database rebuilt after kill -9: %v", h.Problems)
		}
	})

	t.Run("a restart with a broken policy runs the last good one", func(t *testing.T) {
		a.writePolicy(t, "Kept policy")
		p3 := a.start(t)
		c3 := a.client(t, p3)
		waitStatus(t, c3, "the custom policy in force", func(r *status.Report) bool {
			return r.Policy.Name == "Kept policy" && len(r.Policy.Errors) == 0
		})
		p3.Stop(t)

		a.writePolicy(t, "!garbage")
		p4 := a.start(t)
		c4 := a.client(t, p4)
		// The first answer may be the stored report of the run before;
		// wait for the new run's scan, which carries the file's errors.
		r := waitStatus(t, c4, "the rejected policy's errors", func(r *status.Report) bool {
			return len(r.Policy.Errors) > 0
		})
		if r.Policy.Name != "Kept policy" {
			t.Errorf("policy in force after the restart = %q; want the last good (Kept policy), not the embedded default", r.Policy.Name)
		}
		if !hasRule(r, policy.RulePolicyInvalid, policy.StatusFail) {
			t.Error("no failing policy.invalid finding")
		}
		if h := r.Service.Health; h.OK || !strings.Contains(strings.Join(h.Problems, "\n"), `"Kept policy" stays in force`) {
			t.Errorf("health = %+v; want the rejected file with the kept policy named", h)
		}
		if !strings.Contains(p4.Out.String(), `"last_good_policy_restored"`) {
			t.Error("no last_good_policy_restored log line")
		}
	})
}

// asRoot runs the agent binary as this (root) process, in English, and
// returns its combined output.
func (a *agentTree) asRoot(args ...string) (string, error) {
	cmd := exec.Command(a.bin, args...)
	cmd.Env = append(os.Environ(), "LANG=C", "LC_ALL=", "LC_MESSAGES=")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// BenchmarkDaemon measures the real daemon: its idle RSS (VmRSS of the
// agent process) and CPU (utime+stime over 10 s) after the first scan, the
// status round trip through the socket (a reused connection, and a fresh
// Dial per request as the CLI does), and RSS after those requests.
func BenchmarkDaemon(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("run as root (the agent checks the policy file's owner)")
	}
	// The default policy poll (10 s), as installed.
	a := newAgentTree(b, "10s")
	p := a.start(b)
	c := a.client(b, p)
	ctx := context.Background()
	b.Run("idle", func(b *testing.B) {
		time.Sleep(2 * time.Second) // after the first scan
		cpu0 := p.CPU(b)
		time.Sleep(10 * time.Second)
		cpu1 := p.CPU(b)
		for b.Loop() {
		}
		b.ReportMetric(float64(p.StatusKB(b, "VmRSS")), "idle-RSS-kB")
		b.ReportMetric(float64(p.StatusKB(b, "RssAnon")), "idle-RssAnon-kB")
		b.ReportMetric(float64(p.StatusKB(b, "RssFile")), "idle-RssFile-kB")
		b.ReportMetric(100*float64(cpu1-cpu0)/float64(10*time.Second), "idle-CPU-%")
	})
	b.Run("status-roundtrip", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.Status(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("status-dial-roundtrip", func(b *testing.B) {
		for b.Loop() {
			cl, err := localapi.Dial(ctx, a.socket)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := cl.Status(ctx); err != nil {
				b.Fatal(err)
			}
			cl.Close()
		}
	})
	b.Run("rss-after-requests", func(b *testing.B) {
		for b.Loop() {
		}
		b.ReportMetric(float64(p.StatusKB(b, "VmRSS")), "RSS-kB")
	})
}
