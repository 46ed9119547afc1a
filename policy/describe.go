package policy

import "strings"

// RuleInfo is what the policy says about one rule: severity, texts and
// enforcement, for `agent explain`.
type RuleInfo struct {
	Rule string `json:"rule"`
	// Kind is messenger, contacts, separation, business-only, screen-lock,
	// remote-wipe, disk-encryption, attestation or agent.
	Kind     string   `json:"kind"`
	Severity Severity `json:"severity"`
	// Decision and Condition are set for messenger rules; Named is false
	// when the messenger falls under the policy's default rule.
	Decision  Decision `json:"decision,omitempty"`
	Condition Text     `json:"condition,omitzero"`
	Named     bool     `json:"named,omitempty"`
	// Question, Role and Validity are set for attestations.
	Question    Text        `json:"question,omitzero"`
	Role        Text        `json:"role,omitzero"`
	Validity    Duration    `json:"validity,omitempty"`
	AppliesWhen AppliesWhen `json:"applies_when,omitzero"`
	Rationale   Text        `json:"rationale,omitzero"`
	// Remediation is the text for the given platform where the rule has
	// one, else the generic text.
	Remediation Text        `json:"remediation,omitzero"`
	Enforcement Enforcement `json:"enforcement"`
	// Exemptions are the policy's exemptions for this rule.
	Exemptions []Exemption `json:"exemptions,omitempty"`
}

// Describe returns what the policy says about rule on platform (a
// Device.Platform value; "" for the generic texts). ok is false for a rule
// the policy does not produce.
func (p *Policy) Describe(rule, platform string) (RuleInfo, bool) {
	if !p.KnownRule(rule) {
		return RuleInfo{}, false
	}
	info := RuleInfo{Rule: rule}
	probe := Finding{Rule: rule, Subject: SubjectDevice}
	switch {
	case rule == RuleScreenLock:
		r := p.Posture.ScreenLock
		info.Kind, info.Severity, info.Rationale = "screen-lock", r.Severity, r.Rationale
		info.Remediation = remediationFor(r.Remediation, r.RemediationByPlatform, platform)
	case rule == RuleRemoteWipe:
		r := p.Posture.RemoteWipe
		info.Kind, info.Severity, info.Rationale = "remote-wipe", r.Severity, r.Rationale
		info.Remediation = remediationFor(r.Remediation, r.RemediationByPlatform, platform)
	case rule == RuleDiskEncryption:
		r := p.Posture.DiskEncryption
		info.Kind, info.Severity, info.Rationale = "disk-encryption", r.Severity, r.Rationale
		info.Remediation = remediationFor(r.Remediation, r.RemediationByPlatform, platform)
	case rule == RuleBusinessOnly:
		r := p.Separation.BusinessOnly
		info.Kind, info.Severity, info.Rationale, info.Remediation = "business-only", r.Severity, r.Rationale, r.Remediation
	case rule == RuleScanIncomplete:
		info.Kind, info.Severity = "agent", SeverityLow
	case strings.HasPrefix(rule, RuleMessengerPrefix):
		r, named := p.RuleFor(strings.TrimPrefix(rule, RuleMessengerPrefix))
		info.Kind, info.Severity, info.Decision, info.Named = "messenger", r.Severity, r.Decision, named
		info.Condition, info.Rationale, info.Remediation = r.Condition, r.Rationale, r.Remediation
	case strings.HasPrefix(rule, RuleContactsPrefix):
		r, _ := p.RuleFor(strings.TrimPrefix(rule, RuleContactsPrefix))
		info.Kind, info.Severity = "contacts", p.Contacts.ConditionalSeverity
		if r.Decision == DecisionDeny {
			info.Severity = p.Contacts.DeniedSeverity
		}
		info.Rationale = p.Contacts.Rationale
		info.Remediation = remediationFor(p.Contacts.Remediation, p.Contacts.RemediationByPlatform, platform)
	case strings.HasPrefix(rule, RuleSeparationPrefix):
		info.Kind = "separation"
		if r, ok := p.Separation.Families[strings.TrimPrefix(rule, RuleSeparationPrefix)]; ok {
			info.Severity, info.Rationale, info.Remediation = r.Severity, r.Rationale, r.Remediation
		} else {
			r := p.Separation.Profiles
			info.Severity, info.Rationale, info.Remediation = r.Severity, r.Rationale, r.Remediation
			probe.Subject = strings.TrimPrefix(rule, RuleSeparationPrefix)
		}
	case strings.HasPrefix(rule, RuleAttestationPrefix):
		a := p.Attestation(rule)
		info.Kind, info.Severity, info.Question, info.Role = "attestation", a.Severity, a.Question, a.Role
		info.Validity, info.AppliesWhen, info.Rationale, info.Remediation = a.Validity, a.AppliesWhen, a.Rationale, a.Remediation
	}
	info.Enforcement = p.EnforcementFor(&probe)
	for _, x := range p.Exemptions {
		if x.Rule == rule {
			info.Exemptions = append(info.Exemptions, x)
		}
	}
	return info, true
}
