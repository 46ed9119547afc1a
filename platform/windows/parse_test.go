package windows

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

func i64(n int64) *int64    { return &n }
func strp(s string) *string { return &s }

func TestParseBitLocker(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []blVolume
	}{
		{"empty output", "", nil},
		{"empty array", "[]\r\n", []blVolume{}},
		{
			name: "single object (unwrapped array)",
			in:   "\xef\xbb\xbf{\"DeviceID\":\"\\\\\\\\?\\\\Volume{1}\\\\\",\"DriveLetter\":\"C:\",\"VolumeType\":0,\"ProtectionStatus\":1,\"ProtectionReturn\":0,\"ConversionStatus\":1,\"EncryptionPercentage\":100,\"ConversionReturn\":0}",
			want: []blVolume{{DeviceID: `\\?\Volume{1}\`, DriveLetter: strp("C:"), VolumeType: i64(0), ProtectionStatus: i64(1), ProtectionReturn: i64(0),
				ConversionStatus: i64(1), EncryptionPercentage: i64(100), ConversionReturn: i64(0)}},
		},
		{
			name: "method that threw",
			in:   `[{"DeviceID":"x","DriveLetter":null,"VolumeType":1,"ProtectionStatus":2,"ProtectionReturn":0,"ConversionError":-2144272384}]`,
			want: []blVolume{{DeviceID: "x", VolumeType: i64(1), ProtectionStatus: i64(2), ProtectionReturn: i64(0), ConversionError: i64(-2144272384)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseBitLocker([]byte(tt.in))
			if err != nil {
				t.Fatalf("parseBitLocker() error: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseBitLocker() mismatch (-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{"Get-CimInstance : Invalid namespace", `[{"VolumeType":"zero"}]`, "[{"} {
		if _, err := parseBitLocker([]byte(bad)); err == nil {
			t.Errorf("parseBitLocker(%q) succeeded; want an error", bad)
		}
	}
}

func FuzzParseBitLocker(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/bitlocker.json")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"DriveLetter":"C:","VolumeType":0,"ConversionStatus":9}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		vols, err := parseBitLocker(b)
		if err != nil {
			return
		}
		for _, v := range volumes(vols) {
			if v.Encrypted == policy.No && v.Protected == policy.Yes {
				t.Fatalf("volume %+v is protected but not encrypted", v)
			}
			if v.Mount == "" {
				t.Fatalf("volume %+v has no mount", v)
			}
		}
	})
}

func TestVolumes(t *testing.T) {
	vol := func(letter string, vt, ps, cs int64) blVolume {
		return blVolume{DeviceID: "d", DriveLetter: strp(letter), VolumeType: i64(vt), ProtectionStatus: i64(ps), ProtectionReturn: i64(0),
			ConversionStatus: i64(cs), EncryptionPercentage: i64(100), ConversionReturn: i64(0)}
	}
	failed := vol("C:", 0, 1, 1)
	failed.ConversionReturn = i64(0x80310000)
	noVT := vol("G:", 0, 1, 1)
	noVT.VolumeType = nil
	odd := vol("C:", 0, 1, 10)
	encrypting := vol("C:", 0, 1, 2)
	encrypting.EncryptionPercentage = nil
	paused := vol("C:", 0, 0, 4)
	paused.EncryptionPercentage = i64(12)
	tests := []struct {
		name string
		in   blVolume
		want []policy.Volume
	}{
		{"encrypted and protected", vol("C:", 0, 1, 1), []policy.Volume{{Mount: "C:", Device: "d", Encrypted: policy.Yes, Protected: policy.Yes, Method: "BitLocker", Source: blSrc}}},
		{"decrypted", vol("C:", 0, 0, 0), []policy.Volume{{Mount: "C:", Device: "d", Encrypted: policy.No, Protected: policy.No, Source: blSrc}}},
		{"conversion failed", failed, []policy.Volume{{Mount: "C:", Device: "d", Protected: policy.Yes, Source: blSrc, Reason: "GetConversionStatus failed (0x80310000)"}}},
		{"paused", paused, []policy.Volume{{Mount: "C:", Device: "d", Encrypted: policy.No, Protected: policy.No, Method: "BitLocker", Source: blSrc,
			Reason: "partially encrypted: encryption paused, 12% encrypted"}}},
		{"encrypting with protectors on", encrypting, []policy.Volume{{Mount: "C:", Device: "d", Encrypted: policy.No, Protected: policy.No, Method: "BitLocker", Source: blSrc,
			Reason: "partially encrypted: encryption in progress"}}},
		{"unknown conversion status", odd, []policy.Volume{{Mount: "C:", Device: "d", Protected: policy.Yes, Source: blSrc, Reason: "unknown conversion status 10"}}},
		{"portable volume skipped", vol("E:", 2, 1, 1), nil},
		{"letterless data volume skipped", vol("", 1, 1, 1), nil},
		{"letterless OS volume kept by device", vol("", 0, 1, 1), []policy.Volume{{Mount: "d", Device: "d", Encrypted: policy.Yes, Protected: policy.Yes, Method: "BitLocker", Source: blSrc}}},
		{"old Windows without VolumeType", noVT, []policy.Volume{{Mount: "G:", Device: "d", Encrypted: policy.Yes, Protected: policy.Yes, Method: "BitLocker", Source: blSrc}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, volumes([]blVolume{tt.in})); diff != "" {
				t.Errorf("volumes() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParsePackageFullName(t *testing.T) {
	tests := []struct {
		in     string
		want   packageID
		wantOK bool
	}{
		{"5319275A.WhatsAppDesktop_2.2428.10.0_x64__cv1g1gvanyjgm", packageID{"5319275A.WhatsAppDesktop", "2.2428.10.0", "x64", "", "cv1g1gvanyjgm"}, true},
		{"Microsoft.XboxGameOverlay_1.41.24001.0_neutral_~_8wekyb3d8bbwe", packageID{"Microsoft.XboxGameOverlay", "1.41.24001.0", "neutral", "~", "8wekyb3d8bbwe"}, true},
		{"MSTeams_8wekyb3d8bbwe", packageID{}, false}, // a family name, not a full name
		{"a_b_c_d_e_f", packageID{}, false},
		{"", packageID{}, false},
	}
	for _, tt := range tests {
		got, ok := parsePackageFullName(tt.in)
		if ok != tt.wantOK || got != tt.want {
			t.Errorf("parsePackageFullName(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
		if ok && got.family() == "" {
			t.Errorf("family of %q is empty", tt.in)
		}
	}
}

func FuzzParsePackageFullName(f *testing.F) {
	f.Add("MSTeams_24215.1007.3082.1590_x64__8wekyb3d8bbwe")
	f.Add("a_b_c_~_e")
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := parsePackageFullName(s)
		if !ok {
			return
		}
		if id.name+"_"+id.version+"_"+id.arch+"_"+id.resourceID+"_"+id.publisherID != s {
			t.Fatalf("parsePackageFullName(%q) = %+v does not rebuild the input", s, id)
		}
	})
}

func TestHumanSID(t *testing.T) {
	tests := map[string]bool{
		"S-1-5-21-3623811015-3361044348-30300820-1001":         true,
		"S-1-12-1-1134101088-1151655155-3051483063-1663312217": true,
		"S-1-5-18": false, "S-1-5-19": false, "S-1-5-20": false,
		"S-1-5-21-3623811015-3361044348-30300820-1003.bak": false,
		"S-1-5-21-": false, "S-1-5-21-1--2": false, ".DEFAULT": false,
		"S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464": false, // a service SID
	}
	for sid, want := range tests {
		if got := humanSID(sid); got != want {
			t.Errorf("humanSID(%q) = %v; want %v", sid, got, want)
		}
	}
}

func TestScreenSaverDecide(t *testing.T) {
	sz := func(kv ...string) map[string]Value {
		m := map[string]Value{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = Value{Type: REG_SZ, String: kv[i+1]}
		}
		return m
	}
	locking := sz("ScreenSaveActive", "1", "ScreenSaverIsSecure", "1", "ScreenSaveTimeOut", "600", "SCRNSAVE.EXE", `C:\x.scr`)
	tests := []struct {
		name       string
		user, pol  map[string]Value
		wantState  policy.Tri
		wantIdle   int
		wantReason string
	}{
		{"locks", locking, nil, policy.Yes, 600, ""},
		{"fresh profile: no screen saver", sz("ScreenSaveActive", "1", "ScreenSaveTimeOut", "900"), nil, policy.No, 0,
			"screen saver does not lock: ScreenSaverIsSecure=not set, no screen saver selected (SCRNSAVE.EXE not set)"},
		{"not secure", sz("ScreenSaveActive", "1", "ScreenSaverIsSecure", "0", "ScreenSaveTimeOut", "600", "SCRNSAVE.EXE", "x"), nil, policy.No, 0,
			"screen saver does not lock: ScreenSaverIsSecure=0"},
		{"timeout zero", sz("ScreenSaveActive", "1", "ScreenSaverIsSecure", "1", "ScreenSaveTimeOut", "0", "SCRNSAVE.EXE", "x"), nil, policy.No, 0,
			"screen saver does not lock: ScreenSaveTimeOut=0"},
		{"policy disables", locking, sz("ScreenSaveActive", "0"), policy.No, 0, "screen saver does not lock: ScreenSaveActive=0"},
		{"policy enables", sz("ScreenSaverIsSecure", "0", "SCRNSAVE.EXE", "x"), sz("ScreenSaveActive", "1", "ScreenSaverIsSecure", "1", "ScreenSaveTimeOut", "120"), policy.Yes, 120, ""},
		{"active not set", sz("ScreenSaverIsSecure", "1", "ScreenSaveTimeOut", "600", "SCRNSAVE.EXE", "x"), nil, policy.Unknown, 0, "screen saver: ScreenSaveActive not set"},
		{"timeout not a number", sz("ScreenSaveActive", "1", "ScreenSaverIsSecure", "1", "ScreenSaveTimeOut", "ten", "SCRNSAVE.EXE", "x"), nil, policy.Unknown, 0,
			"screen saver: ScreenSaveTimeOut is not a number"},
		{"timeout as REG_DWORD", map[string]Value{"ScreenSaveActive": {Type: REG_SZ, String: "1"}, "ScreenSaverIsSecure": {Type: REG_SZ, String: "1"},
			"ScreenSaveTimeOut": {Type: REG_DWORD, Int: 600}, "SCRNSAVE.EXE": {Type: REG_SZ, String: "x"}}, nil, policy.Unknown, 0,
			"screen saver: ScreenSaveTimeOut has an unexpected type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := 0
			ss := screenSaver{user: tt.user, pol: tt.pol, userKey: "U", polKey: "P"}
			got := ss.decide(func(error, string) { bad++ })
			if got.state != tt.wantState || got.idle != tt.wantIdle || got.reason != tt.wantReason {
				t.Errorf("decide() = %v, %d, %q; want %v, %d, %q", got.state, got.idle, got.reason, tt.wantState, tt.wantIdle, tt.wantReason)
			}
			if tt.name == "timeout as REG_DWORD" && bad != 1 {
				t.Errorf("decide() reported %d problems; want 1 for the REG_DWORD", bad)
			}
		})
	}
}

func TestIsGUID(t *testing.T) {
	for s, want := range map[string]bool{
		"7E1C8C5E-3B0F-4D2E-A1D6-2C7F9B4E8A10":   true,
		"{7e1c8c5e-3b0f-4d2e-a1d6-2c7f9b4e8a10}": true,
		"Context":                                false, "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFG": false,
		"7E1C8C5E33B0F-4D2E-A1D6-2C7F9B4E8A10": false,
	} {
		if got := isGUID(s); got != want {
			t.Errorf("isGUID(%q) = %v; want %v", s, got, want)
		}
	}
}

// TestMessengerVersionIsCleaned: an HKCU uninstall key is the user's to
// write; its DisplayVersion enters the inventory capped and without control
// characters.
func TestMessengerVersionIsCleaned(t *testing.T) {
	e := &policy.CatalogEntry{ID: "signal", Name: "Signal"}
	got := messenger(e, sourceUninstall, "alice", "7.45.1\r\n"+strings.Repeat("9", 70000), `HKU\S-1\x`).Version
	if len(got) != platform.MaxVersionLen || !strings.HasPrefix(got, "7.45.1999") {
		t.Errorf("Version = %q (%d bytes); want 7.45.1 and nines, capped at %d bytes", got, len(got), platform.MaxVersionLen)
	}
}
