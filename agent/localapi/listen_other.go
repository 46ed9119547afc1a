//go:build !unix && !windows

package localapi

import (
	"errors"
	"net"
)

// ErrInUse means a live agent already serves the socket.
var ErrInUse = errors.New("another agent is already listening")

// Listen is not supported on this OS.
func Listen(string) (net.Listener, error) { return nil, errors.ErrUnsupported }
