package report

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/msgguard/msgguard/agent/config"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/policy"
)

// SDID is the structured-data element id of our events. RFC 5424 §7.2.2
// requires private SD-IDs to carry an IANA Private Enterprise Number;
// msgguard has none, so it uses 32473, the number RFC 5612 reserves for
// documentation and examples. Collectors match on "msgguard@32473".
const SDID = "msgguard@32473"

// maxUDPMessage keeps a datagram within what RFC 5426 §3.2 says every
// receiver SHOULD accept (2048 octets).
const maxUDPMessage = 2048

// maxParamValue caps each structured-data value so that one event stays
// well below rsyslog's default 8 KiB maxMessageSize.
const maxParamValue = 512

// Syslog sends RFC 5424 messages over UDP (RFC 5426), TCP with octet
// counting (RFC 6587 §3.4.1) or TLS (RFC 5425, also octet-counted). TCP and
// TLS acknowledge nothing at the application level, so an event counts as
// delivered once the kernel accepted it; a connection that breaks after
// that can lose what was in flight (use the webhook where that matters).
type Syslog struct {
	name     string
	network  string
	address  string
	facility int
	appName  string
	hostname string
	procID   string
	timeout  time.Duration
	tls      *tls.Config
	dialer   *net.Dialer

	mu   sync.Mutex
	conn net.Conn
}

// NewSyslog builds a syslog sink from its configuration.
func NewSyslog(c config.Sink, o BuildOptions) (*Syslog, error) {
	fac, ok := config.SyslogFacility(c.Facility)
	if !ok {
		return nil, fmt.Errorf("unknown facility %q", c.Facility)
	}
	s := &Syslog{name: c.Name, network: c.Network, address: c.Address, facility: fac, appName: c.AppName,
		hostname: syslogHostname(o.Hostname), procID: strconv.Itoa(os.Getpid()), timeout: c.Timeout,
		dialer: &net.Dialer{Timeout: c.Timeout, Resolver: o.Resolver}}
	if s.appName == "" {
		s.appName = "msgguard"
	}
	if s.timeout <= 0 {
		s.timeout = 10 * time.Second
		s.dialer.Timeout = s.timeout
	}
	if c.Network == "tls" {
		host, _, err := net.SplitHostPort(c.Address)
		if err != nil {
			return nil, fmt.Errorf("address %q: %w", c.Address, err)
		}
		if s.tls, err = tlsConfig(c, host); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Name implements EventSink.
func (s *Syslog) Name() string { return s.name }

// BatchSize implements EventSink.
func (s *Syslog) BatchSize() int { return 100 }

// Deliver writes each message; on a write error the connection is closed
// and redialled at the next attempt.
func (s *Syslog) Deliver(ctx context.Context, msgs []Message) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.connect(ctx); err != nil {
		return 0, err
	}
	deadline := time.Now().Add(s.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = s.conn.SetWriteDeadline(deadline)
	for i, m := range msgs {
		line := FormatRFC5424(&m.Event, s.facility, s.hostname, s.appName, s.procID)
		var frame []byte
		if s.network == "udp" {
			if over := len(line) - maxUDPMessage; over > 0 {
				// Shorten the free text, never the structured data.
				e := m.Event
				e.Message = truncateUTF8(e.Message, max(len(e.Message)-over-3, 0)) + "..."
				line = FormatRFC5424(&e, s.facility, s.hostname, s.appName, s.procID)
			}
			frame = []byte(line)
		} else {
			frame = append(strconv.AppendInt(nil, int64(len(line)), 10), ' ')
			frame = append(frame, line...)
		}
		if _, err := s.conn.Write(frame); err != nil {
			s.conn.Close()
			s.conn = nil
			return i, fmt.Errorf("syslog %s %s: %w", s.network, s.address, err)
		}
	}
	return len(msgs), nil
}

func (s *Syslog) connect(ctx context.Context) error {
	if s.conn != nil {
		return nil
	}
	network := s.network
	if network == "tls" {
		network = "tcp"
	}
	conn, err := s.dialer.DialContext(ctx, network, s.address)
	if err != nil {
		return fmt.Errorf("syslog %s %s: %w", s.network, s.address, err)
	}
	if s.tls != nil {
		tc := tls.Client(conn, s.tls)
		hctx, cancel := context.WithTimeout(ctx, s.timeout)
		defer cancel()
		if err := tc.HandshakeContext(hctx); err != nil {
			conn.Close()
			return fmt.Errorf("syslog tls %s: %w", s.address, err)
		}
		conn = tc
	}
	s.conn = conn
	return nil
}

// Close implements EventSink.
func (s *Syslog) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// syslogSeverity maps event severity to RFC 5424 §6.2.1 severities.
func syslogSeverity(s policy.Severity) int {
	switch s {
	case policy.SeverityCritical:
		return 2 // Critical
	case policy.SeverityHigh:
		return 3 // Error
	case policy.SeverityMedium:
		return 4 // Warning
	case policy.SeverityLow:
		return 5 // Notice
	}
	return 6 // Informational
}

// FormatRFC5424 renders one event as an RFC 5424 message:
//
//	<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [msgguard@32473 k="v" ...] MSG
//
// MSGID is the event kind; the structured data carries the event fields;
// MSG is the human-readable sentence (UTF-8, without BOM, i.e. MSG-ANY).
func FormatRFC5424(e *drift.Event, facility int, hostname, appName, procID string) string {
	var b strings.Builder
	b.Grow(512)
	b.WriteByte('<')
	b.WriteString(strconv.Itoa(facility*8 + syslogSeverity(e.Severity)))
	b.WriteString(">1 ")
	ts := e.Time
	if ts.IsZero() {
		b.WriteString("-")
	} else {
		// TIME-SECFRAC allows at most 6 digits (§6.2.3).
		b.WriteString(ts.UTC().Format("2006-01-02T15:04:05.000000Z07:00"))
	}
	b.WriteByte(' ')
	b.WriteString(headerField(hostname, 255))
	b.WriteByte(' ')
	b.WriteString(headerField(appName, 48))
	b.WriteByte(' ')
	b.WriteString(headerField(procID, 128))
	b.WriteByte(' ')
	b.WriteString(headerField(string(e.Kind), 32))
	b.WriteString(" [")
	b.WriteString(SDID)
	for _, p := range sdParams(e) {
		if p[1] == "" {
			continue
		}
		b.WriteByte(' ')
		b.WriteString(p[0])
		b.WriteString(`="`)
		b.WriteString(escapeSDValue(truncateUTF8(p[1], maxParamValue)))
		b.WriteByte('"')
	}
	b.WriteString("] ")
	b.WriteString(strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, e.Message))
	return b.String()
}

// sdParams lists the event fields as PARAM-NAME/value pairs (names are
// fixed ASCII, at most 32 characters, §6.3.3).
func sdParams(e *drift.Event) [][2]string {
	p := [][2]string{
		{"id", e.ID},
		{"seq", strconv.FormatUint(e.Seq, 10)},
		{"device", e.Device},
		{"hostname", e.Hostname},
		{"kind", string(e.Kind)},
		{"rule", e.Rule},
		{"subject", e.Subject},
		{"user", e.User},
		{"attribute", e.Attribute},
		{"before", e.Before},
		{"after", e.After},
		{"status_before", string(e.StatusBefore)},
		{"status_after", string(e.StatusAfter)},
		{"severity", string(e.Severity)},
		{"direction", string(e.Direction)},
		{"checksum", e.Checksum},
		{"by", e.By},
		{"reason", e.Reason},
		{"scan_id", e.ScanID},
	}
	if e.Seq == 0 {
		p[1][1] = ""
	}
	if e.Compliant != nil {
		p = append(p, [2]string{"compliant", strconv.FormatBool(*e.Compliant)})
	}
	if e.Count > 0 {
		p = append(p, [2]string{"count", strconv.Itoa(e.Count)})
	}
	return p
}

// escapeSDValue escapes '"', '\' and ']' with a backslash, as RFC 5424
// §6.3.3 requires inside PARAM-VALUE, and replaces invalid UTF-8.
func escapeSDValue(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if !strings.ContainsAny(s, "\"\\]") {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r == '"' || r == '\\' || r == ']' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// headerField makes a header field valid: PRINTUSASCII without spaces,
// bounded length, "-" (NILVALUE) when empty.
func headerField(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 33 || r > 126 {
			return '_'
		}
		return r
	}, s)
	if len(s) > n {
		s = s[:n]
	}
	if s == "" {
		return "-"
	}
	return s
}

func syslogHostname(h string) string {
	if h == "" {
		h, _ = os.Hostname()
	}
	return headerField(h, 255)
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
