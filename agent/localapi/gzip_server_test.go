//go:build linux || darwin

package localapi

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/policy"
)

// TestStatusGzipAndIdentity: the same status answer with and without
// gzip, the compressed one smaller, both marked Vary: Accept-Encoding.
func TestStatusGzipAndIdentity(t *testing.T) {
	b := &countingSnapshot{}
	b.rep.Store(sampleReport())
	sock, _ := startServer(t, b, &Peer{UID: 0, Admin: true})
	get := func(enc string) (*http.Response, []byte) {
		tr := &http.Transport{DisableCompression: true, DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}}
		defer tr.CloseIdleConnections()
		req, _ := http.NewRequest(http.MethodGet, "http://"+Host+PathStatus, nil)
		if enc != "" {
			req.Header.Set("Accept-Encoding", enc)
		}
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	plain, pb := get("")
	zipped, zb := get("gzip")
	if plain.Header.Get("Content-Encoding") != "" || zipped.Header.Get("Content-Encoding") != "gzip" ||
		plain.Header.Get("Vary") != "Accept-Encoding" || zipped.Header.Get("Vary") != "Accept-Encoding" {
		t.Errorf("headers: %v / %v", plain.Header, zipped.Header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(zb))
	if err != nil {
		t.Fatal(err)
	}
	inflated, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(inflated, pb) {
		t.Errorf("inflated answer differs (%v):\n%s\n%s", err, inflated, pb)
	}
	if !strings.HasSuffix(string(pb), "}}\n") || len(zb) >= len(pb) {
		t.Errorf("plain %d bytes ending %q, gzip %d bytes", len(pb), pb[max(0, len(pb)-3):], len(zb))
	}
	// An administrator's curl --compressed gets the same JSON.
	if curl, err := exec.LookPath("curl"); err == nil {
		out, err := exec.Command(curl, "-sS", "--compressed", "--unix-socket", sock, "http://"+Host+PathStatus).Output()
		if err != nil || !bytes.Equal(out, pb) {
			t.Errorf("curl --compressed: %v\n%s", err, out)
		}
	}
}

// TestWarm: a report warmed before the backend serves it is answered from
// the warmed bytes (plain and gzip), and requests for the report still
// served meanwhile keep its views: neither waits for an encode.
func TestWarm(t *testing.T) {
	first := sampleReport()
	b := &countingSnapshot{}
	b.rep.Store(first)
	sock, s := startServer(t, b, &Peer{UID: 0, Admin: true})
	before := rawGet(t, sock, PathStatus)
	second := sampleReport()
	second.ScanID = "second-scan"
	s.Warm(second)
	k := viewKey{path: PathStatus, admin: true}
	s.cache.mu.Lock()
	warmed := s.cache.gens[0].views[k]
	old := s.cache.gens[1].views[k]
	s.cache.mu.Unlock()
	if warmed == nil || warmed.gz == nil || old == nil {
		t.Fatalf("after Warm: warmed view %v, previous report's view %v", warmed, old)
	}
	if got := rawGet(t, sock, PathStatus); got != before {
		t.Errorf("while the first report is served: %s; want %s", got, before)
	}
	s.cache.mu.Lock()
	kept := s.cache.gens[1].report == second && s.cache.gens[1].views[k] == warmed || s.cache.gens[0].views[k] == warmed
	s.cache.mu.Unlock()
	if !kept {
		t.Errorf("a request for the previous report dropped the warmed view")
	}
	b.rep.Store(second)
	got := rawGet(t, sock, PathStatus)
	if !strings.Contains(got, "second-scan") {
		t.Errorf("after the warmed report is served: %s", got)
	}
	s.cache.mu.Lock()
	again := s.cache.gens[0].views[k]
	s.cache.mu.Unlock()
	if again != warmed {
		t.Errorf("the warmed view was encoded again")
	}
	// The warmed gzip form inflates to the plain answer.
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req, _ := http.NewRequest(http.MethodGet, "http://"+Host+PathStatus, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	inflated, err := io.ReadAll(zr)
	if err != nil || string(inflated) != got {
		t.Errorf("gzip answer of the warmed view (%v):\n%s\nwant\n%s", err, inflated, got)
	}
}

// BenchmarkCompressPrefix compresses the status view of a report with 50
// users (about the size of the benchmark root's, 100-130 KB), as Warm does
// once per scan.
func BenchmarkCompressPrefix(b *testing.B) {
	rep := sampleReport()
	for i := range 50 {
		u := fmt.Sprintf("user%02d", i)
		rep.Inventory.Users = append(rep.Inventory.Users, policy.User{Name: u})
		for _, id := range []string{"whatsapp", "telegram", "signal", "threema"} {
			rep.Inventory.Messengers = append(rep.Inventory.Messengers, policy.Messenger{ID: id, User: u, Source: "browser", Location: `Chrome, profile "Default"`})
			rep.Findings = append(rep.Findings, status.Finding{Finding: policy.Finding{Rule: "messenger." + id, Status: policy.StatusFail, Subject: id, User: u, Message: id + " web session of " + u + " in Chrome, profile \"Default\"", EvaluatedAt: rep.ScannedAt}})
		}
	}
	body, err := encodeView(rep, PathStatus, Peer{Admin: true})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	var out int
	for b.Loop() {
		out = len(compressPrefix(body).bytes)
	}
	b.ReportMetric(float64(out), "gzip-bytes")
}
