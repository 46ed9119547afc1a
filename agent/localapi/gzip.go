package localapi

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"strings"
	"sync"
)

// gzipPrefix is the start of a gzip member (RFC 1952): the header and a
// DEFLATE stream (RFC 1951) of a cached body's bytes, ended with a sync
// flush so that it stops on a byte boundary without a final block. finish
// appends what differs per request as stored (uncompressed) blocks, which
// need none of the compressor's state, and the trailer, whose CRC-32
// continues from the prefix's: one valid gzip member, while the prefix is
// compressed once per cached view instead of once per request.
type gzipPrefix struct {
	bytes []byte
	crc   uint32 // CRC-32 (IEEE) of the uncompressed prefix
	n     int    // its length
}

// gzipHeader: magic, CM 8 (deflate), no flags, no mtime, XFL 0, OS 255
// (unknown).
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

// gzipLevel is the compression level of cached views. A view is
// compressed once per scan, and the scans' CPU is what answers to status
// requests compete with. On the 128 KB status view of the benchmark root,
// level 2 gives 8.3 KB and the default level (6) 7.2 KB, at about a quarter
// of the time (BenchmarkCompressPrefix; BENCHMARKS.md, "fourth round"); the
// larger answer costs a request next to nothing more to write.
const gzipLevel = 2

// flateWriters keeps compressors between scans: a new one allocates about
// 820 KB (hash chains and window) for a view of a few kilobytes. sync.Pool
// lets the idle service's collections drop them.
var flateWriters = sync.Pool{New: func() any {
	fw, _ := flate.NewWriter(nil, gzipLevel) // only a bad level fails
	return fw
}}

func compressPrefix(b []byte) *gzipPrefix {
	buf := bytes.NewBuffer(make([]byte, 0, len(gzipHeader)+len(b)/8))
	buf.Write(gzipHeader)
	fw := flateWriters.Get().(*flate.Writer)
	fw.Reset(buf)
	fw.Write(b)
	fw.Flush() // a sync flush: byte-aligned, no final block (never Close)
	fw.Reset(nil)
	flateWriters.Put(fw)
	return &gzipPrefix{bytes: buf.Bytes(), crc: crc32.ChecksumIEEE(b), n: len(b)}
}

// maxStored is the largest stored block (RFC 1951 3.2.4: LEN is 16 bits).
const maxStored = 65535

// finish returns the rest of the member: parts as stored blocks, the last
// one final, and the trailer (CRC-32 and length of all uncompressed data).
func (g *gzipPrefix) finish(parts ...[]byte) []byte {
	all := bytes.Join(parts, nil)
	data := all
	out := make([]byte, 0, len(data)+5*(len(data)/maxStored+1)+8)
	for first := true; first || len(data) > 0; first = false {
		n := min(len(data), maxStored)
		final := byte(0)
		if n == len(data) {
			final = 1 // BFINAL; BTYPE 00 (stored)
		}
		out = append(out, final)
		out = binary.LittleEndian.AppendUint16(out, uint16(n))
		out = binary.LittleEndian.AppendUint16(out, ^uint16(n))
		out = append(out, data[:n]...)
		data = data[n:]
	}
	out = binary.LittleEndian.AppendUint32(out, crc32.Update(g.crc, crc32.IEEETable, all))
	return binary.LittleEndian.AppendUint32(out, uint32(g.n+len(all)))
}

// acceptsGzip reports whether an Accept-Encoding header accepts gzip
// (RFC 9110 12.5.3): named, and not with q=0.
func acceptsGzip(h string) bool {
	for part := range strings.SplitSeq(h, ",") {
		name, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		for p := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "q") && strings.Trim(strings.TrimSpace(v), "0.") == "" {
				return false
			}
		}
		return true
	}
	return false
}
