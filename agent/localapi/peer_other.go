//go:build !linux && !darwin && !windows

package localapi

import (
	"errors"
	"net"
)

// peerOf refuses every caller where we have no peer-credential support.
func peerOf(net.Conn) (Peer, error) {
	return Peer{}, errors.ErrUnsupported
}

// acceptUID knows no uid here.
func acceptUID(net.Conn) (int, bool) { return -1, false }
