package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/msgguard/msgguard/agent/apitype"
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

// Recorder is implemented by a Backend that records administrators'
// decisions in the database it holds. The server type-asserts it, so a
// Backend without it keeps working and answers these endpoints with 501.
type Recorder interface {
	Attest(ctx context.Context, req apitype.AttestRequest) (*apitype.AttestResult, error)
	Exempt(ctx context.Context, req apitype.ExemptRequest) (*apitype.ExemptResult, error)
	AcceptBaseline(ctx context.Context, req apitype.BaselineAcceptRequest) (*apitype.BaselineAcceptResult, error)
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
	rec, ok := s.be().(Recorder)
	if !ok {
		return backendError(w, ErrUnavailable)
	}
	var (
		out any
		err error
	)
	switch r.URL.Path {
	case PathAttest:
		var req apitype.AttestRequest
		if code, ok := decodeBody(w, r, &req); !ok {
			return code
		}
		out, err = rec.Attest(r.Context(), req)
	case PathExempt:
		var req apitype.ExemptRequest
		if code, ok := decodeBody(w, r, &req); !ok {
			return code
		}
		out, err = rec.Exempt(r.Context(), req)
	default:
		var req apitype.BaselineAcceptRequest
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
func (c *Client) Attest(ctx context.Context, req apitype.AttestRequest) (*apitype.AttestResult, error) {
	var res apitype.AttestResult
	return &res, c.doJSON(ctx, http.MethodPost, PathAttest, req, &res)
}

// Exempt asks the agent to record a local exemption and rescan.
func (c *Client) Exempt(ctx context.Context, req apitype.ExemptRequest) (*apitype.ExemptResult, error) {
	var res apitype.ExemptResult
	return &res, c.doJSON(ctx, http.MethodPost, PathExempt, req, &res)
}

// AcceptBaseline asks the agent to accept the current state as the drift
// baseline of one device or every device.
func (c *Client) AcceptBaseline(ctx context.Context, req apitype.BaselineAcceptRequest) (*apitype.BaselineAcceptResult, error) {
	var res apitype.BaselineAcceptResult
	return &res, c.doJSON(ctx, http.MethodPost, PathBaselineAccept, req, &res)
}
