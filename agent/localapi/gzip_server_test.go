//go:build linux || darwin

package localapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
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
