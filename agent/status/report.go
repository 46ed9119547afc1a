// Package status defines the report that `agent scan`, `agent status` and the
// local API return: the verdict, the policy in force, findings and inventory.
// Its JSON shape is documented in the README and versioned by SchemaVersion;
// fields are only ever added.
package status

import (
	"fmt"
	"time"

	"github.com/msgguard/msgguard/policy"
)

// SchemaVersion is bumped when a field changes meaning (never for additions).
const SchemaVersion = 1

// Report is one device's state after a scan.
type Report struct {
	SchemaVersion int       `json:"schema_version"`
	Compliant     bool      `json:"compliant"`
	ScannedAt     time.Time `json:"scanned_at"`
	// ScanID is the store key of the scan this report shows.
	ScanID   string        `json:"scan_id,omitempty"`
	Duration time.Duration `json:"duration_ns,omitempty"`
	Device   policy.Device `json:"device"`
	Policy   PolicyRef     `json:"policy"`
	Summary  Summary       `json:"summary"`
	Findings []Finding     `json:"findings"`
	// Inventory is the device inventory; redacted views keep only the
	// viewer's own entries.
	Inventory *policy.Inventory `json:"inventory"`
	// Source says where the report came from: "scan", "service" (the running
	// daemon's local API) or "database" (read from the store while no
	// service runs).
	Source string `json:"source,omitempty"`
	// Service is filled when the report came from the running daemon.
	Service *Service `json:"service,omitempty"`
	// Redacted is true when the viewer is not an administrator and findings
	// about other users were removed.
	Redacted bool `json:"redacted,omitempty"`
	// Phones are attached phones scanned as devices of their own.
	Phones []Report `json:"phones,omitempty"`
}

// PolicyRef names the policy in force.
type PolicyRef struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Source string `json:"source,omitempty"` // "embedded" or a file path
	// Errors are load errors of a newer policy file that was rejected; the
	// policy named above (the last good one) stays in force.
	Errors []string `json:"errors,omitempty"`
}

// Summary counts findings.
type Summary struct {
	ByStatus   map[policy.Status]int   `json:"by_status"`
	BySeverity map[policy.Severity]int `json:"failing_by_severity"`
}

// Finding is a policy finding with its history on this device.
type Finding struct {
	policy.Finding
	FirstSeen   time.Time `json:"first_seen"`
	LastChanged time.Time `json:"last_changed"`
}

// Service describes the running daemon.
type Service struct {
	Running      bool          `json:"running"`
	StartedAt    time.Time     `json:"started_at"`
	LastScan     time.Time     `json:"last_scan,omitempty"`
	NextScan     time.Time     `json:"next_scan,omitempty"`
	ScanDuration time.Duration `json:"scan_duration_ns,omitempty"`
	Health       Health        `json:"health"`
}

// Health is the agent's own health.
type Health struct {
	OK bool `json:"ok"`
	// State is "ok" or "degraded" (any problem: a rejected policy, a
	// failed scan, a sink with failed deliveries queued, over budget).
	State    string   `json:"state,omitempty"`
	RSSBytes uint64   `json:"rss_bytes,omitempty"`
	Problems []string `json:"problems,omitempty"`
	// ProblemCount is len(Problems) in the administrator's view; a
	// redacted view keeps the count only (the texts name files, hosts
	// and errors).
	ProblemCount int `json:"problem_count,omitempty"`
	// Sinks reports each reporting sink's delivery state.
	Sinks []SinkHealth `json:"sinks,omitempty"`
	// Redacted is true in a non-administrator's view.
	Redacted bool `json:"redacted,omitempty"`
}

// Health states.
const (
	HealthOK       = "ok"
	HealthDegraded = "degraded"
)

// SinkHealth is one reporting sink's delivery state.
type SinkHealth struct {
	Name        string    `json:"name"`
	LastSuccess time.Time `json:"last_success,omitempty"`
	QueueDepth  int       `json:"queue_depth"`
	LastError   string    `json:"last_error,omitempty"`
	// Failing is true while the last delivery attempt failed (LastError
	// says how, for administrators).
	Failing bool `json:"failing,omitempty"`
}

// SinkProblems marks every sink whose last delivery failed as failing and
// returns a problem for each that has events queued: events waiting behind
// a failing collector are events the company's monitoring has not seen, so
// health is degraded until they are delivered. A queue without an error is
// merely busy; a sink that could not start is already among the start-up
// problems. The service and `agent status` reading the database while the
// service is stopped both decide by this rule.
func SinkProblems(sinks []SinkHealth) []string {
	var out []string
	for i := range sinks {
		s := &sinks[i]
		if s.LastError == "" {
			continue
		}
		s.Failing = true
		if s.QueueDepth > 0 {
			out = append(out, fmt.Sprintf("sink %s: %d events queued after failed deliveries: %s", s.Name, s.QueueDepth, s.LastError))
		}
	}
	return out
}

// Settle sets OK, State and ProblemCount from h.Problems: health is ok
// exactly when there is no problem, degraded otherwise.
func (h *Health) Settle() {
	h.OK = len(h.Problems) == 0
	h.State = HealthOK
	if !h.OK {
		h.State = HealthDegraded
	}
	h.ProblemCount = len(h.Problems)
}

// Redact returns health as a non-administrator may see it: whether the
// agent is healthy, how many problems and each sink's queue, without the
// problem texts and sink errors, which name files (the policy, a moved
// database), collectors' hosts and paths, and errors.
func (h Health) Redact() Health {
	out := Health{OK: h.OK, State: h.State, RSSBytes: h.RSSBytes, ProblemCount: len(h.Problems), Redacted: true}
	if h.ProblemCount > out.ProblemCount {
		out.ProblemCount = h.ProblemCount
	}
	for _, s := range h.Sinks {
		out.Sinks = append(out.Sinks, SinkHealth{Name: s.Name, LastSuccess: s.LastSuccess, QueueDepth: s.QueueDepth,
			Failing: s.Failing || s.LastError != ""})
	}
	return out
}

// Summarize counts findings by status, and failing ones by severity.
func Summarize(fs []Finding) Summary {
	s := Summary{ByStatus: map[policy.Status]int{}, BySeverity: map[policy.Severity]int{}}
	for _, f := range fs {
		s.ByStatus[f.Status]++
		if f.Status == policy.StatusFail {
			s.BySeverity[f.Severity]++
		}
	}
	return s
}

// Redact returns the view a non-administrator may see, built from the
// structured fields rather than by editing texts: device-level findings and
// those about user, the inventory entries that are system-wide or the
// user's own, and only that user in the user list; without the personal
// fields (who attested or approved, their notes and reasons) and the
// operational ones (the policy file's path and load errors, health problem
// texts, sink errors, probe problems with their paths). Every list is
// non-nil, so that it encodes as [].
func (r *Report) Redact(user string) *Report {
	out := *r
	out.Redacted = true
	out.Findings = []Finding{}
	for _, f := range r.Findings {
		if f.User == "" || f.User == user {
			out.Findings = append(out.Findings, redactFinding(f))
		}
	}
	out.Summary = Summarize(out.Findings)
	out.Policy = PolicyRef{Name: r.Policy.Name, SHA256: r.Policy.SHA256, Source: redactSource(r.Policy.Source)}
	if r.Service != nil {
		svc := *r.Service
		svc.Health = r.Service.Health.Redact()
		out.Service = &svc
	}
	if r.Inventory != nil {
		inv := *r.Inventory
		inv.Users, inv.Messengers, inv.Problems = []policy.User{}, []policy.Messenger{}, nil
		for _, u := range r.Inventory.Users {
			if u.Name == user {
				inv.Users = append(inv.Users, u)
			}
		}
		for _, m := range r.Inventory.Messengers {
			if m.User == "" || m.User == user {
				inv.Messengers = append(inv.Messengers, m)
			}
		}
		inv.Posture.ScreenLock = nil
		for _, s := range r.Inventory.Posture.ScreenLock {
			if s.User == user {
				inv.Posture.ScreenLock = append(inv.Posture.ScreenLock, s)
			}
		}
		out.Inventory = &inv
	}
	out.Phones = nil
	for _, p := range r.Phones {
		out.Phones = append(out.Phones, *p.Redact(user))
	}
	return out.Normalized()
}

// redactSource names where the policy came from without its path.
func redactSource(src string) string {
	switch src {
	case "", "embedded":
		return src
	}
	return "file"
}

// operationalEvidence are evidence sources that carry administrators'
// records or the agent's own files rather than what was seen on the
// device: an attestation's record, an exemption's, the policy file's
// load errors (file:line).
var operationalEvidence = map[string]bool{"attestation": true, "exemption": true, "policy": true}

// redactedPolicyInvalid replaces the message of the policy.invalid
// finding, which quotes the first load error with the file's path.
const redactedPolicyInvalid = "The policy file does not load; the last good policy stays in force. An administrator can see why."

// redactFinding drops f's personal and operational fields.
func redactFinding(f Finding) Finding {
	if a := f.Attestation; a != nil {
		c := *a
		c.By, c.Note = "", ""
		f.Attestation = &c
	}
	if x := f.Exemption; x != nil {
		c := *x
		c.Approver, c.Reason = "", ""
		f.Exemption = &c
	}
	if len(f.Evidence) > 0 {
		ev := make([]policy.Evidence, 0, len(f.Evidence))
		for _, e := range f.Evidence {
			if !operationalEvidence[e.Source] {
				ev = append(ev, e)
			}
		}
		f.Evidence = ev
	}
	if f.Rule == policy.RulePolicyInvalid {
		f.Message = redactedPolicyInvalid
	}
	return f
}

// Normalized returns r with every list non-nil — findings, the inventory
// (present, with users, messengers, screen locks and volumes) and phones',
// recursively — so that they encode as [] (JSON is a contract: an empty
// list is [], never null). r is not modified; unchanged parts are shared.
func (r *Report) Normalized() *Report {
	out := *r
	if out.Findings == nil {
		out.Findings = []Finding{}
	}
	inv := policy.Inventory{}
	if r.Inventory != nil {
		inv = *r.Inventory
	}
	if inv.Users == nil {
		inv.Users = []policy.User{}
	}
	if inv.Messengers == nil {
		inv.Messengers = []policy.Messenger{}
	}
	if inv.Posture.ScreenLock == nil {
		inv.Posture.ScreenLock = []policy.ScreenLock{}
	}
	if inv.Posture.Encryption.Volumes == nil {
		inv.Posture.Encryption.Volumes = []policy.Volume{}
	}
	out.Inventory = &inv
	if out.Summary.ByStatus == nil || out.Summary.BySeverity == nil {
		out.Summary = Summarize(out.Findings)
	}
	if len(r.Phones) > 0 {
		ps := make([]Report, len(r.Phones))
		for i := range r.Phones {
			ps[i] = *r.Phones[i].Normalized()
		}
		out.Phones = ps
	}
	return &out
}
