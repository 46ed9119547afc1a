//go:build linux || darwin

package localapi

import (
	"context"
	"testing"
	"time"

	"github.com/msgguard/msgguard/agent/apitype"
)

// sinceBackend records the since time /v1/drift passes on.
type sinceBackend struct {
	fakeBackend
	got chan time.Time
}

func (b *sinceBackend) Drift(_ context.Context, since time.Time) (*apitype.DriftResponse, error) {
	b.got <- since
	return apitype.NewDriftResponse(since, nil, nil), nil
}

// TestDriftSinceClamped: a since far in the future reaches the backend as
// now at the latest (year 3000 overflowed the store's nanosecond keys and
// returned every scan), one before 1970 as "everything".
func TestDriftSinceClamped(t *testing.T) {
	b := &sinceBackend{got: make(chan time.Time, 1)}
	sock, _ := startServer(t, b, &Peer{UID: 0, Admin: true})
	for _, tt := range []struct {
		q    string
		want func(time.Time) bool
	}{
		{"3000-01-01T00:00:00Z", func(t time.Time) bool { return !t.After(time.Now()) && time.Since(t) < time.Minute }},
		{"1000-01-01T00:00:00Z", time.Time.IsZero},
	} {
		rawGet(t, sock, PathDrift+"?since="+tt.q)
		if got := <-b.got; !tt.want(got) {
			t.Errorf("since=%s reached the backend as %v", tt.q, got)
		}
	}
}
