//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package platform

import "syscall"

func ctimeOf(st *syscall.Stat_t) int64 { return st.Ctimespec.Nano() }
