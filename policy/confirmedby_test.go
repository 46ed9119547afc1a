package policy

import (
	"strings"
	"testing"
)

// TestConfirmedBy: the default policy links Telegram's condition to its two
// attestations; a confirmed_by naming an unknown attestation, or on a
// decision that has no condition, is a load error at its line.
func TestConfirmedBy(t *testing.T) {
	p := Default()
	var ids []string
	for _, a := range p.ConditionAttestations("telegram") {
		ids = append(ids, a.ID)
	}
	if got := strings.Join(ids, ","); got != "telegram.secret-chats-only,telegram.contact-sync-off" {
		t.Errorf("ConditionAttestations(telegram) = %s", got)
	}
	if got := p.ConditionAttestations("whatsapp"); got != nil {
		t.Errorf("ConditionAttestations(whatsapp) = %v; want nil (denied)", got)
	}
	y := string(DefaultYAML())
	for _, tt := range []struct{ old, new, want string }{
		{"confirmed_by: [telegram.secret-chats-only, telegram.contact-sync-off]", "confirmed_by: [telegram.secret-chats-only, telegram.contactsync-off]",
			`: messengers.telegram.confirmed_by[1]: unknown attestation "telegram.contactsync-off"`},
		{"  threema:\n    decision: allow\n", "  threema:\n    decision: allow\n    confirmed_by: [telegram.secret-chats-only]\n",
			": messengers.threema.confirmed_by: only a conditional decision has a condition to confirm (decision is allow)"},
	} {
		if !strings.Contains(y, tt.old) {
			t.Fatalf("default.yaml lacks %q", tt.old)
		}
		_, err := Load("p.yaml", []byte(strings.Replace(y, tt.old, tt.new, 1)))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load = %v; want %q", err, tt.want)
		}
	}
}
