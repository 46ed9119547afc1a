package drift

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/policy"
)

// Item kinds, the first byte of an item key.
const (
	itemFinding   = 'f'
	itemMessenger = 'm'
	itemVersion   = 'v'
	itemPosture   = 'p'
)

// Posture areas (item.rule of posture items).
const (
	areaScreenLock = "screen_lock"
	areaEncryption = "encryption"
	areaRemoteWipe = "remote_wipe"
)

// item is one tracked value of a device's state: a finding's status, a
// messenger's presence (value = variant), a messenger's versions, or one
// posture setting. Drift compares items by key and value only.
type item struct {
	// k is the item's key (see key), set when the item is made.
	k       string
	kind    byte
	rule    string // finding rule; posture area
	subject string // finding subject; messenger id; volume mount
	user    string
	profile string // phone profile of a messenger
	attr    string // posture attribute ("idle_seconds")
	value   string
	// sev is a finding's severity; name a messenger's display name. Neither
	// makes an event on its own.
	sev  policy.Severity
	name string
}

const sep = "\x00"

func (it *item) key() string {
	if it.k == "" {
		it.k = string(it.kind) + sep + it.rule + sep + it.subject + sep + it.user + sep + it.profile + sep + it.attr
	}
	return it.k
}

// encode is the stored value: value, severity and name separated by NUL.
func (it *item) encode() []byte {
	return []byte(it.value + sep + string(it.sev) + sep + it.name)
}

var errBadItem = errors.New("malformed drift item")

// decodeItem parses a stored key and value. It is pure and fuzz-tested: a
// damaged value must produce an error, never a panic.
func decodeItem(k, v []byte) (item, error) { return decodeItemKey(string(k), v) }

// decodeItemKey is decodeItem for a key already converted to a string; the
// fields are substrings of it and of the value, so a state of a few hundred
// items decodes with two allocations per item.
func decodeItemKey(key string, v []byte) (item, error) {
	ks := key
	var parts [6]string
	for i := range 5 {
		var ok bool
		parts[i], ks, ok = strings.Cut(ks, sep)
		if !ok {
			return item{}, errBadItem
		}
	}
	parts[5] = ks
	if len(parts[0]) != 1 || strings.Contains(parts[5], sep) {
		return item{}, errBadItem
	}
	switch parts[0][0] {
	case itemFinding, itemMessenger, itemVersion, itemPosture:
	default:
		return item{}, errBadItem
	}
	vs := string(v)
	value, rest, ok1 := strings.Cut(vs, sep)
	sev, name, ok2 := strings.Cut(rest, sep)
	if !ok1 || !ok2 || strings.Contains(name, sep) {
		return item{}, errBadItem
	}
	return item{k: key, kind: parts[0][0], rule: parts[1], subject: parts[2], user: parts[3], profile: parts[4], attr: parts[5],
		value: value, sev: policy.Severity(sev), name: name}, nil
}

// snapshot is a device's tracked state sorted by item key (the order in
// which bbolt stores the confirmed state, so that the two merge in one
// pass), plus the keys of findings whose only evidence is a running
// process: those are volatile and never make an event (they come and go
// with the user's session).
type snapshot struct {
	items    []item
	volatile map[string]bool
}

// snapshotOptions select what is tracked.
type snapshotOptions struct {
	versions bool
}

// takeSnapshot extracts the tracked items from a report.
func takeSnapshot(r *status.Report, o snapshotOptions) snapshot {
	n := len(r.Findings)
	if inv := r.Inventory; inv != nil {
		n += 2*len(inv.Messengers) + 6*len(inv.Posture.ScreenLock) + 3*len(inv.Posture.Encryption.Volumes) + 3
	}
	s := snapshot{items: make([]item, 0, n), volatile: map[string]bool{}}
	for i := range r.Findings {
		f := &r.Findings[i]
		it := item{kind: itemFinding, rule: f.Rule, subject: f.Subject, user: f.User, value: string(f.Status), sev: f.Severity}
		k := it.key()
		s.items = append(s.items, it)
		if processOnly(f.Evidence) {
			s.volatile[k] = true
		}
	}
	if r.Inventory != nil {
		s.items = addMessengers(s.items, r.Inventory.Messengers, o.versions)
		s.items = addPosture(s.items, &r.Inventory.Posture)
	}
	s.items = sortItems(s.items)
	return s
}

// sortItems sorts by key and drops later duplicates (a policy that
// reports the same rule, subject and user twice).
func sortItems(items []item) []item {
	// Sort indexes, not the (large) items: moving items costs a write
	// barrier per string. The index breaks ties, so the first duplicate
	// wins deterministically.
	idx := make([]int32, len(items))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		if c := strings.Compare(items[a].k, items[b].k); c != 0 {
			return c
		}
		return int(a - b)
	})
	out := make([]item, 0, len(items))
	for _, i := range idx {
		if n := len(out); n > 0 && out[n-1].k == items[i].k {
			continue
		}
		out = append(out, items[i])
	}
	return out
}

// processOnly reports whether every piece of evidence is a running process.
func processOnly(ev []policy.Evidence) bool {
	if len(ev) == 0 {
		return false
	}
	for _, e := range ev {
		if e.Source != policy.SourceProcess {
			return false
		}
	}
	return true
}

// addMessengers adds one presence item (value = variant) per messenger,
// user and profile, and one version item (value = the sorted versions)
// when versions are tracked. Process evidence is skipped entirely.
func addMessengers(items []item, ms []policy.Messenger, versions bool) []item {
	// Group entries of one messenger, user and profile (a .deb, a
	// .desktop file and a data directory are one presence).
	idx := make([]int, 0, len(ms))
	for i := range ms {
		if ms[i].Source != policy.SourceProcess && ms[i].ID != "" {
			idx = append(idx, i)
		}
	}
	same := func(a, b *policy.Messenger) bool { return a.ID == b.ID && a.User == b.User && a.Profile == b.Profile }
	slices.SortStableFunc(idx, func(a, b int) int {
		x, y := &ms[a], &ms[b]
		if c := strings.Compare(x.ID, y.ID); c != 0 {
			return c
		}
		if c := strings.Compare(x.User, y.User); c != 0 {
			return c
		}
		return strings.Compare(x.Profile, y.Profile)
	})
	var variants, vers []string
	for start := 0; start < len(idx); {
		first := &ms[idx[start]]
		end := start + 1
		for end < len(idx) && same(first, &ms[idx[end]]) {
			end++
		}
		variants, vers = variants[:0], vers[:0]
		for _, i := range idx[start:end] {
			m := &ms[i]
			if v := string(m.Variant); v != "" && !slices.Contains(variants, v) {
				variants = append(variants, v)
			}
			if m.Version != "" && !slices.Contains(vers, m.Version) {
				vers = append(vers, m.Version)
			}
		}
		it := item{kind: itemMessenger, subject: first.ID, user: first.User, profile: first.Profile, name: first.Name}
		it.value = joinSorted(variants)
		if it.value == "" {
			it.value = "present"
		}
		it.key()
		items = append(items, it)
		if versions && len(vers) > 0 {
			v := it
			v.k, v.kind, v.value = "", itemVersion, joinSorted(vers)
			v.key()
			items = append(items, v)
		}
		start = end
	}
	return items
}

// joinSorted joins a short list in sorted order; one element (the common
// case) is returned without allocating.
func joinSorted(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	slices.Sort(xs)
	return strings.Join(xs, ",")
}

// addPosture adds one item per posture setting. Nothing is added when the
// platform's posture probes did not run.
func addPosture(items []item, p *policy.Posture) []item {
	if !p.Inspected {
		return items
	}
	put := func(area, subject, user, attr, value string) {
		it := item{kind: itemPosture, rule: area, subject: subject, user: user, attr: attr, value: value}
		it.key()
		items = append(items, it)
	}
	for _, s := range p.ScreenLock {
		put(areaScreenLock, "", s.User, "applicable", s.Applicable.String())
		put(areaScreenLock, "", s.User, "enabled", s.Enabled.String())
		put(areaScreenLock, "", s.User, "lock_on_suspend", s.LockOnSuspend.String())
		if s.IdleSeconds != nil {
			put(areaScreenLock, "", s.User, "idle_seconds", strconv.Itoa(*s.IdleSeconds))
		}
		if s.GraceSeconds != nil {
			put(areaScreenLock, "", s.User, "grace_seconds", strconv.Itoa(*s.GraceSeconds))
		}
		if s.Policy != "" {
			put(areaScreenLock, "", s.User, "policy", s.Policy)
		}
	}
	w := p.RemoteWipe
	put(areaRemoteWipe, "", "", "capable", w.Capable.String())
	if w.Scope != "" {
		put(areaRemoteWipe, "", "", "scope", w.Scope)
	}
	if w.Provider != "" {
		put(areaRemoteWipe, "", "", "provider", w.Provider)
	}
	for _, v := range p.Encryption.Volumes {
		put(areaEncryption, v.Mount, "", "encrypted", v.Encrypted.String())
		if v.Protected != policy.Unknown {
			put(areaEncryption, v.Mount, "", "protected", v.Protected.String())
		}
		if v.Method != "" {
			put(areaEncryption, v.Mount, "", "method", v.Method)
		}
	}
	return items
}
