package platform

import "syscall"

// sysFstatat is newfstatat(2) on amd64.
const sysFstatat = syscall.SYS_NEWFSTATAT
