package policy

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// Text is a user-facing text in English and German. In YAML it is either a
// plain string (English) or a mapping {en: ..., de: ...}. English is the
// fallback and is required whenever any translation is given.
type Text struct {
	EN string `yaml:"en" json:"en,omitempty"`
	DE string `yaml:"de,omitempty" json:"de,omitempty"`
}

// In returns the text in lang ("de", "de_DE.UTF-8", "en", ...), falling back
// to English where no translation exists.
func (t Text) In(lang string) string {
	if NormalizeLang(lang) == "de" && t.DE != "" {
		return t.DE
	}
	return t.EN
}

// IsZero reports whether no text is set.
func (t Text) IsZero() bool { return t.EN == "" && t.DE == "" }

// NormalizeLang maps a language tag or locale ("de", "de-AT",
// "de_DE.UTF-8", "DE", "de:en" from $LANGUAGE) to a supported language:
// "de" or "en". Anything else, including "" and "C", is "en".
func NormalizeLang(s string) string {
	s, _, _ = strings.Cut(s, ":")
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexAny(s, "_-.@"); i >= 0 {
		s = s[:i]
	}
	if s == "de" {
		return "de"
	}
	return "en"
}

func (t *Text) decodeNode(d *decoder, n *yaml.Node, path string) {
	if n.Kind == yaml.ScalarNode {
		if s, ok := d.str(n, path); ok {
			*t = Text{EN: s}
		}
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a text (a string, or a mapping with en: and de:), got %s", describe(n))
		return
	}
	var out Text
	d.mapping(n, path, func(key string, k, v *yaml.Node) {
		fp := join(path, key)
		d.pos[fp] = position{v.Line, v.Column}
		var dst *string
		switch key {
		case "en":
			dst = &out.EN
		case "de":
			dst = &out.DE
		default:
			d.errorf(k, fp, "unknown language %q (want en or de)", truncate(key, 20))
			return
		}
		if s, ok := d.str(v, fp); ok {
			*dst = s
		}
	})
	if out.EN == "" && out.DE != "" {
		d.errorf(n, path, "the English text (en:) is required; it is the fallback for every other language")
	}
	*t = out
}
