// Package phones finds the Android and iOS phones attached to this computer
// and turns each into a scan probe, so that the scan cycle records every
// phone as a device of its own (with its own findings and drift).
package phones

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/msgguard/msgguard/agent/scan"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/android"
	"github.com/msgguard/msgguard/platform/ios"
	"github.com/msgguard/msgguard/policy"
)

// Phone is an attached phone as `agent phones` lists it.
type Phone struct {
	Kind   string `json:"kind"` // "android" or "ios"
	Serial string `json:"serial"`
	State  string `json:"state"`
	Model  string `json:"model,omitempty"`
	// Ready is true when the phone has authorised (Android) or is paired
	// with (iOS) this computer and can be inspected.
	Ready bool `json:"ready"`
	// DeviceID is the id the phone is stored under (hashed serial by
	// default).
	DeviceID string `json:"device_id"`
	Detail   string `json:"detail,omitempty"`
}

// Options configure phone inspection.
type Options struct {
	// Run runs adb and the libimobiledevice tools (an ExecRunner with
	// Commands() in production).
	Run platform.Runner
	// ClearSerial stores serials in clear instead of hashed.
	ClearSerial bool
	// Labels maps a serial to an owner label.
	Labels map[string]string
}

// Commands returns the absolute-path table for the phone tools; adbPath, if
// set, is tried before the standard locations.
func Commands(adbPath string) map[string][]string {
	out := map[string][]string{}
	for k, v := range android.CommandPaths() {
		out[k] = v
	}
	for k, v := range ios.CommandPaths() {
		out[k] = v
	}
	if adbPath != "" {
		out[android.Command] = append([]string{adbPath}, out[android.Command]...)
	}
	return out
}

// List returns the attached phones. A missing tool is not an error (no adb
// means no Android phones can be seen); other failures are returned joined
// with whatever was listed.
func List(ctx context.Context, o Options) ([]Phone, error) {
	var out []Phone
	var errs []error
	aps, err := android.List(ctx, o.Run)
	if err != nil && !errors.Is(err, platform.ErrCommandNotFound) {
		errs = append(errs, fmt.Errorf("listing Android phones: %w", err))
	}
	for _, p := range aps {
		out = append(out, Phone{Kind: "android", Serial: p.Serial, State: p.State, Model: p.Model,
			Ready: p.Ready(), DeviceID: android.DeviceID(p.Serial, o.ClearSerial), Detail: p.Detail})
	}
	ips, err := ios.List(ctx, o.Run)
	if err != nil && !errors.Is(err, platform.ErrCommandNotFound) {
		errs = append(errs, fmt.Errorf("listing iOS devices: %w", err))
	}
	for _, p := range ips {
		out = append(out, Phone{Kind: "ios", Serial: p.UDID, State: p.State,
			Ready: p.Ready(), DeviceID: ios.DeviceID(p.UDID, o.ClearSerial)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind+out[i].Serial < out[j].Kind+out[j].Serial })
	return out, errors.Join(errs...)
}

// Probe returns the scan probe for one phone.
func Probe(p Phone, o Options) scan.Probe {
	label := o.Labels[p.Serial]
	return func(ctx context.Context, cat *policy.Catalog) (*policy.Inventory, error) {
		if p.Kind == "ios" {
			return ios.Scan(ctx, o.Run, p.Serial, cat, ios.Options{ClearSerial: o.ClearSerial, Label: label})
		}
		return android.Scan(ctx, o.Run, p.Serial, cat, android.Options{ClearSerial: o.ClearSerial, Label: label})
	}
}

// NotReady reports whether a scan error means the phone could not be
// inspected right now (unauthorised, not paired, unplugged): it is listed
// with its state and produces no findings rather than a failure.
func NotReady(err error) bool {
	return android.NotReady(err) || ios.NotReady(err)
}

// Result is one attached phone's outcome of ScanAttached.
type Result struct {
	Phone Phone
	// Report is the recorded scan; nil when the phone was not inspected.
	Report *status.Report
	// Err says why there is no report. For a phone that is not ready
	// (Phone.Ready false) it is nil; NotReady(Err) means it became
	// uninspectable during the scan (unplugged, authorisation revoked).
	Err error
}

// ScanAttached lists the attached phones and scans each one serial selects
// (every phone when serial is "") with a copy of s whose probe is that
// phone's, so that each is recorded as a device of its own. The list error
// is returned only when no phone could be listed at all.
func ScanAttached(ctx context.Context, s *scan.Scanner, pol scan.Policy, o Options, serial string) ([]Result, error) {
	list, err := List(ctx, o)
	if err != nil && len(list) == 0 {
		return nil, err
	}
	var out []Result
	for _, p := range list {
		if serial != "" && p.Serial != serial {
			continue
		}
		res := Result{Phone: p}
		if p.Ready {
			ps := *s
			ps.Probe = Probe(p, o)
			res.Report, res.Err = ps.Scan(ctx, pol)
		}
		out = append(out, res)
	}
	return out, nil
}
