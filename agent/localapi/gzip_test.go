package localapi

import (
	"bytes"
	"compress/gzip"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// TestGzipPrefixMember: a compressed prefix finished with any tail (none,
// small, more than one stored block) is one gzip member that Go's reader
// and the gzip program (RFC 1952, with its CRC and length checks) inflate
// to prefix+tail.
func TestGzipPrefixMember(t *testing.T) {
	// Two prefixes, one after the other: the second is compressed with the
	// writer the first returned to the pool, which must carry nothing over.
	for _, prefix := range [][]byte{
		[]byte(strings.Repeat(`{"rule":"screen-lock","status":"fail"},`, 2000)),
		[]byte(strings.Repeat(`{"rule":"messenger.whatsapp","user":"alice","status":"pass"},`, 1500)),
	} {
		checkPrefixMember(t, prefix)
	}
}

func checkPrefixMember(t *testing.T, prefix []byte) {
	t.Helper()
	g := compressPrefix(prefix)
	if len(g.bytes) >= len(prefix)/4 {
		t.Errorf("prefix of %d bytes compressed to %d", len(prefix), len(g.bytes))
	}
	gz, _ := exec.LookPath("gzip")
	for _, tail := range [][][]byte{nil, {[]byte("}"), []byte("\n")}, {bytes.Repeat([]byte("x"), 2*maxStored+7)}} {
		member := append(append([]byte(nil), g.bytes...), g.finish(tail...)...)
		want := string(prefix) + string(bytes.Join(tail, nil))
		zr, err := gzip.NewReader(bytes.NewReader(member))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || string(got) != want {
			t.Errorf("tail of %d bytes: Go's gzip reader: %v, %d bytes, equal %v", len(want)-len(prefix), err, len(got), string(got) == want)
		}
		if gz == "" {
			continue
		}
		cmd := exec.Command(gz, "-dc")
		cmd.Stdin = bytes.NewReader(member)
		out, err := cmd.Output()
		if err != nil || string(out) != want {
			t.Errorf("tail of %d bytes: gzip -dc: %v, %d bytes", len(want)-len(prefix), err, len(out))
		}
	}
	if gz == "" {
		t.Log("gzip not installed: checked with Go's reader only")
	}
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"": false, "gzip": true, "GZIP": true, "deflate, gzip;q=1.0, *;q=0.5": true, "br, gzip ; q=0.2": true,
		"gzip;q=0": false, "gzip; q=0.000": false, "identity": false, "x-gzip": false,
	} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("acceptsGzip(%q) = %v; want %v", h, got, want)
		}
	}
}
