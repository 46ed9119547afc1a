// Package msg is the message catalog of the agent's command line: every
// user-facing text in English and German. A message is looked up by its
// English text (the gettext model, https://www.gnu.org/software/gettext/
// manual/gettext.html#Overview): the code stays readable, English needs no
// table, and German comes from the map in de.go. TestCatalog fails when a
// message passed to T has no German text or their format verbs differ.
package msg

import "strings"

// Languages the agent speaks.
const (
	EN = "en"
	DE = "de"
)

// Languages lists them.
var Languages = []string{EN, DE}

// Parse reads a --lang value: en or de in any case.
func Parse(s string) (string, bool) {
	switch l := strings.ToLower(strings.TrimSpace(s)); l {
	case EN, DE:
		return l, true
	}
	return "", false
}

// FromEnv picks the language from the environment as POSIX orders it:
// the first of LC_ALL, LC_MESSAGES and LANG that is set decides; German for
// a locale starting with "de" (de, de_DE.UTF-8, de_AT), English otherwise.
func FromEnv(getenv func(string) string) string {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := getenv(k); v != "" {
			return FromLocale(v)
		}
	}
	return EN
}

// FromLocale maps a locale name or language code to EN or DE.
func FromLocale(v string) string {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), "de") {
		return DE
	}
	return EN
}

// N marks s as a message that is translated later, where the language is
// known (a verb's summary, a flag's help): it returns s unchanged, and
// TestCatalog requires a German text for it as for T. The name follows
// gettext's N_ (https://www.gnu.org/software/gettext/manual/gettext.html#Special-cases).
func N(s string) string { return s }

// T returns the message s in lang ("en", "de", or a locale such as
// de_DE.UTF-8); a message without a German text stays English.
func T(lang, s string) string {
	if FromLocale(lang) == DE {
		if t, ok := de()[s]; ok {
			return t
		}
	}
	return s
}
