package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// The bbolt file format, as far as verifyFile needs it (go.etcd.io/bbolt,
// internal/common/page.go and meta.go; the layout has been stable since
// bbolt 1.3). Integers are in the machine's byte order: bbolt writes its
// structs from memory.
//
//	page header (16 bytes): id u64, flags u16, count u16, overflow u32
//	meta (after the header): magic u32, version u32, pageSize u32, flags u32,
//	    root bucket {root pgid u64, sequence u64}, freelist pgid u64,
//	    high-water pgid u64, txid u64, checksum u64 (FNV-1a 64 of the 56
//	    bytes before it)
//	branch element (16 bytes): pos u32, ksize u32, pgid u64
//	leaf element (16 bytes): flags u32, pos u32, ksize u32, vsize u32
//	    (flags&1: the value is a bucket header {root u64, sequence u64},
//	    followed by an inline page when root is 0)
//
// An element's key starts pos bytes after the element itself.
const (
	pageHeaderSize  = 16
	elementSize     = 16
	metaMagic       = 0xED0CDAED
	metaVersion     = 2
	flagBranch      = 0x01
	flagLeaf        = 0x02
	flagMeta        = 0x04
	flagFreelist    = 0x10
	bucketLeafFlag  = 0x01
	bucketHeaderLen = 16
	noFreelist      = ^uint64(0)
	// maxDepth bounds the walk: bbolt trees are a handful of levels deep;
	// a deeper one is a cycle the visited set did not catch (inline pages).
	maxDepth = 64
)

var ne = binary.NativeEndian

// verifyFile walks every page reachable from the newest valid meta page of
// the bbolt file at path, reading it with plain reads (no mmap), and
// returns a *CorruptError when a page, element, key or value would lie
// outside the file or its page, a page has the wrong type, or a page is
// reached twice. Those are exactly the cases in which bbolt, which reads
// the file through an mmap without bounds checks, would fault — a fault Go
// cannot recover from on another goroutine (bbolt's Tx.Check runs on one).
// I/O errors are returned as they are: they prove nothing about the file.
func verifyFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	v := &verifier{f: f, size: uint64(st.Size()), seen: map[uint64]bool{}}
	return v.run()
}

type verifier struct {
	f        *os.File
	size     uint64
	pageSize uint64
	hwm      uint64
	seen     map[uint64]bool
	free     map[uint64]bool
}

func corruptf(format string, args ...any) error {
	return &CorruptError{Reason: fmt.Sprintf(format, args...)}
}

func (v *verifier) readAt(off, n uint64) ([]byte, error) {
	if off > v.size || n > v.size-off {
		return nil, corruptf("read of %d bytes at offset %d beyond the end of the %d-byte file", n, off, v.size)
	}
	b := make([]byte, n)
	if _, err := v.f.ReadAt(b, int64(off)); err != nil {
		if errors.Is(err, io.EOF) {
			// The file shrank under us: another writer, not proof.
			return nil, fmt.Errorf("reading %d bytes at %d: %w", n, off, err)
		}
		return nil, err
	}
	return b, nil
}

type meta struct {
	pageSize, flags      uint32
	root, freelist, hwm  uint64
	txid                 uint64
	valid                bool
	reason               string
	magic, version       uint32
	checksum, computeSum uint64
}

func parseMeta(b []byte) meta {
	var m meta
	if len(b) < pageHeaderSize+64 {
		m.reason = "short meta page"
		return m
	}
	d := b[pageHeaderSize:]
	m.magic, m.version, m.pageSize, m.flags = ne.Uint32(d[0:]), ne.Uint32(d[4:]), ne.Uint32(d[8:]), ne.Uint32(d[12:])
	m.root, m.freelist, m.hwm, m.txid, m.checksum = ne.Uint64(d[16:]), ne.Uint64(d[32:]), ne.Uint64(d[40:]), ne.Uint64(d[48:]), ne.Uint64(d[56:])
	h := fnv.New64a()
	h.Write(d[:56])
	m.computeSum = h.Sum64()
	switch {
	case m.magic != metaMagic:
		m.reason = "bad magic"
	case m.version != metaVersion:
		m.reason = fmt.Sprintf("version %d", m.version)
	case m.checksum != m.computeSum:
		m.reason = "checksum mismatch"
	default:
		m.valid = true
	}
	return m
}

func (v *verifier) run() error {
	if v.size < 2*pageHeaderSize {
		return corruptf("file of %d bytes is too short for a bbolt database", v.size)
	}
	head, err := v.readAt(0, min(v.size, 4096))
	if err != nil {
		return err
	}
	m0 := parseMeta(head)
	ps := uint64(m0.pageSize)
	if !m0.valid {
		// bbolt then guesses the page size from the second meta page; so do we.
		ps = 0
		for _, guess := range []uint64{4096, 1024, 2048, 8192, 16384, 32768, 65536} {
			if b, err := v.readAt(guess, min(v.size-min(guess, v.size), 4096)); err == nil && parseMeta(b).valid {
				ps = guess
				break
			}
		}
		if ps == 0 {
			return corruptf("no valid meta page (meta 0: %s)", m0.reason)
		}
	}
	if ps < 1024 || ps > 1<<16 || ps&(ps-1) != 0 {
		return corruptf("page size %d", ps)
	}
	v.pageSize = ps
	b1, err := v.readAt(ps, min(ps, v.size-min(ps, v.size)))
	var m1 meta
	if err == nil {
		m1 = parseMeta(b1)
	} else if !isCorrupt(err) {
		return err
	}
	// bbolt uses the meta page with the higher txid, or the other one when
	// that one is invalid (db.go, DB.meta).
	cur, other := m0, m1
	if m1.txid > m0.txid {
		cur, other = m1, m0
	}
	if !cur.valid {
		cur = other
	}
	if !cur.valid || uint64(cur.pageSize) != ps {
		return corruptf("no valid meta page (meta 0: %s, meta 1: %s)", orOK(m0.reason), orOK(m1.reason))
	}
	// A file shorter than its high-water mark is whole only when all it
	// lacks are free pages: bbolt reads just the pages reachable from the
	// root and the freelist (every read below is bounded by the file), and
	// writes a free page with pwrite before it uses it. Anything more —
	// and a mark far beyond the file, which would keep Tx.Check counting
	// pages for hours — is damage. (The check below stops at the first
	// missing page that is not free, so its cost is bounded by the
	// freelist, which the file holds.)
	fits := v.size / ps
	if cur.hwm < 2 {
		return corruptf("high-water mark of %d pages does not fit the %d-byte file (page size %d)", cur.hwm, v.size, ps)
	}
	v.hwm = cur.hwm
	if cur.freelist != noFreelist {
		if err := v.freelist(cur.freelist); err != nil {
			return err
		}
	}
	if err := v.tree(cur.root, 0); err != nil {
		return err
	}
	for id := fits; id < cur.hwm; id++ {
		if !v.free[id] {
			return corruptf("high-water mark of %d pages does not fit the %d-byte file (page size %d): page %d is missing and not free", cur.hwm, v.size, ps, id)
		}
	}
	// A page both in use and free would be handed out again by the next
	// commit and overwrite live data.
	for id := range v.free {
		if v.seen[id] {
			return corruptf("page %d is both in use and on the freelist", id)
		}
	}
	return nil
}

func orOK(s string) string {
	if s == "" {
		return "ok"
	}
	return s
}

// page reads the page with id (and its overflow pages) and checks its
// header against the file.
func (v *verifier) page(id uint64, want string) ([]byte, error) {
	if id < 2 || id >= v.hwm {
		return nil, corruptf("page %d (%s) outside pages 2..%d", id, want, v.hwm-1)
	}
	if v.seen[id] {
		return nil, corruptf("page %d reached twice", id)
	}
	v.seen[id] = true
	h, err := v.readAt(id*v.pageSize, pageHeaderSize)
	if err != nil {
		return nil, err
	}
	overflow := uint64(ne.Uint32(h[12:]))
	if overflow >= v.hwm || id+overflow >= v.hwm {
		return nil, corruptf("page %d: %d overflow pages beyond the high-water mark %d", id, overflow, v.hwm)
	}
	if got := ne.Uint64(h[0:]); got != id {
		return nil, corruptf("page %d: header says page %d", id, got)
	}
	for i := uint64(1); i <= overflow; i++ {
		if v.seen[id+i] {
			return nil, corruptf("page %d reached twice (overflow of %d)", id+i, id)
		}
		v.seen[id+i] = true
	}
	return v.readAt(id*v.pageSize, (overflow+1)*v.pageSize)
}

func (v *verifier) freelist(id uint64) error {
	p, err := v.page(id, "freelist")
	if err != nil {
		return err
	}
	if f := ne.Uint16(p[8:]); f != flagFreelist {
		return corruptf("page %d: flags %#x, want a freelist page", id, f)
	}
	n, start := uint64(ne.Uint16(p[10:])), uint64(pageHeaderSize)
	if n == 0xFFFF {
		if len(p) < pageHeaderSize+8 {
			return corruptf("freelist page %d: short", id)
		}
		n, start = ne.Uint64(p[pageHeaderSize:]), pageHeaderSize+8
	}
	if n > (uint64(len(p))-start)/8 {
		return corruptf("freelist page %d: %d ids do not fit its %d bytes", id, n, len(p))
	}
	v.free = make(map[uint64]bool, n)
	for i := uint64(0); i < n; i++ {
		fid := ne.Uint64(p[start+8*i:])
		if fid < 2 || fid >= v.hwm {
			return corruptf("freelist page %d: free page %d outside pages 2..%d", id, fid, v.hwm-1)
		}
		if v.free[fid] {
			return corruptf("freelist page %d: page %d freed twice", id, fid)
		}
		v.free[fid] = true
	}
	return nil
}

// tree checks the bucket tree rooted at page id.
func (v *verifier) tree(id uint64, depth int) error {
	if depth > maxDepth {
		return corruptf("page %d: tree deeper than %d levels", id, maxDepth)
	}
	p, err := v.page(id, "bucket tree")
	if err != nil {
		return err
	}
	return v.nodePage(id, p, depth)
}

// nodePage checks a branch or leaf page held in p (a file page, or an
// inline bucket's page).
func (v *verifier) nodePage(id uint64, p []byte, depth int) error {
	if len(p) < pageHeaderSize {
		return corruptf("page %d: shorter than its header", id)
	}
	flags, count := ne.Uint16(p[8:]), uint64(ne.Uint16(p[10:]))
	if count*elementSize > uint64(len(p))-pageHeaderSize {
		return corruptf("page %d: %d elements do not fit its %d bytes", id, count, len(p))
	}
	// Keys ascend strictly within a page (bbolt writes them sorted and
	// finds them by binary search: out of order, a lookup misses a key and
	// a write adds it twice).
	var prev []byte
	ordered := func(i uint64, key []byte) error {
		if i > 0 && bytes.Compare(prev, key) >= 0 {
			return corruptf("page %d element %d: key out of order", id, i)
		}
		prev = key
		return nil
	}
	for i := uint64(0); i < count; i++ {
		at := pageHeaderSize + i*elementSize
		e := p[at : at+elementSize]
		switch flags {
		case flagBranch:
			pos, ksize, child := uint64(ne.Uint32(e[0:])), uint64(ne.Uint32(e[4:])), ne.Uint64(e[8:])
			if at+pos+ksize > uint64(len(p)) {
				return corruptf("page %d element %d: key of %d bytes at %d beyond the page", id, i, ksize, pos)
			}
			if err := ordered(i, p[at+pos:at+pos+ksize]); err != nil {
				return err
			}
			if err := v.tree(child, depth+1); err != nil {
				return err
			}
		case flagLeaf:
			eflags, pos, ksize, vsize := ne.Uint32(e[0:]), uint64(ne.Uint32(e[4:])), uint64(ne.Uint32(e[8:])), uint64(ne.Uint32(e[12:]))
			if at+pos+ksize+vsize > uint64(len(p)) {
				return corruptf("page %d element %d: key of %d and value of %d bytes at %d beyond the page", id, i, ksize, vsize, pos)
			}
			if err := ordered(i, p[at+pos:at+pos+ksize]); err != nil {
				return err
			}
			if eflags&bucketLeafFlag == 0 {
				continue
			}
			val := p[at+pos+ksize : at+pos+ksize+vsize]
			if len(val) < bucketHeaderLen {
				return corruptf("page %d element %d: bucket header of %d bytes", id, i, len(val))
			}
			root := ne.Uint64(val[0:])
			var err error
			if root == 0 {
				if depth+1 > maxDepth {
					return corruptf("page %d: buckets nested deeper than %d levels", id, maxDepth)
				}
				err = v.nodePage(id, val[bucketHeaderLen:], depth+1)
			} else {
				err = v.tree(root, depth+1)
			}
			if err != nil {
				return err
			}
		default:
			return corruptf("page %d: flags %#x, want a branch or leaf page", id, flags)
		}
	}
	if count == 0 && flags != flagLeaf && flags != flagBranch {
		return corruptf("page %d: flags %#x, want a branch or leaf page", id, flags)
	}
	return nil
}

func isCorrupt(err error) bool {
	var c *CorruptError
	return errors.As(err, &c)
}
