package localapi

import (
	"fmt"
	"net"
	"runtime"

	"golang.org/x/sys/windows"
)

// peerOf identifies the named-pipe client from its access token. The server
// impersonates the client (which dialed with SECURITY_IDENTIFICATION, enough
// to read but not to use the token; see Dial), opens the thread token and
// reverts. This runs after the request was read, as ImpersonateNamedPipeClient
// requires. Tailscale's ipnauth_windows.go takes the same view of who is an
// administrator: a member of BUILTIN\Administrators, directly or through the
// elevated token linked to a UAC-filtered one.
func peerOf(c net.Conn) (Peer, error) {
	fc, ok := unwrapConn(c).(interface{ Fd() uintptr })
	if !ok {
		return Peer{}, fmt.Errorf("connection is %T, not a named pipe", c)
	}
	tok, err := clientToken(windows.Handle(fc.Fd()))
	if err != nil {
		return Peer{}, err
	}
	defer tok.Close()
	tu, err := tok.GetTokenUser()
	if err != nil {
		return Peer{}, fmt.Errorf("reading the client token: %w", err)
	}
	sid := tu.User.Sid
	p := Peer{UID: -1, SID: sid.String()}
	if name, _, _, err := sid.LookupAccount(""); err == nil {
		p.User = name
	}
	p.Admin = sid.IsWellKnown(windows.WinLocalSystemSid) || isAdmin(tok)
	return p, nil
}

// acceptUID: a pipe client's identity can only be read after the server
// read from the pipe, so at accept time every caller is unknown and shares
// the non-administrator limits (see Limits).
func acceptUID(net.Conn) (int, bool) { return -1, false }

// clientToken returns the pipe client's token. Impersonation changes the
// calling OS thread's identity, so the goroutine is locked to its thread; if
// reverting fails the thread is left locked, which makes the runtime retire
// it rather than reuse a thread running as the client.
func clientToken(h windows.Handle) (windows.Token, error) {
	runtime.LockOSThread()
	if err := impersonateNamedPipeClient(h); err != nil {
		runtime.UnlockOSThread()
		return 0, fmt.Errorf("impersonating the pipe client: %w", err)
	}
	var tok windows.Token
	openErr := windows.OpenThreadToken(windows.CurrentThread(), windows.TOKEN_QUERY, true, &tok)
	if err := windows.RevertToSelf(); err != nil {
		if openErr == nil {
			tok.Close()
		}
		return 0, fmt.Errorf("reverting impersonation: %w", err)
	}
	runtime.UnlockOSThread()
	if openErr != nil {
		return 0, fmt.Errorf("opening the client token: %w", openErr)
	}
	return tok, nil
}

// procImpersonateNamedPipeClient is advapi32!ImpersonateNamedPipeClient,
// which golang.org/x/sys/windows does not wrap. Like the procs that
// mkwinsyscall generates there, it is resolved lazily once and never changed.
var procImpersonateNamedPipeClient = windows.NewLazySystemDLL("advapi32.dll").NewProc("ImpersonateNamedPipeClient")

func impersonateNamedPipeClient(h windows.Handle) error {
	r1, _, e1 := procImpersonateNamedPipeClient.Call(uintptr(h))
	if r1 == 0 {
		return e1
	}
	return nil
}

func isAdmin(tok windows.Token) bool {
	admins, err := windows.CreateWellKnownSid(windows.WinBuiltinAdministratorsSid)
	if err != nil {
		return false
	}
	if ok, err := tok.IsMember(admins); err == nil && ok {
		return true
	}
	linked, err := tok.GetLinkedToken()
	if err != nil {
		return false
	}
	defer linked.Close()
	ok, err := linked.IsMember(admins)
	return err == nil && ok
}
