// Command wholeproc is the Go half of bench/whole-process.sh: it writes the
// benchmark root, loads the running service's local API with concurrent
// status requests, and turns hyperfine's JSON export into the ratios the
// script prints. It is a measuring tool, not part of the agent.
//
//	wholeproc genroot DIR FIXTURE       write the benchmark root (bench/benchroot)
//	wholeproc statusload SOCKET N       N concurrent GET /v1/status while scans run
//	wholeproc ratios FILE.json          print each command's mean and its ratio
//	                                    to the first command (hyperfine --export-json)
package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/msgguard/msgguard/bench/benchroot"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "genroot":
		if len(os.Args) != 4 {
			usage()
		}
		var n int
		n, err = benchroot.Write(os.Args[2], os.Args[3])
		if err == nil {
			fmt.Printf("benchmark root %s: %d dpkg packages, %d users, %d messenger items\n", os.Args[2], benchroot.Packages, benchroot.Users, n)
		}
	case "statusload":
		if len(os.Args) != 4 {
			usage()
		}
		n, perr := strconv.Atoi(os.Args[3])
		if perr != nil || n < 1 {
			usage()
		}
		err = statusLoad(os.Args[2], n)
	case "ratios":
		if len(os.Args) != 3 {
			usage()
		}
		err = ratios(os.Args[2])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wholeproc:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: wholeproc genroot DIR FIXTURE | statusload SOCKET N | ratios FILE.json")
	os.Exit(2)
}

// hyperfineExport is the part of `hyperfine --export-json` we read.
type hyperfineExport struct {
	Results []struct {
		Command string    `json:"command"`
		Mean    float64   `json:"mean"`
		Median  float64   `json:"median"`
		Stddev  float64   `json:"stddev"`
		Times   []float64 `json:"times"`
	} `json:"results"`
}

// ratios prints each command's median and its ratio to the first command's
// median (the comparison command, measured in the same hyperfine run).
func ratios(file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var ex hyperfineExport
	if err := json.Unmarshal(b, &ex); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if len(ex.Results) == 0 {
		return fmt.Errorf("%s: no results", file)
	}
	base := ex.Results[0]
	for _, r := range ex.Results {
		fmt.Printf("  %-36s median %7.2f ms  mean %7.2f ± %6.2f ms  %5.2f × %s\n",
			r.Command, r.Median*1e3, r.Mean*1e3, r.Stddev*1e3, r.Median/base.Median, base.Command)
	}
	return nil
}

// statusLoad sends n GET /v1/status at once, each on its own connection as
// the CLI does, while another connection keeps asking the service to scan.
// It prints the latency percentiles of the status requests.
func statusLoad(socket string, n int) error {
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}
	newClient := func() *http.Client {
		return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}}
	}
	get := func(c *http.Client, method, path string) error {
		req, err := http.NewRequest(method, "http://local-msgguard"+path, nil)
		if err != nil {
			return err
		}
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s %s: %s", method, path, resp.Status)
		}
		return nil
	}
	// Wait for the first report.
	for i := 0; ; i++ {
		err := get(newClient(), http.MethodGet, "/v1/status")
		if err == nil {
			break
		}
		if i == 300 {
			return fmt.Errorf("service never answered: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := checkGzipStatus(socket); err != nil {
		return err
	}
	// Scans run back to back during the burst.
	stop := make(chan struct{})
	var scans atomic.Int64
	var scanErr atomic.Value
	var wgScan sync.WaitGroup
	wgScan.Add(1)
	go func() {
		defer wgScan.Done()
		c := newClient()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := get(c, http.MethodPost, "/v1/scan"); err != nil {
				scanErr.Store(err)
				return
			}
			scans.Add(1)
		}
	}()
	time.Sleep(50 * time.Millisecond) // the first scan is under way

	lat := make([]time.Duration, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			t0 := time.Now()
			errs[i] = rawStatus(socket)
			lat[i] = time.Since(t0)
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	wall := time.Since(t0)
	close(stop)
	wgScan.Wait()
	failed := 0
	for _, err := range errs {
		if err != nil {
			if failed == 0 {
				fmt.Fprintln(os.Stderr, "first failure:", err)
			}
			failed++
		}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Printf("  %d concurrent GET /v1/status, %d scans during the burst: p50 %.1f ms, p99 %.1f ms, max %.1f ms, wall %.0f ms, %d failed\n",
		n, scans.Load(), ms(pct(0.50)), ms(pct(0.99)), ms(lat[len(lat)-1]), ms(wall), failed)
	if err, _ := scanErr.Load().(error); err != nil {
		return fmt.Errorf("scan request: %w", err)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d status requests failed", failed, n)
	}
	return nil
}

// rawStatus is one GET /v1/status on a connection of its own, written and
// read as bytes: the request the CLI sends, without net/http's client. A
// Transport per request (what 1,000 separate CLI processes amount to) costs
// the generator more CPU than the service spends answering, and on a
// 2-core machine that CPU is taken from the service being measured; load
// tools such as wrk and h2load are lean for the same reason.
func rawStatus(socket string) error {
	// The answer is timed to its last byte and not inflated here:
	// inflating is the client's work after the service has answered
	// (statusLoad checks once that an answer inflates to the JSON).
	c, err := sendStatus(socket, 60*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	// The response is read into a pooled buffer and dropped: a growing
	// io.ReadAll per request would be the generator's own cost again.
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
	if !strings.HasPrefix(head, "HTTP/1.1 200 ") {
		return fmt.Errorf("GET /v1/status: %q after %d bytes", firstLine(head), n)
	}
	return nil
}

// sendStatus connects and sends the request agent status sends (Go's
// transport adds Accept-Encoding: gzip), on a connection of its own that
// the service closes after answering; the caller reads and closes it.
func sendStatus(socket string, timeout time.Duration) (net.Conn, error) {
	c, err := net.Dial("unix", socket)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c, "GET /v1/status HTTP/1.1\r\nHost: local-msgguard\r\nUser-Agent: wholeproc\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n"); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

var readBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// checkGzipStatus sends the burst's request once and checks that the
// answer is a gzip-encoded JSON status.
func checkGzipStatus(socket string) error {
	c, err := sendStatus(socket, 10*time.Second)
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

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
