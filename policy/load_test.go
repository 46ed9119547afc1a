package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "policies", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLoadErrors covers every bad-input case with the exact
// file:line:col the admin is sent to.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"syntax-error.yaml", []string{
			"syntax-error.yaml:6: syntax error: did not find expected key",
		}},
		{"unknown-key.yaml", []string{
			`unknown-key.yaml:5:5: messengers.whatsapp.decison: unknown key "decison"; did you mean "decision"?`,
		}},
		{"unknown-messenger.yaml", []string{
			`unknown-messenger.yaml:6:3: messengers.whatsap: unknown messenger id "whatsap"; did you mean "whatsapp"? (define new messengers under catalog.messengers)`,
		}},
		{"wrong-type.yaml", []string{
			`wrong-type.yaml:5:15: posture.screen_lock.required: expected true or false, got the string "yes"`,
			`wrong-type.yaml:6:23: posture.screen_lock.max_idle_seconds: expected a whole number, got the string "five minutes"`,
			`wrong-type.yaml:8:13: posture.disk_encryption.mounts: expected a list, got the string "/home"`,
		}},
		{"duplicate-key.yaml", []string{
			`duplicate-key.yaml:6:3: messengers.telegram: duplicate key "telegram" (first defined on line 4)`,
		}},
		{"bad-values.yaml", []string{
			`bad-values.yaml:5:15: messengers.skype.decision: unknown decision "forbid" (want allow, deny or conditional)`,
			`bad-values.yaml:8:15: messengers.viber.severity: unknown severity "urgent" (want info, low, medium, high or critical)`,
		}},
		{"semantic.yaml", []string{
			`semantic.yaml:1:1: name: name is required`,
			`semantic.yaml:1:10: version: unsupported version 2 (this agent reads version 1)`,
			`semantic.yaml:4:5: messengers.telegram.condition: a conditional decision needs a condition: the text shown to the user`,
			`semantic.yaml:7:16: messengers.signal.condition: a condition only makes sense with decision conditional (this rule says allow)`,
			`semantic.yaml:10:5: separation.families.threema: family "threema" has no private and business variant in the catalog, so the rule could never apply`,
			`semantic.yaml:11:5: separation.families.nosuch: unknown family "nosuch"; families are catalog ids or their family: field`,
			`semantic.yaml:14:24: posture.screen_lock.max_grace_seconds: must not be negative (got -1)`,
		}},
		{"catalog-clash.yaml", []string{
			`catalog-clash.yaml:5:11: catalog.messengers[0].id: id "signal" is already defined (built-in catalog); choose another id`,
			`catalog-clash.yaml:8:7: catalog.messengers[1]: Debian package "telegram-desktop" is already claimed by "telegram"; one identifier must map to one messenger`,
		}},
		{"alias.yaml", []string{
			`alias.yaml:3:1: texts: unknown key "texts"`,
			`alias.yaml:7:13: messengers.whatsapp: aliases (*deny) are not allowed; write the value out`,
		}},
		{"two-documents.yaml", []string{
			`two-documents.yaml:3:1: only one YAML document is allowed (remove the second "---")`,
		}},
		{"german-only.yaml", []string{
			`german-only.yaml:7:7: messengers.telegram.condition: the English text (en:) is required; it is the fallback for every other language`,
			`german-only.yaml:8:7: messengers.telegram.condition.fr: unknown language "fr" (want en or de)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p, err := Load(tt.file, readFixture(t, tt.file))
			if err == nil {
				t.Fatalf("Load(%q) = %+v, nil; want errors", tt.file, p)
			}
			if p != nil {
				t.Errorf("Load(%q) returned a policy with an error", tt.file)
			}
			var got []string
			for _, le := range LoadErrors(err) {
				got = append(got, le.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Load(%q) errors mismatch (-want +got):\n%s", tt.file, diff)
			}
			if want := strings.Join(tt.want, "\n"); err.Error() != want {
				t.Errorf("err.Error() = %q; want %q", err, want)
			}
			var le *LoadError
			if !errors.As(err, &le) || le.File != tt.file {
				t.Errorf("errors.As(*LoadError) = %v; want a LoadError for %s", le, tt.file)
			}
		})
	}
}

func TestLoadWholeFileErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "p.yaml: file is empty"},
		{"only comments", []byte("# nothing\n"), "p.yaml: file is empty"},
		{"null document", []byte("---\n~\n"), "p.yaml:2:1: file is empty"},
		{"too large", bytes.Repeat([]byte("#"), MaxFileSize+1), "p.yaml: file is 1048577 bytes; the limit is 1048576"},
		{"not a mapping", []byte("- a\n- b\n"), "p.yaml:1:1: expected a mapping (key: value), got a list"},
		{"scalar root", []byte("hello\n"), `p.yaml:1:1: expected a mapping (key: value), got the string "hello"`},
		{"tab indentation", []byte("name: x\nmessengers:\n\twhatsapp: {decision: deny}\n"), "p.yaml:3: syntax error: found character that cannot start any token"},
		{"unclosed quote", []byte("name: \"x\nversion: 1\n"), "p.yaml:3: syntax error: found unexpected end of stream"},
		{"merge key", []byte("name: x\ndefault:\n  <<: {decision: deny}\n"), "p.yaml:3:3: default: keys must be plain names (merge keys and complex keys are not allowed)"},
		{"number as name", []byte("name: 2024-01-01\n"), `p.yaml:1:7: name: expected a string, got a date (put it in quotes)`},
		{"huge number", []byte("name: x\nposture: {screen_lock: {max_idle_seconds: 99999999999999999999}}\n"), "p.yaml:2:43: posture.screen_lock.max_idle_seconds: expected a whole number, got a number"},
		{"zero idle", []byte("name: x\nposture: {screen_lock: {max_idle_seconds: 0}}\n"), "p.yaml:2:43: posture.screen_lock.max_idle_seconds: 0 would demand locking before any idle time; leave the key out to not check the idle time"},
		{"conditional contacts", []byte("name: x\nmessengers: {signal: {decision: allow, contacts: conditional}}\n"), "p.yaml:2:50: messengers.signal.contacts: contacts must be allow or deny"},
		{"empty mount", []byte("name: x\nposture: {disk_encryption: {mounts: [\"\"]}}\n"), `p.yaml:2:38: posture.disk_encryption.mounts[0]: mount is empty`},
		{"default without decision", []byte("name: x\ndefault: {severity: low}\n"), "p.yaml:2:10: default.decision: decision is required (allow, deny or conditional)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Load("p.yaml", tt.in)
			if err == nil {
				t.Fatalf("Load() = %+v, nil; want error %q", p, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Load() error = %q; want %q", err, tt.want)
			}
			if len(LoadErrors(err)) == 0 {
				t.Errorf("LoadErrors(%v) is empty; every error must be a *LoadError", err)
			}
		})
	}
}

func TestLoadTooManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: x\n")
	for i := range 80 {
		b.WriteString("bogus")
		b.WriteString(strings.Repeat("x", i))
		b.WriteString(": 1\n")
	}
	_, err := Load("p.yaml", []byte(b.String()))
	errs := LoadErrors(err)
	if len(errs) != maxErrors+1 {
		t.Fatalf("len(LoadErrors) = %d; want %d", len(errs), maxErrors+1)
	}
	if last := errs[len(errs)-1].Error(); last != "p.yaml: too many errors; stopped reporting" {
		t.Errorf("last error = %q", last)
	}
}

func TestLoadErrorFormat(t *testing.T) {
	tests := []struct {
		e    LoadError
		want string
	}{
		{LoadError{File: "f", Line: 3, Column: 5, Field: "a.b", Msg: "bad"}, "f:3:5: a.b: bad"},
		{LoadError{File: "f", Line: 3, Msg: "bad"}, "f:3: bad"},
		{LoadError{File: "f", Msg: "bad"}, "f: bad"},
		{LoadError{File: "f", Field: "x", Msg: "bad"}, "f: x: bad"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%+v.Error() = %q; want %q", tt.e, got, tt.want)
		}
	}
	if LoadErrors(nil) != nil || LoadErrors(errors.New("x")) != nil {
		t.Error("LoadErrors of a non-load error should be nil")
	}
}

func TestDefaultPolicy(t *testing.T) {
	p := Default()
	sum := sha256.Sum256(DefaultYAML())
	if p.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("SHA256 = %s; want digest of DefaultYAML", p.SHA256)
	}
	if p.Name == "" || p.File != "default.yaml" || p.Version != 1 {
		t.Errorf("Name, File, Version = %q, %q, %d", p.Name, p.File, p.Version)
	}
	// The article's verdicts (docs/article.md), rule by rule.
	want := map[string]Decision{
		"whatsapp": DecisionDeny, "facebook-messenger": DecisionDeny, "instagram": DecisionDeny, "skype": DecisionDeny,
		"threema": DecisionAllow, "threema-work": DecisionAllow, "signal": DecisionAllow, "viber": DecisionAllow,
		"teamwire": DecisionAllow, "slack": DecisionAllow, "teams": DecisionAllow,
		"telegram": DecisionConditional, "whatsapp-business": DecisionConditional,
		"teams-personal": DecisionDeny,
	}
	for id, dc := range want {
		r, explicit := p.RuleFor(id)
		if !explicit || r.Decision != dc {
			t.Errorf("RuleFor(%q) = %s (explicit %v); want %s", id, r.Decision, explicit, dc)
		}
	}
	if got := p.SeparationFamilies(); !cmp.Equal(got, []string{"whatsapp"}) {
		t.Errorf("SeparationFamilies() = %v; want [whatsapp]", got)
	}
	sl := p.Posture.ScreenLock
	if !sl.Required || *sl.MaxIdleSeconds != 300 || *sl.MaxGraceSeconds != 5 || !sl.LockOnSuspend {
		t.Errorf("screen lock rule = %+v; want required, 300 s, 5 s, lock on suspend", sl)
	}
	if !p.Posture.RemoteWipe.Required || !p.Posture.DiskEncryption.Required {
		t.Error("remote wipe and disk encryption must be required")
	}
	if r, explicit := p.RuleFor("session"); explicit || r.Decision != DecisionConditional {
		t.Errorf("RuleFor(session) = %s, %v; want the conditional default", r.Decision, explicit)
	}
	// Every text a user can see exists in English and German.
	checkBilingual(t, p)
}

// checkBilingual fails for any text of p that lacks English or German.
func checkBilingual(t *testing.T, p *Policy) {
	t.Helper()
	check := func(where string, tx Text) {
		if tx.IsZero() {
			return
		}
		if tx.EN == "" || tx.DE == "" {
			t.Errorf("%s: text lacks a translation: %+v", where, tx)
		}
	}
	check("description", p.Description)
	check("default.condition", p.Default.Condition)
	for id, r := range p.Messengers {
		check(id+".condition", r.Condition)
		check(id+".rationale", r.Rationale)
		check(id+".remediation", r.Remediation)
		if r.Decision == DecisionDeny && r.Remediation.IsZero() {
			t.Errorf("%s: a denied messenger needs a remediation", id)
		}
	}
	for _, tx := range []Text{
		p.Contacts.Rationale, p.Contacts.Remediation,
		p.Separation.Profiles.Rationale, p.Separation.Profiles.Remediation,
		p.Separation.BusinessOnly.Rationale, p.Separation.BusinessOnly.Remediation,
		p.Posture.ScreenLock.Rationale, p.Posture.ScreenLock.Remediation,
		p.Posture.RemoteWipe.Rationale, p.Posture.RemoteWipe.Remediation,
		p.Posture.DiskEncryption.Rationale, p.Posture.DiskEncryption.Remediation,
	} {
		if tx.EN == "" || tx.DE == "" {
			t.Errorf("posture/separation/contacts text lacks a translation: %+v", tx)
		}
	}
	for f, r := range p.Separation.Families {
		check("separation."+f+".rationale", r.Rationale)
		check("separation."+f+".remediation", r.Remediation)
	}
}

func TestDefaultYAMLIsACopy(t *testing.T) {
	b := DefaultYAML()
	b[0] = 'X'
	if DefaultYAML()[0] == 'X' {
		t.Error("DefaultYAML returned the shared embedded bytes")
	}
}

func TestLoadMinimal(t *testing.T) {
	p, err := Load("minimal.yaml", readFixture(t, "minimal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := MessengerRule{Decision: DecisionConditional, RuleCommon: RuleCommon{Severity: SeverityLow}, Condition: defaultCondition()}
	if diff := cmp.Diff(want, p.Default); diff != "" {
		t.Errorf("Default mismatch (-want +got):\n%s", diff)
	}
	if p.Posture.ScreenLock.Required || p.Posture.RemoteWipe.Required || p.Posture.DiskEncryption.Required {
		t.Error("posture rules must be off unless the policy requires them")
	}
	if p.Contacts.DeniedSeverity != SeverityHigh || p.Contacts.ConditionalSeverity != SeverityLow {
		t.Errorf("contacts severities = %s, %s; want high, low", p.Contacts.DeniedSeverity, p.Contacts.ConditionalSeverity)
	}
	if p.Version != 1 {
		t.Errorf("Version = %d; want 1", p.Version)
	}
}

func TestLoadCustom(t *testing.T) {
	p, err := Load("custom.yaml", readFixture(t, "custom.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cat := p.Catalog()
	if e := cat.Messenger("acme-chat"); e == nil || e.Variant != VariantBusiness {
		t.Fatalf("merged catalog lacks acme-chat: %+v", e)
	}
	if cat.Messenger("whatsapp") == nil || cat.Agent("intune") == nil || cat.Agent("acme-mdm") == nil {
		t.Error("merged catalog lost built-in or added entries")
	}
	builtin, _ := DefaultCatalog()
	if got, want := len(cat.Messengers), len(builtin.Messengers)+1; got != want {
		t.Errorf("len(merged messengers) = %d; want %d", got, want)
	}
	if !p.Device.BusinessOnly {
		t.Error("Device.BusinessOnly = false")
	}
	r, _ := p.RuleFor("signal")
	if !r.ContactsForbidden() {
		t.Error("signal with contacts: deny should forbid contacts")
	}
	if r.Severity != SeverityInfo {
		t.Errorf("signal severity = %s; want the allow default info", r.Severity)
	}
	if d, _ := p.RuleFor("whatsapp"); d.Decision != DecisionDeny || d.Severity != SeverityMedium {
		t.Errorf("default rule = %+v; want deny/medium", d)
	}
}

func TestTextDecode(t *testing.T) {
	p, err := Load("p.yaml", []byte(`name: x
messengers:
  telegram: {decision: conditional, condition: plain english}
  whatsapp-business:
    decision: conditional
    condition: {en: english, de: deutsch}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Messengers["telegram"].Condition; got != (Text{EN: "plain english"}) {
		t.Errorf("plain string text = %+v", got)
	}
	tx := p.Messengers["whatsapp-business"].Condition
	for lang, want := range map[string]string{"de": "deutsch", "de_DE.UTF-8": "deutsch", "en": "english", "": "english", "fr": "english"} {
		if got := tx.In(lang); got != want {
			t.Errorf("In(%q) = %q; want %q", lang, got, want)
		}
	}
	if got := (Text{EN: "only"}).In("de"); got != "only" {
		t.Errorf("missing German falls back to %q; want English", got)
	}
}

func TestNormalizeLang(t *testing.T) {
	for in, want := range map[string]string{
		"de": "de", "DE": "de", "de-AT": "de", "de_CH.UTF-8": "de", "de@euro": "de", "de:en": "de",
		"en_US.UTF-8": "en", "C": "en", "": "en", "fr_FR": "en", "deu": "en",
	} {
		if got := NormalizeLang(in); got != want {
			t.Errorf("NormalizeLang(%q) = %q; want %q", in, got, want)
		}
	}
}

// FuzzLoad feeds arbitrary bytes to Load: it must never panic, and either
// return a usable policy or only *LoadError values.
func FuzzLoad(f *testing.F) {
	f.Add(DefaultYAML())
	files, _ := filepath.Glob(filepath.Join("testdata", "policies", "*.yaml"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("name: x\nmessengers: {whatsapp: {decision: deny}}\n"))
	f.Add([]byte("a: &a [*a]\n"))
	base, err := DefaultCatalog()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := load("fuzz.yaml", data, base)
		if err != nil {
			if p != nil {
				t.Fatal("policy returned together with an error")
			}
			errs := LoadErrors(err)
			if len(errs) == 0 {
				t.Fatalf("error is not a LoadError: %v", err)
			}
			for _, e := range errs {
				if e.File != "fuzz.yaml" || e.Msg == "" {
					t.Fatalf("malformed LoadError %+v", e)
				}
			}
			return
		}
		if p.Catalog() == nil || p.Name == "" || p.Default.Decision == "" {
			t.Fatalf("loaded policy is incomplete: %+v", p)
		}
		for id, r := range p.Messengers {
			if p.Catalog().Messenger(id) == nil || r.Decision == "" || !r.Severity.Valid() {
				t.Fatalf("rule %q not validated: %+v", id, r)
			}
		}
	})
}

func TestIntOutOfRange(t *testing.T) {
	var v struct {
		N int32 `yaml:"n"`
	}
	d := newDecoder("p.yaml")
	root := d.parseDocument([]byte("n: 3000000000\n"))
	d.decode(root, reflectValue(&v), "")
	if got, want := d.err().Error(), "p.yaml:1:4: n: number 3000000000 is out of range"; got != want {
		t.Errorf("error = %q; want %q", got, want)
	}
}

func reflectValue(ptr any) reflect.Value { return reflect.ValueOf(ptr).Elem() }
