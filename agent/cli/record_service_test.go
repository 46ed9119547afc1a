//go:build linux

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/msgguard/msgguard/agent/config"
	"github.com/msgguard/msgguard/agent/localapi"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/install"
	"github.com/msgguard/msgguard/policy"
)

// inProcessService runs the service (runDaemon, as `agent run` does) in
// this process on temporary paths and the Linux fixture root with the
// embedded policy; stop ends it and waits.
func inProcessService(t *testing.T) (cfg config.Config, stop func()) {
	t.Helper()
	dir, err := os.MkdirTemp("", "mgrec") // sun_path is short
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	root, err := filepath.Abs(fixtureRoot)
	if err != nil {
		t.Fatal(err)
	}
	paths := install.PathsFor("linux", "")
	cfg = config.Default(paths)
	cfg.Policy, cfg.Root = "", root
	cfg.Database, cfg.Socket = filepath.Join(dir, "state.db"), filepath.Join(dir, "agent.sock")
	cfg.Scan.InitialDelay, cfg.Scan.Jitter = 0, 0
	e, _, _ := testEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runDaemon(ctx, e, cfg, paths, zerolog.New(zerolog.NewTestWriter(t))) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("runDaemon: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the service did not stop")
		}
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := localapi.Dial(context.Background(), cfg.Socket)
		if err == nil {
			_, err = c.Status(context.Background())
			c.Close()
			if err == nil {
				return cfg, stop
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the service did not answer with a report: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rootEnv is the CLI as root on the real clock (the service's clock).
func rootEnv(t *testing.T) (*Env, *bytes.Buffer, *bytes.Buffer) {
	e, out, errb := testEnv(t)
	e.euid = 0
	return e, out, errb
}

// TestRecordThroughRunningService: while the service holds the database,
// attest, exempt and baseline accept record through it, status shows the
// result at once, and a bad request gets exactly the message (and exit
// code) the CLI gives when it records in the database itself.
func TestRecordThroughRunningService(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the service in process")
	}
	cfg, stop := inProcessService(t)
	sock := cfg.Socket
	if os.Geteuid() != 0 {
		e, _, errb := rootEnv(t)
		code := runCLI(t, e, "attest", "telegram.secret-chats-only", "--by", "Anna", "--socket", sock)
		if code != exitUsage || !strings.Contains(errb.String(), "only an administrator may record this (try: sudo agent attest telegram.secret-chats-only --by NAME)") {
			t.Errorf("attest as uid %d through the service: exit %d, %q; want refusal", os.Geteuid(), code, errb)
		}
		return
	}
	status := func() *status.Report {
		t.Helper()
		e, out, errb := rootEnv(t)
		if code := runCLI(t, e, "status", "--socket", sock, "--json"); code != exitCompliant && code != exitNotCompliant {
			t.Fatalf("status: exit %d: %s", code, errb)
		}
		var r status.Report
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		return &r
	}
	if got := statusOf(status())["attestation.telegram.secret-chats-only|"].Status; got != policy.StatusFail {
		t.Fatalf("before: telegram.secret-chats-only is %q; want fail", got)
	}

	t.Run("attest", func(t *testing.T) {
		e, out, errb := rootEnv(t)
		if code := runCLI(t, e, "attest", "telegram.secret-chats-only", "--by", "Anna Admin", "--note", "Ticket 7", "--socket", sock); code != 0 {
			t.Fatalf("attest: exit %d: %s", code, errb)
		}
		for _, want := range []string{"recorded: attestation.telegram.secret-chats-only attested by Anna Admin for device ",
			"the service rescanned; 'agent status' shows it"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("attest output lacks %q:\n%s", want, out)
			}
		}
		f := statusOf(status())["attestation.telegram.secret-chats-only|"]
		if f.Status != policy.StatusAttested || f.Attestation == nil || f.Attestation.By != "Anna Admin" {
			t.Errorf("after attest: %+v; want attested by Anna Admin", f)
		}
	})

	t.Run("exempt", func(t *testing.T) {
		until := time.Now().AddDate(0, 1, 0).Format(time.DateOnly)
		e, out, errb := rootEnv(t)
		if code := runCLI(t, e, "exempt", "remote-wipe", "--reason", "MDM rollout", "--approver", "DPO", "--until", until, "--socket", sock); code != 0 {
			t.Fatalf("exempt: exit %d: %s", code, errb)
		}
		if !strings.Contains(out.String(), "recorded: remote-wipe exempt on device ") || !strings.Contains(out.String(), "the service rescanned") {
			t.Errorf("exempt output:\n%s", out)
		}
		if f := statusOf(status())["remote-wipe|"]; f.Status != policy.StatusExempt || f.Underlying != policy.StatusFail {
			t.Errorf("after exempt: remote-wipe %q (underlying %q); want exempt over fail", f.Status, f.Underlying)
		}
	})

	t.Run("baseline accept", func(t *testing.T) {
		e, out, errb := rootEnv(t)
		if code := runCLI(t, e, "baseline", "accept", "--by", "Anna", "--why", "ticket 9", "--socket", sock); code != 0 {
			t.Fatalf("baseline accept: exit %d: %s", code, errb)
		}
		if !strings.HasPrefix(out.String(), "accepted the current state of ") {
			t.Errorf("baseline accept output: %q", out)
		}
	})

	t.Run("--db bypasses the service", func(t *testing.T) {
		e, _, errb := rootEnv(t)
		code := runCLI(t, e, "attest", "telegram.contact-sync-off", "--by", "A", "--db", cfg.Database, "--socket", sock)
		if code != exitUsage || !strings.Contains(errb.String(), errServiceHoldsDB.Error()) {
			t.Errorf("attest --db while the service runs: exit %d, %q", code, errb)
		}
	})

	// The same bad requests, through the service now and into the
	// database once it stopped: the same words and exit code.
	tenYears := time.Now().AddDate(10, 0, 0).Format(time.DateOnly)
	bad := [][]string{
		{"attest", "telegram.secret-chat", "--by", "A"},
		{"attest", "remote-wipe", "--by", "A"},
		{"attest", "telegram.secret-chats-only"},
		{"attest", "telegram.secret-chats-only", "--by", "A", "--until", "2020-01-01"},
		{"attest", "telegram.secret-chats-only", "--by", "A", "--until", "next week"},
		{"attest", "telegram.secret-chats-only", "--by", "A", "--device", "no-such-phone"},
		{"exempt", "remote-wipe", "--reason", "r", "--approver", "A"},
		{"exempt", "remote-wipe", "--reason", "r", "--approver", "A", "--until", tenYears},
		{"exempt", "policy.invalid", "--reason", "r", "--approver", "A", "--until", "2099-01-01"},
		{"baseline", "accept", "--by", "A"},
		{"baseline", "accept", "--by", "A", "--why", " "},
		{"baseline", "accept", "--by", "A", "--why", "w", "--device", "no-such-phone"},
	}
	type answer struct {
		code   int
		stderr string
	}
	viaService := make([]answer, len(bad))
	for i, args := range bad {
		e, _, errb := rootEnv(t)
		viaService[i] = answer{runCLI(t, e, append(args, "--socket", sock)...), errb.String()}
	}
	stop()
	for i, args := range bad {
		e, _, errb := rootEnv(t)
		inDB := answer{runCLI(t, e, append(args, "--db", cfg.Database)...), errb.String()}
		t.Logf("agent %s: exit %d, %s", strings.Join(args, " "), inDB.code, strings.TrimSpace(inDB.stderr))
		if viaService[i] != inDB || inDB.code != exitUsage {
			t.Errorf("agent %s:\n through the service: exit %d, %q\n in the database:     exit %d, %q",
				strings.Join(args, " "), viaService[i].code, viaService[i].stderr, inDB.code, inDB.stderr)
		}
	}
}
