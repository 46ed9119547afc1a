// Package statusload is the load the status benchmarks put on a running
// agent's local API: the whole-process script's burst (bench/wholeproc) and
// the service's Go benchmark (agent/daemon/wholeproc,
// BenchmarkStatusDuringScans). Each request is the one `agent status`
// sends, on a connection of its own, written and read as bytes. It is a
// measuring tool, not part of the agent.
package statusload

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// request is what `agent status` sends (Go's transport adds
// Accept-Encoding: gzip), asking the service to close the connection after
// its answer.
const request = "GET /v1/status HTTP/1.1\r\nHost: local-msgguard\r\nUser-Agent: statusload\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n"

// send connects and sends request; the caller reads and closes.
func send(socket string, timeout time.Duration) (net.Conn, error) {
	c, err := net.Dial("unix", socket)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c, request); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

var readBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// Status sends one status request and reads the answer to its last byte,
// without net/http's client: a Transport per request (what 1,000 separate
// CLI processes amount to) costs the generator more CPU than the service
// spends answering, and on a 2-core machine that CPU is taken from the
// service being measured; load tools such as wrk and h2load are lean for
// the same reason. The answer is not inflated: that is the client's work
// after the service has answered (CheckGzip checks one answer).
func Status(socket string) error {
	c, err := send(socket, time.Minute)
	if err != nil {
		return err
	}
	defer c.Close()
	// A pooled buffer, dropped after reading: a growing io.ReadAll per
	// request would be the generator's own cost again.
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	buf := *bp
	n, head := 0, ""
	for {
		m, err := c.Read(buf)
		if head == "" && m > 0 {
			head = string(buf[:min(m, 64)])
		}
		n += m
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	return checkHead([]byte(head), n)
}

// CheckGzip sends the request once and checks that the answer is a
// gzip-encoded JSON status.
func CheckGzip(socket string) error {
	c, err := send(socket, 10*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" {
		return fmt.Errorf("GET /v1/status with Accept-Encoding: gzip: %s, Content-Encoding %q", resp.Status, resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		return fmt.Errorf("GET /v1/status: %w", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil || !json.Valid(b) {
		return fmt.Errorf("GET /v1/status: the gzip answer does not inflate to JSON (%v)", err)
	}
	return nil
}

// burstGoroutines sends n status requests at once, each from a goroutine
// of its own, and returns their latencies, how many failed and the first
// failure. It is Burst where the event-driven generator is not built.
func burstGoroutines(socket string, n int) (lat []time.Duration, failed int, first error) {
	lat = make([]time.Duration, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			t0 := time.Now()
			errs[i] = Status(socket)
			lat[i] = time.Since(t0)
		})
	}
	close(start)
	wg.Wait()
	failed, first = countFailed(errs)
	return lat, failed, first
}

func countFailed(errs []error) (failed int, first error) {
	for _, err := range errs {
		if err != nil {
			if failed == 0 {
				first = err
			}
			failed++
		}
	}
	return failed, first
}

// checkHead checks the first bytes of an answer: the status line of a
// 200.
func checkHead(head []byte, n int) error {
	if !strings.HasPrefix(string(head), "HTTP/1.1 200 ") {
		line, _, _ := strings.Cut(string(head), "\n")
		return fmt.Errorf("GET /v1/status: %q after %d bytes", line, n)
	}
	return nil
}

// Scans asks the service to scan, back to back, until Stop.
type Scans struct {
	stop chan struct{}
	wg   sync.WaitGroup
	n    atomic.Int64
	err  atomic.Value
}

// StartScans starts asking for scans (POST /v1/scan, an administrator's
// request), each on a connection of its own as `agent scan` would.
func StartScans(socket string) *Scans {
	s := &Scans{stop: make(chan struct{})}
	c := &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		}}}
	s.wg.Go(func() {
		defer c.CloseIdleConnections()
		for {
			select {
			case <-s.stop:
				return
			default:
			}
			resp, err := c.Post("http://local-msgguard/v1/scan", "", nil)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("POST /v1/scan: %s", resp.Status)
				}
			}
			if err != nil {
				s.err.Store(err)
				return
			}
			s.n.Add(1)
		}
	})
	return s
}

// Stop waits for the scan under way and returns how many completed and the
// error that ended them early, if any.
func (s *Scans) Stop() (int64, error) {
	close(s.stop)
	s.wg.Wait()
	err, _ := s.err.Load().(error)
	return s.n.Load(), err
}
