package daemon

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/localapi"
	"github.com/msgguard/msgguard/policy"
)

// reads calls the four read methods and returns their errors.
func reads(ctx context.Context, d *Daemon) []error {
	_, e1 := d.Attestations(ctx, "")
	_, e2 := d.Exemptions(ctx, "")
	_, e3 := d.Baselines(ctx, "")
	_, e4 := d.Explain(ctx, secretChats, "")
	return []error{e1, e2, e3, e4}
}

// TestReadsUnavailable: without Admin the read endpoints are 501, as the
// record endpoints are.
func TestReadsUnavailable(t *testing.T) {
	h := newAdminHarness(t, func(o *Options) { o.Admin = nil })
	for i, err := range reads(context.Background(), h.d) {
		if !errors.Is(err, localapi.ErrUnavailable) {
			t.Errorf("read %d without Admin = %v; want ErrUnavailable", i, err)
		}
	}
}

// TestReadsSeeRecords: what the daemon recorded is what it reads back,
// with the rule's finding and audit log.
func TestReadsSeeRecords(t *testing.T) {
	h := newAdminHarness(t, nil)
	h.firstScan(t)
	ctx := context.Background()
	res, err := h.d.Attest(ctx, apitype.AttestRequest{Rule: "telegram.secret-chats-only", By: "Anna Admin", Note: "ticket 7"})
	if err != nil {
		t.Fatal(err)
	}
	l, err := h.d.Attestations(ctx, "")
	if err != nil || len(l.Attestations) != 1 || l.Attestations[0] != res.Attestation || l.Redacted {
		t.Errorf("Attestations = %+v, %v; want the recorded one, unredacted", l, err)
	}
	x, err := h.d.Explain(ctx, secretChats, "")
	if err != nil {
		t.Fatal(err)
	}
	if x.Device != "dev1" || len(x.Findings) != 1 || x.Findings[0].Status != policy.StatusAttested ||
		len(x.Log) != 1 || x.Log[0].Kind != compliance.LogAttested || x.Log[0].By != "Anna Admin" {
		t.Errorf("Explain = %+v; want dev1's attested finding and its log entry", x)
	}
	b, err := h.d.Baselines(ctx, "dev1")
	if err != nil || len(b.Baselines) != 1 || b.Baselines[0].Device != "dev1" {
		t.Errorf("Baselines(dev1) = %+v, %v", b, err)
	}
}

// TestReadsDoNotWaitForScans: the reads take no work slot, so a long scan
// does not hold them up (bbolt serves read transactions beside a writer).
func TestReadsDoNotWaitForScans(t *testing.T) {
	h := newAdminHarness(t, nil)
	h.firstScan(t)
	h.scanner.gate = make(chan struct{})
	h.scanner.started = make(chan struct{}, 4)
	go h.d.ScanNow(context.Background())
	<-h.scanner.started // the scan holds the work slot
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan []error, 1)
	go func() { done <- reads(ctx, h.d) }()
	select {
	case errs := <-done:
		for i, err := range errs {
			if err != nil {
				t.Errorf("read %d during a scan: %v", i, err)
			}
		}
	case <-time.After(3 * time.Second):
		t.Error("reads waited for the running scan")
	}
	h.scanner.gate <- struct{}{}
}
