package platform

import (
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/msgguard/msgguard/policy"
)

func TestProblems(t *testing.T) {
	p := Problems{Max: 2}
	p.Add("apps", "/a", "skipped")
	p.Add("apps", "/a", "skipped") // a repeat is listed once and not counted
	for i := range 5 {
		p.Add("users", "/u"+strconv.Itoa(i), "bad record")
	}
	p.Add("apps", "/b", "skipped")
	p.Add("apps", "/c", "skipped")
	want := []policy.Problem{
		{Probe: "apps", Path: "/a", Message: "skipped"},
		{Probe: "users", Path: "/u0", Message: "bad record"},
		{Probe: "users", Path: "/u1", Message: "bad record"},
		{Probe: "apps", Path: "/b", Message: "skipped"},
		{Probe: "apps", Message: "1 more problems not listed"},
		{Probe: "users", Message: "3 more problems not listed"},
	}
	if diff := cmp.Diff(want, p.List()); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	var unbounded Problems
	for i := range 100 {
		unbounded.Add("x", strconv.Itoa(i), "m")
	}
	if n := len(unbounded.List()); n != 100 {
		t.Errorf("zero Problems listed %d of 100", n)
	}
}

// TestProblemsCoreAlwaysListed: a Core problem decides the verdict, so it
// is listed even when its probe has already reached Max.
func TestProblemsCoreAlwaysListed(t *testing.T) {
	p := Problems{Max: 1}
	p.Add("users", "/a", "bad record")
	p.Add("users", "/b", "bad record")
	p.AddCore("users", "/etc/passwd", "accounts not read")
	var core []policy.Problem
	for _, q := range p.List() {
		if q.Core {
			core = append(core, q)
		}
	}
	want := []policy.Problem{{Probe: "users", Path: "/etc/passwd", Message: "accounts not read", Core: true}}
	if diff := cmp.Diff(want, core); diff != "" {
		t.Errorf("core problems (-want +got):\n%s", diff)
	}
}
