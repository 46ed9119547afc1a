package localapi

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// Limits bound what local users can make the service hold. Every local
// user may connect to the socket (it is 0666; requests are authorized per
// request), so without a bound any account could open thousands of idle
// connections, each costing a goroutine and its buffers, until the service
// manager's memory limit kills the agent. Administrators (root) are never
// limited or queued: the flood of another account must not lock IT out.
//
// A connection over its account's share waits (holding only its file
// descriptor and one small goroutine) until a slot frees or QueueWait
// passes; once the waiting room is full too it is answered 503 at once and
// closed.
type Limits struct {
	// PerUser is the most connections one non-administrator account may
	// have served at once; Global the most all of them together.
	PerUser, Global int
	// PerUserQueue and GlobalQueue bound the connections waiting for a
	// slot, per account and in all.
	PerUserQueue, GlobalQueue int
	// QueueWait is how long a connection waits for a slot.
	QueueWait time.Duration
}

// DefaultLimits are the service's limits. The CLI's client uses at most
// clientConns connections, so an `agent status` never waits on its own.
var DefaultLimits = Limits{PerUser: 16, Global: 64, PerUserQueue: 32, GlobalQueue: 128, QueueWait: 5 * time.Second}

// Timeouts and sizes of the HTTP server. A connection that sends nothing
// is closed after readHeaderTimeout; a kept-alive one after idleTimeout.
// There is deliberately no ReadTimeout: net/http's background read would
// hit it while a POST /v1/scan waits for its scan and cancel the request's
// context; bodies are small and capped (maxRecordBody) and a slow one only
// holds its own account's slot. The header timeout is generous because a
// busy client (a thousand `agent status` runs at once on two cores) can
// write its request seconds after its connect was accepted, and closing it
// then fails a legitimate request with a broken pipe; what bounds a flood's
// memory is the per-account and global connection caps, not this timeout.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 30 * time.Second
	maxHeaderBytes    = 8 << 10
)

// errListenerClosed is returned by Accept after Close.
var errListenerClosed = errors.New("listener closed")

// limitListener wraps the API's listener and applies Limits by the peer's
// uid, which the kernel records at connect(2) and hands out without
// reading from the connection (SO_PEERCRED, LOCAL_PEERCRED). Where no uid
// is known at accept time (a Windows pipe, whose client identity needs a
// read first), all callers share the non-administrator limits under uid -1.
type limitListener struct {
	net.Listener
	lim   Limits
	uidOf func(net.Conn) (uid int, ok bool)
	log   zerolog.Logger

	ready chan net.Conn
	done  chan struct{}
	once  sync.Once
	err   atomic.Pointer[error]

	global chan struct{}
	mu     sync.Mutex
	users  map[int]chan struct{}
	queued map[int]int
	inWait int

	refused  atomic.Uint64
	lastWarn atomic.Int64
}

func newLimitListener(l net.Listener, lim Limits, uidOf func(net.Conn) (int, bool), log zerolog.Logger) *limitListener {
	ll := &limitListener{
		Listener: l, lim: lim, uidOf: uidOf, log: log,
		ready: make(chan net.Conn), done: make(chan struct{}),
		global: make(chan struct{}, max(lim.Global, 1)),
		users:  map[int]chan struct{}{}, queued: map[int]int{},
	}
	go ll.acceptLoop()
	return ll
}

// Accept returns the next connection allowed to be served.
func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.done:
		if p := l.err.Load(); p != nil {
			return nil, *p
		}
		return nil, errListenerClosed
	}
}

// Close stops accepting.
func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.stop(net.ErrClosed)
	return err
}

func (l *limitListener) stop(err error) {
	l.once.Do(func() {
		l.err.Store(&err)
		close(l.done)
	})
}

func (l *limitListener) acceptLoop() {
	var delay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			// Temporary errors (EMFILE) are retried with a short backoff,
			// as net/http's Serve does; anything else ends the listener.
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				l.warnRefused("accept_failed", err)
				select {
				case <-time.After(delay):
					continue
				case <-l.done:
					return
				}
			}
			l.stop(err)
			return
		}
		delay = 0
		uid, known := l.uidOf(c)
		if known && uid == 0 {
			l.hand(&limitedConn{Conn: c, uid: 0, uidKnown: true, admin: true})
			continue
		}
		if !known {
			uid = -1
		}
		sem := l.userSem(uid)
		select {
		case sem <- struct{}{}:
			select {
			case l.global <- struct{}{}:
				l.hand(&limitedConn{Conn: c, uid: uid, uidKnown: known, release: l.releaser(sem)})
				continue
			default:
				<-sem
			}
		default:
		}
		if !l.enqueue(uid) {
			l.refuse(c, uid)
			continue
		}
		go l.wait(c, uid, known, sem)
	}
}

// hand gives c to the server, or closes it when the listener closed.
func (l *limitListener) hand(c net.Conn) {
	select {
	case l.ready <- c:
	case <-l.done:
		c.Close()
	}
}

func (l *limitListener) userSem(uid int) chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.users[uid]
	if s == nil {
		n := l.lim.PerUser
		if uid == -1 {
			n = l.lim.Global
		}
		s = make(chan struct{}, max(n, 1))
		l.users[uid] = s
	}
	return s
}

func (l *limitListener) enqueue(uid int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	perUser := l.lim.PerUserQueue
	if uid == -1 {
		perUser = l.lim.GlobalQueue
	}
	if l.inWait >= l.lim.GlobalQueue || l.queued[uid] >= perUser {
		return false
	}
	l.inWait++
	l.queued[uid]++
	return true
}

func (l *limitListener) dequeue(uid int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inWait--
	if l.queued[uid]--; l.queued[uid] <= 0 {
		delete(l.queued, uid)
	}
}

// wait holds c until both its account's and the global slot are free.
func (l *limitListener) wait(c net.Conn, uid int, known bool, sem chan struct{}) {
	t := time.NewTimer(l.lim.QueueWait)
	defer t.Stop()
	defer l.dequeue(uid)
	select {
	case sem <- struct{}{}:
	case <-t.C:
		l.refuse(c, uid)
		return
	case <-l.done:
		c.Close()
		return
	}
	select {
	case l.global <- struct{}{}:
	case <-t.C:
		<-sem
		l.refuse(c, uid)
		return
	case <-l.done:
		<-sem
		c.Close()
		return
	}
	l.hand(&limitedConn{Conn: c, uid: uid, uidKnown: known, release: l.releaser(sem)})
}

func (l *limitListener) releaser(sem chan struct{}) func() {
	return func() {
		<-l.global
		<-sem
	}
}

// busyResponse is written to a connection refused for lack of a slot, so
// that the client reports why instead of a bare EOF.
var busyResponse = []byte("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n" +
	"Connection: close\r\nRetry-After: 1\r\nContent-Length: 55\r\n\r\n" +
	`{"error":"too many connections from this account now"}` + "\n")

func (l *limitListener) refuse(c net.Conn, uid int) {
	c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	c.Write(busyResponse)
	c.Close()
	l.refused.Add(1)
	l.warnRefused("connection_refused_over_limit", nil, uid)
}

// warnRefused logs at most once a minute, with the count so far: a flood
// must not flood the log too.
func (l *limitListener) warnRefused(msg string, err error, uid ...int) {
	now := time.Now().UnixNano()
	last := l.lastWarn.Load()
	if now-last < int64(time.Minute) || !l.lastWarn.CompareAndSwap(last, now) {
		return
	}
	ev := l.log.Warn().Uint64("refused_total", l.refused.Load())
	if err != nil {
		ev = ev.Str("error", err.Error())
	}
	if len(uid) > 0 {
		ev = ev.Str("uid", strconv.Itoa(uid[0]))
	}
	ev.Msg(msg)
}

// limitedConn gives its slot back when the server closes it.
type limitedConn struct {
	net.Conn
	// uid is the peer's uid as read at accept time, when uidKnown.
	uid      int
	uidKnown bool
	admin    bool
	release  func()
	once     sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	if c.release != nil {
		c.once.Do(c.release)
	}
	return err
}

// NetConn returns the wrapped connection (for peer credentials).
func (c *limitedConn) NetConn() net.Conn { return c.Conn }

// unwrapConn returns the connection the listener accepted.
func unwrapConn(c net.Conn) net.Conn {
	for {
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return c
		}
		c = u.NetConn()
	}
}
