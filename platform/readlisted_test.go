//go:build unix

package platform

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestReadListed(t *testing.T) {
	root := t.TempDir()
	for name, content := range map[string]string{"small": "hello\n", "big": "0123456789", "empty": ""} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(root, "small"), filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, want string
		wantErr    error
	}{
		{"small", "hello\n", nil},
		{"empty", "", nil},
		{"big", "", ErrTooLarge},
		{"link", "", ErrSymlink},
		{"fifo", "", ErrNotRegular},
		{"dir", "", ErrNotRegular},
		{"missing", "", os.ErrNotExist},
	}
	// DirFS takes the raw path for a file listed as regular; os.DirFS, whose
	// open follows links, the general one.
	for _, fsys := range []fs.FS{NewDirFS(root), os.DirFS(root)} {
		buf := make([]byte, 0, 2)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				// The type the listing gave, and "regular" whatever the
				// file is: a file swapped for a link, FIFO or folder after
				// the listing is refused all the same.
				typ := fs.FileMode(0)
				if st, err := Lstat(fsys, tt.name); err == nil {
					typ = st.Mode().Type()
				}
				for _, listed := range []fs.FileMode{typ, 0} {
					got, err := ReadListed(fsys, tt.name, listed, 8, buf)
					if string(got) != tt.want || !errors.Is(err, tt.wantErr) {
						t.Errorf("%T: ReadListed(%s, listed as %v) = %q, %v; want %q, %v", fsys, tt.name, listed, got, err, tt.want, tt.wantErr)
					}
					buf = got[:0]
				}
			})
		}
	}
}
