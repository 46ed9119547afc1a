package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/msgguard/msgguard/agent/msg"

	"github.com/msgguard/msgguard/agent/phones"
	"github.com/msgguard/msgguard/agent/scan"
	"github.com/msgguard/msgguard/agent/status"
	"github.com/msgguard/msgguard/platform"
)

func cmdPhones(ctx context.Context, e *Env, args []string) int {
	c := e.flags("phones", flagJSON|flagLang)
	adb := c.fs.String("adb", "", msg.N("absolute `path` of adb (root-owned), tried before the standard locations"))
	if code, ok := c.parse(args); !ok {
		return code
	}
	if code, ok := c.noArgs(); !ok {
		return code
	}
	lang := c.lang()
	list, err := phones.List(ctx, e.phoneOptions(*adb, false))
	if err != nil {
		fmt.Fprintf(e.stderr, "agent phones: %v\n", err)
	}
	switch {
	case c.json:
		if list == nil {
			list = []phones.Phone{}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(list)
	case len(list) == 0:
		fmt.Fprintln(e.stdout, msg.T(lang, "no phones attached (or adb / libimobiledevice not installed)"))
	default:
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, msg.T(lang, "KIND\tSERIAL\tMODEL\tSTATE\tINSPECTABLE"))
		for _, p := range list {
			ok := msg.T(lang, "yes")
			if !p.Ready {
				ok = msg.T(lang, "no: ") + hintFor(p, lang)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Kind, p.Serial, p.Model, p.State, ok)
		}
		tw.Flush()
	}
	if err != nil {
		return exitUsage
	}
	return 0
}

func hintFor(p phones.Phone, lang string) string {
	switch {
	case p.Kind == "ios":
		return msg.T(lang, "unlock the device and tap \"Trust\" (or run idevicepair pair)")
	case p.State == "unauthorized":
		return msg.T(lang, "accept the USB debugging prompt on the phone")
	case p.State == "no permissions":
		return msg.T(lang, "USB permissions (udev rules)")
	}
	return p.State
}

// phoneOptions builds phone inspection options: the injected runner in
// tests, else exec by absolute path.
func (e *Env) phoneOptions(adbPath string, clear bool) phones.Options {
	run := e.phoneRun
	if run == nil {
		run = &platform.ExecRunner{Paths: phones.Commands(adbPath)}
	}
	return phones.Options{Run: run, ClearSerial: clear}
}

// scanPhones scans the selected attached phones (all when serial is "") as
// devices of their own and returns their reports. Phones that cannot be
// inspected are listed on stderr with their state and produce no report.
func scanPhones(ctx context.Context, e *Env, s *scan.Scanner, pol scan.Policy, serial, adbPath string) ([]*status.Report, error) {
	results, err := phones.ScanAttached(ctx, s, pol, e.phoneOptions(adbPath, false), serial)
	if err != nil {
		return nil, err
	}
	if serial != "" && len(results) == 0 {
		return nil, fmt.Errorf(msg.T(s.Lang, "no attached phone with serial %q (see 'agent phones')"), serial)
	}
	var out []*status.Report
	for _, res := range results {
		p := res.Phone
		switch {
		case !p.Ready:
			e.complain("scan", fmt.Sprintf(msg.T(s.Lang, "%s %s is %s: not inspected (%s)"), p.Kind, p.Serial, p.State, hintFor(p, s.Lang)))
		case phones.NotReady(res.Err):
			fmt.Fprintf(e.stderr, "agent scan: %s %s: %v\n", p.Kind, p.Serial, res.Err)
		case res.Err != nil:
			return out, fmt.Errorf("%s %s: %w", p.Kind, p.Serial, res.Err)
		default:
			out = append(out, res.Report)
		}
	}
	return out, nil
}
