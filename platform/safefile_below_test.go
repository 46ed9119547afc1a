package platform

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

func TestNoLinksBelow(t *testing.T) {
	fsys := fstest.MapFS{
		"home/alice/.config/dconf/user": {Data: []byte("db")},
		"home/alice/Link":               {Data: []byte("/etc"), Mode: fs.ModeSymlink},
		"home/alice/Junction":           {Mode: fs.ModeIrregular | fs.ModeDir}, // how Go reports a Windows junction
		"home/alice/Junction/f":         {Data: []byte("x")},
		"home/alice2/f":                 {Data: []byte("x")},
	}
	tests := []struct {
		base, name string
		want       error // nil: no error; errNotBelow: "not below"
	}{
		{"home/alice", "home/alice/.config/dconf/user", nil},
		{"home/alice", "home/alice", nil},
		{"", "home/alice/.config", nil},
		{"home/alice", "home/alice/Link/passwd", ErrSymlink},
		{"home/alice", "home/alice/Junction/f", ErrSymlink},
		// A sibling whose name starts like the base is not below it.
		{"home/alice", "home/alice2/f", errNotBelow},
		{"home/al", "home/alice/.config", errNotBelow},
		{"home/alice", "etc/shadow", errNotBelow},
	}
	for _, tt := range tests {
		t.Run(tt.base+" "+tt.name, func(t *testing.T) {
			err := NoLinksBelow(fsys, tt.base, tt.name)
			switch {
			case tt.want == nil && err != nil:
				t.Errorf("NoLinksBelow(%q, %q) = %v; want nil", tt.base, tt.name, err)
			case tt.want == errNotBelow && (err == nil || !strings.Contains(err.Error(), "is not below")):
				t.Errorf("NoLinksBelow(%q, %q) = %v; want a 'not below' error", tt.base, tt.name, err)
			case tt.want != nil && tt.want != errNotBelow && !errors.Is(err, tt.want):
				t.Errorf("NoLinksBelow(%q, %q) = %v; want %v", tt.base, tt.name, err, tt.want)
			}
		})
	}
	if _, err := ReadUserFile(fsys, "home/alice", "home/alice/Junction/f", MaxConfigSize); !errors.Is(err, ErrSymlink) {
		t.Errorf("ReadUserFile through a junction = %v; want ErrSymlink", err)
	}
}

var errNotBelow = errors.New("not below")
