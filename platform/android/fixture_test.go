package android

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

// recording is one command section of a phone fixture (testdata/*.txtar;
// the same files fakecmd.sh serves): "-- ARGS --" then the output.
// "[exit=N]" makes the body stderr and the command fail with status N;
// "[hang]" makes it never answer.
type recording struct {
	Cmd    string
	Body   string
	Exit   int
	Stderr bool
	Hang   bool
}

// phoneFixture is a parsed testdata/*.txtar file.
type phoneFixture struct {
	Serial string
	Cmds   []recording
}

func loadFixture(t testing.TB, name string) phoneFixture {
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

func parseFixture(s string) (phoneFixture, error) {
	var f phoneFixture
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
			if v, ok := strings.CutPrefix(trim, "serial: "); ok {
				f.Serial = v
			}
			continue
		}
		cur.Body += line
	}
	if f.Serial == "" {
		return f, errors.New("no serial line")
	}
	return f, nil
}

// exitError mimics an *exec.ExitError inside a platform.CommandError.
type exitError int

func (e exitError) Error() string { return "exit status " + strconv.Itoa(int(e)) }

// install records the fixture's commands in r as "adb -s SERIAL shell ...",
// the way ExecRunner would report them.
func (f phoneFixture) install(r *platformtest.FakeRunner) {
	for _, c := range f.Cmds {
		line := "adb -s " + f.Serial + " shell " + c.Cmd
		switch {
		case c.Hang:
			r.SetHang(line)
		case c.Stderr && c.Exit != 0:
			r.SetErr(line, "", &platform.CommandError{Name: "adb", Err: exitError(c.Exit), Stderr: []byte(c.Body)})
		case c.Stderr:
			r.Set(line, "")
		default:
			r.Set(line, c.Body)
		}
	}
}

// body returns the recorded output of cmd.
func (f phoneFixture) body(t testing.TB, cmd string) string {
	t.Helper()
	for _, c := range f.Cmds {
		if c.Cmd == cmd {
			return c.Body
		}
	}
	t.Fatalf("fixture %s has no %q", f.Serial, cmd)
	return ""
}

// testCatalog is a catalog built in Go with the Android and iOS identifiers
// from /work/shared/research/messenger-catalog.md §3.1, so these tests do
// not depend on the shipped catalog file.
func testCatalog() *policy.Catalog {
	return &policy.Catalog{Messengers: []policy.CatalogEntry{
		{ID: "whatsapp", Name: "WhatsApp", Variant: policy.VariantPrivate, Family: "whatsapp",
			Android: policy.AndroidIDs{Packages: []string{"com.whatsapp"}}},
		{ID: "whatsapp-business", Name: "WhatsApp Business", Variant: policy.VariantBusiness, Family: "whatsapp",
			Android: policy.AndroidIDs{Packages: []string{"com.whatsapp.w4b"}}},
		{ID: "signal", Name: "Signal", Variant: policy.VariantPrivate,
			Android: policy.AndroidIDs{Packages: []string{"org.thoughtcrime.securesms"}}},
		{ID: "telegram", Name: "Telegram", Variant: policy.VariantPrivate,
			Android: policy.AndroidIDs{Packages: []string{"org.telegram.messenger", "org.telegram.messenger.web"}}},
		{ID: "threema", Name: "Threema", Variant: policy.VariantPrivate, Family: "threema",
			Android: policy.AndroidIDs{Packages: []string{"ch.threema.app", "ch.threema.app.libre"}}},
		{ID: "threema-work", Name: "Threema Work", Variant: policy.VariantBusiness, Family: "threema",
			Android: policy.AndroidIDs{Packages: []string{"ch.threema.app.work"}}},
		{ID: "viber", Name: "Viber", Variant: policy.VariantPrivate,
			Android: policy.AndroidIDs{Packages: []string{"com.viber.voip"}}},
		{ID: "slack", Name: "Slack", Variant: policy.VariantBusiness,
			Android: policy.AndroidIDs{Packages: []string{"com.Slack"}}},
		{ID: "teams", Name: "Microsoft Teams", Variant: policy.VariantDual,
			Android: policy.AndroidIDs{Packages: []string{"com.microsoft.teams"}}},
	}}
}

// fakeFor returns a FakeRunner serving the given fixtures.
func fakeFor(fs ...phoneFixture) *platformtest.FakeRunner {
	r := platformtest.NewFakeRunner()
	for _, f := range fs {
		f.install(r)
	}
	return r
}
