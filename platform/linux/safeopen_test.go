package linux

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/msgguard/msgguard/platform"
)

func TestReadInto(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "small"), "hello\n")
	writeFile(t, filepath.Join(root, "big"), "0123456789")
	writeFile(t, filepath.Join(root, "empty"), "")
	symlink(t, filepath.Join(root, "small"), filepath.Join(root, "link"))
	mkfifo(t, filepath.Join(root, "fifo"))
	mkdir(t, filepath.Join(root, "dir"))
	fsys := platform.NewDirFS(root)
	tests := []struct {
		name, want string
		wantErr    error
	}{
		{"small", "hello\n", nil},
		{"empty", "", nil},
		{"big", "", platform.ErrTooLarge},
		{"link", "", platform.ErrSymlink},
		{"fifo", "", platform.ErrNotRegular},
		{"dir", "", platform.ErrNotRegular},
		{"missing", "", os.ErrNotExist},
	}
	buf := make([]byte, 0, 2)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readInto(fsys, tt.name, 8, buf)
			if string(got) != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("readInto(%s) = %q, %v; want %q, %v", tt.name, got, err, tt.want, tt.wantErr)
			}
			buf = got[:0]
		})
	}
}
