package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRotatingFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "agent.log")
	w, err := OpenRotatingFile(p, 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Repeat("x", 39) + "\n" // 40 bytes
	for i := range 7 {
		if _, err := fmt.Fprint(w, line[:len(line)-2]+fmt.Sprint(i%10)+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	// 7 lines of 40 bytes, two per file: .2 (lines 2-3), .1 (4-5), current (6);
	// lines 0-1 were rotated out.
	for name, want := range map[string]string{"agent.log": "6", "agent.log.1": "45", "agent.log.2": "23"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got string
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			got += l[len(l)-1:]
		}
		if got != want {
			t.Errorf("%s holds lines %q; want %q", name, got, want)
		}
		if len(b) > 100 {
			t.Errorf("%s is %d bytes, over the 100-byte limit", name, len(b))
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "agent.log.3")); err == nil {
		t.Error("kept more than 2 rotated files")
	}
}

func TestRotatingFileRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("keep"), 0o600)
	link := filepath.Join(dir, "agent.log")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	if w, err := OpenRotatingFile(link, 100, 1); err == nil {
		w.Close()
		t.Fatal("OpenRotatingFile followed a symbolic link")
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("victim changed: %q", b)
	}
}
