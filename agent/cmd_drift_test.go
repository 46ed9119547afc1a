package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseSince(t *testing.T) {
	now := time.Date(2025, 3, 8, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"7d", now.AddDate(0, 0, -7), false},
		{"0d", now, false},
		{"36h", now.Add(-36 * time.Hour), false},
		{"90m", now.Add(-90 * time.Minute), false},
		{"all", time.Time{}, false},
		{"0", time.Time{}, false},
		{"2025-03-01T00:00:00Z", time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), false},
		{"-3d", time.Time{}, true},
		{"-1h", time.Time{}, true},
		{"yesterday", time.Time{}, true},
		{"99999999d", time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSince(tt.in, now)
			if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
				t.Errorf("parseSince(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func FuzzParseSince(f *testing.F) {
	for _, s := range []string{"7d", "24h", "all", "2025-03-01T00:00:00Z", "-1d", "d", "1e9d"} {
		f.Add(s)
	}
	now := time.Date(2025, 3, 8, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseSince(s, now)
		if err == nil && !got.IsZero() && got.After(now) && !strings.Contains(s, "T") {
			t.Errorf("parseSince(%q) = %v, after now for a relative age", s, got)
		}
	})
}

func TestDriftAndBaselineWithoutDatabase(t *testing.T) {
	e, _, errb := testEnv(t)
	db := filepath.Join(t.TempDir(), "none.db")
	if code := runCLI(t, e, "drift", "--db", db); code != exitNoScan || !strings.Contains(errb.String(), "no scan recorded yet") {
		t.Errorf("agent drift on a missing database: exit %d, %s", code, errb)
	}
	errb.Reset()
	if code := runCLI(t, e, "baseline", "show", "--db", db); code != exitNoScan {
		t.Errorf("agent baseline show on a missing database: exit %d, %s", code, errb)
	}
	errb.Reset()
	if code := runCLI(t, e, "baseline", "accept", "--db", db, "--by", "x"); code != exitUsage || !strings.Contains(errb.String(), "--by and --why are required") {
		t.Errorf("accept without --why: exit %d, %s", code, errb)
	}
	errb.Reset()
	if code := runCLI(t, e, "baseline", "frobnicate"); code != exitUsage || !strings.Contains(errb.String(), "usage: agent baseline show") {
		t.Errorf("unknown baseline subcommand: exit %d, %s", code, errb)
	}
	errb.Reset()
	if code := runCLI(t, e, "drift", "--since", "lately", "--db", db); code != exitUsage || !strings.Contains(errb.String(), "--since") {
		t.Errorf("bad --since: exit %d, %s", code, errb)
	}
}
