package localapi

import (
	"errors"
	"fmt"
	"net"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"
)

// ErrInUse means a live agent already serves the pipe.
var ErrInUse = errors.New("another agent is already listening")

// PipeSDDL is the named pipe's security descriptor (protected DACL, no
// inheritance): SYSTEM and Administrators get full access; Authenticated
// Users get FILE_GENERIC_READ|FILE_WRITE_DATA (0x12008b) — enough to send a
// request and read the answer, which the API then authorizes read-only by
// the caller's token. Deliberately absent for them is FILE_APPEND_DATA, which
// on a pipe means FILE_CREATE_PIPE_INSTANCE: with it, any user could create a
// rogue instance of our pipe and answer clients in our name (pipe squatting;
// CreateNamedPipe docs). Go's GENERIC_WRITE would include it, so clients
// dial with the same narrow mask (see dial_windows.go).
const PipeSDDL = "D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;0x12008b;;;AU)"

// Listen creates the API named pipe. go-winio creates the first instance
// with FILE_FLAG_FIRST_PIPE_INSTANCE, so it fails if anyone — another agent
// or a squatter — already owns the name.
func Listen(path string) (net.Listener, error) {
	l, err := winio.ListenPipe(path, &winio.PipeConfig{
		SecurityDescriptor: PipeSDDL,
		InputBufferSize:    64 << 10,
		OutputBufferSize:   64 << 10,
	})
	if errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_PIPE_BUSY) {
		// FILE_FLAG_FIRST_PIPE_INSTANCE fails with access denied when
		// the name exists.
		return nil, fmt.Errorf("listening on %s: %w: %w", path, ErrInUse, err)
	}
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", path, err)
	}
	return l, nil
}
