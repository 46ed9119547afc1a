package store

import (
	"context"
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

// The service retries an unavailable database with backoff and gets it once
// the cause is gone; the file is never replaced.
func TestOpenRetryWaitsForTheDatabase(t *testing.T) {
	// A directory that is not there yet cannot be created below a file:
	// ENOTDIR until the obstacle goes (as EROFS or ENOSPC would).
	blocked := filepath.Join(t.TempDir(), "blocker")
	if err := os.WriteFile(blocked, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(blocked, "state.db")
	var retries []time.Duration
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := OpenRetry(ctx, target, Options{}, Backoff{First: 10 * time.Millisecond, Max: 40 * time.Millisecond},
		func(err error, wait time.Duration) {
			if !IsUnavailable(err) {
				t.Errorf("retry on %v", err)
			}
			retries = append(retries, wait)
			if len(retries) == 4 {
				// The obstacle goes: a directory where the file was.
				os.Remove(blocked)
				os.Mkdir(blocked, 0o700)
			}
		})
	if err != nil {
		t.Fatalf("OpenRetry = %v", err)
	}
	s.Close()
	want := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond, 40 * time.Millisecond}
	if len(retries) != len(want) {
		t.Fatalf("retries %v; want %v", retries, want)
	}
	for i := range want {
		if retries[i] != want[i] {
			t.Errorf("retries %v; want %v", retries, want)
			break
		}
	}
}
