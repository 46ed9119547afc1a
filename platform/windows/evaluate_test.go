package windows

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/msgguard/msgguard/policy"
)

type findingKey struct {
	Rule, Subject, User string
	Status              policy.Status
	Severity            policy.Severity
}

// TestFixtureFindings is the done-when check: each fixture machine
// evaluated with the embedded default policy yields exactly these findings.
// Messages belong to the policy package; rule, subject, user, status and
// severity are compared exactly, and the evidence of selected findings in
// full.
func TestFixtureFindings(t *testing.T) {
	tests := []struct {
		name         string
		prepare      func(fixture)
		want         []findingKey
		wantEvidence map[string][]policy.Evidence
	}{
		{
			name: "office",
			want: []findingKey{
				{"disk-encryption", "C:", "", policy.StatusPass, policy.SeverityHigh},
				{"disk-encryption", "D:", "", policy.StatusFail, policy.SeverityHigh}, // encrypted, protection suspended
				{"messenger.discord", "discord", "", policy.StatusPass, policy.SeverityMedium},
				{"messenger.facebook-messenger", "facebook-messenger", "", policy.StatusPass, policy.SeverityHigh},
				{"messenger.instagram", "instagram", "", policy.StatusPass, policy.SeverityHigh},
				{"messenger.signal", "signal", "alice", policy.StatusPass, policy.SeverityInfo},
				{"messenger.signal", "signal", "bob", policy.StatusPass, policy.SeverityInfo},
				{"messenger.skype", "skype", "", policy.StatusPass, policy.SeverityHigh},
				{"messenger.teams", "teams", "", policy.StatusPass, policy.SeverityInfo},
				{"messenger.teams", "teams", "alice", policy.StatusPass, policy.SeverityInfo},
				{"messenger.teams-personal", "teams-personal", "bob", policy.StatusFail, policy.SeverityMedium},
				{"messenger.telegram", "telegram", "", policy.StatusUnknown, policy.SeverityMedium},
				{"messenger.telegram", "telegram", "bob", policy.StatusUnknown, policy.SeverityMedium},
				{"messenger.wechat", "wechat", "", policy.StatusPass, policy.SeverityMedium},
				{"messenger.whatsapp", "whatsapp", "alice", policy.StatusFail, policy.SeverityHigh},
				{"remote-wipe", "device", "", policy.StatusPass, policy.SeverityMedium},
				{"screen-lock", "", "alice", policy.StatusPass, policy.SeverityHigh},
				{"screen-lock", "", "bob", policy.StatusFail, policy.SeverityHigh}, // 900 s > 300 s
				{"separation.whatsapp", "device", "", policy.StatusPass, policy.SeverityHigh},
			},
			wantEvidence: map[string][]policy.Evidence{
				"messenger.teams-personal|teams-personal|bob": {{Source: "msix", Location: `C:\Users\bob\AppData\Local\Packages\MicrosoftTeams_8wekyb3d8bbwe`}},
				"messenger.whatsapp|whatsapp|alice":           {{Source: "msix", Location: `C:\Users\alice\AppData\Local\Packages\5319275A.WhatsAppDesktop_cv1g1gvanyjgm`}},
				"remote-wipe|device|": {{Source: "remote-wipe", Location: `HKLM\SOFTWARE\Microsoft\Enrollments\7E1C8C5E-3B0F-4D2E-A1D6-2C7F9B4E8A10`,
					Detail: "Microsoft Intune device"}},
			},
		},
		{
			name:    "home",
			prepare: func(f fixture) { f.reg.AddHiveError(`C:\Users\dave\NTUSER.DAT`, errSharingViolation) },
			want: []findingKey{
				{"disk-encryption", "C:", "", policy.StatusFail, policy.SeverityHigh}, // still encrypting
				{"disk-encryption", "F:", "", policy.StatusPass, policy.SeverityHigh}, // locked data volume
				{"messenger.discord", "discord", "", policy.StatusPass, policy.SeverityMedium},
				{"messenger.facebook-messenger", "facebook-messenger", "", policy.StatusPass, policy.SeverityHigh},
				{"messenger.instagram", "instagram", "", policy.StatusPass, policy.SeverityHigh},
				{"messenger.signal", "signal", "dave", policy.StatusPass, policy.SeverityInfo},
				{"messenger.skype", "skype", "", policy.StatusFail, policy.SeverityHigh},
				{"messenger.skype", "skype", "carol", policy.StatusFail, policy.SeverityHigh},
				{"messenger.teams-personal", "teams-personal", "", policy.StatusPass, policy.SeverityMedium},
				{"messenger.telegram", "telegram", "carol", policy.StatusUnknown, policy.SeverityMedium},
				{"messenger.wechat", "wechat", "", policy.StatusPass, policy.SeverityMedium},
				{"messenger.whatsapp", "whatsapp", "dave", policy.StatusFail, policy.SeverityHigh},
				{"remote-wipe", "device", "", policy.StatusFail, policy.SeverityMedium}, // stale enrollments only
				{"screen-lock", "", "carol", policy.StatusFail, policy.SeverityHigh},    // sign-in on wake: never
				{"screen-lock", "", "dave", policy.StatusUnknown, policy.SeverityHigh},  // hive unreadable
				{"separation.whatsapp", "device", "", policy.StatusPass, policy.SeverityHigh},
			},
			wantEvidence: map[string][]policy.Evidence{
				"messenger.skype|skype|": {{Source: "uninstall", Location: `HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\Skype_is1`}},
				"remote-wipe|device|":    {{Source: "remote-wipe", Location: `HKLM\SOFTWARE\Microsoft\Enrollments`}},
			},
		},
	}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := loadFixture(t, tt.name)
			if tt.prepare != nil {
				tt.prepare(f)
			}
			inv := scanFixture(t, f)
			got := policy.Evaluate(policy.Default(), inv, policy.EvalOptions{Now: now, Lang: "en"})
			var keys []findingKey
			for _, fd := range got {
				keys = append(keys, findingKey{fd.Rule, fd.Subject, fd.User, fd.Status, fd.Severity})
			}
			if diff := cmp.Diff(tt.want, keys); diff != "" {
				t.Errorf("findings mismatch (-want +got):\n%s", diff)
			}
			for _, fd := range got {
				w, ok := tt.wantEvidence[fd.Key()]
				if !ok {
					continue
				}
				// Remote-wipe evidence is compared in full (provider and scope
				// are in Detail); messenger details are the policy's wording.
				var opts []cmp.Option
				if fd.Rule != policy.RuleRemoteWipe {
					opts = append(opts, cmpopts.IgnoreFields(policy.Evidence{}, "Detail"))
				}
				if diff := cmp.Diff(w, fd.Evidence, opts...); diff != "" {
					t.Errorf("evidence of %s mismatch (-want +got):\n%s", fd.Key(), diff)
				}
			}
		})
	}
}
