// Package records reads what the read verbs show from the agent's
// database: the recorded attestations and local exemptions (`agent attest
// --list`, `agent exempt --list`), the drift baselines (`agent baseline
// show`) and one rule's findings and history on a device (`agent explain
// RULE`). Each value is read in one bbolt read transaction and is the local
// API's wire type: the service serves it (agent/daemon) while it holds the
// database, and the CLI reads it itself when no service runs, so both
// paths print the same thing.
package records

import (
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/agent/store"
)

// Attestations returns the recorded attestations of device (every device
// when empty), sorted by device and rule.
func Attestations(db *bolt.DB, device string) (*apitype.AttestationList, error) {
	recs, err := compliance.List(db, device)
	if err != nil {
		return nil, fmt.Errorf("reading the attestations: %w", err)
	}
	return &apitype.AttestationList{Attestations: recs.Attestations}, nil
}

// Exemptions returns the recorded local exemptions of device (every device
// when empty), sorted by device and scope.
func Exemptions(db *bolt.DB, device string) (*apitype.ExemptionList, error) {
	recs, err := compliance.List(db, device)
	if err != nil {
		return nil, fmt.Errorf("reading the exemptions: %w", err)
	}
	return &apitype.ExemptionList{Exemptions: recs.Exemptions}, nil
}

// Baselines returns the drift baseline of device (every device when empty)
// with its differences from the current confirmed state; an empty list
// when drift has seen no scan.
func Baselines(db *bolt.DB, device string) (*apitype.BaselineList, error) {
	bs, err := drift.Baselines(db, device)
	if err != nil {
		return nil, fmt.Errorf("reading the baselines: %w", err)
	}
	if bs == nil {
		bs = []drift.Baseline{}
	}
	return &apitype.BaselineList{Baselines: bs}, nil
}

// Explain returns rule's findings in device's latest report (the primary
// device when empty), the drift events about rule on it and its audit log
// for rule, all from one read transaction. A device without a scan is no
// error: Note says so. A history that cannot be read leaves the findings
// and says so in Note.
func Explain(db *bolt.DB, rule, device string) (*apitype.RuleHistory, error) {
	hist := apitype.NewRuleHistory()
	h := &hist
	err := db.View(func(tx *bolt.Tx) error {
		r, err := store.LatestTx(tx, device)
		if errors.Is(err, store.ErrNoScan) {
			h.Note = err.Error()
			return nil
		}
		if err != nil {
			return err
		}
		h.Device, h.Platform, h.ScannedAt = r.Device.ID, r.Device.Platform, r.ScannedAt
		h.Findings = findingsFor(r, rule)
		evs, derr := drift.ListTx(tx, time.Time{})
		for _, ev := range evs {
			if ev.Rule == rule && ev.Device == h.Device {
				h.Drift = append(h.Drift, ev)
			}
		}
		log, lerr := compliance.HistoryTx(tx, h.Device, rule)
		if log != nil {
			h.Log = log
		}
		if err := errors.Join(derr, lerr); err != nil {
			h.Note = "the history could not be read: " + err.Error()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the history of %s: %w", rule, err)
	}
	return h, nil
}

// findingsFor returns r's findings of rule, never nil.
func findingsFor(r *status.Report, rule string) []status.Finding {
	out := []status.Finding{}
	for _, f := range r.Findings {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// Drift returns the drift events since a time (zero: every event kept) and
// the primary device's scan records in the same window: the answer of
// /v1/drift and of `agent drift` read from the database.
func Drift(st *store.Store, since time.Time) (*apitype.DriftResponse, error) {
	evs, err := drift.List(st.DB(), since)
	if err != nil {
		return nil, fmt.Errorf("reading the drift events: %w", err)
	}
	var scans []store.ScanRecord
	if ids, err := st.Devices(); err == nil && len(ids) > 0 {
		scans, _ = st.Scans(ids[0], since)
	}
	return apitype.NewDriftResponse(since, evs, scans), nil
}
