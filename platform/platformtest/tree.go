package platformtest

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// CopyTree copies a fixture root into a temporary directory, symbolic
// links as links, so that a test can change or add hostile files without
// touching the fixture.
func CopyTree(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, out)
		case d.IsDir():
			return os.MkdirAll(out, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// ReadReal returns the real capture name from testdata/real of the
// package under test.
func ReadReal(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "real", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RealCaptures runs cases on the real captures in testdata/real, each case
// on the file of its name: a capture without a case fails, since every
// real capture must be parsed, and so does a case without its capture.
func RealCaptures(t *testing.T, cases map[string]func(t *testing.T, b []byte)) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("testdata", "real"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		check, ok := cases[e.Name()]
		if !ok {
			t.Errorf("capture %s has no case: every real capture must be parsed", e.Name())
			continue
		}
		seen[e.Name()] = true
		t.Run(e.Name(), func(t *testing.T) { check(t, ReadReal(t, e.Name())) })
	}
	for name := range cases {
		if !seen[name] {
			t.Errorf("case %s has no capture in testdata/real", name)
		}
	}
}
