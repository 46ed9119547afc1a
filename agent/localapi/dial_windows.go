package localapi

import (
	"context"
	"net"

	"github.com/Microsoft/go-winio"
)

// pipeAccess is FILE_GENERIC_READ|FILE_WRITE_DATA: what PipeSDDL grants to
// Authenticated Users. Asking for GENERIC_WRITE would be denied to them.
const pipeAccess = 0x12008b

// dial connects at impersonation level Identification: the agent may read
// our token to see who we are, but cannot act as us.
func dial(ctx context.Context, path string) (net.Conn, error) {
	return winio.DialPipeAccessImpLevel(ctx, path, pipeAccess, winio.PipeImpLevelIdentification)
}
