// Package deptest pins which of msgguard's packages may import which, so
// that an import that breaks the architecture fails CI instead of growing
// unnoticed. The model is tailscale's tstest/deptest: it asks `go list`
// for every package's dependencies, for each operating system the agent
// is built for. The rules, with the reasons in docs/architecture.md:
//
//   - policy imports no package of ours: it is pure and is shared by
//     everything else;
//   - platform/... imports only policy (and platform/...): probes produce
//     an inventory and know nothing of the agent's runtime;
//   - the data packages of the agent (agent/records, agent/drift,
//     agent/compliance, agent/apitype, agent/status, agent/store) import
//     no transport (agent/localapi, agent/report, agent/daemon) and no
//     configuration (agent/config, install): the transport and the
//     configuration depend on the data, not the other way round;
//   - agent/cli is imported only by the agent command itself.
package deptest

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/msgguard/msgguard"

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// list returns the non-test packages of the module for goos, with their
// direct imports and all their dependencies.
func list(t *testing.T, goos string) []pkg {
	t.Helper()
	gobin := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		if gobin, err = exec.LookPath("go"); err != nil {
			t.Skip("go tool not found")
		}
	}
	cmd := exec.Command(gobin, "list", "-json=ImportPath,Imports,Deps", module+"/...")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=0")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list for %s: %v", goos, err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list for %s found only %d packages", goos, len(pkgs))
	}
	return pkgs
}

// ours returns the module-relative paths of the module's packages among
// paths ("" is the module root).
func ours(paths []string) []string {
	var out []string
	for _, p := range paths {
		if p == module {
			out = append(out, "")
		} else if rel, ok := strings.CutPrefix(p, module+"/"); ok {
			out = append(out, rel)
		}
	}
	return out
}

// under reports whether rel is dir or a package below it.
func under(rel, dir string) bool { return rel == dir || strings.HasPrefix(rel, dir+"/") }

// check returns the rule rel's dependency dep breaks ("" when none).
func check(rel, dep string, direct bool) string {
	switch {
	case rel == "policy" || under(rel, "policy"):
		if !under(dep, "policy") {
			return "policy imports no package of ours"
		}
	case under(rel, "platform"):
		if !under(dep, "policy") && !under(dep, "platform") {
			return "platform imports only policy"
		}
	case isData(rel):
		for _, bad := range []string{"agent/localapi", "agent/report", "agent/daemon", "agent/config", "agent/cli", "install"} {
			if under(dep, bad) {
				return "the agent's data packages import no transport or configuration package"
			}
		}
	}
	if direct && dep == "agent/cli" && rel != "agent" {
		return "only the agent command imports agent/cli"
	}
	return ""
}

// isData reports whether rel is one of the agent's data packages.
func isData(rel string) bool {
	for _, d := range []string{"agent/records", "agent/drift", "agent/compliance", "agent/apitype", "agent/status", "agent/store"} {
		if under(rel, d) {
			return true
		}
	}
	return false
}

func TestImportDirections(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list three times")
	}
	for _, goos := range []string{"linux", "windows", "darwin"} {
		for _, p := range list(t, goos) {
			rel := ours([]string{p.ImportPath})[0]
			direct := map[string]bool{}
			for _, d := range ours(p.Imports) {
				direct[d] = true
			}
			for _, dep := range ours(p.Deps) {
				if why := check(rel, dep, direct[dep]); why != "" {
					t.Errorf("%s: %s depends on %s: %s", goos, rel, dep, why)
				}
			}
		}
	}
}

// TestRules: the rules catch what they are for.
func TestRules(t *testing.T) {
	for _, tt := range []struct {
		rel, dep string
		bad      bool
	}{
		{"policy", "platform", true},
		{"policy", "agent/status", true},
		{"platform/linux", "policy", false},
		{"platform/linux", "platform/browser", false},
		{"platform/linux", "agent/status", true},
		{"agent/records", "agent/localapi", true},
		{"agent/drift", "agent/config", true},
		{"agent/drift", "agent/report/outbox", true},
		{"agent/compliance", "agent/daemon", true},
		{"agent/apitype", "agent/drift", false},
		{"agent/localapi", "agent/apitype", false},
		{"agent/daemon", "agent/cli", true},
	} {
		if got := check(tt.rel, tt.dep, true) != ""; got != tt.bad {
			t.Errorf("check(%s -> %s) broken = %v; want %v", tt.rel, tt.dep, got, tt.bad)
		}
	}
}
