package apitype

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/msgguard/msgguard/agent/drift"
)

// TestDriftResponseJSON: empty lists are [], never null, and a redacted
// answer keeps the device's and the caller's events only.
func TestDriftResponseJSON(t *testing.T) {
	b, err := json.Marshal(NewDriftResponse(time.Time{}, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != `{"schema_version":1,"events":[],"scans":[]}` {
		t.Errorf("empty drift response = %s", got)
	}
	r := NewDriftResponse(time.Time{}, []drift.Event{
		{ID: "device", Kind: drift.KindPostureChanged},
		{ID: "alice", Kind: drift.KindMessengerAppeared, User: "alice"},
		{ID: "bob", Kind: drift.KindMessengerAppeared, User: "bob"},
	}, nil)
	red := r.Redact("alice")
	var ids []string
	for _, e := range red.Events {
		ids = append(ids, e.ID)
	}
	if strings.Join(ids, ",") != "device,alice" || !red.Redacted || len(r.Events) != 3 || r.Redacted {
		t.Errorf("Redact(alice) = %v (redacted %v); input now %d events", ids, red.Redacted, len(r.Events))
	}
	if got := NewDriftResponse(time.Time{}, []drift.Event{{User: "bob"}}, nil).Redact("").Events; got == nil {
		t.Error("a redacted response without events has a null list")
	}
}
