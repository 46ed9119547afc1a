package localapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/status"
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

// What a local user who is not an administrator may read (administrators
// read everything). The rule of the rest of the API holds — device-level
// data and data about the caller's own account, nothing about other
// accounts — and, erring on the side of privacy, no person's name or an
// administrator's free text either: who attested, approved or accepted, and
// the notes, reasons and "why" they typed, are administrators' records
// that routinely name colleagues, tickets and circumstances. A user learns
// that a record exists, what it covers and until when; whom to ask is
// their administrator's to say. In detail:
//
//   - attestations (always about a device): every record, without by and
//     note;
//   - local exemptions: those for the whole device (no user) and those
//     scoped to the caller's account, without approver and reason;
//   - baselines: every device's, without by and why; their differences as
//     drift events (drift.RedactEvent: other users' removed, no names);
//   - explain: the rule's findings exactly as /v1/status shows them to the
//     caller (status.Report.Redact: device-level and the caller's own);
//     its drift events as above; its audit log entries for the device and
//     the caller's account, without by and reason.
//
// An unresolved account (Peer.User empty) gets the device-level part only.

// AttestationList is the answer to GET /v1/attestations and the JSON of
// `agent attest --list --json`.
type AttestationList struct {
	Attestations []compliance.Attestation `json:"attestations"`
	// Redacted is true when names and notes were withheld (see above).
	Redacted bool `json:"redacted,omitempty"`
}

// Redact returns the list as a non-administrator may see it.
func (l *AttestationList) Redact(string) *AttestationList {
	out := &AttestationList{Attestations: make([]compliance.Attestation, 0, len(l.Attestations)), Redacted: true}
	for _, a := range l.Attestations {
		a.By, a.Note = "", ""
		out.Attestations = append(out.Attestations, a)
	}
	return out
}

// ExemptionList is the answer to GET /v1/exemptions and the JSON of `agent
// exempt --list --json`.
type ExemptionList struct {
	Exemptions []compliance.Exemption `json:"exemptions"`
	// Redacted is true when other accounts' exemptions, approvers and
	// reasons were withheld.
	Redacted bool `json:"redacted,omitempty"`
}

// Redact returns the list as user may see it.
func (l *ExemptionList) Redact(user string) *ExemptionList {
	out := &ExemptionList{Exemptions: []compliance.Exemption{}, Redacted: true}
	for _, x := range l.Exemptions {
		if x.User != "" && x.User != user {
			continue
		}
		x.Approver, x.Reason = "", ""
		out.Exemptions = append(out.Exemptions, x)
	}
	return out
}

// BaselineList is the answer to GET /v1/baselines: what `agent baseline
// show` prints.
type BaselineList struct {
	Baselines []drift.Baseline `json:"baselines"`
	// Redacted is true when who accepted a baseline and why, and changes
	// about other accounts, were withheld.
	Redacted bool `json:"redacted,omitempty"`
}

// Redact returns the list as user may see it.
func (l *BaselineList) Redact(user string) *BaselineList {
	out := &BaselineList{Baselines: make([]drift.Baseline, 0, len(l.Baselines)), Redacted: true}
	for _, b := range l.Baselines {
		b.Info.By, b.Info.Why = "", ""
		b.Differences = redactEvents(b.Differences, user)
		out.Baselines = append(out.Baselines, b)
	}
	return out
}

// RuleHistory is the answer to GET /v1/explain: one rule's findings on a
// device and their history, the device part of `agent explain RULE` (the
// CLI adds the rule's description from the policy).
type RuleHistory struct {
	// Device is the device the findings and history are about; empty when
	// it has no scan yet (Note says so).
	Device string `json:"device,omitempty"`
	// Platform selects the remediation steps shown.
	Platform  string           `json:"platform,omitempty"`
	ScannedAt time.Time        `json:"scanned_at,omitzero"`
	Findings  []status.Finding `json:"findings"`
	// Drift are the drift events about this rule on the device.
	Drift []drift.Event `json:"drift"`
	// Log is the compliance audit log for this rule on the device.
	Log []compliance.LogEntry `json:"log"`
	// Note says why device data is missing or incomplete.
	Note string `json:"note,omitempty"`
	// Redacted is true when data about other accounts, names and free
	// text were withheld.
	Redacted bool `json:"redacted,omitempty"`
}

// Redact returns the history as user may see it.
func (h *RuleHistory) Redact(user string) *RuleHistory {
	out := *h
	out.Redacted = true
	// The findings are those /v1/status shows the caller; one rule decides.
	out.Findings = (&status.Report{Findings: h.Findings}).Redact(user).Findings
	if out.Findings == nil {
		out.Findings = []status.Finding{}
	}
	out.Drift = redactEvents(h.Drift, user)
	out.Log = []compliance.LogEntry{}
	for _, e := range h.Log {
		if e.User != "" && e.User != user {
			continue
		}
		e.By, e.Reason = "", ""
		out.Log = append(out.Log, e)
	}
	return &out
}

// redactEvents keeps the events user may see, without names; nil stays nil
// (a baseline without differences).
func redactEvents(evs []drift.Event, user string) []drift.Event {
	if evs == nil {
		return nil
	}
	out := []drift.Event{}
	for _, e := range evs {
		if e, ok := drift.RedactEvent(e, user); ok {
			out = append(out, e)
		}
	}
	return out
}

// Reader is implemented by a Backend that serves the read verbs from the
// database it holds. The server type-asserts it, so a Backend without it
// keeps working and answers these endpoints with 501. Every method
// returns the full (administrator's) view; the server redacts.
type Reader interface {
	// Attestations lists the recorded attestations of device (every
	// device when empty), sorted by device and rule.
	Attestations(ctx context.Context, device string) (*AttestationList, error)
	// Exemptions lists the recorded local exemptions likewise.
	Exemptions(ctx context.Context, device string) (*ExemptionList, error)
	// Baselines lists the drift baseline of device (every device when
	// empty) with its differences from the current state.
	Baselines(ctx context.Context, device string) (*BaselineList, error)
	// Explain returns rule's findings and history on device (this
	// computer when empty).
	Explain(ctx context.Context, rule, device string) (*RuleHistory, error)
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
	rd, ok := s.backend.(Reader)
	if !ok {
		return backendError(w, ErrUnavailable)
	}
	ctx, device := r.Context(), q["device"]
	var out any
	switch r.URL.Path {
	case PathAttestations:
		var l *AttestationList
		if l, err = rd.Attestations(ctx, device); err == nil && !peer.Admin {
			l = l.Redact(peer.User)
		}
		out = l
	case PathExemptions:
		var l *ExemptionList
		if l, err = rd.Exemptions(ctx, device); err == nil && !peer.Admin {
			l = l.Redact(peer.User)
		}
		out = l
	case PathBaselines:
		var l *BaselineList
		if l, err = rd.Baselines(ctx, device); err == nil && !peer.Admin {
			l = l.Redact(peer.User)
		}
		out = l
	default:
		var h *RuleHistory
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
func (c *Client) Attestations(ctx context.Context, device string) (*AttestationList, error) {
	var l AttestationList
	return &l, c.do(ctx, http.MethodGet, readPath(PathAttestations, "device", device), &l)
}

// Exemptions lists the recorded local exemptions of device (every device
// when empty); redacted unless the caller is an administrator.
func (c *Client) Exemptions(ctx context.Context, device string) (*ExemptionList, error) {
	var l ExemptionList
	return &l, c.do(ctx, http.MethodGet, readPath(PathExemptions, "device", device), &l)
}

// Baselines lists the drift baselines of device (every device when
// empty); redacted unless the caller is an administrator.
func (c *Client) Baselines(ctx context.Context, device string) (*BaselineList, error) {
	var l BaselineList
	return &l, c.do(ctx, http.MethodGet, readPath(PathBaselines, "device", device), &l)
}

// Explain returns rule's findings and history on device (this computer
// when empty); redacted unless the caller is an administrator.
func (c *Client) Explain(ctx context.Context, rule, device string) (*RuleHistory, error) {
	var h RuleHistory
	return &h, c.do(ctx, http.MethodGet, readPath(PathExplain, "rule", rule, "device", device), &h)
}
