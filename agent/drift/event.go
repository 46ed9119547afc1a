package drift

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/msgguard/msgguard/policy"
)

// EventSchemaVersion versions the Event JSON shape; fields are only added.
const EventSchemaVersion = 1

// Kind names what an event reports.
type Kind string

// Drift kinds report a transition of the device's state.
const (
	KindFindingAppeared    Kind = "finding_appeared"
	KindFindingChanged     Kind = "finding_changed"
	KindFindingDisappeared Kind = "finding_disappeared"
	KindMessengerAppeared  Kind = "messenger_appeared"
	KindMessengerChanged   Kind = "messenger_changed" // variant or user
	KindMessengerGone      Kind = "messenger_disappeared"
	KindPostureChanged     Kind = "posture_changed"
	KindVersionChanged     Kind = "version_changed"
	KindReset              Kind = "reset"    // state re-baselined (database rebuilt, policy changed)
	KindBaselineAccepted   Kind = "baseline" // an administrator accepted the current state
	KindSummary            Kind = "summary"  // periodic state summary with checksum
	KindDropped            Kind = "dropped"  // a full outbox dropped events
)

// IsDrift reports whether k is a state transition (as opposed to the
// bookkeeping kinds reset, baseline, summary and dropped).
func (k Kind) IsDrift() bool {
	switch k {
	case KindFindingAppeared, KindFindingChanged, KindFindingDisappeared,
		KindMessengerAppeared, KindMessengerChanged, KindMessengerGone,
		KindPostureChanged, KindVersionChanged:
		return true
	}
	return false
}

// Direction says whether an event moves the device away from compliance or
// back to it; empty means neither (a change the policy does not judge).
type Direction string

const (
	Away Direction = "away"
	Back Direction = "back"
)

// Event is one drift event (or bookkeeping record) as stored, listed by
// `agent drift` and delivered to every sink. Its JSON shape is documented
// in agent/report/README.md.
type Event struct {
	SchemaVersion int `json:"schema_version"`
	// ID is unique and stable across retries: collectors use it as the
	// idempotency key.
	ID string `json:"id"`
	// Seq orders events in this database (assigned when stored).
	Seq      uint64    `json:"seq,omitempty"`
	Device   string    `json:"device,omitempty"`
	Hostname string    `json:"hostname,omitempty"`
	Time     time.Time `json:"time"`
	ScanID   string    `json:"scan_id,omitempty"`
	Kind     Kind      `json:"kind"`
	Rule     string    `json:"rule,omitempty"`
	Subject  string    `json:"subject,omitempty"`
	User     string    `json:"user,omitempty"`
	// Attribute names the changed value of a posture or messenger item
	// ("screen_lock.idle_seconds", "variant", "user").
	Attribute string `json:"attribute,omitempty"`
	// Variant is a messenger event's variant ("business", "private"),
	// kept when a move between users puts the users in Before/After.
	Variant string `json:"variant,omitempty"`
	Before  string `json:"before,omitempty"`
	After   string `json:"after,omitempty"`
	// StatusBefore/After are the finding status transition folded into an
	// inventory event (a new messenger that also failed a rule is one
	// event, not two).
	StatusBefore policy.Status   `json:"status_before,omitempty"`
	StatusAfter  policy.Status   `json:"status_after,omitempty"`
	Severity     policy.Severity `json:"severity"`
	Direction    Direction       `json:"direction,omitempty"`
	Message      string          `json:"message"`
	// Summary fields: the checksum over the current findings (see
	// Checksum), counts by status and the verdict.
	Checksum  string         `json:"checksum,omitempty"`
	Counts    map[string]int `json:"counts,omitempty"`
	Compliant *bool          `json:"compliant,omitempty"`
	// Count is the number of events a `dropped` event stands for.
	Count int `json:"count,omitempty"`
	// By/Reason record who accepted a baseline and why, or why a reset
	// happened.
	By     string `json:"by,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// eventID hashes the parts that identify an event: the same scan producing
// the same change always yields the same id, so a retried delivery carries
// the same idempotency key.
func eventID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
