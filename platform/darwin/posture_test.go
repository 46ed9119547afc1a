package darwin

import (
	"context"
	"errors"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/platformtest"
	"github.com/msgguard/msgguard/policy"
)

func newTestScan(h *platform.Host) *scan {
	return &scan{ctx: context.Background(), h: h, cat: &policy.Catalog{}, inv: &policy.Inventory{},
		probs: platform.Problems{Max: maxProblemsPerProbe}}
}

var (
	alice = policy.User{Name: "alice", UID: "501", Home: "/Users/alice"}
	bob   = policy.User{Name: "bob", UID: "502", Home: "/Users/bob"}
)

const (
	aliceLock = "launchctl asuser 501 sysadminctl -screenLock status"
	bobLock   = "launchctl asuser 502 sysadminctl -screenLock status"
)

func managedPlist(body string) *fstest.MapFile {
	return &fstest.MapFile{Data: []byte(`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict>` + body + `</dict></plist>`)}
}

func TestScreenLock(t *testing.T) {
	byHost := "Users/alice/Library/Preferences/ByHost/com.apple.screensaver." + fixtureUUID + ".plist"
	root := fstest.MapFS{
		"Library/Managed Preferences/com.apple.screensaver.plist": managedPlist(
			`<key>askForPassword</key><true/><key>askForPasswordDelay</key><integer>5</integer>`),
		"Library/Managed Preferences/bob/com.apple.screensaver.plist": managedPlist(
			`<key>askForPasswordDelay</key><integer>0</integer><key>idleTime</key><integer>300</integer>`),
		byHost: managedPlist(`<key>idleTime</key><integer>1200</integer>`),
	}
	off := string(readTestdata(t, "commands/sysadminctl-off.txt"))
	immediate := string(readTestdata(t, "commands/sysadminctl-immediate.txt"))
	tests := []struct {
		name  string
		setup func(r *platformtest.FakeRunner)
		// combined serves recordings through CombinedOutput.
		combined bool
		want     []policy.ScreenLock
	}{{
		name: "alice logged in with lock off, bob logged out, policy reported for both",
		setup: func(r *platformtest.FakeRunner) {
			r.Set("who", string(readTestdata(t, "commands/who-alice.txt")))
			r.Set(aliceLock, off)
		},
		combined: true,
		want: []policy.ScreenLock{
			{User: "alice", Applicable: policy.Yes, Enabled: policy.No, LockOnSuspend: policy.No, IdleSeconds: intp(1200),
				Policy: "askForPassword=true askForPasswordDelay=5s (/Library/Managed Preferences/com.apple.screensaver.plist)",
				Source: aliceLock + "; idleTime from /" + byHost},
			{User: "bob", Applicable: policy.Yes,
				Policy: "askForPassword=true askForPasswordDelay=0s idleTime=300s (/Library/Managed Preferences/com.apple.screensaver.plist /Library/Managed Preferences/bob/com.apple.screensaver.plist)",
				Reason: "user is not logged in; macOS answers the screen-lock setting only inside the user's session"},
		},
	}, {
		name: "answer on stderr inside a CommandError",
		setup: func(r *platformtest.FakeRunner) {
			r.Set("who", string(readTestdata(t, "commands/who-alice-bob.txt")))
			r.SetErr(aliceLock, "", &platform.CommandError{Name: "launchctl", Err: errors.New("exit status 1"), Stderr: []byte(immediate)})
			r.SetErr(bobLock, "", &platform.CommandError{Name: "launchctl", Err: errors.New("exit status 1"), Stderr: []byte("Could not find domain for port (gui/502)\n")})
		},
		want: []policy.ScreenLock{
			{User: "alice", Applicable: policy.Yes, Enabled: policy.Yes, GraceSeconds: intp(0), LockOnSuspend: policy.Yes,
				IdleSeconds: intp(1200), Policy: "askForPassword=true askForPasswordDelay=5s (/Library/Managed Preferences/com.apple.screensaver.plist)",
				Source: aliceLock + "; idleTime from /" + byHost},
			{User: "bob", Applicable: policy.Yes, IdleSeconds: intp(300),
				Policy: "askForPassword=true askForPasswordDelay=0s idleTime=300s (/Library/Managed Preferences/com.apple.screensaver.plist /Library/Managed Preferences/bob/com.apple.screensaver.plist)",
				Reason: "sysadminctl failed: launchctl: exit status 1", Source: bobLock + "; idleTime from managed preferences"},
		},
	}, {
		name: "success with the answer dropped by an Output-only runner",
		setup: func(r *platformtest.FakeRunner) {
			r.Set("who", "alice    console  Nov 27 08:58 \n")
			r.Set(aliceLock, "")
		},
		want: []policy.ScreenLock{
			{User: "alice", Applicable: policy.Yes, IdleSeconds: intp(1200),
				Policy: "askForPassword=true askForPasswordDelay=5s (/Library/Managed Preferences/com.apple.screensaver.plist)",
				Reason: "sysadminctl printed nothing on standard output; it answers on standard error, which this command runner does not return on success",
				Source: aliceLock + "; idleTime from /" + byHost},
			{User: "bob", Applicable: policy.Yes,
				Policy: "askForPassword=true askForPasswordDelay=0s idleTime=300s (/Library/Managed Preferences/com.apple.screensaver.plist /Library/Managed Preferences/bob/com.apple.screensaver.plist)",
				Reason: "user is not logged in; macOS answers the screen-lock setting only inside the user's session"},
		},
	}, {
		name:  "who fails: nobody's login state is known",
		setup: func(r *platformtest.FakeRunner) {},
		want: []policy.ScreenLock{
			{User: "alice", Applicable: policy.Yes,
				Policy: "askForPassword=true askForPasswordDelay=5s (/Library/Managed Preferences/com.apple.screensaver.plist)",
				Reason: `cannot tell whether the user is logged in: who failed: "who": command not recorded`},
			{User: "bob", Applicable: policy.Yes,
				Policy: "askForPassword=true askForPasswordDelay=0s idleTime=300s (/Library/Managed Preferences/com.apple.screensaver.plist /Library/Managed Preferences/bob/com.apple.screensaver.plist)",
				Reason: `cannot tell whether the user is logged in: who failed: "who": command not recorded`},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fr := platformtest.NewFakeRunner()
			tc.setup(fr)
			// outputOnly hides FakeRunner's CombinedOutput, so the
			// default case exercises a runner that only has Output.
			var run platform.Runner = outputOnly{fr}
			if tc.combined {
				run = combinedFake{fr}
			}
			s := newTestScan(&platform.Host{GOOS: "darwin", Root: root, Run: run})
			got := scanScreenLock(s, []policy.User{alice, bob}, fixtureUUID)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("scanScreenLock mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIdleSecondsCombinesScreensaverAndDisplaySleep(t *testing.T) {
	tests := []struct {
		saver   *int
		display pmsetCustom
		want    *int
	}{
		{intp(1200), pmsetCustom{"AC Power": 10}, intp(600)},
		{intp(300), pmsetCustom{"AC Power": 10}, intp(300)},
		{intp(0), pmsetCustom{"AC Power": 10}, intp(600)},  // screensaver never
		{intp(300), pmsetCustom{"AC Power": 0}, intp(300)}, // display never sleeps on AC
		{intp(0), pmsetCustom{"AC Power": 0}, intp(0)},     // never locks on idle
		{nil, pmsetCustom{"AC Power": 5, "Battery Power": 2}, intp(300)},
		{intp(900), nil, intp(900)},
		{nil, nil, nil},
	}
	for _, tc := range tests {
		var m managedScreensaver
		if tc.saver != nil {
			v := plistInt(*tc.saver)
			m.IdleTime = &v
		}
		s := newTestScan(&platform.Host{Root: fstest.MapFS{}})
		got, _ := idleSeconds(s, alice, screenLockInputs{pmset: tc.display}, m)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("idleSeconds(saver %v, display %v) mismatch (-want +got):\n%s", tc.saver, tc.display, diff)
		}
	}
}

func TestRemoteWipe(t *testing.T) {
	enrolled := string(readTestdata(t, "commands/profiles-status-enrolled.txt"))
	manual := string(readTestdata(t, "commands/profiles-status-enrolled-manual.txt"))
	notEnrolled := string(readTestdata(t, "commands/profiles-status-not-enrolled.txt"))
	mdmList := string(readTestdata(t, "commands/profiles-list-mdm.xml"))
	emptyList := string(readTestdata(t, "commands/profiles-list-empty.xml"))
	fmm := string(readTestdata(t, "commands/nvram-fmm.xml"))
	noFmm := string(readTestdata(t, "commands/nvram-nofmm.xml"))
	const status, list, nvram = "profiles status -type enrollment", "profiles -L -o stdout-xml", "nvram -x -p"
	tests := []struct {
		name string
		rec  map[string]string // missing: the command fails
		want policy.RemoteWipe
	}{
		{"DEP, user approved, Find My on", map[string]string{status: enrolled, list: mdmList, nvram: fmm},
			policy.RemoteWipe{Capable: policy.Yes, Scope: "device", Provider: "fleet.acme.example",
				Source: "profiles status -type enrollment: MDM enrolled, user approved, via DEP", ConsumerLock: policy.Yes}},
		{"manual enrollment, provider from profiles -L", map[string]string{status: manual, list: mdmList, nvram: noFmm},
			policy.RemoteWipe{Capable: policy.Yes, Scope: "device", Provider: "fleet.acme.example",
				Source: "profiles status -type enrollment: MDM enrolled", ConsumerLock: policy.No}},
		{"not enrolled, Find My on is no company wipe", map[string]string{status: notEnrolled, list: emptyList, nvram: fmm},
			policy.RemoteWipe{Capable: policy.No, Source: "profiles status -type enrollment: not enrolled in MDM", ConsumerLock: policy.Yes}},
		{"status fails, payload installed", map[string]string{list: mdmList, nvram: noFmm},
			policy.RemoteWipe{Capable: policy.Yes, Scope: "device", Provider: "fleet.acme.example",
				Source: "profiles -L: com.apple.mdm payload installed", ConsumerLock: policy.No}},
		{"status fails, no payload: unknown, not no", map[string]string{list: emptyList},
			policy.RemoteWipe{Reason: `cannot tell MDM enrollment: "profiles status -type enrollment": command not recorded`}},
		{"everything fails", map[string]string{},
			policy.RemoteWipe{Reason: `cannot tell MDM enrollment: "profiles status -type enrollment": command not recorded; profiles -L: "profiles -L -o stdout-xml": command not recorded`}},
		{"answers disagree", map[string]string{status: notEnrolled, list: mdmList, nvram: noFmm},
			policy.RemoteWipe{Reason: "profiles status says not enrolled but an MDM payload is installed", ConsumerLock: policy.No}},
		{"garbled status", map[string]string{status: "profiles: unknown verb\n", list: emptyList, nvram: noFmm},
			policy.RemoteWipe{Reason: "cannot tell MDM enrollment: profiles status output lacks the DEP or MDM enrollment line", ConsumerLock: policy.No}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fr := platformtest.NewFakeRunner()
			for k, v := range tc.rec {
				fr.Set(k, v)
			}
			got := scanRemoteWipe(newTestScan(&platform.Host{Root: fstest.MapFS{}, Run: fr}))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("scanRemoteWipe mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFileVault(t *testing.T) {
	tests := []struct {
		name string
		out  string
		fail bool
		want policy.Volume
	}{
		{"on", "FileVault is On.\n", false, policy.Volume{Mount: "/", Encrypted: policy.Yes, Method: "FileVault", Source: "fdesetup status"}},
		{"encrypting", string(readTestdata(t, "commands/fdesetup-encrypting.txt")), false,
			policy.Volume{Mount: "/", Encrypted: policy.No, Method: "FileVault", Source: "fdesetup status: encryption in progress (42.50% done)"}},
		{"fails", "", true, policy.Volume{Mount: "/", Method: "FileVault", Source: "fdesetup status",
			Reason: `fdesetup status failed: "fdesetup status": command not recorded`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fr := platformtest.NewFakeRunner()
			if !tc.fail {
				fr.Set("fdesetup status", tc.out)
			}
			got := scanFileVault(newTestScan(&platform.Host{Root: fstest.MapFS{}, Run: fr}))
			if diff := cmp.Diff(policy.DiskEncryption{Volumes: []policy.Volume{tc.want}}, got); diff != "" {
				t.Errorf("scanFileVault mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// outputOnly exposes only Output of a runner.
type outputOnly struct{ r platform.Runner }

func (o outputOnly) Output(ctx context.Context, name string, args ...string) ([]byte, error) {
	return o.r.Output(ctx, name, args...)
}
