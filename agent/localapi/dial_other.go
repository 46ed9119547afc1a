//go:build !unix && !windows

package localapi

import (
	"context"
	"errors"
	"net"
)

func dial(context.Context, string) (net.Conn, error) { return nil, errors.ErrUnsupported }
