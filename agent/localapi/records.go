package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/drift"
)

// Paths of the administrators' record endpoints. While the daemon runs it
// holds the database, so `agent attest`, `agent exempt` and `agent baseline
// accept` record through it.
const (
	PathAttest         = "/v1/attest"
	PathExempt         = "/v1/exempt"
	PathBaselineAccept = "/v1/baseline/accept"
)

// maxRecordBody caps a record request: the free-text fields are at most
// 1,000 bytes each (agent/compliance), so a few kilobytes suffice even with
// JSON escaping; the other endpoints take no body at all.
const maxRecordBody = 16 << 10

// AttestRequest is the body of POST /v1/attest: the flags of `agent attest
// RULE --by NAME [--note TEXT] [--until DATE] [--device ID]`.
type AttestRequest struct {
	Rule string `json:"rule"`
	By   string `json:"by"`
	Note string `json:"note,omitempty"`
	// Until is a date, YYYY-MM-DD (valid through that day, UTC); empty
	// means the rule's full validity.
	Until string `json:"until,omitempty"`
	// Device is a device id; empty means this computer.
	Device string `json:"device,omitempty"`
}

// ExemptRequest is the body of POST /v1/exempt: the flags of `agent exempt
// RULE [--subject S] [--user U] --reason TEXT --approver NAME --until DATE
// [--device ID]`.
type ExemptRequest struct {
	Rule     string `json:"rule"`
	Subject  string `json:"subject,omitempty"`
	User     string `json:"user,omitempty"`
	Reason   string `json:"reason"`
	Approver string `json:"approver"`
	// Until is a date, YYYY-MM-DD (valid through that day, UTC); required.
	Until  string `json:"until"`
	Device string `json:"device,omitempty"`
}

// BaselineAcceptRequest is the body of POST /v1/baseline/accept: the flags
// of `agent baseline accept --by NAME --why TEXT [--device ID]`.
type BaselineAcceptRequest struct {
	By  string `json:"by"`
	Why string `json:"why"`
	// Device is a device id; empty means every device.
	Device string `json:"device,omitempty"`
}

// Rescan is the scan the agent runs right after recording an attestation
// or exemption, so that `agent status` shows it at once.
type Rescan struct {
	// ScannedAt is the rescan's time; zero when it did not complete.
	ScannedAt time.Time `json:"scanned_at,omitzero"`
	// Covered reports whether the rescan included the record's device (a
	// phone that is not attached is not rescanned).
	Covered bool `json:"covered"`
	// Error says why the rescan failed; the record is stored regardless
	// and the next scan applies it.
	Error string `json:"error,omitempty"`
}

// AttestResult is the answer to POST /v1/attest.
type AttestResult struct {
	Attestation compliance.Attestation `json:"attestation"`
	// Applies reports whether the rule applies to the device's last scan;
	// when it does not, no finding shows the attestation yet.
	Applies bool   `json:"applies"`
	Rescan  Rescan `json:"rescan"`
}

// ExemptResult is the answer to POST /v1/exempt.
type ExemptResult struct {
	Exemption compliance.Exemption `json:"exemption"`
	Rescan    Rescan               `json:"rescan"`
}

// BaselineAcceptResult is the answer to POST /v1/baseline/accept: one
// baseline_accepted drift event per device.
type BaselineAcceptResult struct {
	Events []drift.Event `json:"events"`
}

// Recorder is implemented by a Backend that records administrators'
// decisions in the database it holds. The server type-asserts it, so a
// Backend without it keeps working and answers these endpoints with 501.
type Recorder interface {
	Attest(ctx context.Context, req AttestRequest) (*AttestResult, error)
	Exempt(ctx context.Context, req ExemptRequest) (*ExemptResult, error)
	AcceptBaseline(ctx context.Context, req BaselineAcceptRequest) (*BaselineAcceptResult, error)
}

// RequestError is a request a Backend refuses as invalid (an unknown rule,
// a missing name, a date out of range, an unknown device); the API answers
// 400 with its message, which is the message the CLI would print.
type RequestError struct{ Err error }

func (e *RequestError) Error() string { return e.Err.Error() }
func (e *RequestError) Unwrap() error { return e.Err }

// Invalid marks err as the caller's mistake (400).
func Invalid(err error) error { return &RequestError{Err: err} }

// isRecordPath reports whether path is a record endpoint.
func isRecordPath(path string) bool {
	return path == PathAttest || path == PathExempt || path == PathBaselineAccept
}

// serveRecord handles the record endpoints: POST only, administrators
// only, a JSON body that decodes strictly.
func (s *Server) serveRecord(w http.ResponseWriter, r *http.Request, peer Peer) int {
	if !allow(w, r, http.MethodPost) {
		return http.StatusMethodNotAllowed
	}
	if !peer.Admin {
		return writeError(w, http.StatusForbidden, "only administrators may record attestations, exemptions and baselines")
	}
	// application/json cannot be sent cross-origin without a preflight; a
	// second line behind the Origin check.
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return writeError(w, http.StatusUnsupportedMediaType, "send the request as application/json")
	}
	rec, ok := s.backend.(Recorder)
	if !ok {
		return backendError(w, ErrUnavailable)
	}
	var (
		out any
		err error
	)
	switch r.URL.Path {
	case PathAttest:
		var req AttestRequest
		if code, ok := decodeBody(w, r, &req); !ok {
			return code
		}
		out, err = rec.Attest(r.Context(), req)
	case PathExempt:
		var req ExemptRequest
		if code, ok := decodeBody(w, r, &req); !ok {
			return code
		}
		out, err = rec.Exempt(r.Context(), req)
	default:
		var req BaselineAcceptRequest
		if code, ok := decodeBody(w, r, &req); !ok {
			return code
		}
		out, err = rec.AcceptBaseline(r.Context(), req)
	}
	if err != nil {
		return backendError(w, err)
	}
	// Who recorded what is in the compliance audit log and the drift
	// events; the log only notes that it happened.
	s.log.Info().Str("path", r.URL.Path).Msg("record_stored")
	return writeJSON(w, http.StatusOK, out)
}

// decodeBody decodes exactly one JSON object with no unknown fields.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) (int, bool) {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if dec.Decode(&struct{}{}) != io.EOF {
			err = errors.New("more than one JSON value")
		}
	}
	if err == nil {
		return 0, true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds %d bytes", tooBig.Limit)), false
	}
	return writeError(w, http.StatusBadRequest, "decoding the request: "+err.Error()), false
}

// Attest asks the agent to record an attestation and rescan. Only
// administrators may (others get an *AccessDeniedError); an invalid request
// is an *APIError with Code 400 and the reason.
func (c *Client) Attest(ctx context.Context, req AttestRequest) (*AttestResult, error) {
	var res AttestResult
	return &res, c.doJSON(ctx, http.MethodPost, PathAttest, req, &res)
}

// Exempt asks the agent to record a local exemption and rescan.
func (c *Client) Exempt(ctx context.Context, req ExemptRequest) (*ExemptResult, error) {
	var res ExemptResult
	return &res, c.doJSON(ctx, http.MethodPost, PathExempt, req, &res)
}

// AcceptBaseline asks the agent to accept the current state as the drift
// baseline of one device or every device.
func (c *Client) AcceptBaseline(ctx context.Context, req BaselineAcceptRequest) (*BaselineAcceptResult, error) {
	var res BaselineAcceptResult
	return &res, c.doJSON(ctx, http.MethodPost, PathBaselineAccept, req, &res)
}
