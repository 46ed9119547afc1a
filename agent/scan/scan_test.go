package scan

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/policy"
)

func defaultPolicy() Policy {
	p := policy.Default()
	return Policy{Policy: p, Ref: status.PolicyRef{Name: p.Name, SHA256: p.SHA256}}
}

// A probe that ignores its context is abandoned at the deadline: the scan
// returns an error promptly instead of hanging the agent.
func TestHungProbeIsAbandoned(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	s := &Scanner{ProbeTimeout: 100 * time.Millisecond,
		Probe: func(ctx context.Context, cat *policy.Catalog) (*policy.Inventory, error) {
			<-block // ignores ctx
			return &policy.Inventory{}, nil
		}}
	start := time.Now()
	_, err := s.Scan(context.Background(), defaultPolicy())
	if !errors.Is(err, ErrProbeTimeout) {
		t.Fatalf("Scan = %v; want ErrProbeTimeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Scan took %v", d)
	}
}

// Probe problems become a scan.incomplete finding (unknown), so a partial
// scan never looks clean; a missing device id falls back to "local".
func TestProblemsMakeScanIncomplete(t *testing.T) {
	s := &Scanner{Probe: func(ctx context.Context, cat *policy.Catalog) (*policy.Inventory, error) {
		return &policy.Inventory{Device: policy.Device{Kind: "computer", Platform: "linux"},
			Problems: []policy.Problem{{Probe: "dpkg", Path: "/var/lib/dpkg/status", Message: "line 7: not a field"}}}, nil
	}}
	r, err := s.Scan(context.Background(), defaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if r.Device.ID != "local" {
		t.Errorf("device id = %q; want the fallback \"local\"", r.Device.ID)
	}
	var got *status.Finding
	for i := range r.Findings {
		if r.Findings[i].Rule == "scan.incomplete" {
			got = &r.Findings[i]
		}
	}
	if got == nil || got.Status != policy.StatusUnknown || len(got.Evidence) == 0 || got.Evidence[0].Source != "dpkg" {
		t.Errorf("scan.incomplete finding = %+v", got)
	}
}

func TestProbeErrorIsReturned(t *testing.T) {
	s := &Scanner{Probe: func(ctx context.Context, cat *policy.Catalog) (*policy.Inventory, error) {
		return nil, errors.New("root does not exist")
	}}
	if _, err := s.Scan(context.Background(), defaultPolicy()); err == nil {
		t.Fatal("Scan with a failing probe succeeded")
	}
}
