package policy

import (
	"fmt"
	"regexp"
	"sort"
	"sync"
)

// Severity defaults where a policy leaves them out. They follow how an IT
// admin ranks the cases: a denied app present is high, an unverifiable
// condition medium, an allowed app is informational.
func defaultSeverity(dc Decision) Severity {
	switch dc {
	case DecisionDeny:
		return SeverityHigh
	case DecisionConditional:
		return SeverityMedium
	}
	return SeverityInfo
}

// defaultCondition is the condition of the built-in default rule, used when
// a policy has no "default:" section.
func defaultCondition() Text {
	return Text{
		EN: "Not yet assessed by IT. Use it for work only after IT has approved it.",
		DE: "Von der IT noch nicht bewertet. Dienstlich erst nach Freigabe durch die IT nutzen.",
	}
}

// defaultAggregatorRule is the aggregators rule of a policy without an
// "aggregators:" section.
func defaultAggregatorRule() MessengerRule {
	r := MessengerRule{Decision: DecisionConditional, Condition: Text{
		EN: "Use it only with services IT has approved, and only after IT has assessed the aggregator itself.",
		DE: "Nur mit Diensten nutzen, die die IT freigegeben hat, und erst nachdem die IT das Programm selbst bewertet hat.",
	}}
	r.Severity = SeverityMedium
	r.Rationale = Text{
		EN: "It wraps other messengers in one window, so a denied messenger can run inside it unseen by the checks for installed apps.",
		DE: "Es bündelt andere Messenger in einem Fenster; ein verbotener Messenger kann darin laufen, ohne als installierte App aufzufallen.",
	}
	return r
}

// unlistedAppRe is the shape of an unlisted app's id: a desktop file id
// (freedesktop.org Desktop Entry Specification, "Desktop File ID": letters,
// digits, "_", "-", "." and, for snaps, "+") or a bundle identifier
// (letters, digits, "-" and ".").
var unlistedAppRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,254}$`) })

// validatePolicy checks the decoded policy against the merged catalog and
// fills defaults. Errors are recorded on d.
func validatePolicy(d *decoder, p *Policy) {
	switch p.Version {
	case 0:
		p.Version = SchemaVersion
	case SchemaVersion:
	default:
		d.add(d.at("version"), "version", fmt.Sprintf("unsupported version %d (this agent reads version %d)", p.Version, SchemaVersion))
	}
	if p.Name == "" {
		d.add(d.at("name"), "name", "name is required")
	}
	if _, given := d.pos["default"]; !given {
		p.Default = MessengerRule{Decision: DecisionConditional, RuleCommon: RuleCommon{Severity: SeverityLow}, Condition: defaultCondition()}
	} else {
		validateRule(d, &p.Default, "default")
	}
	for _, id := range keysInFileOrder(d, "messengers", p.Messengers) {
		path := "messengers." + id
		if p.catalog.Messenger(id) == nil {
			msg := fmt.Sprintf("unknown messenger id %q", truncate(id, 40))
			if s := suggest(id, p.catalog.IDs()); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			if id == UnlistedID {
				msg = fmt.Sprintf("%q is not a catalog id; decide unlisted apps under unlisted.default and unlisted.apps", id)
				d.add(d.atKey(path), path, msg)
				continue
			}
			d.add(d.atKey(path), path, msg+" (define new messengers under catalog.messengers)")
			continue
		}
		r := p.Messengers[id]
		validateRule(d, &r, path)
		p.Messengers[id] = r
	}
	if _, given := d.pos["aggregators"]; !given {
		p.Aggregators = defaultAggregatorRule()
	} else {
		validateRule(d, &p.Aggregators, "aggregators")
	}
	validateUnlisted(d, p)
	fillSeverity(&p.Contacts.DeniedSeverity, SeverityHigh)
	fillSeverity(&p.Contacts.ConditionalSeverity, SeverityLow)
	validateSeparation(d, p)
	validatePosture(d, &p.Posture)
	validateCompliance(d, p)
}

// validateRule checks one messenger rule and fills its severity.
func validateRule(d *decoder, r *MessengerRule, path string) {
	if r.Decision == "" {
		d.add(d.at(path), path+".decision", "decision is required (allow, deny or conditional)")
		return
	}
	if r.Decision == DecisionConditional && r.Condition.EN == "" {
		d.add(d.at(path), path+".condition", "a conditional decision needs a condition: the text shown to the user")
	}
	if r.Decision != DecisionConditional && !r.Condition.IsZero() {
		d.add(d.at(path+".condition"), path+".condition", fmt.Sprintf("a condition only makes sense with decision conditional (this rule says %s)", r.Decision))
	}
	if r.Contacts == DecisionConditional {
		d.add(d.at(path+".contacts"), path+".contacts", "contacts must be allow or deny")
	}
	fillSeverity(&r.Severity, defaultSeverity(r.Decision))
}

// validateUnlisted checks the unlisted section and fills its defaults. An
// app id that a catalog entry claims is an error: that app is never
// unlisted, so the rule could never apply (decide it under messengers).
func validateUnlisted(d *decoder, p *Policy) {
	if _, given := d.pos["unlisted.default"]; !given {
		p.Unlisted.Default = MessengerRule{Decision: DecisionConditional, RuleCommon: RuleCommon{Severity: SeverityLow}, Condition: defaultCondition()}
	} else {
		validateRule(d, &p.Unlisted.Default, "unlisted.default")
	}
	if p.Unlisted.Default.Decision == DecisionAllow {
		d.add(d.at("unlisted.default.decision"), "unlisted.default.decision",
			"allow would pass every app that calls itself a messenger without anyone assessing it; allow named apps under unlisted.apps")
	}
	claimed := map[string]string{}
	for i := range p.catalog.Messengers {
		e := &p.catalog.Messengers[i]
		for _, ids := range [][]string{e.Linux.Desktop, e.Linux.Flatpak, e.Darwin.BundleIDs} {
			for _, id := range ids {
				if _, ok := claimed[id]; !ok {
					claimed[id] = e.ID
				}
			}
		}
	}
	for _, app := range keysInFileOrder(d, "unlisted.apps", p.Unlisted.Apps) {
		path := "unlisted.apps." + app
		if !unlistedAppRe().MatchString(app) {
			d.add(d.atKey(path), path, fmt.Sprintf("%q is not a desktop file id or bundle id (letters, digits, '.', '_', '-', '+')", truncate(app, 40)))
			continue
		}
		if id, ok := claimed[app]; ok {
			d.add(d.atKey(path), path, fmt.Sprintf("%q belongs to the catalog messenger %q, so it is never unlisted; decide it under messengers.%s", app, id, id))
			continue
		}
		r := p.Unlisted.Apps[app]
		validateRule(d, &r, path)
		p.Unlisted.Apps[app] = r
	}
}

func validateSeparation(d *decoder, p *Policy) {
	for _, fam := range keysInFileOrder(d, "separation.families", p.Separation.Families) {
		path := "separation.families." + fam
		var private, business bool
		for _, e := range p.catalog.Family(fam) {
			private = private || e.Variant == VariantPrivate
			business = business || e.Variant == VariantBusiness
		}
		switch {
		case !private && !business:
			d.add(d.atKey(path), path, fmt.Sprintf("unknown family %q; families are catalog ids or their family: field", truncate(fam, 40)))
			continue
		case !private || !business:
			d.add(d.atKey(path), path, fmt.Sprintf("family %q has no private and business variant in the catalog, so the rule could never apply", fam))
			continue
		}
		r := p.Separation.Families[fam]
		fillSeverity(&r.Severity, SeverityHigh)
		p.Separation.Families[fam] = r
	}
	fillSeverity(&p.Separation.Profiles.Severity, SeverityMedium)
	fillSeverity(&p.Separation.BusinessOnly.Severity, SeverityHigh)
}

func validatePosture(d *decoder, pr *PostureRules) {
	fillSeverity(&pr.ScreenLock.Severity, SeverityHigh)
	fillSeverity(&pr.RemoteWipe.Severity, SeverityHigh)
	fillSeverity(&pr.DiskEncryption.Severity, SeverityHigh)
	for _, lim := range []struct {
		path string
		v    *int
	}{
		{"posture.screen_lock.max_idle_seconds", pr.ScreenLock.MaxIdleSeconds},
		{"posture.screen_lock.max_grace_seconds", pr.ScreenLock.MaxGraceSeconds},
	} {
		if lim.v != nil && *lim.v < 0 {
			d.add(d.at(lim.path), lim.path, fmt.Sprintf("must not be negative (got %d)", *lim.v))
		}
	}
	if pr.ScreenLock.MaxIdleSeconds != nil && *pr.ScreenLock.MaxIdleSeconds == 0 {
		d.add(d.at("posture.screen_lock.max_idle_seconds"), "posture.screen_lock.max_idle_seconds",
			"0 would demand locking before any idle time; leave the key out to not check the idle time")
	}
	for i, m := range pr.DiskEncryption.Mounts {
		if m == "" {
			p := fmt.Sprintf("posture.disk_encryption.mounts[%d]", i)
			d.add(d.at(p), p, "mount is empty")
		}
	}
}

func fillSeverity(s *Severity, def Severity) {
	if *s == "" {
		*s = def
	}
}

// keysInFileOrder returns the keys of m sorted by where they appear in the
// file, so that errors come out in reading order.
func keysInFileOrder[V any](d *decoder, prefix string, m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		pi, pj := d.atKey(prefix+"."+keys[i]), d.atKey(prefix+"."+keys[j])
		if pi.line != pj.line {
			return pi.line < pj.line
		}
		if pi.col != pj.col {
			return pi.col < pj.col
		}
		return keys[i] < keys[j]
	})
	return keys
}
