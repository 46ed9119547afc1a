//go:build unix

package daemon

import "syscall"

const oNoFollow = syscall.O_NOFOLLOW
