package drift

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/msgguard/msgguard/policy"
)

// pending is a candidate change that has not yet held for enough scans.
type pending struct {
	present bool
	value   string
	n       int
}

func (p pending) encode() []byte {
	b := []byte{'0'}
	if p.present {
		b[0] = '1'
	}
	return fmt.Appendf(b, "%d%s%s", p.n, sep, p.value)
}

// decodePending parses a stored pending value: presence flag, count, NUL,
// value. Pure and fuzz-tested.
func decodePending(v []byte) (pending, error) {
	if len(v) < 2 || (v[0] != '0' && v[0] != '1') {
		return pending{}, errBadItem
	}
	num, val, ok := bytes.Cut(v[1:], []byte(sep))
	if !ok || len(num) == 0 || len(num) > 9 {
		return pending{}, errBadItem
	}
	n := 0
	for _, c := range num {
		if c < '0' || c > '9' {
			return pending{}, errBadItem
		}
		n = n*10 + int(c-'0')
	}
	return pending{present: v[0] == '1', value: string(val), n: n}, nil
}

// change is a confirmed transition of one item; nil means absent.
type change struct {
	key           string
	before, after *item
}

// diffResult is what one scan changes in the stored drift state.
type diffResult struct {
	changes    []change
	statePut   []item
	stateDel   []string
	pendingPut map[string]pending
	pendingDel []string
}

// diff compares the confirmed state with the current snapshot, both sorted
// by key, in one merge pass. A change is confirmed once the same new value
// was seen in debounce consecutive scans; until then it is kept as
// pending. Volatile items (process-only findings) neither confirm nor
// cancel anything. Pure: no I/O.
func diff(state []item, pend map[string]pending, cur snapshot, debounce int) diffResult {
	if debounce < 1 {
		debounce = 1
	}
	res := diffResult{pendingPut: map[string]pending{}}
	i, j := 0, 0
	for i < len(state) || j < len(cur.items) {
		var s, c *item
		switch {
		case j >= len(cur.items) || i < len(state) && state[i].k < cur.items[j].k:
			s = &state[i]
			i++
		case i >= len(state) || cur.items[j].k < state[i].k:
			c = &cur.items[j]
			j++
		default:
			s, c = &state[i], &cur.items[j]
			i++
			j++
		}
		k := c.keyOr(s)
		diffKey(&res, k, s, c, pend, cur.volatile, debounce)
	}
	// A candidate whose item is gone from both sides flapped back.
	for k := range pend {
		if !hasKey(state, k) && !hasKey(cur.items, k) {
			res.pendingDel = append(res.pendingDel, k)
		}
	}
	slices.Sort(res.pendingDel)
	return res
}

// keyOr returns the key of it, or of other when it is nil.
func (it *item) keyOr(other *item) string {
	if it != nil {
		return it.k
	}
	return other.k
}

func hasKey(items []item, k string) bool {
	_, ok := slices.BinarySearchFunc(items, k, func(it item, k string) int { return strings.Compare(it.k, k) })
	return ok
}

// diffKey compares one item (nil = absent) and records what changes.
func diffKey(res *diffResult, k string, s, c *item, pend map[string]pending, volatile map[string]bool, debounce int) {
	p, hadPending := pend[k]
	if volatile[k] {
		if hadPending {
			res.pendingDel = append(res.pendingDel, k)
		}
		return
	}
	inState, inCur := s != nil, c != nil
	if inState == inCur && s.value == c.value {
		if hadPending {
			res.pendingDel = append(res.pendingDel, k)
		}
		if s.sev != c.sev || s.name != c.name {
			res.statePut = append(res.statePut, *c) // silent update
		}
		return
	}
	value := ""
	if inCur {
		value = c.value
	}
	if hadPending && p.present == inCur && p.value == value {
		p.n++
	} else {
		p = pending{present: inCur, value: value, n: 1}
	}
	if p.n < debounce {
		res.pendingPut[k] = p
		return
	}
	if hadPending {
		res.pendingDel = append(res.pendingDel, k)
	}
	// Copies, so that the change does not alias the caller's slices.
	ch := change{key: k}
	if inState {
		before := *s
		ch.before = &before
	}
	if inCur {
		after := *c
		ch.after = &after
		res.statePut = append(res.statePut, after)
	} else {
		res.stateDel = append(res.stateDel, k)
	}
	res.changes = append(res.changes, ch)
}

// eventMeta is what every event of one scan shares.
type eventMeta struct {
	device, hostname, scanID string
	at                       time.Time
}

// statusRank orders finding states for the direction of a transition:
// absent and passing-like states are compliant (0), unknown is doubtful
// (1), fail is non-compliant (2).
func statusRank(it *item) int {
	if it == nil {
		return 0
	}
	switch policy.Status(it.value) {
	case policy.StatusFail:
		return 2
	case policy.StatusUnknown:
		return 1
	}
	return 0
}

func direction(before, after *item) Direction {
	switch b, a := statusRank(before), statusRank(after); {
	case a > b:
		return Away
	case a < b:
		return Back
	}
	return ""
}

// buildEvents turns confirmed changes into events. A messenger or posture
// change and the finding transition it caused in the same scan become one
// event, so that installing one messenger is one event, not two.
func buildEvents(changes []change, m eventMeta) []Event {
	var inv, fnd []Event
	invSrc := map[int]string{} // event index -> item key, for ids
	fndSrc := map[int]string{}
	messengerChanged := map[string]bool{}
	for _, ch := range changes {
		it := ch.after
		if it == nil {
			it = ch.before
		}
		switch it.kind {
		case itemFinding:
			fndSrc[len(fnd)] = ch.key
			fnd = append(fnd, findingEvent(ch))
		case itemMessenger:
			messengerChanged[it.subject+sep+it.user+sep+it.profile] = true
			invSrc[len(inv)] = ch.key
			inv = append(inv, messengerEvent(ch))
		case itemPosture:
			invSrc[len(inv)] = ch.key
			inv = append(inv, postureEvent(ch))
		}
	}
	for _, ch := range changes {
		it := ch.after
		if it == nil {
			it = ch.before
		}
		if it.kind != itemVersion || (ch.before == nil || ch.after == nil) && messengerChanged[it.subject+sep+it.user+sep+it.profile] {
			continue
		}
		invSrc[len(inv)] = ch.key
		inv = append(inv, versionEvent(ch))
	}
	inv, invSrc = pairUserMoves(inv, invSrc)
	out := make([]Event, 0, len(inv)+len(fnd))
	used := make([]bool, len(inv))
	folded := make([]bool, len(fnd))
	// Transitions that move compliance fold first, so that they set the
	// event's rule, severity and direction; neutral ones (an "absent"
	// pass finding giving way to the user's own) are then absorbed into an
	// event about the same subject.
	for pass := range 2 {
		for i, f := range fnd {
			if folded[i] || (pass == 0) == (f.Direction == "") {
				continue
			}
			j := foldTarget(inv, used, f, normRule(f.Rule), pass == 1)
			if j < 0 {
				continue
			}
			folded[i] = true
			e := &inv[j]
			e.Message += fmt.Sprintf("; rule %s: %s → %s", f.Rule, orNone(string(f.StatusBefore)), orNone(string(f.StatusAfter)))
			if used[j] {
				continue // absorbed
			}
			used[j] = true
			e.Rule, e.StatusBefore, e.StatusAfter = f.Rule, f.StatusBefore, f.StatusAfter
			e.Severity, e.Direction = f.Severity, f.Direction
		}
	}
	var leftover []int
	for i := range fnd {
		if !folded[i] {
			leftover = append(leftover, i)
		}
	}
	for i := range inv {
		inv[i].ID = eventID(m.device, m.scanID, string(inv[i].Kind), invSrc[i])
		out = append(out, inv[i])
	}
	for _, i := range leftover {
		fnd[i].ID = eventID(m.device, m.scanID, string(fnd[i].Kind), fndSrc[i])
		out = append(out, fnd[i])
	}
	for i := range out {
		out[i].SchemaVersion = EventSchemaVersion
		out[i].Device, out[i].Hostname, out[i].ScanID, out[i].Time = m.device, m.hostname, m.scanID, m.at
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func findingEvent(ch change) Event {
	it := ch.after
	kind := KindFindingChanged
	switch {
	case ch.before == nil:
		kind = KindFindingAppeared
	case ch.after == nil:
		kind, it = KindFindingDisappeared, ch.before
	}
	e := Event{Kind: kind, Rule: it.rule, Subject: it.subject, User: it.user, Severity: it.sev,
		Direction: direction(ch.before, ch.after)}
	if ch.before != nil {
		e.StatusBefore, e.Before = policy.Status(ch.before.value), ch.before.value
	}
	if ch.after != nil {
		e.StatusAfter, e.After = policy.Status(ch.after.value), ch.after.value
	}
	if !e.Severity.Valid() {
		e.Severity = policy.SeverityInfo
	}
	e.Message = fmt.Sprintf("rule %s%s: %s → %s", it.rule, scope(it.subject, it.user), orNone(e.Before), orNone(e.After))
	return e
}

// scope renders " (subject x, user y)" for messages.
func scope(subject, user string) string {
	var parts []string
	if subject != "" {
		parts = append(parts, "subject "+subject)
	}
	if user != "" {
		parts = append(parts, "user "+user)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func messengerEvent(ch change) Event {
	it := ch.after
	e := Event{Kind: KindMessengerChanged, Attribute: "variant", Severity: policy.SeverityLow}
	switch {
	case ch.before == nil:
		e.Kind, e.Attribute = KindMessengerAppeared, ""
	case ch.after == nil:
		e.Kind, e.Attribute, it = KindMessengerGone, "", ch.before
	}
	e.Subject, e.User = it.subject, it.user
	if ch.before != nil {
		e.Before = ch.before.value
	}
	if ch.after != nil {
		e.After = ch.after.value
	}
	if e.Kind != KindMessengerChanged {
		e.Variant = it.value
	}
	where := "system-wide"
	if it.user != "" {
		where = "for user " + it.user
	}
	if it.profile != "" {
		where += " (" + it.profile + " profile)"
	}
	name := it.name
	if name == "" {
		name = it.subject
	}
	switch e.Kind {
	case KindMessengerAppeared:
		e.Message = fmt.Sprintf("messenger %s (%s) appeared %s", name, e.After, where)
	case KindMessengerGone:
		e.Message = fmt.Sprintf("messenger %s (%s) disappeared %s", name, e.Before, where)
	default:
		e.Message = fmt.Sprintf("messenger %s %s: variant %s → %s", name, where, e.Before, e.After)
	}
	return e
}

func postureEvent(ch change) Event {
	it := ch.after
	if it == nil {
		it = ch.before
	}
	e := Event{Kind: KindPostureChanged, Rule: "", Subject: it.subject, User: it.user,
		Attribute: it.rule + "." + it.attr, Severity: policy.SeverityLow}
	if ch.before != nil {
		e.Before = ch.before.value
	}
	if ch.after != nil {
		e.After = ch.after.value
	}
	e.Message = fmt.Sprintf("%s%s: %s → %s", e.Attribute, scope(it.subject, it.user), orNone(e.Before), orNone(e.After))
	return e
}

func versionEvent(ch change) Event {
	it := ch.after
	if it == nil {
		it = ch.before
	}
	e := Event{Kind: KindVersionChanged, Subject: it.subject, User: it.user, Attribute: "version", Severity: policy.SeverityLow}
	if ch.before != nil {
		e.Before = ch.before.value
	}
	if ch.after != nil {
		e.After = ch.after.value
	}
	name := it.name
	if name == "" {
		name = it.subject
	}
	e.Message = fmt.Sprintf("messenger %s%s version %s → %s", name, scope("", it.user), orNone(e.Before), orNone(e.After))
	return e
}

// pairUserMoves turns "messenger gone for user a" plus "same messenger
// appeared for user b" in one scan into a single messenger_changed event
// with attribute "user".
func pairUserMoves(inv []Event, src map[int]string) ([]Event, map[int]string) {
	type pair struct{ gone, appeared []int }
	bySubject := map[string]*pair{}
	for i, e := range inv {
		if e.Kind != KindMessengerAppeared && e.Kind != KindMessengerGone {
			continue
		}
		p := bySubject[e.Subject]
		if p == nil {
			p = &pair{}
			bySubject[e.Subject] = p
		}
		if e.Kind == KindMessengerGone {
			p.gone = append(p.gone, i)
		} else {
			p.appeared = append(p.appeared, i)
		}
	}
	drop := map[int]bool{}
	for _, p := range bySubject {
		if len(p.gone) != 1 || len(p.appeared) != 1 {
			continue
		}
		g, a := inv[p.gone[0]], &inv[p.appeared[0]]
		if g.User == a.User {
			continue
		}
		a.Kind, a.Attribute = KindMessengerChanged, "user"
		if a.Variant == "" {
			a.Variant = a.After
		}
		a.Message = fmt.Sprintf("messenger %s (%s) moved from %s to %s", a.Subject, a.After, userOrSystem(g.User), userOrSystem(a.User))
		a.Before, a.After = g.User, a.User
		drop[p.gone[0]] = true
	}
	if len(drop) == 0 {
		return inv, src
	}
	out := make([]Event, 0, len(inv)-len(drop))
	outSrc := map[int]string{}
	for i, e := range inv {
		if drop[i] {
			continue
		}
		outSrc[len(out)] = src[i]
		out = append(out, e)
	}
	return out, outSrc
}

func userOrSystem(u string) string {
	if u == "" {
		return "system-wide"
	}
	return "user " + u
}

// foldTarget finds the inventory event a finding transition belongs to
// (with absorb, also one that already carries another finding):
// a messenger event about the finding's subject, or a posture event whose
// area the rule is named after (rule ids like "screen-lock.idle" or
// "disk_encryption" — a name heuristic; without a match the finding stays
// an event of its own). Version events never absorb findings.
func foldTarget(inv []Event, used []bool, f Event, rule string, absorb bool) int {
	for j, e := range inv {
		if used[j] && !absorb {
			continue
		}
		// A system-wide item (a .deb, a volume) concerns every user.
		userOK := f.User == "" || e.User == "" || f.User == e.User
		switch e.Kind {
		case KindMessengerAppeared, KindMessengerGone, KindMessengerChanged:
			if userOK && f.Subject != "" && f.Subject == e.Subject {
				return j
			}
		case KindPostureChanged:
			area, _, _ := strings.Cut(e.Attribute, ".")
			subjOK := e.Subject == "" || f.Subject == "" || f.Subject == e.Subject || f.Subject == "device"
			if userOK && subjOK && ruleConcerns(rule, area) {
				return j
			}
		}
	}
	return -1
}

// normRule lower-cases a rule id and drops separators, so that
// "screen-lock", "screen_lock.idle" and "ScreenLock" compare alike.
func normRule(rule string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '-', '_', '.', ' ':
			return -1
		}
		return r
	}, strings.ToLower(rule))
}

// ruleConcerns reports whether a normalised rule id names a posture area.
func ruleConcerns(rule, area string) bool {
	switch area {
	case areaEncryption:
		return strings.Contains(rule, "encrypt")
	case areaRemoteWipe:
		return strings.Contains(rule, "wipe")
	case areaScreenLock:
		return strings.Contains(rule, "screenlock")
	}
	return false
}
