package platform

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

func TestReadDir(t *testing.T) {
	dir := t.TempDir()
	for i := range 300 {
		if err := os.WriteFile(filepath.Join(dir, "f"+strconv.Itoa(i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fsys := NewDirFS(dir)
	tests := []struct {
		max       int
		want      int
		truncated bool
	}{
		{300, 300, false}, // exactly max: not truncated
		{1000, 300, false},
		{299, 299, true},
		{10, 10, true},
	}
	for _, tt := range tests {
		entries, truncated, err := ReadDir(fsys, ".", tt.max)
		if err != nil || len(entries) != tt.want || truncated != tt.truncated {
			t.Errorf("ReadDir(max %d) = %d entries, truncated %v, %v; want %d, %v, nil", tt.max, len(entries), truncated, err, tt.want, tt.truncated)
		}
	}
	if _, _, err := ReadDir(fsys, "missing", 10); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadDir(missing) error = %v; want ErrNotExist", err)
	}
	if _, _, err := ReadDir(fsys, "f1", 10); err == nil {
		t.Error("ReadDir of a file succeeded")
	}
}

func TestHostParallel(t *testing.T) {
	if got, want := (&Host{}).Parallel(), runtime.GOMAXPROCS(0); got != want {
		t.Errorf("Parallel() with no Workers = %d; want GOMAXPROCS %d", got, want)
	}
	if got := (&Host{Workers: 1}).Parallel(); got != 1 {
		t.Errorf("Parallel() with Workers 1 = %d", got)
	}
}
