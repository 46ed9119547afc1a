package android

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/msgguard/msgguard/policy"
)

// finding is the part of a policy.Finding the done-when scenario fixes.
type finding struct {
	Rule, Subject, User string
	Status              policy.Status
}

// TestDoneWhenFindings runs the phone acceptance scenario end to end through the
// shipped catalog and the default GDPR policy: the phone scanned over
// (fake) adb must yield exactly these findings.
func TestDoneWhenFindings(t *testing.T) {
	cat, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	f := loadFixture(t, "pixel7-a14-workprofile-nopin.txtar")
	inv, err := Scan(context.Background(), fakeFor(f), f.ID, cat, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fs := policy.Evaluate(policy.Default(), inv, policy.EvalOptions{Now: time.Unix(1700000000, 0)})
	var got []finding
	for _, x := range fs {
		got = append(got, finding{x.Rule, x.Subject, x.User, x.Status})
		t.Logf("%s %s %s %s: %s", x.Status, x.Rule, x.Subject, x.User, x.Message)
	}
	want := []finding{
		{"contacts.whatsapp", "whatsapp", "user 0", policy.StatusFail},
		{"contacts.whatsapp-business", "whatsapp-business", "user 10", policy.StatusPass},
		// Encrypted, but no credential protects the keys (Protected No).
		{"disk-encryption", "data", "", policy.StatusFail},
		{"messenger.discord", "discord", "", policy.StatusPass},
		{"messenger.facebook-messenger", "facebook-messenger", "", policy.StatusPass},
		{"messenger.instagram", "instagram", "", policy.StatusPass},
		{"messenger.skype", "skype", "", policy.StatusPass},
		{"messenger.teams-personal", "teams-personal", "", policy.StatusPass},
		{"messenger.wechat", "wechat", "", policy.StatusPass},
		{"messenger.whatsapp", "whatsapp", "user 0", policy.StatusFail},
		{"messenger.whatsapp-business", "whatsapp-business", "user 10", policy.StatusUnknown},
		// Only the work profile's owner can wipe; the default policy
		// accepts that (accept_work_profile: true).
		{"remote-wipe", "device", "", policy.StatusPass},
		{"screen-lock", "", "user 0", policy.StatusFail},
		{"screen-lock", "", "user 10", policy.StatusFail},
		{"separation.whatsapp", "device", "", policy.StatusFail},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

// TestDoneWhenRemoteWipeStrict: a policy that wants the whole phone
// wipeable fails the same phone, whose MDM owns only the work profile.
func TestDoneWhenRemoteWipeStrict(t *testing.T) {
	p, err := policy.Load("strict.yaml", []byte("version: 1\nname: strict\nposture:\n  remote_wipe:\n    required: true\n    accept_work_profile: false\n"))
	if err != nil {
		t.Fatal(err)
	}
	f := loadFixture(t, "pixel7-a14-workprofile-nopin.txtar")
	inv, err := Scan(context.Background(), fakeFor(f), f.ID, testCatalog(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range policy.Evaluate(p, inv, policy.EvalOptions{Now: time.Unix(1700000000, 0)}) {
		if x.Rule == policy.RuleRemoteWipe && x.Status != policy.StatusFail {
			t.Errorf("remote-wipe = %s: %s", x.Status, x.Message)
		}
	}
}
