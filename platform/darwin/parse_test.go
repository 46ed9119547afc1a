package darwin

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/msgguard/msgguard/policy"
)

func TestParseIoreg(t *testing.T) {
	got, err := parseIoreg(readTestdata(t, "commands/ioreg.txt"))
	if err != nil {
		t.Fatalf("parseIoreg() error: %v", err)
	}
	want := ioregInfo{UUID: fixtureUUID, Model: "MacBookPro17,1"}
	if got != want {
		t.Errorf("parseIoreg(ioreg.txt) = %+v; want %+v", got, want)
	}
	for _, bad := range []string{"", `"IOPlatformUUID" = "not-a-uuid"`, `"model" = <"Mac14,2">`} {
		if _, err := parseIoreg([]byte(bad)); err == nil {
			t.Errorf("parseIoreg(%q) = nil error; want an error", bad)
		}
	}
}

func TestParseUserRecord(t *testing.T) {
	tests := []struct {
		file  string
		want  policy.User
		shell string
		human bool
	}{
		{"alice", policy.User{Name: "alice", UID: "501", Home: "/Users/alice"}, "/bin/zsh", true},
		{"bob", policy.User{Name: "bob", UID: "502", Home: "/Users/bob"}, "/bin/zsh", true},
		{"root", policy.User{Name: "root", UID: "0", Home: "/var/root"}, "/bin/sh", false},
		{"nobody", policy.User{Name: "nobody", UID: "-2", Home: "/var/empty"}, "/usr/bin/false", false},
		{"_mbsetupuser", policy.User{Name: "_mbsetupuser", UID: "248", Home: "/var/setup"}, "/bin/bash", false},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got, shell, err := parseUserRecord(readTestdata(t, "mac/var/db/dslocal/nodes/Default/users/"+tc.file+".plist"))
			if err != nil {
				t.Fatalf("parseUserRecord() error: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" || shell != tc.shell {
				t.Errorf("parseUserRecord(%s) mismatch (-want +got):\n%s shell %q", tc.file, diff, shell)
			}
			if h := isHuman(got, shell); h != tc.human {
				t.Errorf("isHuman(%s) = %v; want %v", tc.file, h, tc.human)
			}
		})
	}
}

func TestIsHuman(t *testing.T) {
	tests := []struct {
		u     policy.User
		shell string
		want  bool
	}{
		{policy.User{Name: "carol", UID: "503", Home: "/Users/carol"}, "/bin/bash", true},
		{policy.User{Name: "carol", UID: "503", Home: "/Users/carol"}, "/usr/bin/false", false},
		{policy.User{Name: "carol", UID: "503", Home: "/Users/carol"}, "/sbin/nologin", false},
		{policy.User{Name: "_carol", UID: "503", Home: "/Users/carol"}, "/bin/zsh", false},
		{policy.User{Name: "carol", UID: "499", Home: "/Users/carol"}, "/bin/zsh", false},
		{policy.User{Name: "carol", UID: "x", Home: "/Users/carol"}, "/bin/zsh", false},
		{policy.User{Name: "carol", UID: "503", Home: "/var/empty"}, "/bin/zsh", false},
		{policy.User{Name: "carol", UID: "503"}, "/bin/zsh", false},
	}
	for _, tc := range tests {
		if got := isHuman(tc.u, tc.shell); got != tc.want {
			t.Errorf("isHuman(%+v, %q) = %v; want %v", tc.u, tc.shell, got, tc.want)
		}
	}
}

func TestParseDsclList(t *testing.T) {
	got := parseDsclList([]byte("alice                    501\nbob 502\n\nweird\nshared   /Users/Shared Stuff  \n"))
	want := map[string]string{"alice": "501", "bob": "502", "shared": "/Users/Shared Stuff"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseDsclList mismatch (-want +got):\n%s", diff)
	}
}

func TestParseWho(t *testing.T) {
	got := parseWho(readTestdata(t, "commands/who-alice-bob.txt"))
	if diff := cmp.Diff(map[string]bool{"alice": true, "bob": true}, got); diff != "" {
		t.Errorf("parseWho mismatch (-want +got):\n%s", diff)
	}
	if got := parseWho([]byte("carol    ttys000  Nov 27 09:03 \n")); len(got) != 0 {
		t.Errorf("parseWho(tty only) = %v; want no GUI users", got)
	}
}

func TestParsePmsetCustom(t *testing.T) {
	got, err := parsePmsetCustom(readTestdata(t, "commands/pmset-custom.txt"))
	if err != nil {
		t.Fatalf("parsePmsetCustom() error: %v", err)
	}
	if diff := cmp.Diff(pmsetCustom{"Battery Power": 2, "AC Power": 10}, got); diff != "" {
		t.Errorf("parsePmsetCustom mismatch (-want +got):\n%s", diff)
	}
	if w := got.worst(); w != 600 {
		t.Errorf("worst() = %d; want 600", w)
	}
	if w := (pmsetCustom{"AC Power": 0, "Battery Power": 2}).worst(); w != 0 {
		t.Errorf("worst(AC never) = %d; want 0 (never)", w)
	}
	for _, bad := range []string{"", "AC Power:\n displaysleep x\n", " displaysleep 5\n"} {
		if _, err := parsePmsetCustom([]byte(bad)); err == nil {
			t.Errorf("parsePmsetCustom(%q) = nil error; want an error", bad)
		}
	}
}

func TestParseScreenLockStatus(t *testing.T) {
	tests := []struct {
		in   string
		want screenLockAnswer
	}{
		{string(readTestdata(t, "commands/sysadminctl-off.txt")), screenLockAnswer{Enabled: policy.No}},
		{string(readTestdata(t, "commands/sysadminctl-immediate.txt")), screenLockAnswer{Enabled: policy.Yes, Grace: intp(0)}},
		{string(readTestdata(t, "commands/sysadminctl-5s.txt")), screenLockAnswer{Enabled: policy.Yes, Grace: intp(5)}},
		{"screenLock delay is 1 second", screenLockAnswer{Enabled: policy.Yes, Grace: intp(1)}},
		{"screenLock delay is -1.000000 seconds", screenLockAnswer{Reason: `sysadminctl reported an unrecognised delay "-1"`}},
		{string(readTestdata(t, "commands/sysadminctl-unknown-state.txt")), screenLockAnswer{Reason: "sysadminctl's answer was not recognised"}},
		{"", screenLockAnswer{Reason: "sysadminctl printed no answer"}},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, parseScreenLockStatus([]byte(tc.in))); diff != "" {
			t.Errorf("parseScreenLockStatus(%q) mismatch (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestParseManagedScreensaver(t *testing.T) {
	// Profiles deliver askForPassword as a boolean or, in older ones, 0/1.
	for _, tc := range []struct {
		in   string
		want string
	}{
		{`<plist><dict><key>askForPassword</key><true/><key>askForPasswordDelay</key><integer>5</integer><key>idleTime</key><integer>600</integer></dict></plist>`,
			"askForPassword=true askForPasswordDelay=5s idleTime=600s"},
		{`<plist><dict><key>askForPassword</key><integer>1</integer></dict></plist>`, "askForPassword=true"},
		{`<plist><dict><key>askForPassword</key><integer>0</integer><key>idleTime</key><string>1200</string></dict></plist>`,
			"askForPassword=false idleTime=1200s"},
		{`<plist><dict><key>moduleDict</key><dict/></dict></plist>`, ""},
	} {
		m, err := parseManagedScreensaver([]byte(tc.in))
		if err != nil {
			t.Fatalf("parseManagedScreensaver(%s) error: %v", tc.in, err)
		}
		if got := m.String(); got != tc.want {
			t.Errorf("parseManagedScreensaver(%s) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseEnrollmentStatus(t *testing.T) {
	tests := []struct {
		file string
		want enrollmentStatus
	}{
		{"profiles-status-enrolled.txt", enrollmentStatus{DEP: policy.Yes, MDM: policy.Yes, UserApproved: true, Server: "fleet.acme.example"}},
		{"profiles-status-enrolled-manual.txt", enrollmentStatus{DEP: policy.No, MDM: policy.Yes}},
		{"profiles-status-not-enrolled.txt", enrollmentStatus{DEP: policy.No, MDM: policy.No}},
	}
	for _, tc := range tests {
		got, err := parseEnrollmentStatus(readTestdata(t, "commands/"+tc.file))
		if err != nil {
			t.Fatalf("parseEnrollmentStatus(%s) error: %v", tc.file, err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("parseEnrollmentStatus(%s) mismatch (-want +got):\n%s", tc.file, diff)
		}
	}
	for _, bad := range []string{"", "Enrolled via DEP: Yes\n", "profiles: error\n", "Enrolled via DEP: Maybe\nMDM enrollment: Yes\n"} {
		if _, err := parseEnrollmentStatus([]byte(bad)); err == nil {
			t.Errorf("parseEnrollmentStatus(%q) = nil error; a partial answer must not read as not enrolled", bad)
		}
	}
}

func TestParseProfilesList(t *testing.T) {
	found, host, err := parseProfilesList(readTestdata(t, "commands/profiles-list-mdm.xml"))
	if err != nil || !found || host != "fleet.acme.example" {
		t.Errorf("parseProfilesList(mdm) = %v, %q, %v; want true, fleet.acme.example, nil", found, host, err)
	}
	found, host, err = parseProfilesList(readTestdata(t, "commands/profiles-list-empty.xml"))
	if err != nil || found || host != "" {
		t.Errorf("parseProfilesList(empty) = %v, %q, %v; want false, \"\", nil", found, host, err)
	}
	if _, _, err := parseProfilesList([]byte("profiles: the command is not supported")); err == nil {
		t.Error("parseProfilesList(garbage) = nil error; want an error")
	}
}

func TestURLHostDropsTokens(t *testing.T) {
	for in, want := range map[string]string{
		"https://fleet.acme.example/mdm/apple/mdm?token=SECRET": "fleet.acme.example",
		"https://user:pw@mdm.acme.example:8443/x":               "mdm.acme.example",
		"not a url": "",
		"":          "",
	} {
		if got := urlHost(in); got != want {
			t.Errorf("urlHost(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestParseFdesetupStatus(t *testing.T) {
	tests := []struct {
		file string
		want fileVaultState
	}{
		{"fdesetup-on.txt", fileVaultState{Encrypted: policy.Yes}},
		{"fdesetup-off.txt", fileVaultState{Encrypted: policy.No}},
		{"fdesetup-encrypting.txt", fileVaultState{Encrypted: policy.No, Detail: "encryption in progress (42.50% done)"}},
		{"fdesetup-pending.txt", fileVaultState{Encrypted: policy.No, Detail: "encryption in progress (pending)"}},
		{"fdesetup-decrypting.txt", fileVaultState{Encrypted: policy.No, Detail: "decryption in progress (12.0% done)"}},
		{"fdesetup-deferred.txt", fileVaultState{Encrypted: policy.No, Detail: "deferred enablement pending (turns on at the next login)"}},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, parseFdesetupStatus(readTestdata(t, "commands/"+tc.file))); diff != "" {
			t.Errorf("parseFdesetupStatus(%s) mismatch (-want +got):\n%s", tc.file, diff)
		}
	}
	if got := parseFdesetupStatus([]byte("Error: something\n")); got.Encrypted != policy.Unknown || got.Reason == "" {
		t.Errorf("parseFdesetupStatus(error text) = %+v; want unknown with a reason", got)
	}
}

func FuzzParseText(f *testing.F) {
	for _, name := range []string{"ioreg.txt", "who-alice-bob.txt", "pmset-custom.txt", "sysadminctl-5s.txt",
		"profiles-status-enrolled.txt", "fdesetup-encrypting.txt", "dscl-UniqueID.txt"} {
		f.Add(readTestdata(f, "commands/"+name))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// None of the text parsers may panic, and an answer is either
		// recognised or Unknown with a reason.
		_, _ = parseIoreg(b)
		_ = parseWho(b)
		_ = parseDsclList(b)
		if p, err := parsePmsetCustom(b); err == nil && p.worst() < 0 {
			t.Errorf("worst() < 0 for %q", b)
		}
		if a := parseScreenLockStatus(b); a.Enabled == policy.Unknown && a.Reason == "" {
			t.Errorf("parseScreenLockStatus(%q) unknown without a reason", b)
		}
		if st, err := parseEnrollmentStatus(b); err == nil && (st.DEP == policy.Unknown || st.MDM == policy.Unknown) {
			t.Errorf("parseEnrollmentStatus(%q) = %+v without error", b, st)
		}
		if st := parseFdesetupStatus(b); st.Encrypted == policy.Unknown && st.Reason == "" {
			t.Errorf("parseFdesetupStatus(%q) unknown without a reason", b)
		}
	})
}

func FuzzParseUserRecord(f *testing.F) {
	for _, u := range []string{"alice", "root", "_spotlight"} {
		f.Add(readTestdata(f, "mac/var/db/dslocal/nodes/Default/users/"+u+".plist"))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		u, _, err := parseUserRecord(b)
		if err == nil && (u.Name == "" && u.UID == "") {
			t.Errorf("parseUserRecord accepted a record without name and uid")
		}
	})
}
