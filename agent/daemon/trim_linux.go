package daemon

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// dropTextPages tells the kernel that this process no longer needs the
// pages of its own executable it touched — code and read-only data that a
// scan ran through once and the idle service will not need for an hour
// (madvise(2) MADV_DONTNEED). Only read-only mappings of the executable
// are touched: their pages are clean copies of the file, so the kernel
// simply unmaps them and faults them in again from the page cache if they
// are used; writable mappings (.data, .bss, the heap) are never passed,
// since dropping a written private page would lose its contents.
//
// This lowers the resident set (VmRSS, RssFile) that `ps` and monitoring
// show for the idle agent; the pages stay in the page cache, which the
// kernel reclaims as it needs.
//
// Only a statically linked, position-dependent executable qualifies (the
// release build, CGO_ENABLED=0): in a dynamically linked or PIE one the
// loader writes relocations into pages it then makes read-only (RELRO),
// and dropping those would lose the relocations.
func dropTextPages() (dropped uint64) {
	if !staticExe() {
		return 0
	}
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(io64k(f))
	for sc.Scan() {
		// 00400000-00a5e000 r-xp 00000000 08:01 1234  /usr/bin/agent
		fields := bytes.Fields(sc.Bytes())
		if len(fields) < 6 || string(fields[5]) != exe {
			continue
		}
		perms := fields[1]
		if len(perms) < 4 || perms[1] != '-' || perms[3] != 'p' {
			continue // writable, or shared
		}
		lo, hi, ok := bytes.Cut(fields[0], []byte{'-'})
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(string(lo), 16, 64)
		end, err2 := strconv.ParseUint(string(hi), 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_DONTNEED); errno == 0 {
			dropped += end - start
		}
	}
	return dropped
}

// staticExe reports whether this process's executable is a 64-bit
// little-endian ELF of type ET_EXEC without PT_INTERP, PT_DYNAMIC or
// PT_GNU_RELRO program headers: no loader ran and nothing was relocated at
// start (elf(5)). Read once.
var staticExe = sync.OnceValue(func() bool {
	f, err := os.Open("/proc/self/exe")
	if err != nil {
		return false
	}
	defer f.Close()
	var h [64]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return false
	}
	le := binary.LittleEndian
	if string(h[:4]) != "\x7fELF" || h[4] != 2 || h[5] != 1 || le.Uint16(h[16:]) != 2 {
		return false // not ELFCLASS64, ELFDATA2LSB, ET_EXEC
	}
	phoff, phentsize, phnum := le.Uint64(h[32:]), int64(le.Uint16(h[54:])), int64(le.Uint16(h[56:]))
	if phentsize < 4 || phnum == 0 || phnum > 64 {
		return false
	}
	ph := make([]byte, phentsize*phnum)
	if _, err := f.ReadAt(ph, int64(phoff)); err != nil {
		return false
	}
	for i := int64(0); i < phnum; i++ {
		switch le.Uint32(ph[i*phentsize:]) {
		case 2, 3, 0x6474e552: // PT_DYNAMIC, PT_INTERP, PT_GNU_RELRO
			return false
		}
	}
	return true
})

// io64k wraps f in a reader with a buffer large enough for maps lines.
func io64k(f *os.File) *bufio.Reader { return bufio.NewReaderSize(f, 64<<10) }
