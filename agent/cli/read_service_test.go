//go:build linux

package cli

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestReadThroughRunningService: while the service holds the database,
// attest --list, exempt --list, baseline show and explain read through it,
// and print exactly what they print from the database once it stopped, on
// the same state (the in-process service answers this root process with
// the administrator's view).
func TestReadThroughRunningService(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the service in process")
	}
	cfg, stop := inProcessService(t)
	sock := cfg.Socket
	if os.Geteuid() != 0 {
		// The service redacts for anyone but root, the database does not:
		// the outputs differ by design. Check the redacted one.
		e, out, errb := testEnv(t)
		if code := runCLI(t, e, "baseline", "show", "--socket", sock); code != 0 || !strings.Contains(out.String(), "administrators only; run as root") {
			t.Errorf("baseline show as uid %d through the service: exit %d, %q %q; want the redacted view", os.Geteuid(), code, out, errb)
		}
		return
	}
	// Records to read: an attestation with a note, a device-wide and a
	// per-user exemption (each followed by a rescan, so drift and the
	// audit log have entries), and an accepted baseline.
	until := time.Now().AddDate(0, 1, 0).Format(time.DateOnly)
	for _, args := range [][]string{
		{"attest", "telegram.secret-chats-only", "--by", "Anna Admin", "--note", "Ticket 7"},
		{"exempt", "remote-wipe", "--reason", "MDM rollout", "--approver", "DPO", "--until", until},
		{"exempt", "messenger.whatsapp", "--subject", "whatsapp", "--user", "alice", "--reason", "trial", "--approver", "DPO", "--until", until},
		{"baseline", "accept", "--by", "Anna Admin", "--why", "ticket 9"},
	} {
		e, _, errb := rootEnv(t)
		if code := runCLI(t, e, append(args, "--socket", sock)...); code != 0 {
			t.Fatalf("agent %s: exit %d: %s", strings.Join(args, " "), code, errb)
		}
	}

	// The database is the service's: a read with --db cannot open it and
	// says what to do instead.
	e, _, errb := rootEnv(t)
	if code := runCLI(t, e, "attest", "--list", "--db", cfg.Database); code != exitUsage || !strings.Contains(errb.String(), errServiceHoldsDBForRead.Error()) {
		t.Errorf("attest --list --db while the service runs: exit %d, %q", code, errb)
	}

	verbs := []struct {
		args []string
		// want is in the output of both paths (so that two empty outputs
		// cannot pass), code is the exit code.
		want []string
		code int
	}{
		{[]string{"attest", "--list"}, []string{"attestation.telegram.secret-chats-only", "Anna Admin", "Ticket 7", "valid"}, 0},
		{[]string{"attest", "--list", "--json", "--lang", "de"}, []string{`"by": "Anna Admin"`}, 0},
		{[]string{"attest", "--list", "--lang", "de"}, []string{"gültig"}, 0},
		{[]string{"attest", "--list", "--device", "no-such-device"}, []string{"no attestations recorded"}, 0},
		{[]string{"exempt", "--list"}, []string{"remote-wipe", "MDM rollout", "messenger.whatsapp", "alice", "trial"}, 0},
		{[]string{"exempt", "--list", "--json"}, []string{`"approver": "DPO"`}, 0},
		{[]string{"baseline", "show"}, []string{"baseline accepted", "by Anna Admin: ticket 9"}, 0},
		{[]string{"baseline", "show", "--json"}, []string{`"why": "ticket 9"`}, 0},
		{[]string{"baseline", "show", "--device", "no-such-device"}, nil, exitNoScan},
		{[]string{"explain", "telegram.secret-chats-only"}, []string{"ON THIS DEVICE", "ATTESTED", "attested by Anna Admin"}, 0},
		{[]string{"explain", "remote-wipe", "--lang", "de"}, []string{"AUF DIESEM GERÄT", "ausgenommen bis", "genehmigt von DPO: MDM rollout"}, 0},
		{[]string{"explain", "remote-wipe", "--json"}, []string{`"findings": [`, `"kind": "exempted"`}, 0},
		{[]string{"explain", "messenger.whatsapp"}, []string{"EXEMPT · alice", "NOT MET · bob", "approved by DPO: trial"}, 0},
		{[]string{"explain", "remote-wipe", "--device", "no-such-device"}, []string{"No scan to show: no scan recorded yet"}, 0},
	}
	type answer struct {
		code   int
		stdout string
	}
	viaService := make([]answer, len(verbs))
	for i, v := range verbs {
		e, out, _ := rootEnv(t)
		viaService[i] = answer{runCLI(t, e, append(v.args, "--socket", sock)...), out.String()}
	}
	stop()
	for i, v := range verbs {
		e, out, errb := rootEnv(t)
		inDB := answer{runCLI(t, e, append(v.args, "--db", cfg.Database)...), out.String()}
		name := strings.Join(v.args, " ")
		if inDB.code != v.code {
			t.Errorf("agent %s from the database: exit %d; want %d (%s)", name, inDB.code, v.code, errb)
		}
		for _, w := range v.want {
			if !strings.Contains(inDB.stdout, w) {
				t.Errorf("agent %s from the database lacks %q:\n%s", name, w, inDB.stdout)
			}
		}
		if viaService[i] != inDB {
			t.Errorf("agent %s:\n through the service: exit %d\n%s\n from the database: exit %d\n%s",
				name, viaService[i].code, viaService[i].stdout, inDB.code, inDB.stdout)
		}
	}
}
