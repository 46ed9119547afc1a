package localapi

import "golang.org/x/sys/unix"

// peerUID reads LOCAL_PEERCRED (unix(4) on macOS): a struct xucred with the
// effective uid of the peer at connect(2) time.
func peerUID(fd int) (int, error) {
	cred, err := unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	if err != nil {
		return -1, err
	}
	return int(cred.Uid), nil
}
