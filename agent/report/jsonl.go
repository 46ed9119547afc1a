package report

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// JSONL appends one event per line to a file and rotates it by size —
// the format Filebeat's filestream input (with the ndjson parser), Fluent
// Bit's tail input (with the json parser), Vector's file source, the Wazuh
// agent's logcollector (log_format json) and Splunk's universal forwarder
// (INDEXED_EXTRACTIONS = json) tail. Rotation renames events.jsonl to
// events.jsonl.1 (shifting older ones up), which all of them follow by
// inode.
type JSONL struct {
	name     string
	path     string
	maxSize  int64
	maxFiles int

	mu   sync.Mutex
	f    outFile
	size int64
	// openFile opens the file; tests replace it to simulate a full disk.
	openFile func(name string, flag int, perm fs.FileMode) (outFile, error)
}

// outFile is what JSONL needs of an open file.
type outFile interface {
	Write(p []byte) (int, error)
	Sync() error
	Truncate(size int64) error
	Stat() (fs.FileInfo, error)
	Close() error
}

func openOS(name string, flag int, perm fs.FileMode) (outFile, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err // a typed nil *os.File would not compare equal to nil
	}
	return f, nil
}

// NewJSONL returns a JSON Lines sink writing to path, rotating before the
// file would exceed maxSize bytes and keeping maxFiles rotated files.
func NewJSONL(name, path string, maxSize int64, maxFiles int) *JSONL {
	if maxSize <= 0 {
		maxSize = 10 << 20
	}
	return &JSONL{name: name, path: path, maxSize: maxSize, maxFiles: maxFiles, openFile: openOS}
}

// Name implements EventSink.
func (j *JSONL) Name() string { return j.name }

// BatchSize implements EventSink.
func (j *JSONL) BatchSize() int { return 500 }

// Deliver appends the batch with one write and one fsync. A failed write
// (disk full) is truncated away so that no half line is left for the
// shipper, and nothing of the batch counts as delivered.
func (j *JSONL) Deliver(_ context.Context, msgs []Message) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var buf []byte
	for _, m := range msgs {
		buf = append(buf, m.JSON...)
		buf = append(buf, '\n')
	}
	if err := j.ensureOpen(); err != nil {
		return 0, err
	}
	if j.size > 0 && j.size+int64(len(buf)) > j.maxSize {
		if err := j.rotate(); err != nil {
			return 0, err
		}
	}
	if _, err := j.f.Write(buf); err != nil {
		j.undo()
		return 0, fmt.Errorf("writing %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		j.undo()
		return 0, fmt.Errorf("syncing %s: %w", j.path, err)
	}
	j.size += int64(len(buf))
	return len(msgs), nil
}

// undo cuts the file back to its last good size and forgets the handle so
// that the next attempt starts clean.
func (j *JSONL) undo() {
	_ = j.f.Truncate(j.size)
	_ = j.f.Close()
	j.f = nil
}

// ensureOpen opens the file if needed, and reopens it when someone else
// (logrotate) moved or removed it, so that events never go into a file
// nobody reads.
func (j *JSONL) ensureOpen() error {
	if j.f != nil {
		cur, err1 := os.Stat(j.path)
		open, err2 := j.f.Stat()
		if err1 == nil && err2 == nil && os.SameFile(cur, open) {
			return nil
		}
		_ = j.f.Close()
		j.f = nil
	}
	if err := os.MkdirAll(filepath.Dir(j.path), 0o750); err != nil {
		return fmt.Errorf("creating directory of %s: %w", j.path, err)
	}
	// 0640: root and the group of the log shipper (adm on Debian) may read.
	f, err := j.openFile(j.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|noFollow, 0o640)
	if err != nil {
		return fmt.Errorf("opening %s: %w", j.path, err)
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = errors.New("not a regular file")
		}
		return fmt.Errorf("opening %s: %w", j.path, err)
	}
	j.f, j.size = f, fi.Size()
	return nil
}

// rotate shifts path.N-1 → path.N … path → path.1 and opens a new file.
func (j *JSONL) rotate() error {
	if err := j.f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", j.path, err)
	}
	j.f = nil
	if j.maxFiles == 0 {
		if err := os.Remove(j.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("rotating %s: %w", j.path, err)
		}
		return j.ensureOpen()
	}
	_ = os.Remove(j.path + "." + strconv.Itoa(j.maxFiles))
	for i := j.maxFiles - 1; i >= 1; i-- {
		old := j.path + "." + strconv.Itoa(i)
		if err := os.Rename(old, j.path+"."+strconv.Itoa(i+1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("rotating %s: %w", old, err)
		}
	}
	if err := os.Rename(j.path, j.path+".1"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("rotating %s: %w", j.path, err)
	}
	return j.ensureOpen()
}

// Close implements EventSink.
func (j *JSONL) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}
