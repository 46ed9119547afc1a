package report

import (
	"testing"

	"github.com/msgguard/msgguard/agent/config"
)

// TestBuildersCoverSinkTypes: every sink type the configuration accepts
// can be built, and the kind it builds (event or state) is the one the
// registry says.
func TestBuildersCoverSinkTypes(t *testing.T) {
	if len(builders) != len(config.SinkTypes) {
		t.Errorf("%d builders for %d sink types", len(builders), len(config.SinkTypes))
	}
	dir := t.TempDir()
	for _, st := range config.SinkTypes {
		if _, ok := builders[st.Name]; !ok {
			t.Errorf("no builder for sink type %q", st.Name)
			continue
		}
		c := config.Sink{Name: st.Name, Type: st.Name, Path: dir + "/" + st.Name + ".prom", URL: "https://example.invalid/hook",
			Network: "tcp", Address: "127.0.0.1:1", Facility: "local0", MaxSizeMB: 1, MaxFiles: 1}
		var out Sinks
		if err := builders[st.Name](c, BuildOptions{}, &out); err != nil {
			t.Logf("%s: %v (configuration checks apply)", st.Name, err)
			continue
		}
		if got := len(out.Events) == 1; got != st.Events {
			t.Errorf("%s builds an event sink = %v; the registry says %v", st.Name, got, st.Events)
		}
	}
}
