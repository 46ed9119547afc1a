package platform

import (
	"io/fs"
	"regexp"
	"slices"
	"sync"
)

// MaxServices caps how many service names one aggregator reports.
const MaxServices = 32

// serviceIDRe is the shape of a service id as Ferdium and Franz name their
// recipe directories ("whatsapp", "msteams", "google-chat"). Other names (a
// user's own folders, names with spaces or capitals) are never reported.
var serviceIDRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,39}$`) })

// notServices are directories an aggregator keeps beside its recipes:
// Franz and Ferdium download into recipes/temp and load the user's own
// recipes from recipes/dev (meetfranz/franz src/index.js,
// src/containers/settings/RecipesScreen.js).
var notServices = map[string]bool{"temp": true, "dev": true}

// ServiceNames returns, sorted, the names of the subdirectories in an
// aggregator's recipes folder that look like service ids, at most
// MaxServices of them; more reports that some were left out. Only the
// entries' names and types are used: nothing inside is opened.
func ServiceNames(entries []fs.DirEntry) (names []string, more bool) {
	for _, de := range entries {
		if de.IsDir() && serviceIDRe().MatchString(de.Name()) && !notServices[de.Name()] {
			names = append(names, de.Name())
		}
	}
	slices.Sort(names)
	if len(names) > MaxServices {
		return names[:MaxServices], true
	}
	return names, false
}
