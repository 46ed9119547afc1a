package localapi

import "golang.org/x/sys/unix"

// peerUID reads SO_PEERCRED (socket(7)): the credentials of the process
// that called connect(2), captured by the kernel at that moment.
func peerUID(fd int) (int, error) {
	cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return -1, err
	}
	return int(cred.Uid), nil
}
