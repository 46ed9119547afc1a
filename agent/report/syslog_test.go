package report

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/msgguard/msgguard/agent/config"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/report/reporttest"
	"github.com/msgguard/msgguard/policy"
)

func sampleEvent() drift.Event {
	return drift.Event{SchemaVersion: 1, ID: "4f1c9e2ab0d3c5e7f9a1b3c5d7e9f1a3", Seq: 42, Device: "3b2f9c0e", Hostname: "laptop-7",
		Time: time.Date(2025, 3, 1, 9, 30, 15, 123456789, time.UTC), Kind: drift.KindMessengerAppeared, Rule: "messenger.private-denied",
		Subject: "whatsapp", Before: "", After: "private", StatusAfter: policy.StatusFail, Severity: policy.SeverityHigh,
		Direction: drift.Away, Message: "messenger WhatsApp (private) appeared system-wide; rule messenger.private-denied: (none) → fail",
		ScanID: "1829f0a1b2c3d4e5"}
}

func TestFormatRFC5424(t *testing.T) {
	e := sampleEvent()
	got := FormatRFC5424(&e, 3, "laptop-7", "msgguard", "4242")
	want := `<27>1 2025-03-01T09:30:15.123456Z laptop-7 msgguard 4242 messenger_appeared [msgguard@32473 id="4f1c9e2ab0d3c5e7f9a1b3c5d7e9f1a3" seq="42" device="3b2f9c0e" hostname="laptop-7" kind="messenger_appeared" rule="messenger.private-denied" subject="whatsapp" after="private" status_after="fail" severity="high" direction="away" scan_id="1829f0a1b2c3d4e5"] messenger WhatsApp (private) appeared system-wide; rule messenger.private-denied: (none) → fail`
	if got != want {
		t.Errorf("FormatRFC5424 =\n%s\nwant\n%s", got, want)
	}
	// §6.3.3: '"', '\' and ']' are escaped inside values; header fields
	// with spaces or non-ASCII become valid; empty ones are NILVALUE.
	e = drift.Event{ID: "x", Kind: drift.KindBaselineAccepted, Severity: policy.SeverityMedium,
		By: `Petra "IT" \ Ops]`, Reason: "approved\nby ticket", Message: "line1\nline2"}
	got = FormatRFC5424(&e, 16, "", "my app", "")
	want = `<132>1 - - my_app - baseline [msgguard@32473 id="x" kind="baseline" severity="medium" by="Petra \"IT\" \\ Ops\]" reason="approved` + "\n" + `by ticket"] line1 line2`
	if got != want {
		t.Errorf("FormatRFC5424 escaping =\n%q\nwant\n%q", got, want)
	}
}

func FuzzEscapeSDValue(f *testing.F) {
	for _, s := range []string{"", `a"b`, `\]`, "\xff\xfe", "ok"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := escapeSDValue(s)
		// Undo the escaping: every '"', '\' and ']' must be preceded by '\'.
		var b strings.Builder
		for i := 0; i < len(got); i++ {
			c := got[i]
			if c == '\\' {
				if i+1 >= len(got) || !strings.ContainsRune("\"\\]", rune(got[i+1])) {
					t.Fatalf("dangling backslash in %q", got)
				}
				i++
				b.WriteByte(got[i])
				continue
			}
			if c == '"' || c == ']' {
				t.Fatalf("unescaped %q in %q", c, got)
			}
			b.WriteByte(c)
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); b.String() != want {
			t.Errorf("round trip %q -> %q -> %q", s, got, b.String())
		}
	})
}

// TestSyslogRsyslog delivers events to a real rsyslogd over UDP, TCP and
// TLS and checks what rsyslog parsed: the MSGID, APP-NAME, structured data
// and message text.
func TestSyslogRsyslog(t *testing.T) {
	rs := reporttest.StartRsyslog(t)
	e1 := sampleEvent()
	e2 := drift.Event{SchemaVersion: 1, ID: "b2", Seq: 43, Device: "3b2f9c0e", Time: e1.Time.Add(time.Second), Kind: drift.KindPostureChanged,
		User: "alice", Attribute: "screen_lock.idle_seconds", Before: "300", After: "900", Severity: policy.SeverityLow,
		Message: `screen_lock.idle_seconds (user alice): 300 → 900 [tricky "quote" \ and ]`}
	msgs := []Message{message(t, e1), message(t, e2)}
	nets := []struct{ network, addr string }{{"udp", rs.UDP}, {"tcp", rs.TCP}, {"tls", rs.TLS}}
	for _, n := range nets {
		t.Run(n.network, func(t *testing.T) {
			if n.addr == "" {
				t.Skip("rsyslog-openssl not installed: no TLS input")
			}
			c := config.Sink{Name: "siem-" + n.network, Type: config.SinkSyslog, Network: n.network, Address: n.addr,
				Facility: "local3", AppName: "msgguard", Timeout: 5 * time.Second}
			if n.network == "tls" {
				c.CAFile = rs.CA.CAFile
			}
			s, err := NewSyslog(c, BuildOptions{Log: zerolog.Nop(), Hostname: "laptop-7"})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got, err := s.Deliver(context.Background(), msgs); got != 2 || err != nil {
				t.Fatalf("Deliver = %d, %v", got, err)
			}
			lines := rs.WaitLines(t, 2, func(l string) bool { return strings.HasPrefix(l, n.network+"|") }, 10*time.Second)
			want := []string{
				n.network + `|155|messenger_appeared|msgguard|laptop-7|[msgguard@32473 id="4f1c9e2ab0d3c5e7f9a1b3c5d7e9f1a3" seq="42" device="3b2f9c0e" hostname="laptop-7" kind="messenger_appeared" rule="messenger.private-denied" subject="whatsapp" after="private" status_after="fail" severity="high" direction="away" scan_id="1829f0a1b2c3d4e5"]|messenger WhatsApp (private) appeared system-wide; rule messenger.private-denied: (none) → fail`,
				n.network + `|157|posture_changed|msgguard|laptop-7|[msgguard@32473 id="b2" seq="43" device="3b2f9c0e" kind="posture_changed" user="alice" attribute="screen_lock.idle_seconds" before="300" after="900" severity="low"]|screen_lock.idle_seconds (user alice): 300 → 900 [tricky "quote" \ and ]`,
			}
			if diff := cmp.Diff(want, lines); diff != "" {
				t.Errorf("rsyslog received (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("tls wrong certificate", func(t *testing.T) {
		if rs.TLS == "" {
			t.Skip("rsyslog-openssl not installed: no TLS input")
		}
		other := reporttest.NewCA(t, t.TempDir())
		s, err := NewSyslog(config.Sink{Name: "bad", Network: "tls", Address: rs.TLS, Facility: "daemon", CAFile: other.CAFile, Timeout: 5 * time.Second},
			BuildOptions{Hostname: "h"})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		n, err := s.Deliver(context.Background(), msgs)
		if n != 0 || err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
			t.Errorf("Deliver with a foreign CA = %d, %v; want 0 and an unknown-authority error", n, err)
		}
	})
}

func message(t testing.TB, e drift.Event) Message {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return Message{Event: e, JSON: b}
}
