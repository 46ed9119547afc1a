package store

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// damageLeafKeySize sets the key size of the first element of the first
// leaf page after the meta pages to 0x10000000: bbolt then reads 256 MiB
// past the element, outside its mmap — a SIGSEGV that recover() cannot
// catch unless the read is verified first.
func damageLeafKeySize(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ps := int(binary.NativeEndian.Uint32(b[pageHeaderSize+8:]))
	for pg := 2; (pg+1)*ps <= len(b); pg++ {
		off := pg * ps
		if binary.NativeEndian.Uint16(b[off+8:]) == flagLeaf && binary.NativeEndian.Uint16(b[off+10:]) > 0 {
			binary.NativeEndian.PutUint32(b[off+pageHeaderSize+8:], 0x10000000)
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatal("no leaf page found")
}

func TestLeafKeySizeOutsideMmapIsCorruptNotACrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	writeValid(t, path)
	damageLeafKeySize(t, path)

	// A read-only open (agent status) must report it, not die, and move
	// nothing.
	_, err := Open(path, Options{ReadOnly: true})
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("read-only Open = %v; want ErrCorrupt", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("read-only Open moved the file: %v", err)
	}

	c := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s := open(t, path, c)
	defer s.Close()
	if s.Recovered == "" {
		t.Fatal("the damaged file was not moved aside")
	}
	ri, ok, err := s.LastReset()
	if err != nil || !ok {
		t.Fatalf("LastReset = %v, %v, %v", ri, ok, err)
	}
	if !ri.At.Equal(c.t) || ri.MovedTo != s.Recovered || !strings.Contains(ri.Reason, "beyond the page") {
		t.Errorf("LastReset = %+v", ri)
	}
	if _, err := s.Record(newReport(c.t)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// The rebuild stays visible after later opens (agent status names it).
	s2 := open(t, path, c)
	defer s2.Close()
	if ri2, ok, _ := s2.LastReset(); !ok || ri2.MovedTo != ri.MovedTo {
		t.Errorf("LastReset after reopen = %+v, %v", ri2, ok)
	}
}

func TestVerifyFileAcceptsHealthyDatabases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	writeValid(t, path)
	if err := verifyFile(path); err != nil {
		t.Fatalf("verifyFile(healthy) = %v", err)
	}
}

func TestOpenWithoutChangesDoesNotCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	c := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := open(t, path, c)
	id0, _ := s.TxID()
	s.Close()
	s = open(t, path, c)
	id1, _ := s.TxID()
	s.Close()
	if id1 != id0 {
		t.Errorf("reopening a complete database committed %d transaction(s); want 0", id1-id0)
	}
	if _, err := os.Stat(path + markerSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("marker after a clean close: %v", err)
	}
}

func TestUncleanShutdownRunsTheFullCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	c := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	writeValid(t, path)
	s := open(t, path, c)
	id0, _ := s.TxID()
	s.Close()
	// A writer that was killed leaves its marker.
	if err := os.WriteFile(path+markerSuffix, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s = open(t, path, c)
	defer s.Close()
	if s.checkedAt.IsZero() {
		t.Error("no full check after an unclean shutdown")
	}
	if id, _ := s.TxID(); id != id0+1 {
		t.Errorf("txid %d -> %d; want the check's time recorded in one commit", id0, id)
	}
	if _, err := os.Stat(path + markerSuffix); err != nil {
		t.Errorf("marker while open: %v", err)
	}
}

func TestCheckInterval(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	c := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	writeValid(t, path)
	s, err := Open(path, Options{Now: c.Now, CheckInterval: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	first := s.checkedAt
	if first.IsZero() {
		t.Fatal("no check recorded on first open with an interval")
	}
	c.t = c.t.Add(time.Hour)
	if err := s.CheckIfDue(); err != nil || !s.checkedAt.Equal(first) {
		t.Errorf("check after an hour: %v, checked at %v", err, s.checkedAt)
	}
	c.t = c.t.Add(24 * time.Hour)
	if err := s.CheckIfDue(); err != nil || !s.checkedAt.Equal(c.t) {
		t.Errorf("check after a day: %v, checked at %v", err, s.checkedAt)
	}
}

// TestTruncatedFreeTailIsWhole: a file cut short where only free pages are
// lost is one bbolt opens and checks clean, so it must not be moved aside;
// cut into a page in use, it is damage.
func TestTruncatedFreeTailIsWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Fill a bucket, then drop it: its pages, at the end of the file,
	// go on the freelist while the high-water mark stays.
	err = db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucket([]byte("keep")); err != nil {
			return err
		}
		b, err := tx.CreateBucket([]byte("drop"))
		if err != nil {
			return err
		}
		for i := range 64 {
			if err := b.Put([]byte{byte(i)}, make([]byte, 3000)); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("drop")) })
	}
	if err == nil {
		err = db.Close()
	}
	if err != nil {
		t.Fatal(err)
	}

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	v := &verifier{f: f, size: uint64(st.Size()), seen: map[uint64]bool{}}
	err = v.run()
	f.Close()
	if err != nil {
		t.Fatalf("verify before truncation: %v", err)
	}
	first := v.hwm
	for first > 2 && v.free[first-1] {
		first--
	}
	if first == v.hwm {
		t.Fatalf("setup: no free pages at the end of the file (high-water mark %d)", v.hwm)
	}
	if err := os.Truncate(path, int64(first*v.pageSize)); err != nil {
		t.Fatal(err)
	}
	if err := verifyFile(path); err != nil {
		t.Fatalf("a file missing only free pages %d..%d: %v; want whole", first, v.hwm-1, err)
	}
	c := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s := open(t, path, c)
	if s.Recovered != "" {
		t.Errorf("a file missing only free pages was moved aside to %s", s.Recovered)
	}
	s.Close()

	// One page further, into a page that is not free: damage.
	if err := os.Truncate(path, int64((first-1)*v.pageSize)); err != nil {
		t.Fatal(err)
	}
	if err := verifyFile(path); !errors.Is(err, ErrCorrupt) {
		t.Errorf("a file cut into page %d, which is not free: %v; want ErrCorrupt", first-1, err)
	}
}
