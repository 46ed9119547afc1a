package platform

import "testing"

func TestPrintable(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{" 14 ", 32, "14"},
		{"a\x00b\nc\x7f", 32, "abc"},
		{"héllo", 2, "h"}, // cut inside "é": the broken rune is dropped
		{"\xffok", 32, "ok"},
	}
	for _, tt := range tests {
		if got := Printable(tt.in, tt.max); got != tt.want {
			t.Errorf("Printable(%q, %d) = %q; want %q", tt.in, tt.max, got, tt.want)
		}
	}
}
