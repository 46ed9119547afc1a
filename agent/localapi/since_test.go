package localapi

import (
	"testing"
	"time"
)

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"2026-02-28T12:00:00Z", now.Add(-24 * time.Hour), false},
		{"24h", now.Add(-24 * time.Hour), false},
		{"7d", now.AddDate(0, 0, -7), false},
		{"0d", now, false},
		{"36h", now.Add(-36 * time.Hour), false},
		{"90m", now.Add(-90 * time.Minute), false},
		{"all", time.Time{}, false},
		{"0", time.Time{}, false},
		{"", time.Time{}, false},
		{"-3d", time.Time{}, true},
		{"-1h", time.Time{}, true},
		{"yesterday", time.Time{}, true},
		{"99999999d", time.Time{}, true},
		// Clamped: the future is now, before 1970 is everything (the
		// store's Unix-nanosecond keys overflow past 2262).
		{"3000-01-01T00:00:00Z", now, false},
		{"2026-03-02T00:00:00Z", now, false},
		{"1000-01-01T00:00:00Z", time.Time{}, false},
		{"1969-12-31T23:59:59Z", time.Time{}, false},
		{"36500d", time.Time{}, false},
	}
	for _, tt := range tests {
		got, err := ParseSince(tt.in, now)
		if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
			t.Errorf("ParseSince(%q) = %v, %v; want %v (err %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func FuzzParseSince(f *testing.F) {
	for _, s := range []string{"2026-02-28T12:00:00Z", "24h", "-1h", "", "yesterday", "2026-02-28T12:00:00+01:00", "9999999999h", "7d", "all", "-1d", "d", "1e9d"} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseSince(s, now)
		if err == nil && !got.IsZero() && (got.After(now) || got.Before(time.Unix(0, 0))) {
			t.Fatalf("ParseSince(%q) = %v, outside [1970, now]", s, got)
		}
	})
}
