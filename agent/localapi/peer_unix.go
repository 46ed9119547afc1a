//go:build linux || darwin

package localapi

import (
	"fmt"
	"net"
	"os/user"
	"strconv"
)

// peerOf identifies the process on the other end of a Unix socket from the
// kernel's record of the connecting process's credentials: these cannot be
// forged by the client, unlike anything it sends.
func peerOf(c net.Conn) (Peer, error) {
	uid, err := connUID(c)
	if err != nil {
		return Peer{}, err
	}
	return peerForUID(uid, lookupUser), nil
}

// connUID returns the uid of the process that connected c.
func connUID(c net.Conn) (int, error) {
	if lc, ok := c.(*limitedConn); ok && lc.uidKnown {
		return lc.uid, nil
	}
	uc, ok := unwrapConn(c).(*net.UnixConn)
	if !ok {
		return -1, fmt.Errorf("connection is %T, not a Unix socket", c)
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("peer credentials: %w", err)
	}
	var uid int
	var credErr error
	if err := raw.Control(func(fd uintptr) { uid, credErr = peerUID(int(fd)) }); err != nil {
		return -1, fmt.Errorf("peer credentials: %w", err)
	}
	if credErr != nil {
		return -1, fmt.Errorf("peer credentials: %w", credErr)
	}
	return uid, nil
}

// acceptUID is the listener's view of connUID: the uid when the kernel
// knows it.
func acceptUID(c net.Conn) (int, bool) {
	uid, err := connUID(c)
	return uid, err == nil
}

// peerForUID builds the Peer for uid. Only root is an administrator: members
// of sudo/wheel/admin groups can get the full view with `sudo agent status`,
// which leaves an audit trail.
func peerForUID(uid int, lookup func(int) string) Peer {
	if uid == 0 {
		// An administrator's view needs no name; skip reading the
		// account database for every root connection.
		return Peer{UID: 0, User: "root", Admin: true}
	}
	return Peer{UID: uid, User: lookup(uid), Admin: false}
}

func lookupUser(uid int) string {
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		return ""
	}
	return u.Username
}
