package localapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/drift"
)

// Paths of the read endpoints. While the daemon runs it holds the
// database, so `agent attest --list`, `agent exempt --list`, `agent
// baseline show` and `agent explain RULE` read through it. Each takes an
// optional device=ID (default: every device; for explain, this computer);
// explain also takes rule=RULE.
const (
	PathAttestations = "/v1/attestations"
	PathExemptions   = "/v1/exemptions"
	PathBaselines    = "/v1/baselines"
	PathExplain      = "/v1/explain"
)

// maxQueryValue caps a device id or rule in a query: ids and rules are
// short, and the value only filters.
const maxQueryValue = 256

// What a non-administrator may read is described in agent/apitype; the
// server redacts with the wire types' Redact methods.

// Reader is implemented by a Backend that serves the read verbs from the
// database it holds. The server type-asserts it, so a Backend without it
// keeps working and answers these endpoints with 501. Every method
// returns the full (administrator's) view; the server redacts.
type Reader interface {
	// Attestations lists the recorded attestations of device (every
	// device when empty), sorted by device and rule.
	Attestations(ctx context.Context, device string) (*apitype.AttestationList, error)
	// Exemptions lists the recorded local exemptions likewise.
	Exemptions(ctx context.Context, device string) (*apitype.ExemptionList, error)
	// Baselines lists the drift baseline of device (every device when
	// empty) with its differences from the current state.
	Baselines(ctx context.Context, device string) (*apitype.BaselineList, error)
	// Explain returns rule's findings and history on device (this
	// computer when empty).
	Explain(ctx context.Context, rule, device string) (*apitype.RuleHistory, error)
}

// readParams returns the query parameters a read endpoint accepts (nil:
// not a read endpoint).
func readParams(path string) []string {
	switch path {
	case PathAttestations, PathExemptions, PathBaselines:
		return []string{"device"}
	case PathExplain:
		return []string{"device", "rule"}
	}
	return nil
}

// serveRead handles the read endpoints: GET only, every local user, the
// answer redacted for anyone but an administrator.
func (s *Server) serveRead(w http.ResponseWriter, r *http.Request, peer Peer) int {
	if !allow(w, r, http.MethodGet) {
		return http.StatusMethodNotAllowed
	}
	q, err := readQuery(r.URL.Path, r.URL.RawQuery)
	if err != nil {
		return writeError(w, http.StatusBadRequest, err.Error())
	}
	rd, ok := s.be().(Reader)
	if !ok {
		return backendError(w, ErrUnavailable)
	}
	ctx, device := r.Context(), q["device"]
	var out any
	switch r.URL.Path {
	case PathAttestations:
		var l *apitype.AttestationList
		if l, err = rd.Attestations(ctx, device); err == nil && !peer.Admin {
			l = l.Redact(peer.User)
		}
		out = l
	case PathExemptions:
		var l *apitype.ExemptionList
		if l, err = rd.Exemptions(ctx, device); err == nil && !peer.Admin {
			l = l.Redact(peer.User)
		}
		out = l
	case PathBaselines:
		var l *apitype.BaselineList
		if l, err = rd.Baselines(ctx, device); err == nil && !peer.Admin {
			l = l.Redact(peer.User)
		}
		if err == nil {
			l = baselinesWithLists(l)
		}
		out = l
	default:
		var h *apitype.RuleHistory
		if h, err = rd.Explain(ctx, q["rule"], device); err == nil && !peer.Admin {
			h = h.Redact(peer.User)
		}
		out = h
	}
	if err != nil {
		return backendError(w, err)
	}
	return writeJSON(w, http.StatusOK, out)
}

// readQuery checks a read endpoint's query: only its parameters, each at
// most once, short, valid UTF-8 without control characters; rule is
// required for explain. Pure.
func readQuery(path, raw string) (map[string]string, error) {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return nil, fmt.Errorf("malformed query: %w", err)
	}
	out := map[string]string{}
	for k, vs := range vals {
		switch {
		case !slices.Contains(readParams(path), k):
			return nil, fmt.Errorf("unknown parameter %q", k)
		case len(vs) != 1:
			return nil, fmt.Errorf("parameter %q given %d times", k, len(vs))
		case len(vs[0]) > maxQueryValue:
			return nil, fmt.Errorf("parameter %q is longer than %d bytes", k, maxQueryValue)
		case !utf8.ValidString(vs[0]) || strings.ContainsFunc(vs[0], func(r rune) bool { return r < 0x20 || r == 0x7f }):
			return nil, fmt.Errorf("parameter %q is not printable text", k)
		}
		out[k] = vs[0]
	}
	if path == PathExplain && out["rule"] == "" {
		return nil, fmt.Errorf("parameter %q is required", "rule")
	}
	return out, nil
}

// readPath returns path with the non-empty parameters as its query.
func readPath(path string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// Attestations lists the recorded attestations of device (every device
// when empty); redacted unless the caller is an administrator.
func (c *Client) Attestations(ctx context.Context, device string) (*apitype.AttestationList, error) {
	var l apitype.AttestationList
	return &l, c.do(ctx, http.MethodGet, readPath(PathAttestations, "device", device), &l)
}

// Exemptions lists the recorded local exemptions of device (every device
// when empty); redacted unless the caller is an administrator.
func (c *Client) Exemptions(ctx context.Context, device string) (*apitype.ExemptionList, error) {
	var l apitype.ExemptionList
	return &l, c.do(ctx, http.MethodGet, readPath(PathExemptions, "device", device), &l)
}

// Baselines lists the drift baselines of device (every device when
// empty); redacted unless the caller is an administrator.
func (c *Client) Baselines(ctx context.Context, device string) (*apitype.BaselineList, error) {
	var l apitype.BaselineList
	return &l, c.do(ctx, http.MethodGet, readPath(PathBaselines, "device", device), &l)
}

// Explain returns rule's findings and history on device (this computer
// when empty); redacted unless the caller is an administrator.
func (c *Client) Explain(ctx context.Context, rule, device string) (*apitype.RuleHistory, error) {
	var h apitype.RuleHistory
	return &h, c.do(ctx, http.MethodGet, readPath(PathExplain, "rule", rule, "device", device), &h)
}

// baselinesWithLists returns l with every baseline's differences non-nil
// (a baseline without differences answers [], never null); l is not
// modified.
func baselinesWithLists(l *apitype.BaselineList) *apitype.BaselineList {
	out := *l
	out.Baselines = make([]drift.Baseline, len(l.Baselines))
	for i, b := range l.Baselines {
		if b.Differences == nil {
			b.Differences = []drift.Event{}
		}
		out.Baselines[i] = b
	}
	return &out
}
