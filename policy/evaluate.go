package policy

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Rule ids. Messenger rules append the catalog id ("messenger.whatsapp",
// "contacts.telegram"), separation rules the family ("separation.whatsapp").
// They are stable: the store and drift key findings by them.
const (
	RuleMessengerPrefix  = "messenger."
	RuleContactsPrefix   = "contacts."
	RuleSeparationPrefix = "separation."
	RuleBusinessOnly     = "separation.business-only"
	RuleScreenLock       = "screen-lock"
	RuleRemoteWipe       = "remote-wipe"
	RuleDiskEncryption   = "disk-encryption"
	RulePolicyInvalid    = "policy.invalid"
	// RuleCouldNotCheck fails a scan whose core sources (accounts, package
	// databases) could not be read: without them no messenger rule can
	// pass, so the device is not shown as compliant.
	RuleCouldNotCheck = "scan.could-not-check"
)

// SubjectDevice is the subject of findings about the whole device.
const SubjectDevice = "device"

// NotInspectedReason is the message of posture findings on platforms whose
// posture probes have not landed (Posture.Inspected false).
const NotInspectedReason = "not inspected on this platform yet"

// EvalOptions tune an evaluation.
type EvalOptions struct {
	// Now stamps EvaluatedAt on every finding; the caller passes the scan
	// time so that one scan's findings share one timestamp.
	Now time.Time
	// Lang selects the language of messages and remediation ("en", "de",
	// or a locale such as "de_DE.UTF-8"); English is the fallback.
	Lang string
}

// Evaluate applies p to inv and returns the findings, sorted by rule,
// subject and user (deterministic for equal input). It is pure: the same
// policy, inventory and options always give the same findings.
//
// What it produces (see the package README for the full table):
//   - messenger.<id>: one finding per messenger and user where present
//     (deny: fail, allow: pass, conditional: unknown with the condition,
//     since the agent cannot see chats or contacts); for every denied
//     messenger absent from the device a pass with user "", so drift sees
//     fail turn into pass.
//   - contacts.<id> (phones): a messenger whose rule forbids the contacts
//     permission and holds it fails; lacking it passes; unreadable is unknown.
//   - separation.<family> (families named in the policy): subject "device",
//     fail when a private and a business variant share the device. On
//     phones also per app (subject = messenger id): a private app in the
//     work profile or a business app in the personal profile fails.
//   - separation.business-only: subject "device", when the policy marks the
//     device business-only.
//   - screen-lock per user, remote-wipe per device, disk-encryption per
//     volume (subject = mount). Posture never passes unless inspected:
//     Inspected false gives unknown "not inspected on this platform yet".
func Evaluate(p *Policy, inv *Inventory, opts EvalOptions) []Finding {
	e := newEvaluation(p, inv, opts)
	e.messengers()
	e.contacts()
	e.separation()
	e.businessOnly()
	e.screenLock()
	e.remoteWipe()
	e.diskEncryption()
	e.couldNotCheck()
	return sortFindings(e.out)
}

// sortFindings orders findings by rule, subject and user. It sorts indexes
// and copies once: moving the large Finding structs in every swap cost more
// than the rest of an evaluation.
func sortFindings(fs []Finding) []Finding {
	idx := make([]int, len(fs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool {
		a, b := &fs[idx[i]], &fs[idx[j]]
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		if a.Subject != b.Subject {
			return a.Subject < b.Subject
		}
		return a.User < b.User
	})
	out := make([]Finding, len(fs))
	for i, k := range idx {
		out[i] = fs[k]
	}
	return out
}

// group is the evidence for one messenger and one user ("" = system-wide).
// For UnlistedID the group is one app: subject is its desktop file or bundle
// id (the items' Location); for catalog messengers subject is the id.
type group struct {
	id, user string
	subject  string
	entry    *CatalogEntry // nil for an id the catalog does not know
	items    []*Messenger
}

func (g *group) name() string {
	if g.entry != nil {
		return g.entry.Name
	}
	if len(g.items) > 0 && g.items[0].Name != "" {
		return g.items[0].Name
	}
	return g.id
}

// variant is the catalog's variant (the source of truth); the probe's value
// is used only for ids the catalog does not know.
func (g *group) variant() Variant {
	if g.entry != nil {
		return g.entry.Variant
	}
	if len(g.items) > 0 {
		return g.items[0].Variant
	}
	return ""
}

func (g *group) family() string {
	if g.entry != nil {
		return g.entry.FamilyID()
	}
	return g.id
}

type evaluation struct {
	p      *Policy
	inv    *Inventory
	lang   string
	now    time.Time
	cat    *Catalog
	groups []*group // sorted by id, then user
	byID   map[string][]*group
	out    []Finding
}

func newEvaluation(p *Policy, inv *Inventory, opts EvalOptions) *evaluation {
	e := &evaluation{
		p:    p,
		inv:  inv,
		lang: NormalizeLang(opts.Lang),
		now:  opts.Now,
		cat:  p.Catalog(),
		byID: map[string][]*group{},
	}
	entries := make(map[string]*CatalogEntry, len(e.cat.Messengers))
	for i := range e.cat.Messengers {
		entries[e.cat.Messengers[i].ID] = &e.cat.Messengers[i]
	}
	type key struct{ id, subject, user string }
	idx := map[key]*group{}
	for i := range inv.Messengers {
		m := &inv.Messengers[i]
		k := key{m.ID, m.ID, m.User}
		if m.ID == UnlistedID {
			k.subject = m.Location
		}
		g := idx[k]
		if g == nil {
			g = &group{id: m.ID, subject: k.subject, user: m.User, entry: entries[m.ID]}
			idx[k] = g
			e.groups = append(e.groups, g)
		}
		g.items = append(g.items, m)
	}
	sort.Slice(e.groups, func(i, j int) bool {
		a, b := e.groups[i], e.groups[j]
		if a.id != b.id {
			return a.id < b.id
		}
		if a.subject != b.subject {
			return a.subject < b.subject
		}
		return a.user < b.user
	})
	for _, g := range e.groups {
		e.byID[g.id] = append(e.byID[g.id], g)
	}
	return e
}

func (e *evaluation) phone() bool { return e.inv.Device.Kind == DevicePhone }

// tr picks the English or German format and applies args.
func (e *evaluation) tr(en, de string, args ...any) string {
	if e.lang == "de" {
		return fmt.Sprintf(de, args...)
	}
	return fmt.Sprintf(en, args...)
}

// text returns t in the evaluation's language, or the fallback pair when t
// is empty.
func (e *evaluation) text(t Text, en, de string, args ...any) string {
	if !t.IsZero() {
		return t.In(e.lang)
	}
	return e.tr(en, de, args...)
}

// withRationale appends the rule's "why" to a failing message.
func (e *evaluation) withRationale(msg string, why Text) string {
	if why.IsZero() {
		return msg
	}
	return msg + " " + why.In(e.lang)
}

func (e *evaluation) add(f Finding) {
	f.EvaluatedAt = e.now
	e.out = append(e.out, f)
}

// evidence turns inventory items into evidence, sorted for determinism.
func evidence(items []*Messenger) []Evidence {
	out := make([]Evidence, 0, len(items))
	for _, m := range items {
		var detail []string
		if m.Version != "" {
			detail = append(detail, "version "+m.Version)
		}
		if m.Profile != "" {
			detail = append(detail, "profile "+m.Profile)
		}
		if m.Services != "" {
			detail = append(detail, "services "+m.Services)
		}
		out = append(out, Evidence{Source: m.Source, Location: m.Location, Detail: strings.Join(detail, "; ")})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Source != out[j].Source {
			return out[i].Source < out[j].Source
		}
		if out[i].Location != out[j].Location {
			return out[i].Location < out[j].Location
		}
		return out[i].Detail < out[j].Detail
	})
	return out
}

// services joins the items' service ids (an aggregator's), sorted and
// without repeats.
func services(items []*Messenger) string {
	seen := map[string]bool{}
	var out []string
	for _, m := range items {
		for _, s := range strings.Split(m.Services, ",") {
			if s = strings.TrimSpace(s); s != "" && !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// sources lists the distinct evidence sources of items ("deb, desktop").
func sources(items []*Messenger) string {
	seen := map[string]bool{}
	var out []string
	for _, m := range items {
		if m.Source != "" && !seen[m.Source] {
			seen[m.Source] = true
			out = append(out, m.Source)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

func (e *evaluation) messengers() {
	for _, g := range e.groups {
		rule, explicit := e.p.RuleFor(g.id)
		if g.id == UnlistedID {
			rule, explicit = e.p.UnlistedRuleFor(g.subject)
		}
		f := Finding{
			Rule:     RuleMessengerPrefix + g.id,
			Subject:  g.subject,
			User:     g.user,
			Severity: rule.Severity,
			Evidence: evidence(g.items),
		}
		name, src := g.name(), sources(g.items)
		if g.id == UnlistedID {
			// The name comes from the app's own file; say what it is.
			name = e.tr("%s (%s, a messenger app the catalog does not know)",
				"%s (%s, eine Messenger-App, die der Katalog nicht kennt)", name, g.subject)
		} else if g.entry != nil && g.entry.Kind == KindAggregator {
			name = e.tr("%s (it wraps other messengers in one window)",
				"%s (bündelt andere Messenger in einem Fenster)", name)
			if svcs := services(g.items); svcs != "" {
				src += e.tr("; services set up in it: %s", "; darin eingerichtete Dienste: %s", svcs)
			}
		}
		switch rule.Decision {
		case DecisionDeny:
			f.Status = StatusFail
			if explicit {
				f.Message = e.tr("%s was found on this device (%s); the policy does not allow it.",
					"%s wurde auf diesem Gerät gefunden (%s); die Richtlinie erlaubt es nicht.", name, src)
			} else {
				f.Message = e.tr("%s was found on this device (%s); the policy allows only the messengers it names.",
					"%s wurde auf diesem Gerät gefunden (%s); die Richtlinie erlaubt nur die Messenger, die sie nennt.", name, src)
			}
			f.Message = e.withRationale(f.Message, rule.Rationale)
			f.Remediation = e.text(rule.Remediation, "Uninstall %s from this device.", "%s von diesem Gerät deinstallieren.", name)
		case DecisionAllow:
			f.Status = StatusPass
			f.Message = e.tr("%s was found (%s); the policy allows it.", "%s wurde gefunden (%s); die Richtlinie erlaubt es.", name, src)
		default: // conditional
			f.Status = StatusUnknown
			cond := sentence(rule.Condition.In(e.lang))
			if explicit {
				f.Message = e.tr("%s was found (%s); the policy allows it only under this condition: %s",
					"%s wurde gefunden (%s); die Richtlinie erlaubt es nur unter dieser Bedingung: %s", name, src, cond)
			} else {
				f.Message = e.tr("%s was found (%s); the policy does not name it: %s",
					"%s wurde gefunden (%s); die Richtlinie nennt es nicht: %s", name, src, cond)
			}
			f.Message += " " + e.tr("The agent cannot check this; a responsible person has to confirm it.",
				"Der Agent kann das nicht prüfen; eine verantwortliche Person muss es bestätigen.")
			f.Remediation = e.text(rule.Remediation,
				"Confirm with IT that the condition is met, or uninstall %s.",
				"Mit der IT klären, ob die Bedingung erfüllt ist, oder %s deinstallieren.", name)
		}
		f.Message += e.webNote(g)
		e.add(f)
	}
	e.absentDenied()
}

// webNote explains browser evidence whose family has a business variant:
// a web client (WhatsApp Web) serves the personal and the Business account
// alike, so the session is reported under the private entry and the
// message says that the variant is not known.
func (e *evaluation) webNote(g *group) string {
	if g.entry == nil || g.variant() == VariantBusiness {
		return ""
	}
	web := false
	for _, m := range g.items {
		web = web || m.Source == SourceBrowser || m.Source == SourceWebApp
	}
	if !web {
		return ""
	}
	for _, other := range e.cat.Family(g.family()) {
		if other.ID != g.id && other.Variant == VariantBusiness {
			return " " + e.tr("A web session cannot tell a personal from a %s account; it is reported as %s.",
				"Eine Web-Sitzung lässt ein privates nicht von einem %s-Konto unterscheiden; sie wird als %s gemeldet.", other.Name, g.name())
		}
	}
	return ""
}

// absentDenied adds a pass for every denied catalog messenger not found at
// all, so that removing one turns its system-wide finding from fail to pass.
func (e *evaluation) absentDenied() {
	incomplete := ""
	if n := len(e.inv.Problems); n > 0 {
		incomplete = " " + e.tr("(The scan reported %d problem(s), so it may be incomplete.)",
			"(Der Scan hat %d Problem(e) gemeldet und ist daher möglicherweise unvollständig.)", n)
	}
	for i := range e.cat.Messengers {
		c := &e.cat.Messengers[i]
		rule, _ := e.p.RuleFor(c.ID)
		if rule.Decision != DecisionDeny || len(e.byID[c.ID]) > 0 {
			continue
		}
		f := Finding{
			Rule:     RuleMessengerPrefix + c.ID,
			Status:   StatusPass,
			Severity: rule.Severity,
			Subject:  c.ID,
			Message:  e.tr("%s was not found on this device.", "%s wurde auf diesem Gerät nicht gefunden.", c.Name) + incomplete,
		}
		e.absenceUnproven(&f)
		e.add(f)
	}
}

// unread names the core sources the probes could not read ("" when all
// were read).
func (e *evaluation) unread() string {
	var parts []string
	for _, p := range e.inv.CoreProblems() {
		what := p.Message
		if p.Path != "" {
			what = p.Path + ": " + what
		}
		parts = append(parts, what)
	}
	return strings.Join(parts, "; ")
}

// absenceUnproven turns a pass that rests on something not being found
// into unknown when a core source could not be read: what was not read
// cannot show that something is absent.
func (e *evaluation) absenceUnproven(f *Finding) {
	u := e.unread()
	if u == "" || f.Status != StatusPass {
		return
	}
	f.Status = StatusUnknown
	f.Message += " " + e.tr("This cannot be relied on: %s.", "Darauf ist kein Verlass: %s.", u)
}

// couldNotCheck adds the failing RuleCouldNotCheck finding when a core
// source could not be read.
func (e *evaluation) couldNotCheck() {
	u := e.unread()
	if u == "" {
		return
	}
	var ev []Evidence
	for _, p := range e.inv.CoreProblems() {
		ev = append(ev, Evidence{Source: p.Probe, Location: p.Path, Detail: p.Message})
	}
	e.add(Finding{
		Evidence: ev,
		Rule:     RuleCouldNotCheck,
		Status:   StatusFail,
		Severity: SeverityHigh,
		Subject:  SubjectDevice,
		Message:  e.tr("Could not check this device: %s.", "Dieses Gerät konnte nicht geprüft werden: %s.", u),
		Remediation: e.tr("Run the agent as root on the device itself (or point --root at a complete root filesystem), and repair or restore the named files.",
			"Den Agenten als root auf dem Gerät selbst ausführen (oder --root auf ein vollständiges Wurzeldateisystem richten) und die genannten Dateien reparieren oder wiederherstellen."),
	})
}

// sentence makes sure a condition ends with a full stop before more text.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}

// contacts evaluates the contacts permission on phones.
func (e *evaluation) contacts() {
	if !e.phone() {
		return
	}
	for _, g := range e.groups {
		rule, _ := e.p.RuleFor(g.id)
		if !rule.ContactsForbidden() {
			continue
		}
		sev := e.p.Contacts.ConditionalSeverity
		if rule.Decision == DecisionDeny {
			sev = e.p.Contacts.DeniedSeverity
		}
		f := Finding{
			Rule:     RuleContactsPrefix + g.id,
			Subject:  g.id,
			User:     g.user,
			Severity: sev,
			Evidence: evidence(g.items),
		}
		name := g.name()
		switch contactsOf(g.items) {
		case Yes:
			f.Status = StatusFail
			f.Message = e.withRationale(e.tr(
				"%s has access to the contacts and can upload the address book.",
				"%s hat Zugriff auf die Kontakte und kann das Adressbuch hochladen.", name), e.p.Contacts.Rationale)
			f.Remediation = e.text(remediationFor(e.p.Contacts.Remediation, e.p.Contacts.RemediationByPlatform, e.inv.Device.Platform),
				"Take the contacts permission away from %s, or uninstall it.",
				"%s die Berechtigung für Kontakte entziehen oder die App deinstallieren.", name)
		case No:
			f.Status = StatusPass
			f.Message = e.tr("%s has no access to the contacts.", "%s hat keinen Zugriff auf die Kontakte.", name)
		default:
			f.Status = StatusUnknown
			f.Message = e.tr("Whether %s can read the contacts could not be determined.",
				"Ob %s die Kontakte lesen kann, ließ sich nicht feststellen.", name)
		}
		e.add(f)
	}
}

// contactsOf folds the items' contacts permission: any Yes wins, then any No.
func contactsOf(items []*Messenger) Tri {
	out := Unknown
	for _, m := range items {
		switch m.Contacts {
		case Yes:
			return Yes
		case No:
			out = No
		}
	}
	return out
}

func (e *evaluation) familyName(fam string) string {
	if c := e.cat.Messenger(fam); c != nil {
		return c.Name
	}
	return fam
}

// separation evaluates the policy's separation families on the device and,
// on phones, the placement of apps in personal and work profiles.
func (e *evaluation) separation() {
	for _, fam := range e.p.SeparationFamilies() {
		rule := e.p.Separation.Families[fam]
		var private, business []*group
		for _, g := range e.groups {
			if g.family() != fam {
				continue
			}
			switch g.variant() {
			case VariantPrivate:
				private = append(private, g)
			case VariantBusiness:
				business = append(business, g)
			}
		}
		f := Finding{Rule: RuleSeparationPrefix + fam, Subject: SubjectDevice, Severity: rule.Severity}
		if len(private) > 0 && len(business) > 0 {
			f.Status = StatusFail
			f.Evidence = evidence(itemsOf(append(append([]*group{}, private...), business...)))
			f.Message = e.withRationale(e.tr("%s (private) and %s (business) are both on this device.",
				"%s (privat) und %s (geschäftlich) sind beide auf diesem Gerät.", names(private), names(business)), rule.Rationale)
			f.Remediation = e.text(rule.Remediation,
				"Keep the business app of %s on a separate device and remove the private one from this device.",
				"Die geschäftliche App von %s auf einem eigenen Gerät betreiben und die private von diesem Gerät entfernen.", e.familyName(fam))
		} else {
			f.Status = StatusPass
			f.Message = e.tr("No private and business apps of %s side by side on this device.",
				"Keine privaten und geschäftlichen Apps von %s nebeneinander auf diesem Gerät.", e.familyName(fam))
			e.absenceUnproven(&f)
		}
		e.add(f)
	}
	if e.phone() && e.p.Separation.Profiles.Enabled {
		e.profiles()
	}
}

// profiles flags private apps in the work profile and business apps in the
// personal profile. Only violations are reported: the set of
// correctly placed apps is already visible in messenger.<id>.
func (e *evaluation) profiles() {
	rule := e.p.Separation.Profiles
	for _, g := range e.groups {
		var wrong []*Messenger
		var profile string
		for _, m := range g.items {
			switch {
			case g.variant() == VariantPrivate && m.Profile == "work",
				g.variant() == VariantBusiness && m.Profile == "personal":
				wrong = append(wrong, m)
				profile = m.Profile
			}
		}
		if len(wrong) == 0 {
			continue
		}
		f := Finding{
			Rule:     RuleSeparationPrefix + g.family(),
			Status:   StatusFail,
			Severity: rule.Severity,
			Subject:  g.id,
			User:     g.user,
			Evidence: evidence(wrong),
		}
		if profile == "work" {
			f.Message = e.tr("%s is a private app but is installed in the work profile.",
				"%s ist eine private App, aber im Arbeitsprofil installiert.", g.name())
		} else {
			f.Message = e.tr("%s is a business app but is installed in the personal profile.",
				"%s ist eine geschäftliche App, aber im privaten Profil installiert.", g.name())
		}
		f.Message = e.withRationale(f.Message, rule.Rationale)
		f.Remediation = e.text(rule.Remediation,
			"Install business messengers only in the work profile and private ones only in the personal profile.",
			"Geschäftliche Messenger nur im Arbeitsprofil installieren, private nur im privaten Profil.")
		e.add(f)
	}
}

func itemsOf(gs []*group) []*Messenger {
	var out []*Messenger
	for _, g := range gs {
		out = append(out, g.items...)
	}
	return out
}

// names lists the distinct names of groups in order ("WhatsApp, Instagram").
func names(gs []*group) string {
	seen := map[string]bool{}
	var out []string
	for _, g := range gs {
		if n := g.name(); !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return strings.Join(out, ", ")
}

// businessOnly fails private messengers on a business-only device.
func (e *evaluation) businessOnly() {
	if !e.p.Device.BusinessOnly {
		return
	}
	rule := e.p.Separation.BusinessOnly
	var private []*group
	for _, g := range e.groups {
		if g.variant() == VariantPrivate {
			private = append(private, g)
		}
	}
	f := Finding{Rule: RuleBusinessOnly, Subject: SubjectDevice, Severity: rule.Severity}
	if len(private) == 0 {
		f.Status = StatusPass
		f.Message = e.tr("No private messengers on this business-only device.",
			"Keine privaten Messenger auf diesem rein geschäftlichen Gerät.")
		e.absenceUnproven(&f)
		e.add(f)
		return
	}
	f.Status = StatusFail
	f.Evidence = evidence(itemsOf(private))
	f.Message = e.withRationale(e.tr("This device is for business use only, but private messengers were found: %s.",
		"Dieses Gerät ist nur für die geschäftliche Nutzung bestimmt, aber es wurden private Messenger gefunden: %s.", names(private)), rule.Rationale)
	f.Remediation = e.text(rule.Remediation, "Remove private messengers from this device.", "Private Messenger von diesem Gerät entfernen.")
	e.add(f)
}

// notInspected is the message of posture findings where Inspected is false.
func (e *evaluation) notInspected() string {
	return e.tr(NotInspectedReason, "auf dieser Plattform noch nicht geprüft")
}

// withReason appends a probe's reason to a one-sentence message:
// "Could not determine X: dconf database is truncated." Probes write
// reasons in English; they are shown as they are.
func withReason(msg, reason string) string {
	if reason == "" {
		return msg
	}
	return strings.TrimSuffix(msg, ".") + ": " + sentence(reason)
}

// withReason adds a probe's reason to msg. The probes write their reasons
// in English (they are technical: paths, commands, errors); in German the
// reason follows the German sentence as a marked detail instead of
// continuing it, so the sentence stays German.
func (e *evaluation) withReason(msg, reason string) string {
	if reason == "" || e.lang != "de" {
		return withReason(msg, reason)
	}
	return msg + " Prüfdetail: " + sentence(reason)
}
