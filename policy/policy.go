package policy

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"reflect"
	"sort"

	"go.yaml.in/yaml/v3"
)

// SchemaVersion is the policy file format this package reads.
const SchemaVersion = 1

// Decision is what a policy says about a messenger.
type Decision string

const (
	// DecisionAllow: the messenger may be used; its presence passes.
	DecisionAllow Decision = "allow"
	// DecisionDeny: the messenger must not be on the device; presence fails,
	// absence passes.
	DecisionDeny Decision = "deny"
	// DecisionConditional: allowed only under a condition the agent cannot
	// observe (Telegram: secret chats only). Presence evaluates to unknown
	// with the condition text, never to a silent pass.
	DecisionConditional Decision = "conditional"
)

func (dc *Decision) decodeNode(d *decoder, n *yaml.Node, path string) {
	if v, ok := d.decodeEnum(n, path, "decision", []string{"allow", "deny", "conditional"}); ok {
		*dc = Decision(v)
	}
}

// Policy is a loaded, validated policy. Load fills every default, so a
// Policy never has an empty severity or decision.
type Policy struct {
	// Version is the schema version (SchemaVersion); 0 in the file means 1.
	Version     int    `yaml:"version" json:"version"`
	Name        string `yaml:"name" json:"name"`
	Description Text   `yaml:"description" json:"description"`
	// Default applies to catalog messengers the policy does not name.
	Default MessengerRule `yaml:"default" json:"default"`
	// Messengers holds the rule per catalog id.
	Messengers map[string]MessengerRule `yaml:"messengers" json:"messengers"`
	// Aggregators applies to catalog entries of kind aggregator (Ferdium,
	// Franz, Rambox) the policy does not name under messengers.
	Aggregators MessengerRule `yaml:"aggregators" json:"aggregators"`
	// Unlisted decides apps that declare themselves messengers but that no
	// catalog entry claims (rule messenger.unlisted).
	Unlisted   UnlistedRules   `yaml:"unlisted" json:"unlisted"`
	Contacts   ContactsRule    `yaml:"contacts" json:"contacts"`
	Separation SeparationRules `yaml:"separation" json:"separation"`
	Device     DeviceRules     `yaml:"device" json:"device"`
	Posture    PostureRules    `yaml:"posture" json:"posture"`
	// Additions are messengers and agents the policy adds to the built-in
	// catalog (the file's "catalog:" section). Ids and identifiers must not
	// clash with built-in ones.
	Additions Catalog `yaml:"catalog" json:"catalog"`
	// Attestations are organisational measures a person confirms with
	// `agent attest` (compliance.go).
	Attestations []AttestationRule `yaml:"attestations" json:"attestations,omitempty"`
	// Exemptions waive rules until they expire, reviewed with the policy.
	Exemptions []Exemption `yaml:"exemptions" json:"exemptions,omitempty"`
	// MaxExemption caps how far ahead any exemption (policy or local) may
	// expire; zero means DefaultMaxExemption (one year).
	MaxExemption Duration `yaml:"max_exemption" json:"max_exemption,omitempty"`

	// File is the name Load was given; SHA256 is the hex digest of the raw
	// bytes, so a report can say exactly which policy produced it.
	File   string `yaml:"-" json:"file"`
	SHA256 string `yaml:"-" json:"sha256"`

	catalog *Catalog
}

// RuleNotes are what every rule carries besides its check: why it exists,
// how to fix a failure, and how it is enforced (compliance.go). Embedded in
// each rule type, so the YAML keys (rationale, remediation, grace, stage)
// and the JSON fields stay where they were.
type RuleNotes struct {
	Rationale   Text `yaml:"rationale" json:"rationale,omitempty"`
	Remediation Text `yaml:"remediation" json:"remediation,omitempty"`
	// Grace is how long a newly failing finding is "due" before it counts
	// as a violation; Stage how far it is pushed (compliance.go).
	Grace Duration `yaml:"grace" json:"grace,omitempty"`
	Stage Stage    `yaml:"stage" json:"stage,omitempty"`
}

// RuleCommon is the severity of a rule's finding and its notes: the fields
// every rule but contacts.<id> (which has one severity per decision)
// shares.
type RuleCommon struct {
	Severity  Severity `yaml:"severity" json:"severity"`
	RuleNotes `yaml:",inline"`
}

// MessengerRule is the policy for one messenger (or the default).
type MessengerRule struct {
	Decision   Decision `yaml:"decision" json:"decision"`
	RuleCommon `yaml:",inline"`
	// Condition is shown to the user for a conditional decision (required
	// there).
	Condition Text `yaml:"condition" json:"condition,omitempty"`
	// Contacts overrides whether the app may hold the contacts permission
	// on a phone: "allow" or "deny". Empty means: deny for deny and
	// conditional decisions, allow for allow.
	Contacts Decision `yaml:"contacts" json:"contacts,omitempty"`
	// ConfirmedBy names the attestations (ids of the policy's attestations
	// section) that together confirm a conditional decision's condition,
	// which the agent cannot check: once every one of them that applies
	// to the device is attested, the messenger's finding is attested
	// instead of asking for a confirmation (compliance.go).
	ConfirmedBy []string `yaml:"confirmed_by" json:"confirmed_by,omitempty"`
}

// ContactsForbidden reports whether the contacts permission is a finding
// for a messenger under this rule.
func (r MessengerRule) ContactsForbidden() bool {
	if r.Contacts != "" {
		return r.Contacts == DecisionDeny
	}
	return r.Decision != DecisionAllow
}

// UnlistedRules decide messenger apps the catalog does not know. Apps are
// named by the id the probe reports: the desktop file id on Linux
// ("im.dino.Dino", "pidgin"), the bundle identifier on macOS.
type UnlistedRules struct {
	// Default applies to unlisted apps not named in Apps; without it the
	// decision is conditional ("not yet assessed by IT"), never allow.
	Default MessengerRule `yaml:"default" json:"default"`
	// Apps holds the rule per app id, to allow or deny an app IT assessed.
	Apps map[string]MessengerRule `yaml:"apps" json:"apps,omitempty"`
}

// ContactsRule governs the contacts.<id> rule (phones only: the probe can
// read the Android contacts permission).
type ContactsRule struct {
	// DeniedSeverity applies to a denied messenger holding the permission.
	DeniedSeverity Severity `yaml:"denied_severity" json:"denied_severity"`
	// ConditionalSeverity applies to a conditional one (a warning in
	// effect: Telegram must have contact sync off).
	ConditionalSeverity Severity `yaml:"conditional_severity" json:"conditional_severity"`
	RuleNotes           `yaml:",inline"`
	// RemediationByPlatform replaces Remediation on the named platforms
	// (linux, darwin, windows, android, ios) with exact steps there.
	RemediationByPlatform PlatformTexts `yaml:"remediation_by_platform" json:"remediation_by_platform,omitempty"`
}

// SeparationRules keep business and private messengers apart.
type SeparationRules struct {
	// Families lists the catalog families whose private and business
	// variants must not share a device (rule separation.<family>).
	Families map[string]SeparationRule `yaml:"families" json:"families,omitempty"`
	// Profiles checks phone profiles: a private messenger in the work
	// profile or a business one in the personal profile.
	Profiles ProfileRule `yaml:"profiles" json:"profiles"`
	// BusinessOnly holds severity and texts of separation.business-only,
	// which applies when Device.BusinessOnly is set.
	BusinessOnly SeparationRule `yaml:"business_only" json:"business_only"`
}

// SeparationRule is the severity and texts of one separation rule.
type SeparationRule struct {
	RuleCommon `yaml:",inline"`
}

// ProfileRule is the phone-profile separation check.
type ProfileRule struct {
	Enabled    bool `yaml:"enabled" json:"enabled"`
	RuleCommon `yaml:",inline"`
}

// DeviceRules describe the devices this policy is deployed to.
type DeviceRules struct {
	// BusinessOnly marks devices issued for business use only (the
	// article's separate WhatsApp Business phone): any private messenger
	// on them fails separation.business-only.
	BusinessOnly bool `yaml:"business_only" json:"business_only"`
}

// PostureRules are the device-protection rules.
type PostureRules struct {
	ScreenLock     ScreenLockRule     `yaml:"screen_lock" json:"screen_lock"`
	RemoteWipe     RemoteWipeRule     `yaml:"remote_wipe" json:"remote_wipe"`
	DiskEncryption DiskEncryptionRule `yaml:"disk_encryption" json:"disk_encryption"`
}

// ScreenLockRule is the screen-lock rule. A nil limit is not checked.
type ScreenLockRule struct {
	// Required false switches the rule off (no findings).
	Required        bool `yaml:"required" json:"required"`
	RuleCommon      `yaml:",inline"`
	MaxIdleSeconds  *int `yaml:"max_idle_seconds" json:"max_idle_seconds,omitempty"`
	MaxGraceSeconds *int `yaml:"max_grace_seconds" json:"max_grace_seconds,omitempty"`
	LockOnSuspend   bool `yaml:"lock_on_suspend" json:"lock_on_suspend"`
	// RemediationByPlatform replaces Remediation on the named platforms
	// (linux, darwin, windows, android, ios) with exact steps there.
	RemediationByPlatform PlatformTexts `yaml:"remediation_by_platform" json:"remediation_by_platform,omitempty"`
}

// RemoteWipeRule is the remote-wipe rule.
type RemoteWipeRule struct {
	Required   bool `yaml:"required" json:"required"`
	RuleCommon `yaml:",inline"`
	// AcceptWorkProfile lets a wipe limited to the Android work profile
	// pass (BYOD: the company can wipe its data, not the phone).
	AcceptWorkProfile bool `yaml:"accept_work_profile" json:"accept_work_profile"`
	// RemediationByPlatform replaces Remediation on the named platforms
	// (linux, darwin, windows, android, ios) with exact steps there.
	RemediationByPlatform PlatformTexts `yaml:"remediation_by_platform" json:"remediation_by_platform,omitempty"`
}

// DiskEncryptionRule is the disk-encryption rule, evaluated per volume.
type DiskEncryptionRule struct {
	Required   bool `yaml:"required" json:"required"`
	RuleCommon `yaml:",inline"`
	// Mounts restricts the rule to these volumes ("/", "/home", "swap",
	// "C:", "data"); empty means every volume the probe reports (probes
	// report only the volumes that matter: system, home, swap).
	Mounts []string `yaml:"mounts" json:"mounts,omitempty"`
	// RemediationByPlatform replaces Remediation on the named platforms
	// (linux, darwin, windows, android, ios) with exact steps there.
	RemediationByPlatform PlatformTexts `yaml:"remediation_by_platform" json:"remediation_by_platform,omitempty"`
}

// Catalog returns the built-in catalog merged with the policy's additions.
// The value is shared: do not modify it.
func (p *Policy) Catalog() *Catalog { return p.catalog }

// RuleFor returns the rule for a messenger id: the policy's own rule, or
// Default for a catalog messenger it does not name. explicit reports which.
//
// A catalog entry of kind aggregator that the policy does not name gets
// Aggregators, and UnlistedID gets Unlisted.Default (see UnlistedRuleFor
// for a named app); both count as not explicit.
func (p *Policy) RuleFor(id string) (rule MessengerRule, explicit bool) {
	if r, ok := p.Messengers[id]; ok {
		return r, true
	}
	if id == UnlistedID {
		return p.Unlisted.Default, false
	}
	if p.catalog != nil {
		if e := p.catalog.Messenger(id); e != nil && e.Kind == KindAggregator {
			return p.Aggregators, false
		}
	}
	return p.Default, false
}

// UnlistedRuleFor returns the rule for an unlisted app (by desktop file id
// or bundle id): the policy's rule under unlisted.apps, or
// unlisted.default. explicit reports which.
func (p *Policy) UnlistedRuleFor(app string) (rule MessengerRule, explicit bool) {
	if r, ok := p.Unlisted.Apps[app]; ok {
		return r, true
	}
	return p.Unlisted.Default, false
}

// SeparationFamilies returns the families with a separation rule, sorted.
func (p *Policy) SeparationFamilies() []string {
	out := make([]string, 0, len(p.Separation.Families))
	for f := range p.Separation.Families {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// defaultYAML is the embedded default policy (a string: immutable).
//
//go:embed default.yaml
var defaultYAML string

// DefaultYAML returns the embedded default policy file as shipped, for
// `agent policy default`.
func DefaultYAML() []byte { return []byte(defaultYAML) }

// Default returns the embedded GDPR default policy, a fresh value on every
// call. It comes from Go code generated from default.yaml and catalog.yaml
// (default_gen.go, see generate.go), equal to what Load makes of the file,
// which the package tests check.
func Default() *Policy {
	return genDefaultPolicy()
}

// parseDefault loads the embedded default.yaml against the embedded
// catalog.yaml: the source of the generated policy.
func parseDefault() (*Policy, error) {
	base, err := parseDefaultCatalog()
	if err != nil {
		return nil, fmt.Errorf("loading built-in catalog: %w", err)
	}
	return load("default.yaml", []byte(defaultYAML), base)
}

// Load decodes and validates a policy file strictly: a syntax error, an
// unknown or duplicate key, a wrong type, an unknown messenger id, family or
// value is a *LoadError naming file, line, column and field; all problems
// found are returned joined (see LoadErrors). file is used in messages only.
func Load(file string, data []byte) (*Policy, error) {
	base, err := DefaultCatalog()
	if err != nil {
		return nil, fmt.Errorf("loading built-in catalog: %w", err)
	}
	return load(file, data, base)
}

// load is Load against a given built-in catalog, which it does not modify
// (the fuzz test reuses one parsed catalog for speed).
func load(file string, data []byte, base *Catalog) (*Policy, error) {
	d := newDecoder(file)
	root := d.parseDocument(data)
	if root == nil {
		return nil, d.err()
	}
	var p Policy
	d.decode(root, reflect.ValueOf(&p).Elem(), "")
	if len(d.errs) > 0 {
		// Semantic checks on a half-decoded policy only produce noise.
		return nil, d.err()
	}
	validateCatalog(d, &p.Additions, "catalog.", base)
	p.catalog = base.merge(&p.Additions)
	validatePolicy(d, &p)
	if err := d.err(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	p.SHA256 = hex.EncodeToString(sum[:])
	p.File = file
	return &p, nil
}
