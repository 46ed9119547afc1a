//go:build linux

package wholeproc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/msgguard/msgguard/agent/localapi"
	"github.com/msgguard/msgguard/policy"
)

// Planted names: personal fields an administrator records and operational
// details of the agent. No local user other than root may read any of them.
var planted = []string{
	"Planted Attester", "planted-note-7781", "Planted Approver", "planted-reason-5512", "planted-why-3319",
	"planted-policy-dir", "planted-collector.example", "planted-hook",
}

// getAll is the child mode of the redaction test: it GETs every read
// endpoint on the socket and prints the answers.
func getAll(sock string) {
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	for _, p := range []string{localapi.PathStatus, localapi.PathFindings, localapi.PathInventory, localapi.PathHealth,
		localapi.PathDrift + "?since=all", localapi.PathAttestations, localapi.PathExemptions, localapi.PathBaselines,
		localapi.PathExplain + "?rule=attestation.telegram.secret-chats-only", localapi.PathExplain + "?rule=remote-wipe"} {
		resp, err := hc.Get("http://" + localapi.Host + p)
		if err != nil {
			fmt.Printf("GET %s: %v\n", p, err)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("GET %s: %s\n%s\n", p, resp.Status, b)
	}
	os.Exit(0)
}

// TestNonAdminSeesNoPlantedNames runs the real agent, has root record an
// attestation, an exemption and a baseline with planted names through the
// service, points a webhook at a planted collector (its deliveries fail)
// and breaks the policy file in a planted directory; then every read verb
// and every endpoint, as nobody, must show none of the names, while root's
// status shows them all.
func TestNonAdminSeesNoPlantedNames(t *testing.T) {
	dir, err := os.MkdirTemp("", "mgpl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	polDir := filepath.Join(dir, "planted-policy-dir")
	if err := os.MkdirAll(polDir, 0o755); err != nil {
		t.Fatal(err)
	}
	pol := filepath.Join(polDir, "policy.yaml")
	if err := os.WriteFile(pol, policy.DefaultYAML(), 0o644); err != nil {
		t.Fatal(err)
	}
	token := filepath.Join(dir, "webhook.token")
	if err := os.WriteFile(token, []byte("planted-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := build(t, fmt.Sprintf(`policy: %q
scan:
  initial_delay: 0s
  policy_poll: 100ms
sinks:
  - name: hq
    type: webhook
    url: https://planted-collector.example/planted-hook
    token_file: %q
    timeout: 500ms
`, pol, token))
	a.start(t)
	root := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(a.bin, append(args, "--socket", a.socket)...).CombinedOutput()
		if err != nil {
			t.Fatalf("agent %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	root("attest", "attestation.telegram.secret-chats-only", "--by", "Planted Attester", "--note", "planted-note-7781")
	root("exempt", "remote-wipe", "--reason", "planted-reason-5512", "--approver", "Planted Approver", "--until", time.Now().AddDate(0, 2, 0).Format("2006-01-02"))
	root("baseline", "accept", "--by", "Planted Approver", "--why", "planted-why-3319")
	if err := os.WriteFile(pol, []byte("messengers: [}}} not a policy\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Root sees everything once the rescan and a failed delivery happened.
	deadline := time.Now().Add(30 * time.Second)
	for {
		cmd := exec.Command(a.bin, "status", "--socket", a.socket, "--json")
		out, _ := cmd.Output()
		missing := ""
		for _, s := range []string{"Planted Attester", "planted-note-7781", "Planted Approver", "planted-reason-5512", "planted-policy-dir", "planted-collector.example"} {
			if !bytes.Contains(out, []byte(s)) {
				missing = s
				break
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("root's status never showed %q:\n%s", missing, out)
		}
		time.Sleep(200 * time.Millisecond)
	}

	type run struct {
		what string
		out  string
	}
	var runs []run
	nobody := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	env := []string{"HOME=/nonexistent", "LANG=C", "PATH=/usr/bin:/bin"}
	for _, args := range [][]string{
		{"status"}, {"status", "--verbose"}, {"status", "--json"}, {"status", "--verbose", "--lang", "de"},
		{"attest", "--list"}, {"attest", "--list", "--json"}, {"exempt", "--list"}, {"exempt", "--list", "--json"},
		{"baseline", "show"}, {"baseline", "show", "--json"},
		// The accepted baseline's drift event carries By and Reason.
		{"drift", "--since", "all", "--all"}, {"drift", "--since", "all", "--all", "--json"},
		{"explain", "attestation.telegram.secret-chats-only"}, {"explain", "remote-wipe", "--json"}, {"explain", "policy.invalid"},
	} {
		cmd := exec.Command(a.bin, append(args, "--socket", a.socket)...)
		cmd.SysProcAttr, cmd.Env, cmd.Dir = nobody, env, "/"
		out, _ := cmd.CombinedOutput()
		runs = append(runs, run{"agent " + strings.Join(args, " "), string(out)})
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(a.dir, "get.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.SysProcAttr, cmd.Dir = nobody, "/"
	cmd.Env = append(env, "MSGGUARD_GET_SOCKET="+a.socket)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("endpoint child: %v\n%s", err, out)
	}
	runs = append(runs, run{"GET every endpoint", string(out)})
	for _, r := range runs {
		if strings.Contains(r.out, "access denied") || strings.Contains(r.out, "cannot connect") {
			t.Errorf("%s as nobody did not get an answer:\n%s", r.what, r.out)
		}
		for _, s := range planted {
			if strings.Contains(strings.ToLower(r.out), strings.ToLower(s)) {
				t.Errorf("%s as nobody shows %q:\n%s", r.what, s, r.out)
			}
		}
	}
}
