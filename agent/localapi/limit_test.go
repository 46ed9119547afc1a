//go:build linux || darwin

package localapi

import (
	"bufio"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// TestConnectionLimits: one account's connections beyond its share wait,
// beyond the waiting room are answered 503 at once, and an administrator
// is served however many the others hold.
func TestConnectionLimits(t *testing.T) {
	b := &fakeBackend{report: sampleReport()}
	var seq atomic.Int32
	// Connections are accepted in the order they were made: the first
	// six are uid 1000's, the rest root's.
	uids := []int{1000, 1000, 1000, 1000, 1000, 1000}
	sock, _ := startServerWith(t, b, &Peer{UID: 1000, User: "alice"}, func(s *Server) {
		s.limits = Limits{PerUser: 2, Global: 3, PerUserQueue: 2, GlobalQueue: 4, QueueWait: 10 * time.Second}
		s.uidOf = func(net.Conn) (int, bool) {
			n := int(seq.Add(1)) - 1
			if n < len(uids) {
				return uids[n], true
			}
			return 0, true
		}
	})
	var conns []net.Conn
	for range len(uids) + 2 {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		conns = append(conns, c)
	}
	got := make([]int, len(conns))
	for i, c := range conns {
		got[i] = probe(t, c)
	}
	// 2 served, 2 waiting (no answer yet), 2 refused; then root twice.
	want := []int{200, 200, 0, 0, 503, 503, 200, 200}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("connection %d: answer %d; want %d (all: %v)", i, got[i], want[i], got)
		}
	}
	// A served connection closing lets one waiting connection in.
	conns[0].Close()
	answers := make(chan int, 2)
	for _, c := range conns[2:4] {
		go func() {
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			answers <- readStatus(c)
		}()
	}
	if a, b := <-answers, <-answers; a+b != 200 {
		t.Errorf("waiting connections after one slot freed: %d and %d; want one 200", a, b)
	}
}

// probe sends a health request on c and returns the status code, or 0 when
// no answer came within 300 ms. A refused connection's 503 arrives
// whatever was sent.
func probe(t *testing.T, c net.Conn) int {
	t.Helper()
	c.SetWriteDeadline(time.Now().Add(time.Second))
	c.Write([]byte("GET " + PathHealth + " HTTP/1.1\r\nHost: " + Host + "\r\n\r\n"))
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	return readStatus(c)
}

func readStatus(c net.Conn) int {
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestIdleConnectionsClosed: a connection that sends no request is closed
// after the read-header timeout, freeing its slot.
func TestHeaderLimits(t *testing.T) {
	b := &fakeBackend{report: sampleReport()}
	sock, s := startServer(t, b, &Peer{UID: 1000, User: "alice"})
	if s.srv.ReadHeaderTimeout <= 0 || s.srv.ReadHeaderTimeout > 10*time.Second || s.srv.IdleTimeout <= 0 || s.srv.IdleTimeout > time.Minute {
		t.Errorf("timeouts: read header %v, idle %v", s.srv.ReadHeaderTimeout, s.srv.IdleTimeout)
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	big := make([]byte, 64<<10)
	for i := range big {
		big[i] = 'a'
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("GET " + PathHealth + " HTTP/1.1\r\nHost: " + Host + "\r\nX-Big: "))
	c.Write(big)
	c.Write([]byte("\r\n\r\n"))
	if code := readStatus(c); code != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("64 KB header: %d; want 431", code)
	}
}
