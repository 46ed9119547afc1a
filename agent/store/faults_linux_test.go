package store

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestTooManyOpenFilesKeepsTheDatabase: EMFILE says nothing about the file;
// it must be kept and reported as unavailable (it used to be moved aside and
// replaced by an empty database).
func TestTooManyOpenFilesKeepsTheDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	writeValid(t, path)
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	lim := old
	lim.Cur = 64
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip("cannot lower RLIMIT_NOFILE:", err)
	}
	var held []*os.File
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			break
		}
		held = append(held, f)
	}
	c := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s, err := Open(path, Options{Now: c.Now})
	for _, f := range held {
		f.Close()
	}
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded without a free file descriptor")
	}
	if !IsUnavailable(err) {
		t.Errorf("Open = %v; want an UnavailableError", err)
	}
	if m, _ := filepath.Glob(path + ".corrupt-*"); len(m) != 0 {
		t.Fatalf("a healthy database was moved aside on EMFILE: %v", m)
	}
	s = open(t, path, c)
	defer s.Close()
	if s.Recovered != "" {
		t.Error("the database was rebuilt after EMFILE")
	}
	if _, err := s.Latest("dev1"); err != nil {
		t.Errorf("history lost: %v", err)
	}
}
