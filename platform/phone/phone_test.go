package phone

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/platformtest"
)

func TestDeviceID(t *testing.T) {
	tests := []struct {
		serial string
		clear  bool
		want   string
	}{
		{"R5CW20ABCDE", false, "42e1f66a5ce8c8240aaaba677c1843abd59696894ad9b3634be8db0823e988b3"},
		{"R5CW20ABCDE", true, "R5CW20ABCDE"},
	}
	for _, tt := range tests {
		if got := DeviceID(tt.serial, tt.clear); got != tt.want {
			t.Errorf("DeviceID(%q, %v) = %q; want %q", tt.serial, tt.clear, got, tt.want)
		}
	}
}

func TestOptionsTimeout(t *testing.T) {
	if got := (Options{}).Timeout(20 * time.Second); got != 20*time.Second {
		t.Errorf("zero CommandTimeout: Timeout = %s; want the default", got)
	}
	if got := (Options{CommandTimeout: time.Second}).Timeout(20 * time.Second); got != time.Second {
		t.Errorf("CommandTimeout 1s: Timeout = %s", got)
	}
}

type exitError int

func (e exitError) Error() string { return "exit status " + strconv.Itoa(int(e)) }

func TestDescribe(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"plain", errors.New("timed out"), "timed out"},
		{"stderr first line", &platform.CommandError{Name: "adb", Err: exitError(1), Stderr: []byte("\n  error: closed \nsecond line\n")}, "exit status 1: error: closed"},
		{"no stderr", &platform.CommandError{Name: "adb", Err: exitError(1)}, "exit status 1"},
		{"capped", &platform.CommandError{Name: "adb", Err: exitError(1), Stderr: []byte(long)}, "exit status 1: " + long[:160] + "..."},
		{"invalid utf-8", &platform.CommandError{Name: "adb", Err: exitError(1), Stderr: []byte("bad \xff byte")}, "exit status 1: bad ? byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Describe(tt.err); got != tt.want {
				t.Errorf("Describe = %q; want %q", got, tt.want)
			}
		})
	}
}

// notDevice classifies nothing as device-level.
func notDevice(error, []byte) error { return nil }

func TestSessionToolMissingEndsScan(t *testing.T) {
	run := &platform.ExecRunner{Paths: map[string][]string{"adb": {"/nonexistent/adb"}}}
	s := NewSession(run, time.Second, notDevice)
	if _, err := s.Output(context.Background(), "adb", "devices"); !errors.Is(err, platform.ErrCommandNotFound) {
		t.Fatalf("Output without adb: %v", err)
	}
	if !errors.Is(s.Fatal(), platform.ErrCommandNotFound) {
		t.Errorf("Fatal = %v; want ErrCommandNotFound", s.Fatal())
	}
	if _, err := s.Output(context.Background(), "adb", "shell", "getprop"); !errors.Is(err, platform.ErrCommandNotFound) {
		t.Errorf("second command after a fatal error: %v", err)
	}
}

func TestSessionClassifier(t *testing.T) {
	gone := errors.New("phone is not connected")
	r := platformtest.NewFakeRunner().
		SetErr("tool a", "", &platform.CommandError{Name: "tool", Err: exitError(1), Stderr: []byte("usage")}).
		SetErr("tool b", "", &platform.CommandError{Name: "tool", Err: exitError(1), Stderr: []byte("gone")}).
		Set("tool c", "ok")
	s := NewSession(r, time.Second, func(err error, _ []byte) error {
		var ce *platform.CommandError
		if errors.As(err, &ce) && string(ce.Stderr) == "gone" {
			return gone
		}
		return nil
	})
	ctx := context.Background()
	if _, err := s.Output(ctx, "tool", "a"); err == nil || s.Fatal() != nil {
		t.Fatalf("a failing command: err %v, Fatal %v; want an error and no Fatal", err, s.Fatal())
	}
	if _, err := s.Output(ctx, "tool", "b"); !errors.Is(err, gone) || !errors.Is(s.Fatal(), gone) {
		t.Fatalf("a device-level failure: err %v, Fatal %v; want %v", err, s.Fatal(), gone)
	}
	if _, err := s.Output(ctx, "tool", "c"); !errors.Is(err, gone) {
		t.Errorf("after the device left: %v; want %v without running", err, gone)
	}
	if calls := r.CallLog(); len(calls) != 2 {
		t.Errorf("commands run = %q; want 2", calls)
	}
}

func TestSessionTimeouts(t *testing.T) {
	r := platformtest.NewFakeRunner().SetHang("tool a").SetHang("tool b").Set("tool c", "ok")
	s := NewSession(r, 20*time.Millisecond, notDevice)
	ctx := context.Background()
	for _, arg := range []string{"a", "b"} {
		if _, err := s.Output(ctx, "tool", arg); !errors.Is(err, ErrTimeout) {
			t.Fatalf("hung command %s: %v; want ErrTimeout", arg, err)
		}
	}
	if _, err := s.Output(ctx, "tool", "c"); !errors.Is(err, ErrSkipped) {
		t.Errorf("after %d timeouts: %v; want ErrSkipped", MaxConsecutiveTimeouts, err)
	}
	if s.Fatal() != nil {
		t.Errorf("Fatal = %v; timeouts do not end the scan", s.Fatal())
	}
	s.Problem("probe", "tool c", ErrSkipped)
	if p := s.Problems(); len(p) != 1 || p[0].Path != "tool c" || p[0].Message != ErrSkipped.Error() {
		t.Errorf("Problems = %+v", p)
	}
}

func TestSessionCallerCancels(t *testing.T) {
	r := platformtest.NewFakeRunner().SetHang("tool a")
	s := NewSession(r, time.Minute, notDevice)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := s.Output(ctx, "tool", "a"); !errors.Is(err, context.DeadlineExceeded) || !errors.Is(s.Fatal(), context.DeadlineExceeded) {
		t.Errorf("caller's deadline: err %v, Fatal %v; want the scan ended", err, s.Fatal())
	}
}
