package statusload

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// burstTimeout bounds a whole burst; requests unanswered by then fail.
const burstTimeout = time.Minute

// Burst sends n status requests at once and returns their latencies, how
// many failed and the first failure.
//
// Each request is on a connection of its own, as n separate `agent status`
// runs would be, but the generator is event-driven: one thread connects
// all n sockets and writes their requests, then reads the answers as
// epoll(7) reports them, as wrk and h2load do. A goroutine per request
// costs the generator about 80 µs of CPU per request on this kind of
// machine (netpoller registration, wake-ups, two threads), which on two
// cores is CPU taken from the service being measured. A request's latency
// runs from just before its connect(2) to the end of its answer; the
// answer is read to its last byte and not inflated.
func Burst(socket string, n int) (lat []time.Duration, failed int, first error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	lat = make([]time.Duration, n)
	errs := make([]error, n)
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return lat, n, fmt.Errorf("epoll_create1: %w", err)
	}
	defer unix.Close(ep)

	type conn struct {
		fd   int
		t0   time.Time
		n    int
		head []byte
	}
	conns := make([]conn, n)
	open := 0
	addr := &unix.SockaddrUnix{Name: socket}
	req := []byte(request)
	for i := range conns {
		c := &conns[i]
		c.fd = -1
		c.t0 = time.Now()
		fd, err := dialWrite(addr, req)
		if err != nil {
			errs[i] = err
			lat[i] = time.Since(c.t0)
			continue
		}
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(i)}
		if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			unix.Close(fd)
			errs[i] = fmt.Errorf("epoll_ctl: %w", err)
			continue
		}
		c.fd = fd
		open++
	}

	buf := make([]byte, 64<<10)
	events := make([]unix.EpollEvent, 256)
	deadline := time.Now().Add(burstTimeout)
	for open > 0 {
		wait := time.Until(deadline)
		if wait <= 0 {
			break
		}
		k, err := unix.EpollWait(ep, events, int(wait/time.Millisecond)+1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			first = fmt.Errorf("epoll_wait: %w", err)
			break
		}
		for _, ev := range events[:k] {
			i := int(ev.Fd)
			c := &conns[i]
			done := false
			for {
				m, err := unix.Read(c.fd, buf)
				if m > 0 {
					if len(c.head) < 64 {
						c.head = append(c.head, buf[:min(m, 64-len(c.head))]...)
					}
					c.n += m
					continue
				}
				if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
					break
				}
				done = true
				if err != nil {
					errs[i] = fmt.Errorf("read: %w", err)
				} else {
					errs[i] = checkHead(c.head, c.n)
				}
				break
			}
			if done {
				lat[i] = time.Since(c.t0)
				unix.Close(c.fd) // also leaves the epoll set
				c.fd = -1
				open--
			}
		}
	}
	for i := range conns {
		if conns[i].fd >= 0 {
			unix.Close(conns[i].fd)
			errs[i] = fmt.Errorf("GET /v1/status: no answer within %v", burstTimeout)
			lat[i] = time.Since(conns[i].t0)
		}
	}
	f, e := countFailed(errs)
	if first == nil {
		first = e
	}
	return lat, f, first
}

// dialWrite connects to the socket and writes the request; the connect
// and the write block (a listening Unix socket with room in its backlog
// takes a connection at once, and the request fits the empty send
// buffer), then the socket is made non-blocking for epoll.
func dialWrite(addr *unix.SockaddrUnix, req []byte) (int, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	if err := unix.Connect(fd, addr); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("connect %s: %w", addr.Name, err)
	}
	for len(req) > 0 {
		m, err := unix.Write(fd, req)
		if err != nil && !errors.Is(err, unix.EINTR) {
			unix.Close(fd)
			return -1, fmt.Errorf("write: %w", err)
		}
		req = req[max(m, 0):]
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("fcntl: %w", err)
	}
	return fd, nil
}
