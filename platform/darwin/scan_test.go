package darwin

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/platformtest"
	"github.com/msgguard/msgguard/policy"
)

// fixtureUUID is the hardware UUID in testdata/commands/ioreg.txt and in
// the ByHost file names of testdata/mac.
const fixtureUUID = "4D5E9C1A-7B3F-5E21-9A0C-6F1E2D3C4B5A"

// recordingRunner logs every command line and delegates to a runner.
type recordingRunner struct {
	mu    sync.Mutex
	calls []string
	next  platform.Runner
}

func (r *recordingRunner) Output(ctx context.Context, name string, args ...string) ([]byte, error) {
	r.mu.Lock()
	r.calls = append(r.calls, strings.TrimSpace(name+" "+strings.Join(args, " ")))
	r.mu.Unlock()
	return r.next.Output(ctx, name, args...)
}

// combinedFake serves a FakeRunner's recordings from CombinedOutput too, as
// a runner that merges standard error into the output would.
type combinedFake struct{ *platformtest.FakeRunner }

func (c combinedFake) CombinedOutput(ctx context.Context, name string, args ...string) ([]byte, error) {
	return c.Output(ctx, name, args...)
}

func defaultCatalog(t testing.TB) *policy.Catalog {
	t.Helper()
	cat, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatalf("DefaultCatalog() error: %v", err)
	}
	return cat
}

// macHost is the fixture Mac of the done-when scenario, answering commands
// from testdata/mac-commands the way `agent scan --commands` would.
func macHost(t testing.TB) (*platform.Host, *recordingRunner) {
	t.Helper()
	root, err := filepath.Abs("testdata/mac")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordingRunner{next: platform.ReplayRunner{Dir: "testdata/mac-commands"}}
	return &platform.Host{GOOS: "darwin", Root: platform.NewDirFS(root), RootDir: root, Run: rec}, rec
}

func intp(n int) *int { return &n }

// wantMacInventory is the inventory of testdata/mac: alice uses consumer
// WhatsApp (App Store) and Telegram and has screen lock off; bob is clean
// with a 5 s grace; the Mac is MDM-enrolled (DEP, user approved), Find My is
// on, FileVault is on.
func wantMacInventory() *policy.Inventory {
	return &policy.Inventory{
		Device: policy.Device{
			ID: deviceID("uuid", fixtureUUID), Kind: "computer", Platform: "darwin",
			Hostname: "acme-mbp-0042", OSVersion: "macOS 14.5 (23F79)", Model: "MacBookPro17,1",
		},
		Users: []policy.User{
			{Name: "alice", UID: "501", Home: "/Users/alice"},
			{Name: "bob", UID: "502", Home: "/Users/bob"},
		},
		Messengers: []policy.Messenger{
			{ID: "telegram", Name: "Telegram", Variant: policy.VariantDual, Source: "app-bundle",
				Version: "10.6", Location: "/Applications/Telegram.app"},
			{ID: "telegram", Name: "Telegram", Variant: policy.VariantDual, Source: "data-dir",
				User: "alice", Location: "/Users/alice/Library/Application Support/ru.keepcoder.Telegram"},
			{ID: "whatsapp", Name: "WhatsApp", Variant: policy.VariantPrivate, Source: "app-bundle",
				Version: "26.25.15", Location: "/Applications/WhatsApp.app (Mac App Store)"},
			{ID: "whatsapp", Name: "WhatsApp", Variant: policy.VariantPrivate, Source: "data-dir",
				User: "alice", Location: "/Users/alice/Library/Containers/net.whatsapp.WhatsApp"},
		},
		Posture: policy.Posture{
			ScreenLock: []policy.ScreenLock{
				{User: "alice", Applicable: policy.Yes, Enabled: policy.No, IdleSeconds: intp(600),
					LockOnSuspend: policy.No,
					Source: "launchctl asuser 501 sysadminctl -screenLock status; idleTime from " +
						"/Users/alice/Library/Preferences/ByHost/com.apple.screensaver." + fixtureUUID + ".plist" +
						", displaysleep from pmset (AC Power 10min, Battery Power 2min)"},
				{User: "bob", Applicable: policy.Yes, Enabled: policy.Yes, IdleSeconds: intp(300),
					GraceSeconds: intp(5), LockOnSuspend: policy.Yes,
					Source: "launchctl asuser 502 sysadminctl -screenLock status; idleTime from " +
						"/Users/bob/Library/Preferences/ByHost/com.apple.screensaver." + fixtureUUID + ".plist" +
						", displaysleep from pmset (AC Power 10min, Battery Power 2min)"},
			},
			RemoteWipe: policy.RemoteWipe{
				Capable: policy.Yes, Scope: "device", Provider: "fleet.acme.example",
				Source:       "profiles status -type enrollment: MDM enrolled, user approved, via DEP",
				ConsumerLock: policy.Yes,
			},
			Encryption: policy.DiskEncryption{Volumes: []policy.Volume{
				{Mount: "/", Encrypted: policy.Yes, Method: "FileVault", Source: "fdesetup status"},
			}},
			Inspected: true,
		},
	}
}

func TestScanFixtureMac(t *testing.T) {
	h, _ := macHost(t)
	got, err := Scan(context.Background(), h, defaultCatalog(t))
	if err != nil {
		t.Fatalf("Scan() error: %v", err)
	}
	if diff := cmp.Diff(wantMacInventory(), got); diff != "" {
		t.Errorf("Scan(testdata/mac) mismatch (-want +got):\n%s", diff)
	}
}

// allowedCommands are the command lines a scan of testdata/mac may run.
var allowedCommands = map[string]bool{
	"ioreg -rd1 -c IOPlatformExpertDevice": true,
	"who":                                  true,
	"pmset -g custom":                      true,
	"launchctl asuser 501 sysadminctl -screenLock status": true,
	"launchctl asuser 502 sysadminctl -screenLock status": true,
	"profiles status -type enrollment":                    true,
	"profiles -L -o stdout-xml":                           true,
	"nvram -x -p":                                         true,
	"fdesetup status":                                     true,
}

func TestScanRunsOnlyAllowedCommands(t *testing.T) {
	h, rec := macHost(t)
	if _, err := Scan(context.Background(), h, defaultCatalog(t)); err != nil {
		t.Fatalf("Scan() error: %v", err)
	}
	names := Commands()
	seen := map[string]bool{}
	for _, c := range rec.calls {
		if !allowedCommands[c] {
			t.Errorf("Scan ran %q, which is not an allowed command line", c)
		}
		if _, ok := names[strings.Fields(c)[0]]; !ok {
			t.Errorf("Scan ran %q, whose name is not in Commands()", c)
		}
		if seen[c] {
			t.Errorf("Scan ran %q more than once", c)
		}
		seen[c] = true
	}
	for c := range allowedCommands {
		if !seen[c] {
			t.Errorf("Scan did not run %q", c)
		}
	}
}

// TestNeverProfilesShow fails if any probe path runs `profiles show`, which
// contacts Apple and is rate-limited: every command fails here, so every
// fallback path is taken.
func TestNeverProfilesShow(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  platform.Runner
	}{
		{"all recorded", nil},
		{"all failing", platformtest.NewFakeRunner()},
		{"combined runner", combinedFake{platformtest.NewFakeRunner()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, rec := macHost(t)
			if tc.run != nil {
				rec.next = tc.run
			}
			if _, err := Scan(context.Background(), h, defaultCatalog(t)); err != nil {
				t.Fatalf("Scan() error: %v", err)
			}
			for _, c := range rec.calls {
				f := strings.Fields(c)
				if f[0] == "profiles" && slices.Contains(f, "show") {
					t.Errorf("Scan ran %q; profiles show must never be called", c)
				}
			}
			if len(rec.calls) == 0 {
				t.Error("Scan ran no commands; the test would pass vacuously")
			}
		})
	}
}

func TestScanWithFailingCommandsIsUnknownNotNo(t *testing.T) {
	h, rec := macHost(t)
	rec.next = platformtest.NewFakeRunner() // every command fails
	got, err := Scan(context.Background(), h, defaultCatalog(t))
	if err != nil {
		t.Fatalf("Scan() error: %v", err)
	}
	p := got.Posture
	if p.RemoteWipe.Capable != policy.Unknown || p.RemoteWipe.ConsumerLock != policy.Unknown || p.RemoteWipe.Reason == "" {
		t.Errorf("RemoteWipe = %+v; want Capable and ConsumerLock unknown with a reason", p.RemoteWipe)
	}
	if v := p.Encryption.Volumes[0]; v.Encrypted != policy.Unknown || v.Reason == "" {
		t.Errorf("FileVault volume = %+v; want unknown with a reason", v)
	}
	for _, sl := range p.ScreenLock {
		if sl.Enabled != policy.Unknown || sl.Reason == "" {
			t.Errorf("ScreenLock(%s) = %+v; want unknown with a reason", sl.User, sl)
		}
	}
	if !strings.HasPrefix(got.Device.ID, deviceID("hostname", "acme-mbp-0042")) {
		t.Errorf("Device.ID = %q; want the host-name fallback", got.Device.ID)
	}
	if len(got.Messengers) != 4 {
		t.Errorf("got %d messengers; file-based evidence must not depend on commands", len(got.Messengers))
	}
}
