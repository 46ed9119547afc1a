package daemon

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/localapi"
	"github.com/msgguard/msgguard/agent/status"
)

// Waiting answers the local API while the service waits for its database
// (a lock held elsewhere, EMFILE, a read-only or full file system: the
// store keeps the file and retries with backoff). Every read and record
// answers 503 saying so, without the path or the error, which only an
// administrator's health shows: there health is degraded with the reason
// and the next try. So `agent status` and monitoring see what the log
// says, instead of "not running". The daemon takes over the API once the
// database is open (localapi.Server.SetBackend).
type Waiting struct {
	mu    sync.Mutex
	since time.Time
	next  time.Time
	err   error
}

// Retry records a failed attempt to open the database; it is the store's
// retry callback.
func (w *Waiting) Retry(err error, wait time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	if w.since.IsZero() {
		w.since = now
	}
	w.err, w.next = err, now.Add(wait)
}

func (w *Waiting) state() (since, next time.Time, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.since, w.next, w.err
}

// refusal is the error every request gets: when and until when, not why.
func (w *Waiting) refusal() error {
	since, next, _ := w.state()
	if since.IsZero() {
		return fmt.Errorf("%w for its database", localapi.ErrWaiting)
	}
	return fmt.Errorf("%w for its database (unavailable since %s; next try at %s)", localapi.ErrWaiting,
		since.Format(time.RFC3339), next.Format(time.RFC3339))
}

// Health implements localapi.Backend: degraded, with the reason.
func (w *Waiting) Health(context.Context) status.Health {
	since, next, err := w.state()
	p := "the database is not open yet"
	if err != nil {
		p = fmt.Sprintf("database unavailable since %s: %v; next try at %s", since.Format(time.RFC3339), err, next.Format(time.RFC3339))
	}
	return status.Health{OK: false, State: status.HealthDegraded, Problems: []string{p}, ProblemCount: 1}
}

// Status implements localapi.Backend.
func (w *Waiting) Status(context.Context) (*status.Report, error) { return nil, w.refusal() }

// ScanNow implements localapi.Backend.
func (w *Waiting) ScanNow(context.Context) (*status.Report, error) { return nil, w.refusal() }

// Drift implements localapi.Backend.
func (w *Waiting) Drift(context.Context, time.Time) (*apitype.DriftResponse, error) {
	return nil, w.refusal()
}

// Attestations implements localapi.Reader.
func (w *Waiting) Attestations(context.Context, string) (*apitype.AttestationList, error) {
	return nil, w.refusal()
}

// Exemptions implements localapi.Reader.
func (w *Waiting) Exemptions(context.Context, string) (*apitype.ExemptionList, error) {
	return nil, w.refusal()
}

// Baselines implements localapi.Reader.
func (w *Waiting) Baselines(context.Context, string) (*apitype.BaselineList, error) {
	return nil, w.refusal()
}

// Explain implements localapi.Reader.
func (w *Waiting) Explain(context.Context, string, string) (*apitype.RuleHistory, error) {
	return nil, w.refusal()
}

// Attest implements localapi.Recorder.
func (w *Waiting) Attest(context.Context, apitype.AttestRequest) (*apitype.AttestResult, error) {
	return nil, w.refusal()
}

// Exempt implements localapi.Recorder.
func (w *Waiting) Exempt(context.Context, apitype.ExemptRequest) (*apitype.ExemptResult, error) {
	return nil, w.refusal()
}

// AcceptBaseline implements localapi.Recorder.
func (w *Waiting) AcceptBaseline(context.Context, apitype.BaselineAcceptRequest) (*apitype.BaselineAcceptResult, error) {
	return nil, w.refusal()
}

var (
	_ localapi.Backend  = (*Waiting)(nil)
	_ localapi.Reader   = (*Waiting)(nil)
	_ localapi.Recorder = (*Waiting)(nil)
)
