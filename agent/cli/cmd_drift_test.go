package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/msgguard/msgguard/agent/config"
	"github.com/msgguard/msgguard/agent/drift"
)

func TestDriftAndBaselineWithoutDatabase(t *testing.T) {
	e, _, errb := testEnv(t)
	db := filepath.Join(t.TempDir(), "none.db")
	if code := runCLI(t, e, "drift", "--db", db); code != exitNoScan || !strings.Contains(errb.String(), "no scan recorded yet") {
		t.Errorf("agent drift on a missing database: exit %d, %s", code, errb)
	}
	errb.Reset()
	if code := runCLI(t, e, "baseline", "show", "--db", db); code != exitNoScan {
		t.Errorf("agent baseline show on a missing database: exit %d, %s", code, errb)
	}
	errb.Reset()
	if code := runCLI(t, e, "baseline", "accept", "--db", db, "--by", "x"); code != exitUsage || !strings.Contains(errb.String(), "--by and --why are required") {
		t.Errorf("accept without --why: exit %d, %s", code, errb)
	}
	errb.Reset()
	if code := runCLI(t, e, "baseline", "frobnicate"); code != exitUsage || !strings.Contains(errb.String(), "usage: agent baseline show") {
		t.Errorf("unknown baseline subcommand: exit %d, %s", code, errb)
	}
	errb.Reset()
	if code := runCLI(t, e, "drift", "--since", "lately", "--db", db); code != exitUsage || !strings.Contains(errb.String(), "--since") {
		t.Errorf("bad --since: exit %d, %s", code, errb)
	}
}

func TestDriftConfigMatchesDefaults(t *testing.T) {
	got, want := driftConfig(config.DefaultDrift()), drift.DefaultConfig()
	if got.Enqueue == nil {
		t.Error("driftConfig does not deliver accepted baselines to the outboxes")
	}
	got.Now, want.Now, got.Enqueue = nil, nil, nil
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("driftConfig(DefaultDrift()) differs from drift.DefaultConfig() (-want +got):\n%s", diff)
	}
}
