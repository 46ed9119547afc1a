package ios

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/platformtest"
	"github.com/msgguard/msgguard/policy"
)

// recording is one command section of a fixture (testdata/*.txtar, also
// served by fakecmd.sh): "-- NAME ARGS --" then the output; "[exit=N]"
// makes the body stderr and the command fail with status N, "[hang]" never
// answers.
type recording struct {
	Cmd    string
	Body   string
	Exit   int
	Stderr bool
	Hang   bool
}

type fixture struct {
	UDID string
	Cmds []recording
}

func loadFixture(t testing.TB, name string) fixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	f, err := parseFixture(string(b))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return f
}

func parseFixture(s string) (fixture, error) {
	var f fixture
	var cur *recording
	for _, line := range strings.SplitAfter(s, "\n") {
		trim := strings.TrimRight(line, "\n")
		if strings.HasPrefix(trim, "-- ") && strings.HasSuffix(trim, " --") && len(trim) > 6 {
			h := trim[3 : len(trim)-3]
			r := recording{Cmd: h}
			if i := strings.LastIndex(h, " ["); i >= 0 && strings.HasSuffix(h, "]") {
				ann := h[i+2 : len(h)-1]
				r.Cmd = h[:i]
				switch {
				case ann == "hang":
					r.Hang = true
				case strings.HasPrefix(ann, "exit="):
					n, err := strconv.Atoi(strings.TrimPrefix(ann, "exit="))
					if err != nil {
						return f, fmt.Errorf("bad annotation %q", ann)
					}
					r.Exit, r.Stderr = n, true
				default:
					return f, fmt.Errorf("bad annotation %q", ann)
				}
			}
			f.Cmds = append(f.Cmds, r)
			cur = &f.Cmds[len(f.Cmds)-1]
			continue
		}
		if cur == nil {
			if v, ok := strings.CutPrefix(trim, "udid: "); ok {
				f.UDID = v
			}
			continue
		}
		cur.Body += line
	}
	if f.UDID == "" {
		return f, errors.New("no udid line")
	}
	return f, nil
}

type exitError int

func (e exitError) Error() string { return "exit status " + strconv.Itoa(int(e)) }

func (f fixture) install(r *platformtest.FakeRunner) {
	for _, c := range f.Cmds {
		switch {
		case c.Hang:
			r.SetHang(c.Cmd)
		case c.Stderr && c.Exit != 0:
			r.SetErr(c.Cmd, "", &platform.CommandError{Name: strings.Fields(c.Cmd)[0], Err: exitError(c.Exit), Stderr: []byte(c.Body)})
		case c.Stderr:
			r.Set(c.Cmd, "")
		default:
			r.Set(c.Cmd, c.Body)
		}
	}
}

func fakeFor(fs ...fixture) *platformtest.FakeRunner {
	r := platformtest.NewFakeRunner()
	for _, f := range fs {
		f.install(r)
	}
	return r
}

// testCatalog carries the iOS bundle identifiers named in issue 8 and
// messenger-catalog.md; it does not depend on the shipped catalog file.
func testCatalog() *policy.Catalog {
	return &policy.Catalog{Messengers: []policy.CatalogEntry{
		{ID: "whatsapp", Name: "WhatsApp", Variant: policy.VariantPrivate, Family: "whatsapp",
			IOS: policy.IOSIDs{BundleIDs: []string{"net.whatsapp.WhatsApp"}}},
		{ID: "whatsapp-business", Name: "WhatsApp Business", Variant: policy.VariantBusiness, Family: "whatsapp",
			IOS: policy.IOSIDs{BundleIDs: []string{"net.whatsapp.WhatsAppSMB"}}},
		{ID: "telegram", Name: "Telegram", Variant: policy.VariantPrivate,
			IOS: policy.IOSIDs{BundleIDs: []string{"ph.telegra.Telegraph"}}},
		{ID: "signal", Name: "Signal", Variant: policy.VariantPrivate,
			IOS: policy.IOSIDs{BundleIDs: []string{"org.whispersystems.signal"}}},
		{ID: "threema", Name: "Threema", Variant: policy.VariantPrivate, Family: "threema",
			IOS: policy.IOSIDs{BundleIDs: []string{"ch.threema.iapp"}}},
		{ID: "threema-work", Name: "Threema Work", Variant: policy.VariantBusiness, Family: "threema",
			IOS: policy.IOSIDs{BundleIDs: []string{"ch.threema.work"}}},
		{ID: "teams", Name: "Microsoft Teams", Variant: policy.VariantDual,
			IOS: policy.IOSIDs{BundleIDs: []string{"com.microsoft.skype.teams"}}},
		{ID: "slack", Name: "Slack", Variant: policy.VariantBusiness,
			IOS: policy.IOSIDs{BundleIDs: []string{"com.tinyspeck.chatlyio"}}},
	}}
}
