// Package apitype holds the request and response types of the local API
// (/v1/*): what the running service answers, what the CLI prints with
// --json, and what the CLI reads from the database itself when no service
// runs, so that both paths have one shape. It imports data packages only,
// never the transport (agent/localapi) or the configuration, so that the
// service, the client, the CLI and the readers of the database can all use
// it. The model is tailscale's client/tailscale/apitype.
package apitype

import (
	"time"

	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/agent/store"
)

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
//   - drift: the events drift.RedactEvent lets through; scan records hold
//     counts and hashes only and are shown to everyone;
//   - explain: the rule's findings exactly as /v1/status shows them to the
//     caller (status.Report.Redact: device-level and the caller's own);
//     its drift events as above; its audit log entries for the device and
//     the caller's account, without by and reason.
//
// An unresolved account (empty user) gets the device-level part only.

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

// NewRuleHistory returns an empty history whose lists encode as [].
func NewRuleHistory() RuleHistory {
	return RuleHistory{Findings: []status.Finding{}, Drift: []drift.Event{}, Log: []compliance.LogEntry{}}
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

// DriftSchemaVersion versions the DriftResponse JSON shape.
const DriftSchemaVersion = 1

// DriftResponse is the answer to GET /v1/drift and the JSON of `agent
// drift --json`: the drift events since a time, oldest first, and the
// computer's scan records in the same window, so that a client can tell
// "no drift" from "no scans".
type DriftResponse struct {
	SchemaVersion int                `json:"schema_version"`
	Since         time.Time          `json:"since,omitzero"`
	Events        []drift.Event      `json:"events"`
	Scans         []store.ScanRecord `json:"scans"`
	// Redacted is true when events about other users were removed.
	Redacted bool `json:"redacted,omitempty"`
}

// NewDriftResponse returns the response for events and scans since a
// time; nil lists encode as [].
func NewDriftResponse(since time.Time, events []drift.Event, scans []store.ScanRecord) *DriftResponse {
	if events == nil {
		events = []drift.Event{}
	}
	if scans == nil {
		scans = []store.ScanRecord{}
	}
	return &DriftResponse{SchemaVersion: DriftSchemaVersion, Since: since, Events: events, Scans: scans}
}

// Redact returns what user may see: the events drift.RedactEvent lets
// through; the scan records hold nothing personal.
func (r *DriftResponse) Redact(user string) *DriftResponse {
	out := *r
	out.Redacted = true
	out.Events = redactEvents(r.Events, user)
	if out.Events == nil {
		out.Events = []drift.Event{}
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
