//go:build unix

package report

import "syscall"

// noFollow makes opening an output file fail if its last component is a
// symbolic link, so that a link planted in a writable directory cannot
// make the root agent append to another file.
const noFollow = syscall.O_NOFOLLOW
