//go:build linux

package faultsuite

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	bolt "go.etcd.io/bbolt"
)

// Figures are what the suite measured; TestMain prints them (and writes
// them as JSON to $MSGGUARD_FAULTS_OUT) for RELIABILITY.md.
type Figures struct {
	Corruptions        int `json:"corruptions_tried"`
	ProvenCorrupt      int `json:"proven_corrupt"`
	MovedAside         int `json:"moved_aside"`
	Processes          int `json:"agent_processes_run"`
	Crashes            int `json:"crashes"`
	HealthyMovedAside  int `json:"healthy_moved_aside"`
	CorruptKept        int `json:"corrupt_kept_and_used"`
	Kills              int `json:"kill9"`
	KillsCommitted     int `json:"kill9_scans_committed"`
	EventsLost         int `json:"events_lost"`
	EventsDuplicated   int `json:"events_duplicated"`
	EnvironmentalCases int `json:"environment_cases"`
	// OracleBlind counts cases corrupt by construction that the oracle
	// (bbolt's read path) did not notice.
	OracleBlind int `json:"oracle_blind_corrupt_by_construction"`
}

var figures Figures

func TestMain(m *testing.M) {
	if p := os.Getenv("FAULTSUITE_ORACLE"); p != "" {
		os.Exit(oracle(p))
	}
	code := m.Run()
	if os.Getenv("MSGGUARD_FAULTS") == "1" {
		b, _ := json.MarshalIndent(figures, "", "  ")
		fmt.Printf("fault suite figures:\n%s\n", b)
		if out := os.Getenv("MSGGUARD_FAULTS_OUT"); out != "" {
			os.WriteFile(out, b, 0o644)
		}
	}
	os.Exit(code)
}

// oracle judges a database file independently of the agent, in a child
// process (it may crash: that is its verdict too): bbolt opens it, every
// key and value of every bucket is read, and Tx.Check runs. Exit 0:
// healthy; 3: damaged (bbolt refused it or found an inconsistency); a crash
// also means damaged; 4: could not tell (an I/O error).
func oracle(path string) int {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return 4
		}
		fmt.Fprintln(os.Stderr, "open:", err)
		return 3
	}
	defer db.Close()
	st, err := os.Stat(path)
	if err != nil {
		return 4
	}
	// In a read transaction bbolt hands out keys and values that point
	// into its mmap of the file. One that reaches outside the file is
	// damage, whether or not the memory after the mapping happens to be
	// mapped too (then bbolt silently reads other memory instead of
	// faulting).
	// Keys of an inline bucket live in a heap copy of its value (bbolt
	// copies unaligned ones); only pointers into the mapping (bbolt maps a
	// power of two of at least 32 KiB, db.go mmapSize) are checked.
	base, size := db.Info().Data, uintptr(st.Size())
	mapped := uintptr(32 << 10)
	for mapped < size {
		mapped <<= 1
	}
	outside := func(b []byte) bool {
		p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
		if len(b) == 0 || p < base || p >= base+mapped {
			return false
		}
		return p-base >= size || uintptr(len(b)) > size-(p-base)
	}
	bad := false
	err = db.View(func(tx *bolt.Tx) error {
		var sum uint64
		var walk func(b *bolt.Bucket) error
		walk = func(b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				if outside(k) || outside(v) {
					return fmt.Errorf("a key or value lies outside the file: base %#x size %d k %#x+%d v %#x+%d", base, size, uintptr(unsafe.Pointer(unsafe.SliceData(k))), len(k), uintptr(unsafe.Pointer(unsafe.SliceData(v))), len(v))
				}
				for _, c := range k {
					sum += uint64(c)
				}
				for _, c := range v {
					sum += uint64(c)
				}
				if v == nil {
					if child := b.Bucket(k); child != nil {
						return walk(child)
					}
				}
				return nil
			})
		}
		if err := tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if outside(name) {
				return errors.New("a bucket name lies outside the file")
			}
			return walk(b)
		}); err != nil {
			fmt.Fprintln(os.Stderr, "walk:", err)
			return err
		}
		for e := range tx.Check() {
			fmt.Fprintln(os.Stderr, "check:", e)
			bad = true
		}
		if !bad {
			if err := boundsOfTx(path, tx.ID(), db.Info().PageSize); err != nil {
				fmt.Fprintln(os.Stderr, "bounds:", err)
				bad = true
			}
		}
		_ = sum
		return nil
	})
	if err != nil || bad {
		return 3
	}
	return 0
}

// boundsOfTx runs walkTree over the file from the root of the meta page
// that transaction txid read.
func boundsOfTx(path string, txid int, ps int) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for _, m := range []int{0, ps} {
		if m+metaOff+56 > len(b) || ne.Uint64(b[m+metaOff+48:]) != uint64(txid) {
			continue
		}
		// The freelist page too must lie whole inside the file: bbolt
		// reads it through its mmap, where the rest of a cut page reads as
		// zeros and a page past it faults (SIGBUS), depending only on
		// where the cut fell.
		if fl := ne.Uint64(b[m+freeOff:]); fl != ^uint64(0) {
			off := int(fl) * ps
			if fl > uint64(len(b)/ps) || off+hdr > len(b) || off+(int(ne.Uint32(b[off+12:]))+1)*ps > len(b) {
				return fmt.Errorf("freelist page %d is not whole in the %d-byte file", fl, len(b))
			}
		}
		return walkTree(b, ps, ne.Uint64(b[m+rootOff:]), func(int) {})
	}
	return fmt.Errorf("no meta page of transaction %d", txid)
}

type suite struct {
	dir, bin, root, healthy string
	rng                     *rand.Rand
}

type result struct {
	code           int
	stdout, stderr string
	signaled       bool
}

// crashed reports a Go runtime crash or a panic: what must never happen.
func (r result) crashed() bool {
	return r.signaled || strings.Contains(r.stderr, "fatal error") || strings.Contains(r.stderr, "panic:") ||
		strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "SIGSEGV") || strings.Contains(r.stderr, "SIGBUS")
}

func newSuite(t *testing.T) *suite {
	t.Helper()
	if os.Getenv("MSGGUARD_FAULTS") != "1" {
		t.Skip("fault suite: set MSGGUARD_FAULTS=1 (CI runs it in a step of its own)")
	}
	dir := t.TempDir()
	s := &suite{dir: dir, bin: filepath.Join(dir, "agent"), root: filepath.Join(dir, "root"),
		rng: rand.New(rand.NewPCG(13, 14))}
	gobin := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		if gobin, err = exec.LookPath("go"); err != nil {
			t.Skip("go tool not found; cannot build the agent binary")
		}
	}
	cmd := exec.Command(gobin, "build", "-trimpath", "-o", s.bin, "github.com/msgguard/msgguard/agent")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if other := os.Getenv("FAULTSUITE_AGENT"); other != "" {
		// Another build (an older release, for the figures before a fix).
		cmd = exec.Command("cp", other, s.bin)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// A private copy of a fixture root whose SimpleX AppImage (its only
	// evidence) the suite toggles, so that consecutive scans differ and make
	// drift events.
	if out, err := exec.Command("cp", "-a", "../../../platform/linux/testdata/debian-desktop", s.root).CombinedOutput(); err != nil {
		t.Fatalf("copying the fixture root: %v\n%s", err, out)
	}
	s.healthy = filepath.Join(dir, "healthy.db")
	for i := 0; i < 12; i++ {
		s.toggle(t)
		if r := s.agent(t, 30*time.Second, "scan", "--root", s.root, "--db", s.healthy, "--socket", "", "--json"); r.code > 1 {
			t.Fatalf("building the healthy database: exit %d\n%s", r.code, r.stderr)
		}
	}
	return s
}

// toggle adds or removes the SimpleX AppImage in alice's home.
func (s *suite) toggle(t *testing.T) {
	on := filepath.Join(s.root, "home/alice/Applications/simplex-desktop-x86_64.AppImage")
	off := on + ".off"
	if _, err := os.Stat(on); err == nil {
		if err := os.Rename(on, off); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err := os.Rename(off, on); err != nil {
		t.Fatal(err)
	}
}

// agent runs the real binary and waits at most timeout.
func (s *suite) agent(t *testing.T, timeout time.Duration, args ...string) result {
	return s.run(t, timeout, s.bin, args...)
}

func (s *suite) run(t *testing.T, timeout time.Duration, bin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "LANG=C")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	figures.Processes++
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.signaled = true
		}
		if ctx.Err() != nil {
			t.Errorf("%s %v did not finish within %v", filepath.Base(bin), args, timeout)
		}
	default:
		t.Fatalf("running %s: %v", bin, err)
	}
	return r
}

// judge runs the oracle on path in a child process.
func judge(t *testing.T, path string) (corrupt, known bool) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// bbolt loops for ages over some damage (Tx.Check walks every page id
	// below a high-water mark of 2^40): a hang is a verdict too.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), "FAULTSUITE_ORACLE="+path, "GOTRACEBACK=none")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return false, true
	case errors.As(err, &ee) && ee.ExitCode() == 4:
		return false, false
	case errors.As(err, &ee):
		return true, true // 3, a crash (exit 2 or a signal) or a hang
	}
	t.Fatalf("oracle: %v", err)
	return false, false
}

func movedAside(path string) []string {
	m, _ := filepath.Glob(path + ".corrupt-*")
	return m
}

func fileHash(t *testing.T, path string) uint64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// checkNoCrash fails the test on a crash and counts it.
func checkNoCrash(t *testing.T, what string, r result) {
	t.Helper()
	if r.crashed() {
		figures.Crashes++
		t.Errorf("%s crashed (exit %d):\n%s", what, r.code, firstLines(r.stderr, 8))
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// TestCorruptionCorpus runs every damaged database through `agent status`,
// `agent scan` and `agent status` again.
func TestCorruptionCorpus(t *testing.T) {
	s := newSuite(t)
	healthy, err := os.ReadFile(s.healthy)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range corpus(healthy, s.rng) {
		figures.Corruptions++
		dir := filepath.Join(s.dir, fmt.Sprintf("case-%03d", figures.Corruptions))
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		db := filepath.Join(dir, "state.db")
		if err := os.WriteFile(db, c.data, 0o600); err != nil {
			t.Fatal(err)
		}
		corrupt, known := judge(t, db)
		if c.beyond && !corrupt {
			figures.OracleBlind++
			corrupt, known = true, true
		}
		if corrupt {
			figures.ProvenCorrupt++
		}
		r := s.agent(t, 60*time.Second, "status", "--db", db, "--socket", "")
		checkNoCrash(t, c.name+": agent status", r)
		if m := movedAside(db); len(m) != 0 {
			t.Errorf("%s: the read-only agent status moved the file: %v", c.name, m)
		}
		r = s.agent(t, 60*time.Second, "scan", "--root", s.root, "--db", db, "--socket", "")
		checkNoCrash(t, c.name+": agent scan", r)
		moved := len(movedAside(db)) != 0
		if moved {
			figures.MovedAside++
		}
		switch {
		case moved && known && !corrupt:
			figures.HealthyMovedAside++
			t.Errorf("%s: a database the oracle finds healthy was moved aside:\n%s", c.name, firstLines(r.stderr, 4))
		case !moved && corrupt:
			figures.CorruptKept++
			t.Logf("%s: damaged (oracle) but kept: scan exit %d %s", c.name, r.code, firstLines(r.stderr, 2))
		}
		r = s.agent(t, 60*time.Second, "status", "--db", db, "--socket", "")
		checkNoCrash(t, c.name+": agent status after the scan", r)
		if moved && r.code > 1 {
			t.Errorf("%s: status after the rebuild: exit %d\n%s", c.name, r.code, firstLines(r.stderr, 4))
		}
		if moved && !strings.Contains(r.stdout, "database rebuilt") {
			t.Errorf("%s: status does not name the rebuild:\n%s", c.name, r.stdout)
		}
		if !t.Failed() {
			os.RemoveAll(dir)
		}
	}
	t.Logf("%d corruptions, %d proven corrupt by the oracle, %d moved aside, %d kept although damaged",
		figures.Corruptions, figures.ProvenCorrupt, figures.MovedAside, figures.CorruptKept)
}

type damaged struct {
	name string
	data []byte
	// beyond is set when the damage itself makes an element reach past its
	// page: corrupt by construction, whatever the oracle says. (bbolt's
	// read path ignores the value size of a bucket entry — it reads only
	// the bucket header — so the oracle sees nothing; its write path
	// copies the whole value when it rewrites the page and faults.)
	beyond bool
}

// bbolt layout facts the corpus needs (see agent/store/verify.go).
const (
	hdr       = 16
	flagBr    = 0x01
	flagLeaf  = 0x02
	metaOff   = hdr // meta struct after the page header
	psOff     = metaOff + 8
	rootOff   = metaOff + 16
	freeOff   = metaOff + 32
	hwmOff    = metaOff + 40
	cksumOff  = metaOff + 56
	nativeLen = 56
)

var ne = binary.NativeEndian

func fixMetaChecksum(b []byte, pageOff int) {
	h := fnv.New64a()
	h.Write(b[pageOff+metaOff : pageOff+metaOff+nativeLen])
	ne.PutUint64(b[pageOff+cksumOff:], h.Sum64())
}

// corpus returns the damaged copies of healthy, deterministic for the seed.
func corpus(healthy []byte, rng *rand.Rand) []damaged {
	var out []damaged
	cp := func() []byte { return append([]byte(nil), healthy...) }
	ps := int(ne.Uint32(healthy[psOff:]))
	pages := len(healthy) / ps

	// Bit flips anywhere in the file, 1, 10 and 300 per copy.
	for _, n := range []int{1, 10, 300} {
		for seed := 0; seed < 12; seed++ {
			b := cp()
			for i := 0; i < n; i++ {
				b[rng.IntN(len(b))] ^= 1 << rng.IntN(8)
			}
			out = append(out, damaged{name: fmt.Sprintf("bitflip n=%d #%d", n, seed), data: b})
		}
	}
	// Bit flips confined to page headers and element arrays, where they
	// matter most.
	for seed := 0; seed < 20; seed++ {
		b := cp()
		pg := 2 + rng.IntN(pages-2)
		off := pg*ps + rng.IntN(hdr+16*8)
		b[off] ^= 1 << rng.IntN(8)
		out = append(out, damaged{name: fmt.Sprintf("header bitflip page %d offset %d", pg, off-pg*ps), data: b})
	}
	// Truncations.
	for _, n := range []int{1, 100, ps - 1, ps, ps + 1, 2 * ps, 2*ps + 7, len(healthy) / 2, len(healthy) - ps, len(healthy) - 1} {
		if n > 0 && n < len(healthy) {
			out = append(out, damaged{name: fmt.Sprintf("truncated to %d", n), data: healthy[:n]})
		}
	}
	for i := 0; i < 10; i++ {
		n := 1 + rng.IntN(len(healthy)-1)
		out = append(out, damaged{name: fmt.Sprintf("truncated to %d", n), data: healthy[:n]})
	}
	// Page-size fields of both meta pages, with the checksum left stale and
	// recomputed (then bbolt believes it).
	for _, meta := range []int{0, 1} {
		for _, v := range []uint32{0, 512, 1024, 8192, 65536, 1 << 20, 0xFFFFFFFF} {
			for _, fix := range []bool{false, true} {
				b := cp()
				ne.PutUint32(b[meta*ps+psOff:], v)
				if fix {
					fixMetaChecksum(b, meta*ps)
				}
				out = append(out, damaged{name: fmt.Sprintf("meta %d page size %d (checksum fixed %v)", meta, v, fix), data: b})
			}
		}
		// Root, freelist and high-water page ids with a valid checksum.
		for _, f := range []struct {
			name string
			off  int
			v    uint64
		}{
			{"root", rootOff, 0xFFFFFFFF}, {"root", rootOff, uint64(pages + 5)}, {"root", rootOff, 1},
			{"freelist", freeOff, 0xFFFFFFF0}, {"freelist", freeOff, uint64(pages + 1)}, {"freelist", freeOff, 0},
			{"high-water", hwmOff, 1 << 40}, {"high-water", hwmOff, 1},
		} {
			for _, both := range []bool{false, true} {
				b := cp()
				for m := range 2 {
					if m == meta || both {
						ne.PutUint64(b[m*ps+f.off:], f.v)
						fixMetaChecksum(b, m*ps)
					}
				}
				out = append(out, damaged{name: fmt.Sprintf("meta %d %s page %d (both metas %v)", meta, f.name, f.v, both), data: b})
			}
		}
	}
	// Element sizes, positions, counts, child page ids and overflow of the
	// branch and leaf pages (the crash: a leaf key size of
	// 0x10000000). The first six pages of each kind bound the suite's time.
	// Only pages in use: damage to a free page harms nothing.
	inUse := reachable(healthy, ps)
	perKind := map[uint16]int{}
	for pg := 2; pg < pages; pg++ {
		off := pg * ps
		flags, count := ne.Uint16(healthy[off+8:]), int(ne.Uint16(healthy[off+10:]))
		if !inUse[pg] || (flags != flagBr && flags != flagLeaf) || count == 0 || perKind[flags] >= 6 {
			continue
		}
		perKind[flags]++
		kind := map[uint16]string{flagBr: "branch", flagLeaf: "leaf"}[flags]
		set32 := func(name string, at int, v uint32) {
			b := cp()
			ne.PutUint32(b[at:], v)
			out = append(out, damaged{name: fmt.Sprintf("%s page %d %s=%#x", kind, pg, name, v), data: b, beyond: v >= uint32(ps)})
		}
		for _, el := range []int{0, count - 1} {
			e := off + hdr + 16*el
			if flags == flagLeaf {
				set32(fmt.Sprintf("element %d ksize", el), e+8, 0x10000000)
				set32(fmt.Sprintf("element %d ksize", el), e+8, 0xFFFFFFFF)
				set32(fmt.Sprintf("element %d vsize", el), e+12, 0x10000000)
				set32(fmt.Sprintf("element %d pos", el), e+4, 0xFFFFFFF0)
				set32(fmt.Sprintf("element %d flags", el), e, 1) // a value read as a bucket
			} else {
				set32(fmt.Sprintf("element %d pos", el), e, 0x10000000)
				set32(fmt.Sprintf("element %d ksize", el), e+4, 0x10000000)
				b := cp()
				ne.PutUint64(b[e+8:], 0xFFFFFFFFFF)
				out = append(out, damaged{name: fmt.Sprintf("branch page %d element %d child page 0xFFFFFFFFFF", pg, el), data: b})
			}
		}
		b := cp()
		ne.PutUint16(b[off+10:], 0xFFFF)
		out = append(out, damaged{name: fmt.Sprintf("%s page %d count 0xFFFF", kind, pg), data: b, beyond: true})
		set32("overflow", off+12, 0xFFFFFFFF)
	}
	return out
}

// reachable returns the pages of the (healthy) file's tree: from the root
// bucket of the newer meta page through branch pages and every bucket.
func reachable(b []byte, ps int) map[int]bool {
	out := map[int]bool{}
	meta := 0
	if ne.Uint64(b[ps+metaOff+48:]) > ne.Uint64(b[metaOff+48:]) { // txid
		meta = ps
	}
	if err := walkTree(b, ps, ne.Uint64(b[meta+rootOff:]), func(id int) { out[id] = true }); err != nil {
		panic(fmt.Sprintf("the healthy database: %v", err))
	}
	return out
}

// walkTree walks the bucket tree from page root over the raw file, calls
// visit for every page it reaches, and returns an error for a page outside
// the file, a page reached twice, or an element whose key or value runs past
// the end of its page (with its overflow pages). bbolt's read path has no
// such check: it hands out a key that runs on into the next pages, and its
// write path copies those bytes into the rewritten page. It is written apart
// from agent/store/verify.go on purpose: the oracle must not share the
// agent's mistakes.
func walkTree(b []byte, ps int, root uint64, visit func(id int)) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("walk: %v", r)
		}
	}()
	seen := map[uint64]bool{}
	var page func(id uint64) error
	var node func(id uint64, p []byte) error
	node = func(id uint64, p []byte) error {
		flags, count := ne.Uint16(p[8:]), int(ne.Uint16(p[10:]))
		if hdr+16*count > len(p) {
			return fmt.Errorf("page %d: %d elements do not fit", id, count)
		}
		for i := 0; i < count; i++ {
			e := hdr + 16*i
			if flags == flagBr {
				pos, ks := int(ne.Uint32(p[e:])), int(ne.Uint32(p[e+4:]))
				if e+pos+ks > len(p) {
					return fmt.Errorf("page %d element %d: key past the page", id, i)
				}
				if err := page(ne.Uint64(p[e+8:])); err != nil {
					return err
				}
				continue
			}
			pos, ks, vs := int(ne.Uint32(p[e+4:])), int(ne.Uint32(p[e+8:])), int(ne.Uint32(p[e+12:]))
			if e+pos+ks+vs > len(p) {
				return fmt.Errorf("page %d element %d: key or value past the page", id, i)
			}
			if ne.Uint32(p[e:])&1 == 0 {
				continue
			}
			v := p[e+pos+ks : e+pos+ks+vs]
			if r := ne.Uint64(v); r != 0 {
				if err := page(r); err != nil {
					return err
				}
			} else if err := node(id, v[16:]); err != nil {
				return err
			}
		}
		return nil
	}
	page = func(id uint64) error {
		if seen[id] {
			return fmt.Errorf("page %d reached twice", id)
		}
		seen[id] = true
		off := int(id) * ps
		if id > uint64(len(b)/ps) || off+hdr > len(b) {
			return fmt.Errorf("page %d outside the file", id)
		}
		end := off + (int(ne.Uint32(b[off+12:]))+1)*ps
		if end > len(b) || end < off {
			return fmt.Errorf("page %d: overflow past the file", id)
		}
		visit(int(id))
		return node(id, b[off:end])
	}
	return page(root)
}
