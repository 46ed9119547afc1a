package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
)

var attestationIDRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`) })

// validateCompliance checks attestations, exemptions, grace periods and
// platform texts, and fills defaults. It runs after the catalog is merged
// and the other rules are validated, because exemptions name their rules.
func validateCompliance(d *decoder, p *Policy) {
	if p.MaxExemption.Std() > maxMaxExemption {
		d.add(d.at("max_exemption"), "max_exemption", fmt.Sprintf("must be at most %s", Duration(maxMaxExemption)))
	}
	if _, given := d.pos["max_exemption"]; given && p.MaxExemption == 0 {
		d.add(d.at("max_exemption"), "max_exemption", "must be longer than 0d (every exemption needs room to exist)")
	}
	validateAttestations(d, p)
	validateConfirmedBy(d, p)
	validateExemptions(d, p)
	for _, g := range []struct {
		path string
		v    Duration
	}{
		{"default.grace", p.Default.Grace},
		{"contacts.grace", p.Contacts.Grace},
		{"separation.profiles.grace", p.Separation.Profiles.Grace},
		{"separation.business_only.grace", p.Separation.BusinessOnly.Grace},
		{"posture.screen_lock.grace", p.Posture.ScreenLock.Grace},
		{"posture.remote_wipe.grace", p.Posture.RemoteWipe.Grace},
		{"posture.disk_encryption.grace", p.Posture.DiskEncryption.Grace},
	} {
		checkGrace(d, g.path, g.v)
	}
	for id, r := range p.Messengers {
		checkGrace(d, "messengers."+id+".grace", r.Grace)
	}
	for fam, r := range p.Separation.Families {
		checkGrace(d, "separation.families."+fam+".grace", r.Grace)
	}
	for path, by := range map[string]PlatformTexts{
		"contacts":                p.Contacts.RemediationByPlatform,
		"posture.screen_lock":     p.Posture.ScreenLock.RemediationByPlatform,
		"posture.remote_wipe":     p.Posture.RemoteWipe.RemediationByPlatform,
		"posture.disk_encryption": p.Posture.DiskEncryption.RemediationByPlatform,
	} {
		for _, plat := range keysInFileOrder(d, path+".remediation_by_platform", by) {
			if !slices.Contains(platforms, plat) {
				fp := path + ".remediation_by_platform." + plat
				d.add(d.atKey(fp), fp, fmt.Sprintf("unknown platform %q (want %s)", truncate(plat, 20), orList(platforms)))
			}
		}
	}
}

// validateConfirmedBy checks that a messenger's confirmed_by names
// attestations of this policy, and only for a conditional decision (an
// allowed or denied messenger has no condition to confirm).
func validateConfirmedBy(d *decoder, p *Policy) {
	for id, r := range p.Messengers {
		path := "messengers." + id + ".confirmed_by"
		if len(r.ConfirmedBy) > 0 && r.Decision != DecisionConditional {
			d.add(d.at(path), path, fmt.Sprintf("only a conditional decision has a condition to confirm (decision is %s)", r.Decision))
			continue
		}
		for j, aid := range r.ConfirmedBy {
			if p.Attestation(aid) == nil {
				fp := fmt.Sprintf("%s[%d]", path, j)
				d.add(d.at(fp), fp, fmt.Sprintf("unknown attestation %q (the attestations section defines the ids)", truncate(aid, 40)))
			}
		}
	}
}

func checkGrace(d *decoder, path string, g Duration) {
	if g.Std() > maxGrace {
		d.add(d.at(path), path, fmt.Sprintf("grace %s is longer than %s; a grace period is a deadline, not an exemption", g, Duration(maxGrace)))
	}
}

func validateAttestations(d *decoder, p *Policy) {
	first := map[string]int{}
	for i := range p.Attestations {
		a := &p.Attestations[i]
		path := fmt.Sprintf("attestations[%d]", i)
		switch {
		case a.ID == "":
			d.add(d.at(path), path+".id", "id is required")
		case !attestationIDRe().MatchString(a.ID):
			d.add(d.at(path+".id"), path+".id", fmt.Sprintf("id %q must be lower-case letters, digits, '.', '-' or '_' (at most 64)", truncate(a.ID, 40)))
		default:
			if line, dup := first[a.ID]; dup {
				d.add(d.at(path+".id"), path+".id", fmt.Sprintf("duplicate attestation id %q (first defined on line %d)", a.ID, line))
			} else {
				first[a.ID] = d.at(path + ".id").line
			}
		}
		requireBoth(d, path+".question", a.Question, "the question")
		requireBoth(d, path+".role", a.Role, "the role that may confirm it")
		switch {
		case a.Validity == 0:
			d.add(d.at(path), path+".validity", "validity is required: how long a confirmation holds, such as 180d")
		case a.Validity.Std() > maxValidity:
			d.add(d.at(path+".validity"), path+".validity", fmt.Sprintf("validity %s is longer than %s; organisational measures must be confirmed again", a.Validity, Duration(maxValidity)))
		}
		fillSeverity(&a.Severity, SeverityMedium)
		checkGrace(d, path+".grace", a.Grace)
		for j, id := range a.AppliesWhen.Messengers {
			fp := fmt.Sprintf("%s.applies_when.messengers[%d]", path, j)
			if p.catalog.Messenger(id) == nil {
				msg := fmt.Sprintf("unknown messenger id %q", truncate(id, 40))
				if s := suggest(id, p.catalog.IDs()); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
				d.add(d.at(fp), fp, msg)
			}
		}
		if k := a.AppliesWhen.DeviceKind; k != "" && k != DeviceComputer && k != DevicePhone {
			fp := path + ".applies_when.device_kind"
			d.add(d.at(fp), fp, fmt.Sprintf("unknown device kind %q (want computer or phone)", truncate(k, 20)))
		}
	}
}

// requireBoth demands a text in English and German: an attestation is
// answered by a person who may read either, and a half-translated question
// is one they may misread.
func requireBoth(d *decoder, path string, t Text, what string) {
	switch {
	case t.IsZero():
		d.add(d.at(path), path, what+" is required, in English (en:) and German (de:)")
	case t.DE == "":
		d.add(d.at(path), path, "the German translation (de:) is missing; "+what+" must be given in both languages")
	}
}

func validateExemptions(d *decoder, p *Policy) {
	max := p.EffectiveMaxExemption()
	first := map[string]int{}
	for i := range p.Exemptions {
		x := &p.Exemptions[i]
		path := fmt.Sprintf("exemptions[%d]", i)
		x.pos, x.field = d.at(path), path
		switch {
		case x.Rule == "":
			d.add(d.at(path), path+".rule", "rule is required")
		case !p.KnownRule(x.Rule):
			d.add(d.at(path+".rule"), path+".rule", p.UnknownRuleError(x.Rule).Error())
		}
		if x.Reason.EN == "" {
			d.add(d.at(path), path+".reason", "reason is required: why the rule is waived")
		}
		if strings.TrimSpace(x.Approver) == "" {
			d.add(d.at(path), path+".approver", "approver is required: who approved the exemption")
		}
		if x.Approved.IsZero() {
			d.add(d.at(path), path+".approved", "approved is required: the day the exemption was approved (YYYY-MM-DD)")
		}
		switch {
		case x.Expires.IsZero():
			d.add(d.at(path), path+".expires", fmt.Sprintf("expires is required: every exemption ends (at most %s after approval)", max))
		case x.Approved.IsZero():
		case !x.Expires.After(x.Approved.Time):
			d.add(d.at(path+".expires"), path+".expires", "expires must be after approved")
		case x.Expires.Sub(x.Approved.Time) > max.Std():
			d.add(d.at(path+".expires"), path+".expires", fmt.Sprintf("expires %d days after approval; max_exemption is %s",
				int(x.Expires.Sub(x.Approved.Time)/Day), max))
		}
		key := x.Rule + "|" + x.Subject + "|" + x.User
		if line, dup := first[key]; dup && x.Rule != "" {
			d.add(d.at(path), path, fmt.Sprintf("duplicate exemption for rule %q, subject %q, user %q (first defined on line %d)", x.Rule, x.Subject, x.User, line))
		} else {
			first[key] = d.at(path).line
		}
	}
}
