package platform

import "syscall"

// sysFstatat is fstatat(2) on arm64 (the generic system call table has no
// newfstatat; its fstatat fills the same struct stat).
const sysFstatat = syscall.SYS_FSTATAT
