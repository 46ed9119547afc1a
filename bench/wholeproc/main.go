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
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/msgguard/msgguard/bench/benchroot"
	"github.com/msgguard/msgguard/bench/statusload"
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
	// Wait for the first report.
	for i := 0; ; i++ {
		err := statusload.Status(socket)
		if err == nil {
			break
		}
		if i == 300 {
			return fmt.Errorf("service never answered: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := statusload.CheckGzip(socket); err != nil {
		return err
	}
	scans := statusload.StartScans(socket)
	time.Sleep(50 * time.Millisecond) // the first scan is under way
	t0 := time.Now()
	lat, failed, first := statusload.Burst(socket, n)
	wall := time.Since(t0)
	nscans, scanErr := scans.Stop()
	if first != nil {
		fmt.Fprintln(os.Stderr, "first failure:", first)
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Printf("  %d concurrent GET /v1/status, %d scans during the burst: p50 %.1f ms, p99 %.1f ms, max %.1f ms, wall %.0f ms, %d failed\n",
		n, nscans, ms(pct(0.50)), ms(pct(0.99)), ms(lat[len(lat)-1]), ms(wall), failed)
	if scanErr != nil {
		return fmt.Errorf("scan request: %w", scanErr)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d status requests failed", failed, n)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
