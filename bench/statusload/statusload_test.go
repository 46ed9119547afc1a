package statusload

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serve answers GET /v1/status on a Unix socket with code and a body of
// size bytes.
func serve(t *testing.T, code, size int) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mgsl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "s")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("x", size)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/status" || r.Header.Get("Accept-Encoding") != "gzip" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		w.WriteHeader(code)
		w.Write([]byte(body))
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return sock
}

// TestBurst: both generators read every answer to its end, time each
// request, and count answers other than 200 and refused connections as
// failures.
func TestBurst(t *testing.T) {
	for name, burst := range map[string]func(string, int) ([]time.Duration, int, error){"Burst": Burst, "burstGoroutines": burstGoroutines} {
		t.Run(name, func(t *testing.T) {
			lat, failed, first := burst(serve(t, http.StatusOK, 100<<10), 200)
			if len(lat) != 200 || failed != 0 || first != nil {
				t.Fatalf("200 requests, 100 KB answers: %d latencies, %d failed (%v)", len(lat), failed, first)
			}
			for i, d := range lat {
				if d <= 0 {
					t.Fatalf("request %d: latency %v", i, d)
				}
			}
			_, failed, first = burst(serve(t, http.StatusServiceUnavailable, 10), 20)
			if failed != 20 || first == nil || !strings.Contains(first.Error(), "503") {
				t.Errorf("answers 503: %d of 20 failed, first %v", failed, first)
			}
			_, failed, first = burst(filepath.Join(t.TempDir(), "absent"), 5)
			if failed != 5 || first == nil {
				t.Errorf("no socket: %d of 5 failed, first %v", failed, first)
			}
		})
	}
}
