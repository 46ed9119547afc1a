//go:build linux

package wholeproc

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/msgguard/msgguard/agent/agenttest"
	"github.com/msgguard/msgguard/agent/localapi"
)

// TestWaitingForTheDatabase: while the database cannot be opened (its
// folder's path runs through a regular file: an error the store does not
// take for damage, so it keeps what is there and retries with backoff),
// the service's local API is up: /v1/health is degraded naming why, a
// status request is refused with 503 saying the service waits for its
// database (without the path or the error, which only health shows an
// administrator), and `agent status` says so. Once the path is mended the
// service opens the database and answers with a report.
func TestWaitingForTheDatabase(t *testing.T) {
	a := build(t, "scan:\n  initial_delay: 0s\n")
	// a.db is DIR/data/state.db: make DIR/data a file.
	blocker := filepath.Dir(a.db)
	if err := os.WriteFile(blocker, []byte("not a folder"), 0o600); err != nil {
		t.Fatal(err)
	}

	p := agenttest.Start(t, a.bin, a.config)

	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	var health string
	for {
		if c, err := localapi.Dial(ctx, a.socket); err == nil {
			if h, err := c.Health(ctx); err == nil && !h.OK && len(h.Problems) == 1 {
				health = h.Problems[0]
			}
			c.Close()
		}
		if strings.Contains(health, "database unavailable since") {
			break
		}
		select {
		case err := <-p.Done:
			p.Done <- err
			t.Fatalf("agent exited while the database could not be opened: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no degraded health naming the database within 30 s (last: %q)", health)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c := localapi.NewClient(a.socket)
	_, err := c.Status(ctx)
	c.Close()
	var apiErr *localapi.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 503 || !strings.Contains(apiErr.Msg, "is waiting for its database (unavailable since") ||
		strings.Contains(apiErr.Msg, a.db) {
		t.Errorf("status while waiting: %v; want 503 saying the service waits, without the path", err)
	}
	st := exec.Command(a.bin, "status", "--socket", a.socket)
	b, err := st.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 || !strings.Contains(string(b), "the service is running but is waiting for its database") {
		t.Errorf("agent status while waiting: %v\n%s", err, b)
	}

	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(60 * time.Second)
	for {
		c := localapi.NewClient(a.socket)
		rep, err := c.Status(ctx)
		c.Close()
		if err == nil && rep != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no report within 60 s after the lock was released: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
