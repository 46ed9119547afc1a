package windows

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/platformtest"
	"github.com/msgguard/msgguard/policy"
)

const (
	alice   = "S-1-5-21-3623811015-3361044348-30300820-1001"
	bob     = "S-1-12-1-1134101088-1151655155-3051483063-1663312217"
	carol   = "S-1-5-21-1004336348-1177238915-682003330-1001"
	dave    = "S-1-5-21-1004336348-1177238915-682003330-1002"
	uninst  = `Software\Microsoft\Windows\CurrentVersion\Uninstall`
	signalK = "7d96caee-06e6-597c-9f2f-c7bb2e0948b4"
	tgK     = "{53F49750-6209-4FBF-9CA8-7A333C87D1ED}_is1"
	grace   = `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon`
	blSrc   = "WMI Win32_EncryptableVolume GetConversionStatus/GetProtectionStatus"
	wakeGPO = `lock on wake from HKLM\SOFTWARE\Policies\Microsoft\Power\PowerSettings\0e796bdb-100d-47d6-a2d5-f7d2daa51f51\ACSettingIndex=1; ` +
		`HKLM\SOFTWARE\Policies\Microsoft\Power\PowerSettings\0e796bdb-100d-47d6-a2d5-f7d2daa51f51\DCSettingIndex=1`
)

// TestScanOffice: an Intune-managed laptop with a Group Policy inactivity
// lock; alice is logged in (Signal per user, Store WhatsApp and new Teams),
// bob is an Entra ID account who is logged off (his NTUSER.DAT is loaded:
// Signal and Telegram per user, Teams free); a Telegram Store package is
// staged for nobody; BitLocker protects C: and is suspended on D:.
func TestScanOffice(t *testing.T) {
	cat := defaultCatalog(t)
	f := loadFixture(t, "office")
	got := scanFixture(t, f)
	want := &policy.Inventory{
		Device: policy.Device{
			ID:        "e78ad8ef2000511a1d52065db0d6a2981a1b3c609b16710774816169c3047b0a",
			Kind:      "computer",
			Platform:  "windows",
			Hostname:  "OFFICE-LT-042",
			OSVersion: "Windows 11 Pro 23H2 (build 22631.3880)",
			Model:     "LENOVO 21HD003GGE",
		},
		Users: []policy.User{
			{Name: "alice", UID: alice, Home: `C:\Users\alice`},
			{Name: "bob", UID: bob, Home: `C:\Users\bob`},
		},
		Messengers: []policy.Messenger{
			evidence(t, cat, "signal", "data-dir", "alice", "", `C:\Users\alice\AppData\Local\Programs\signal-desktop`),
			evidence(t, cat, "signal", "data-dir", "alice", "", `C:\Users\alice\AppData\Roaming\Signal`),
			evidence(t, cat, "signal", "uninstall", "alice", "7.45.1", `HKU\`+alice+`\`+uninst+`\`+signalK),
			evidence(t, cat, "signal", "data-dir", "bob", "", `C:\Users\bob\AppData\Local\Programs\signal-desktop`),
			evidence(t, cat, "signal", "uninstall", "bob", "7.44.0", `HKU\`+bob+`\`+uninst+`\`+signalK),
			evidence(t, cat, "teams", "uninstall", "", "1.5.0.30767", `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\{731F6BAA-A986-45A4-8936-7C3AAAAA760B}`),
			evidence(t, cat, "teams", "msix", "alice", "24215.1007.3082.1590", `C:\Users\alice\AppData\Local\Packages\MSTeams_8wekyb3d8bbwe`),
			evidence(t, cat, "teams-personal", "msix", "bob", "25153.1010.3727.5483", `C:\Users\bob\AppData\Local\Packages\MicrosoftTeams_8wekyb3d8bbwe`),
			evidence(t, cat, "telegram", "msix", "", "5.3.1.0", `C:\Program Files\WindowsApps\TelegramMessengerLLP.TelegramDesktop_5.3.1.0_x64__t4vj0pshhgkwm`),
			evidence(t, cat, "telegram", "data-dir", "bob", "", `C:\Users\bob\AppData\Roaming\Telegram Desktop`),
			evidence(t, cat, "telegram", "uninstall", "bob", "5.3.1", `HKU\`+bob+`\`+uninst+`\`+tgK),
			evidence(t, cat, "whatsapp", "msix", "alice", "2.2428.10.0", `C:\Users\alice\AppData\Local\Packages\5319275A.WhatsAppDesktop_cv1g1gvanyjgm`),
		},
		Posture: policy.Posture{
			ScreenLock: []policy.ScreenLock{
				{
					User: "alice", Applicable: policy.Yes, Enabled: policy.Yes,
					IdleSeconds: intp(300), GraceSeconds: intp(0), LockOnSuspend: policy.Yes,
					Source: `HKU\` + alice + `\Control Panel\Desktop; grace from ` + grace + `\ScreenSaverGracePeriod; ` + wakeGPO,
					Policy: "InactivityTimeoutSecs=900 (Group Policy); MaxInactivityTimeDeviceLock=15 min (MDM)",
				},
				{
					User: "bob", Applicable: policy.Yes, Enabled: policy.Yes,
					IdleSeconds: intp(900), GraceSeconds: intp(0), LockOnSuspend: policy.Yes,
					Source: `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System\InactivityTimeoutSecs; grace from ` + grace + `\ScreenSaverGracePeriod; ` + wakeGPO,
					Policy: "InactivityTimeoutSecs=900 (Group Policy); MaxInactivityTimeDeviceLock=15 min (MDM)",
				},
			},
			RemoteWipe: policy.RemoteWipe{
				Capable: policy.Yes, Scope: "device", Provider: "Microsoft Intune",
				Source:       `HKLM\SOFTWARE\Microsoft\Enrollments\7E1C8C5E-3B0F-4D2E-A1D6-2C7F9B4E8A10`,
				ConsumerLock: policy.No,
			},
			Encryption: policy.DiskEncryption{Volumes: []policy.Volume{
				{Mount: "C:", Device: `\\?\Volume{4c1b2a37-0000-0000-0000-100000000000}\`, Encrypted: policy.Yes, Protected: policy.Yes, Method: "BitLocker", Source: blSrc},
				{Mount: "D:", Device: `\\?\Volume{9e0f1d22-0000-0000-0000-200000000000}\`, Encrypted: policy.Yes, Protected: policy.No, Method: "BitLocker", Source: blSrc,
					Reason: "encrypted but protection is off (suspended or waiting for activation)"},
			}},
			Inspected: true,
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Scan(office) mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{bitLockerCmd()}, f.run.CallLog()); diff != "" {
		t.Errorf("commands run (-want +got):\n%s", diff)
	}
	// bob's hive was loaded for the scan and unloaded after it.
	if subs, _ := f.reg.SubKeys("HKU"); strings.Contains(strings.Join(subs, ","), "msgguard_") {
		t.Errorf("HKU after the scan = %v; want the temporary hive unloaded", subs)
	}
}

// TestScanHome: an unmanaged home PC: no MDM (a notContacted enrollment and
// a fake key without UPN), Find my device on, screen saver forced by user
// Group Policy for carol, dave's hive cannot be loaded, a DisplayName and a
// DisplayVersion stored as REG_DWORD, BitLocker still encrypting C:.
func TestScanHome(t *testing.T) {
	cat := defaultCatalog(t)
	f := loadFixture(t, "home")
	f.reg.AddHiveError(`C:\Users\dave\NTUSER.DAT`, errSharingViolation)
	got := scanFixture(t, f)
	wakeHome := `lock on wake from HKLM\SYSTEM\CurrentControlSet\Control\Power\User\PowerSchemes\381b4222-f694-41f0-9685-ff5bb260df2e\fea3413e-7e05-4911-9a71-700331f1c294\0e796bdb-100d-47d6-a2d5-f7d2daa51f51\ACSettingIndex=0; ` +
		`HKLM\SYSTEM\CurrentControlSet\Control\Power\PowerSettings\fea3413e-7e05-4911-9a71-700331f1c294\0e796bdb-100d-47d6-a2d5-f7d2daa51f51\DefaultPowerSchemeValues\381b4222-f694-41f0-9685-ff5bb260df2e\DCSettingIndex=1`
	daveErr := `load hive C:\Users\dave\NTUSER.DAT: ` + errSharingViolation.Error()
	want := &policy.Inventory{
		Device: policy.Device{
			ID:        "6af55ce1bc01a21c81ece9ebe0d1e1547eccec2c2d5646fa02242ebb28ccb17f",
			Kind:      "computer",
			Platform:  "windows",
			Hostname:  "DESKTOP-7Q3K1PL",
			OSVersion: "Windows 10 Home 22H2 (build 19045.4780)",
		},
		Users: []policy.User{
			{Name: "carol", UID: carol, Home: `C:\Users\carol`},
			{Name: "dave", UID: dave, Home: `C:\Users\dave`},
		},
		Messengers: []policy.Messenger{
			evidence(t, cat, "signal", "data-dir", "dave", "", `C:\Users\dave\AppData\Roaming\Signal`),
			evidence(t, cat, "skype", "uninstall", "", "7.34.102", `HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\Skype_is1`),
			evidence(t, cat, "skype", "msix", "carol", "15.121.3202.0", `HKU\`+carol+`_Classes\Local Settings\Software\Microsoft\Windows\CurrentVersion\AppModel\Repository\Packages\Microsoft.SkypeApp_15.121.3202.0_x64__kzf8qxf38zg5c`),
			evidence(t, cat, "telegram", "data-dir", "carol", "", `C:\Users\carol\AppData\Roaming\Telegram Desktop`),
			evidence(t, cat, "telegram", "uninstall", "carol", "", `HKU\`+carol+`\`+uninst+`\`+tgK),
			evidence(t, cat, "whatsapp", "msix", "dave", "2.2421.9.0", `C:\Users\dave\AppData\Local\Packages\5319275A.WhatsAppDesktop_cv1g1gvanyjgm`),
		},
		Posture: policy.Posture{
			ScreenLock: []policy.ScreenLock{
				{
					User: "carol", Applicable: policy.Yes, Enabled: policy.Yes,
					IdleSeconds: intp(300), GraceSeconds: intp(5), LockOnSuspend: policy.No,
					Source: `HKU\` + carol + `\Software\Policies\Microsoft\Windows\Control Panel\Desktop + HKU\` + carol + `\Control Panel\Desktop; grace from ` +
						grace + ` (ScreenSaverGracePeriod absent: default 5 s); lock on wake from HKU\` + carol + `\Control Panel\Desktop\DelayLockInterval=never`,
					Policy: "screen saver policy: ScreenSaveActive=1, ScreenSaveTimeOut=300, ScreenSaverIsSecure=1",
				},
				{
					User: "dave", Applicable: policy.Yes, Enabled: policy.Unknown, LockOnSuspend: policy.Unknown,
					Source: wakeHome,
					Reason: "user hive could not be read: " + daveErr +
						"; lock on wake: the user's own sign-in-on-wake setting (DelayLockInterval) is in the unreadable hive",
				},
			},
			RemoteWipe: policy.RemoteWipe{
				Capable: policy.No, Source: `HKLM\SOFTWARE\Microsoft\Enrollments`, ConsumerLock: policy.Yes,
				Reason: "no active MDM enrollment (stale, failed or local enrollment keys ignored); " +
					"Exchange ActiveSync policies present, but an ActiveSync wipe only clears mail",
			},
			Encryption: policy.DiskEncryption{Volumes: []policy.Volume{
				{Mount: "C:", Device: `\\?\Volume{0b7a5d10-0000-0000-0000-100000000000}\`, Encrypted: policy.No, Protected: policy.No, Method: "BitLocker", Source: blSrc,
					Reason: "partially encrypted: encryption in progress, 47% encrypted"},
				{Mount: "F:", Device: `\\?\Volume{2c3d4e5f-0000-0000-0000-500000000000}\`, Encrypted: policy.Yes, Protected: policy.Yes, Method: "BitLocker", Source: blSrc + " (volume locked)"},
			}},
			Inspected: true,
		},
		Problems: []policy.Problem{
			{Probe: "uninstall", Path: `HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\{0D5A5E1C-1B4E-4C8F-9E43-BAD0000000DE}`,
				Message: `value "DisplayName" is REG_DWORD, expected a string: unexpected registry value type`},
			{Probe: "uninstall", Path: `HKU\` + carol + `\` + uninst + `\` + tgK,
				Message: `value "DisplayVersion" is REG_DWORD, expected a string: unexpected registry value type`},
			{Probe: "users", Path: `HKU\` + dave, Message: "user dave: hive not readable: " + daveErr},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Scan(home) mismatch (-want +got):\n%s", diff)
	}
}

// registryOnly hides MemRegistry's HiveLoader, like a registry that cannot
// load hives.
type registryOnly struct{ Registry }

func TestScanWithoutHiveLoader(t *testing.T) {
	f := loadFixture(t, "office")
	inv, err := Scan(context.Background(), f.h, registryOnly{f.reg}, defaultCatalog(t))
	if err != nil {
		t.Fatalf("Scan() error: %v", err)
	}
	bobLock := inv.Posture.ScreenLock[1]
	// The machine policy still locks bob's session; his own settings are unknown.
	if bobLock.User != "bob" || bobLock.Enabled != policy.Yes || *bobLock.IdleSeconds != 900 {
		t.Errorf("bob's screen lock = %+v; want Yes after 900 s from the machine policy", bobLock)
	}
	for _, m := range inv.Messengers {
		if m.User == "bob" && m.Source == "uninstall" {
			t.Errorf("found %+v; bob's hive cannot be read without a loader", m)
		}
	}
	if !hasProblem(inv, "users", "hives cannot be loaded") {
		t.Errorf("Problems = %v; want bob's unreadable hive listed", inv.Problems)
	}
}

func hasProblem(inv *policy.Inventory, probe, substr string) bool {
	for _, p := range inv.Problems {
		if p.Probe == probe && strings.Contains(p.Message, substr) {
			return true
		}
	}
	return false
}

// TestScanUnknownWithoutMachinePolicy: when nothing machine-wide locks and
// a user's hive is unreadable, that user is Unknown, never No.
func TestScanUnknownWithoutMachinePolicy(t *testing.T) {
	f := loadFixture(t, "office")
	if err := f.reg.Load([]byte("REGEDIT4\n[HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System]\n\"InactivityTimeoutSecs\"=-\n" +
		"[-HKLM\\SOFTWARE\\Microsoft\\PolicyManager\\current\\device\\DeviceLock]\n")); err != nil {
		t.Fatal(err)
	}
	f.reg.AddHiveError(`C:\Users\bob\NTUSER.DAT`, errors.New("the hive is corrupt"))
	inv := scanFixture(t, f)
	got := inv.Posture.ScreenLock[1]
	if got.Enabled != policy.Unknown || !strings.Contains(got.Reason, "the hive is corrupt") {
		t.Errorf("bob's screen lock = %+v; want Unknown with the load error as reason", got)
	}
	if a := inv.Posture.ScreenLock[0]; a.Enabled != policy.Yes || a.Policy != "" || *a.IdleSeconds != 300 {
		t.Errorf("alice's screen lock = %+v; want Yes after 300 s from her screen saver and no enforced policy", a)
	}
}

// TestScanHostileFiles: a symbolic link in place of NTUSER.DAT or of a data
// directory is refused, not followed.
func TestScanHostileFiles(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join("testdata", "office", "root")
	if err := os.CopyFS(root, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	if err := os.MkdirAll(filepath.Join(outside, "Signal"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustReplace := func(rel, target string) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.RemoveAll(p); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Skipf("cannot create symbolic links here: %v", err)
		}
	}
	mustReplace("Users/bob/NTUSER.DAT", filepath.Join(root, "Users", "alice", "NTUSER.DAT"))
	mustReplace("Users/alice/AppData/Roaming", outside)

	f := loadFixture(t, "office")
	f.h.Root, f.h.RootDir = platform.NewDirFS(root), root
	inv := scanFixture(t, f)
	if got := inv.Posture.ScreenLock[1]; !strings.Contains(got.Source, "InactivityTimeoutSecs") || !hasProblem(inv, "users", "symbolic link") {
		t.Errorf("bob's lock = %+v, problems %v; want his linked hive refused and the machine policy used", got, inv.Problems)
	}
	for _, m := range inv.Messengers {
		if m.User == "bob" && m.Source == "uninstall" {
			t.Errorf("found %+v from a hive reached through a symbolic link", m)
		}
		if strings.Contains(m.Location, `alice\AppData\Roaming`) {
			t.Errorf("found %+v through a symbolic link", m)
		}
	}
	var linkProblems []policy.Problem
	for _, p := range inv.Problems {
		if p.Probe == "data-dir" {
			linkProblems = append(linkProblems, p)
		}
	}
	want := []policy.Problem{{Probe: "data-dir", Path: `C:\Users\alice\AppData\Roaming`,
		Message: "lstat Users/alice/AppData/Roaming: refusing to follow a symbolic link"}}
	if diff := cmp.Diff(want, linkProblems); diff != "" {
		t.Errorf("data-dir problems mismatch (-want +got):\n%s", diff)
	}
}

func TestScanBitLockerFails(t *testing.T) {
	f := loadFixture(t, "office")
	f.run.SetErr(bitLockerCmd(), "", &platform.CommandError{Name: "powershell", Err: errors.New("exit status 1")})
	inv := scanFixture(t, f)
	want := policy.DiskEncryption{
		Volumes: []policy.Volume{{Mount: "C:", Encrypted: policy.Unknown, Source: blSrc, Reason: "BitLocker WMI query failed: powershell: exit status 1"}},
		Reason:  "BitLocker WMI query failed: powershell: exit status 1",
	}
	if diff := cmp.Diff(want, inv.Posture.Encryption); diff != "" {
		t.Errorf("Encryption mismatch (-want +got):\n%s", diff)
	}
	if !hasProblem(inv, "bitlocker", "exit status 1") {
		t.Errorf("Problems = %v; want the failed command", inv.Problems)
	}
}

func TestScanNoRunner(t *testing.T) {
	f := loadFixture(t, "office")
	f.h.Run = nil
	inv := scanFixture(t, f)
	if v := inv.Posture.Encryption.Volumes; len(v) != 1 || v[0].Encrypted != policy.Unknown {
		t.Errorf("Volumes = %+v; want one Unknown C:", v)
	}
}

func TestScanFailsWithoutRegistry(t *testing.T) {
	h := &platform.Host{GOOS: "windows", Root: platform.NewDirFS(t.TempDir())}
	regs := []Registry{nil, NewMemRegistry()}
	if runtime.GOOS != "windows" {
		regs = append(regs, NewNativeRegistry()) // errors.ErrUnsupported
	}
	for _, reg := range regs {
		if _, err := Scan(context.Background(), h, reg, defaultCatalog(t)); err == nil {
			t.Errorf("Scan(%T) succeeded; want an error without MachineGuid", reg)
		}
	}
}

func TestScanCancelled(t *testing.T) {
	f := loadFixture(t, "office")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Scan(ctx, f.h, f.reg, defaultCatalog(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("Scan() with a cancelled context error = %v; want context.Canceled", err)
	}
}

// manyUninstallKeys builds a machine whose HKLM Uninstall key has n
// subkeys: every 1000th is Signal, every 2500th Telegram Desktop, every
// 100th (the others) has a DisplayName stored as REG_DWORD.
func manyUninstallKeys(n int) []byte {
	var b strings.Builder
	b.WriteString("Windows Registry Editor Version 5.00\r\n\r\n")
	b.WriteString("[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography]\r\n\"MachineGuid\"=\"00000000-1111-2222-3333-444444444444\"\r\n\r\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{%08X-0000-0000-0000-000000000000}]\r\n", i)
		switch {
		case i%1000 == 0:
			fmt.Fprintf(&b, "\"DisplayName\"=\"Signal 7.%d.0\"\r\n\"DisplayVersion\"=\"7.%d.0\"\r\n\"Publisher\"=\"Signal Messenger, LLC\"\r\n", i/1000, i/1000)
		case i%2500 == 0:
			b.WriteString("\"DisplayName\"=\"Telegram Desktop\"\r\n\"Publisher\"=\"Telegram FZ-LLC\"\r\n")
		case i%100 == 0:
			b.WriteString("\"DisplayName\"=dword:00000001\r\n")
		default:
			fmt.Fprintf(&b, "\"DisplayName\"=\"Example Tool %d\"\r\n\"DisplayVersion\"=\"1.0.%d\"\r\n\"Publisher\"=\"Example Corp\"\r\n\"NoModify\"=dword:00000001\r\n", i, i)
		}
		b.WriteString("\r\n")
	}
	return []byte(b.String())
}

func loadMany(t testing.TB, n int) (*platform.Host, *MemRegistry) {
	t.Helper()
	reg := NewMemRegistry()
	if err := reg.Load(manyUninstallKeys(n)); err != nil {
		t.Fatal(err)
	}
	run := platformtest.NewFakeRunner()
	run.Set(bitLockerCmd(), "[]")
	return &platform.Host{GOOS: "windows", Root: platform.NewDirFS(t.TempDir()), Run: run}, reg
}

func TestScan10000UninstallKeys(t *testing.T) {
	const n = 10_000
	h, reg := loadMany(t, n)
	inv, err := Scan(context.Background(), h, reg, defaultCatalog(t))
	if err != nil {
		t.Fatalf("Scan() error: %v", err)
	}
	cat := defaultCatalog(t)
	var want []policy.Messenger
	for i := 0; i < n; i += 1000 {
		want = append(want, evidence(t, cat, "signal", "uninstall", "", fmt.Sprintf("7.%d.0", i/1000),
			fmt.Sprintf(`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\{%08X-0000-0000-0000-000000000000}`, i)))
	}
	for _, i := range []int{2500, 7500} { // 5000 is a Signal key
		want = append(want, evidence(t, cat, "telegram", "uninstall", "", "",
			fmt.Sprintf(`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\{%08X-0000-0000-0000-000000000000}`, i)))
	}
	want = sortMessengers(want)
	if diff := cmp.Diff(want, inv.Messengers); diff != "" {
		t.Errorf("Messengers mismatch (-want +got):\n%s", diff)
	}
	// 100 keys are multiples of 100; 10 are Signal and 2 Telegram, so 88
	// have a REG_DWORD DisplayName: 20 listed, then one summary.
	var uninstall []policy.Problem
	for _, p := range inv.Problems {
		if p.Probe == "uninstall" {
			uninstall = append(uninstall, p)
		}
	}
	if len(uninstall) != maxProblemsPerProbe+1 || uninstall[maxProblemsPerProbe].Message != "68 more problems not listed" {
		t.Errorf("uninstall problems = %d, last %+v; want %d and a summary of 68 more", len(uninstall), uninstall[len(uninstall)-1], maxProblemsPerProbe+1)
	}
}

func BenchmarkScanOffice(b *testing.B) {
	f := loadFixture(b, "office")
	cat := defaultCatalog(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Scan(context.Background(), f.h, f.reg, cat); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScan10000UninstallKeys(b *testing.B) {
	h, reg := loadMany(b, 10_000)
	cat := defaultCatalog(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Scan(context.Background(), h, reg, cat); err != nil {
			b.Fatal(err)
		}
	}
}

// TestScanEntraJoinWithoutMDM: an Entra ID join (and a leftover MDM key)
// without an active enrollment is no remote-wipe capability.
func TestScanEntraJoinWithoutMDM(t *testing.T) {
	f := loadFixture(t, "office")
	if err := f.reg.Load([]byte("REGEDIT4\n[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Enrollments\\7E1C8C5E-3B0F-4D2E-A1D6-2C7F9B4E8A10]\n")); err != nil {
		t.Fatal(err)
	}
	got := scanFixture(t, f).Posture.RemoteWipe
	want := policy.RemoteWipe{
		Capable: policy.No, Source: `HKLM\SOFTWARE\Microsoft\Enrollments`, ConsumerLock: policy.No,
		Reason: "no active MDM enrollment (stale, failed or local enrollment keys ignored); Entra ID joined, which is identity, not device management",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RemoteWipe mismatch (-want +got):\n%s", diff)
	}
}

// valuesFail makes Values of one key fail, like a key the service may not
// read.
type valuesFail struct {
	Registry
	key string
}

func (r valuesFail) Values(path string) (map[string]Value, error) {
	if strings.EqualFold(path, r.key) {
		return nil, fmt.Errorf("%s: %w", path, errors.New("Access is denied."))
	}
	return r.Registry.Values(path)
}

// TestScanUnreadableEnrollmentIsUnknown: an enrollment key that cannot be
// read might be the active one: without another active enrollment, remote
// wipe is unknown, not "no MDM".
func TestScanUnreadableEnrollmentIsUnknown(t *testing.T) {
	f := loadFixture(t, "office")
	const key = `HKLM\SOFTWARE\Microsoft\Enrollments\7E1C8C5E-3B0F-4D2E-A1D6-2C7F9B4E8A10`
	inv, err := Scan(context.Background(), f.h, valuesFail{f.reg, key}, defaultCatalog(t))
	if err != nil {
		t.Fatal(err)
	}
	got := inv.Posture.RemoteWipe
	if got.Capable != policy.Unknown || !strings.Contains(got.Reason, "MDM enrollments unreadable") || !strings.Contains(got.Reason, "Access is denied.") {
		t.Errorf("RemoteWipe = %+v; want Unknown naming the unreadable enrollment", got)
	}
	if !hasProblem(inv, "remote-wipe", "Access is denied.") {
		t.Errorf("Problems = %v; want the unreadable enrollment listed", inv.Problems)
	}
}
