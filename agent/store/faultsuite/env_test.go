//go:build linux

package faultsuite

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// copyHealthy copies the suite's healthy database to dir/state.db.
func (s *suite) copyHealthy(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(s.healthy)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "state.db")
	if err := os.WriteFile(db, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return db
}

// keptIntact asserts that db is still the same healthy file: not moved
// aside, not replaced, still readable by agent status.
func (s *suite) keptIntact(t *testing.T, what, db string, before uint64) {
	t.Helper()
	figures.EnvironmentalCases++
	if m := movedAside(db); len(m) != 0 {
		figures.HealthyMovedAside++
		t.Errorf("%s: a healthy database was moved aside: %v", what, m)
	}
	if h := fileHash(t, db); h != before {
		t.Errorf("%s: the database file changed", what)
	}
	r := s.agent(t, 30*time.Second, "status", "--db", db, "--socket", "")
	checkNoCrash(t, what+": agent status afterwards", r)
	if r.code > 1 {
		t.Errorf("%s: agent status afterwards: exit %d\n%s", what, r.code, firstLines(r.stderr, 4))
	}
}

// Too few file descriptors say nothing about the database: it used to be
// moved aside and replaced by an empty one.
func TestTooManyOpenFiles(t *testing.T) {
	s := newSuite(t)
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit (util-linux) not installed")
	}
	for _, verb := range [][]string{
		{"scan", "--root", s.root, "--socket", ""},
		{"status", "--socket", ""},
		{"drift", "--json"},
	} {
		dir := t.TempDir()
		db := s.copyHealthy(t, dir)
		before := fileHash(t, db)
		args := append([]string{"--nofile=8:8", s.bin}, verb...)
		args = append(args, "--db", db)
		r := s.run(t, 30*time.Second, prlimit, args...)
		what := "prlimit --nofile=8:8 agent " + verb[0]
		checkNoCrash(t, what, r)
		if r.code == 0 && verb[0] == "scan" {
			t.Logf("%s succeeded with 8 descriptors", what)
		} else if !strings.Contains(r.stderr, "too many open files") {
			t.Logf("%s: exit %d %s", what, r.code, firstLines(r.stderr, 2))
		}
		s.keptIntact(t, what, db, before)
	}
}

// A read-only database directory (a read-only mount as root, a directory
// without write permission otherwise): the scan fails with a clear error,
// the file stays as it is and status still reads it.
func TestReadOnlyDirectory(t *testing.T) {
	s := newSuite(t)
	dir := t.TempDir()
	db := s.copyHealthy(t, dir)
	before := fileHash(t, db)
	if os.Geteuid() == 0 {
		if out, err := exec.Command("mount", "--bind", dir, dir).CombinedOutput(); err != nil {
			t.Skipf("cannot bind-mount (%v: %s); the read-only case needs mount privileges", err, out)
		}
		t.Cleanup(func() { exec.Command("umount", dir).Run() })
		if out, err := exec.Command("mount", "-o", "remount,ro,bind", dir).CombinedOutput(); err != nil {
			t.Skipf("cannot remount read-only: %v: %s", err, out)
		}
	} else {
		os.Chmod(db, 0o400)
		os.Chmod(dir, 0o500)
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
	}
	r := s.agent(t, 30*time.Second, "scan", "--root", s.root, "--db", db, "--socket", "")
	checkNoCrash(t, "agent scan on a read-only directory", r)
	if r.code == 0 {
		t.Error("agent scan on a read-only directory succeeded")
	}
	if !strings.Contains(r.stderr, "read-only file system") && !strings.Contains(r.stderr, "permission denied") {
		t.Errorf("the error does not say why:\n%s", r.stderr)
	}
	s.keptIntact(t, "read-only directory", db, before)
}

// A full file system (a small tmpfs, as root): the scan fails, the file
// keeps its history, and the next scan after space is freed records.
func TestFullFileSystem(t *testing.T) {
	s := newSuite(t)
	if os.Geteuid() != 0 {
		t.Skip("the full file system case mounts a tmpfs: run as root")
	}
	dir := t.TempDir()
	size := fileSize(t, s.healthy) + 64<<10
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v: %s)", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	db := s.copyHealthy(t, dir)
	before := fileHash(t, db)
	scansBefore := countScans(t, s, db)
	// Fill the rest.
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	f.Close()
	failed := false
	for i := 0; i < 3; i++ {
		s.toggle(t)
		r := s.agent(t, 30*time.Second, "scan", "--root", s.root, "--db", db, "--socket", "")
		checkNoCrash(t, "agent scan on a full file system", r)
		if r.code > 1 {
			failed = true
			if !strings.Contains(r.stderr, "no space left") {
				t.Logf("scan on a full file system: exit %d %s", r.code, firstLines(r.stderr, 2))
			}
		}
	}
	if !failed {
		t.Log("every scan fitted into the file's free pages")
	}
	// A new database cannot even be created: a clear error, no crash, and
	// nothing left that a later start would take for a corrupt file.
	fresh := filepath.Join(dir, "new.db")
	r := s.agent(t, 30*time.Second, "scan", "--root", s.root, "--db", fresh, "--socket", "")
	checkNoCrash(t, "agent scan creating a database on a full file system", r)
	if r.code < 2 || !strings.Contains(r.stderr, "no space left") {
		t.Errorf("creating a database on a full file system: exit %d\n%s", r.code, firstLines(r.stderr, 4))
	}
	figures.EnvironmentalCases++
	if m := movedAside(db); len(m) != 0 {
		figures.HealthyMovedAside++
		t.Errorf("a healthy database was moved aside on a full file system: %v", m)
	}
	_ = before
	if n := countScans(t, s, db); n < scansBefore {
		t.Errorf("scans %d -> %d: history lost on a full file system", scansBefore, n)
	}
	os.Remove(filler)
	s.toggle(t)
	r = s.agent(t, 30*time.Second, "scan", "--root", s.root, "--db", db, "--socket", "")
	checkNoCrash(t, "agent scan after space was freed", r)
	if r.code > 1 {
		t.Fatalf("scan after space was freed: exit %d\n%s", r.code, r.stderr)
	}
	if n := countScans(t, s, db); n <= scansBefore {
		t.Errorf("scans %d -> %d after space was freed; want one more", scansBefore, n)
	}
	if m := movedAside(db); len(m) != 0 {
		t.Errorf("moved aside after space was freed: %v", m)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

type driftDump struct {
	Events []struct {
		ID     string `json:"id"`
		ScanID string `json:"scan_id"`
		Kind   string `json:"kind"`
	} `json:"events"`
	Scans []struct {
		ID      string `json:"id"`
		Changed bool   `json:"changed"`
	} `json:"scans"`
}

func readDrift(t *testing.T, s *suite, db string) driftDump {
	t.Helper()
	r := s.agent(t, 30*time.Second, "drift", "--db", db, "--json", "--since", "2000-01-01T00:00:00Z")
	checkNoCrash(t, "agent drift", r)
	var d driftDump
	if r.code != 0 {
		t.Fatalf("agent drift: exit %d\n%s", r.code, r.stderr)
	}
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("agent drift --json: %v", err)
	}
	return d
}

func countScans(t *testing.T, s *suite, db string) int {
	return len(readDrift(t, s, db).Scans)
}

// kill -9 at random moments of `agent scan` (many in the middle of its
// commit): the database always opens, is never moved aside, and every
// committed scan that changed something has its drift events — none lost,
// none twice, none for a scan that did not commit.
func TestKillDuringCommit(t *testing.T) {
	s := newSuite(t)
	dir := t.TempDir()
	db := s.copyHealthy(t, dir)
	// How long an uninterrupted scan takes here, to aim the kills.
	start := time.Now()
	s.toggle(t)
	if r := s.agent(t, 30*time.Second, "scan", "--root", s.root, "--db", db, "--socket", ""); r.code > 1 {
		t.Fatalf("scan: exit %d\n%s", r.code, r.stderr)
	}
	took := time.Since(start)
	rng := rand.New(rand.NewPCG(9, 9))
	const kills = 60
	for i := 0; i < kills; i++ {
		s.toggle(t)
		before := countScans(t, s, db)
		cmd := exec.Command(s.bin, "scan", "--root", s.root, "--db", db, "--socket", "")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		figures.Processes++
		// Between 40 % and 110 % of a scan's time: the commit is at the end.
		time.Sleep(took*4/10 + time.Duration(rng.Int64N(int64(took*7/10))))
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		figures.Kills++
		if countScans(t, s, db) > before {
			figures.KillsCommitted++
		}
		r := s.agent(t, 30*time.Second, "status", "--db", db, "--socket", "")
		checkNoCrash(t, "agent status after kill -9", r)
		if r.code > 1 {
			t.Fatalf("kill %d: status: exit %d\n%s", i, r.code, r.stderr)
		}
	}
	// A last scan that completes runs the full check (the killed writers
	// left their marker) and must find nothing to rebuild.
	s.toggle(t)
	r := s.agent(t, 30*time.Second, "scan", "--root", s.root, "--db", db, "--socket", "")
	checkNoCrash(t, "agent scan after the kills", r)
	if r.code > 1 {
		t.Fatalf("scan after the kills: exit %d\n%s", r.code, r.stderr)
	}
	figures.EnvironmentalCases++
	if m := movedAside(db); len(m) != 0 {
		figures.HealthyMovedAside++
		t.Fatalf("the database was moved aside after kill -9: %v", m)
	}
	d := readDrift(t, s, db)
	scans := map[string]bool{}
	for _, sc := range d.Scans {
		scans[sc.ID] = true
	}
	seen := map[string]bool{}
	perScan := map[string]int{}
	for _, e := range d.Events {
		if seen[e.ID] {
			figures.EventsDuplicated++
			t.Errorf("event %s twice", e.ID)
		}
		seen[e.ID] = true
		perScan[e.ScanID]++
		if !scans[e.ScanID] {
			figures.EventsLost++ // an event of a scan that is not recorded: the pair is inconsistent
			t.Errorf("event %s (%s) of scan %s that is not recorded", e.ID, e.Kind, e.ScanID)
		}
	}
	for i, sc := range d.Scans {
		if i > 0 && sc.Changed && perScan[sc.ID] == 0 {
			figures.EventsLost++
			t.Errorf("scan %s changed the device but has no drift event", sc.ID)
		}
	}
	t.Logf("%d kills (%d after the commit), %d scans recorded, %d events; lost %d, duplicated %d",
		figures.Kills, figures.KillsCommitted, len(d.Scans), len(d.Events), figures.EventsLost, figures.EventsDuplicated)
}
