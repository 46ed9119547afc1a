// Package phonetest serves recorded phone command output to the android and
// ios tests: the fixture format of their testdata/*.txtar files, loaded into
// a platformtest.FakeRunner, and fakecmd.sh, an executable stand-in for adb
// and the libimobiledevice tools that serves the very same files through a
// real platform.ExecRunner.
package phonetest

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/platform/platformtest"
)

// Recording is one command section of a fixture: "-- CMD --" then the
// output. "[exit=N]" after CMD makes the body stderr and the command fail
// with status N (N = 0: stderr only, success); "[hang]" makes it never
// answer.
type Recording struct {
	Cmd    string
	Body   string
	Exit   int
	Stderr bool
	Hang   bool
}

// Fixture is a parsed testdata/*.txtar file: the phone's identifier (the
// "serial: " or "udid: " line before the first section) and its commands.
type Fixture struct {
	ID   string
	Cmds []Recording
}

// Load reads and parses the fixture file at path; idKey names its
// identifier line ("serial" for Android, "udid" for iOS).
func Load(t testing.TB, path, idKey string) Fixture {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(string(b), idKey)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f
}

// Parse parses a fixture (see Load).
func Parse(s, idKey string) (Fixture, error) {
	var f Fixture
	var cur *Recording
	for _, line := range strings.SplitAfter(s, "\n") {
		trim := strings.TrimRight(line, "\n")
		if strings.HasPrefix(trim, "-- ") && strings.HasSuffix(trim, " --") && len(trim) > 6 {
			r, err := header(trim[3 : len(trim)-3])
			if err != nil {
				return f, err
			}
			f.Cmds = append(f.Cmds, r)
			cur = &f.Cmds[len(f.Cmds)-1]
			continue
		}
		if cur == nil {
			if v, ok := strings.CutPrefix(trim, idKey+": "); ok {
				f.ID = v
			}
			continue
		}
		cur.Body += line
	}
	if f.ID == "" {
		return f, fmt.Errorf("no %s line", idKey)
	}
	return f, nil
}

// header parses a section header without its dashes: the command, then an
// optional " [annotation]".
func header(h string) (Recording, error) {
	r := Recording{Cmd: h}
	i := strings.LastIndex(h, " [")
	if i < 0 || !strings.HasSuffix(h, "]") {
		return r, nil
	}
	ann := h[i+2 : len(h)-1]
	r.Cmd = h[:i]
	switch {
	case ann == "hang":
		r.Hang = true
	case strings.HasPrefix(ann, "exit="):
		n, err := strconv.Atoi(strings.TrimPrefix(ann, "exit="))
		if err != nil {
			return r, fmt.Errorf("bad annotation %q", ann)
		}
		r.Exit, r.Stderr = n, true
	default:
		return r, fmt.Errorf("bad annotation %q", ann)
	}
	return r, nil
}

// ExitError mimics an *exec.ExitError inside a platform.CommandError.
type ExitError int

func (e ExitError) Error() string { return "exit status " + strconv.Itoa(int(e)) }

// Install records the fixture's commands in r under prefix+CMD (Android's
// prefix is "adb -s SERIAL shell ", iOS's is empty), the way ExecRunner
// would report them: a failing command as a platform.CommandError named by
// the line's first word, with the body as its stderr.
func (f Fixture) Install(r *platformtest.FakeRunner, prefix string) {
	for _, c := range f.Cmds {
		line := prefix + c.Cmd
		switch {
		case c.Hang:
			r.SetHang(line)
		case c.Stderr && c.Exit != 0:
			r.SetErr(line, "", &platform.CommandError{Name: strings.Fields(line)[0], Err: ExitError(c.Exit), Stderr: []byte(c.Body)})
		case c.Stderr:
			r.Set(line, "")
		default:
			r.Set(line, c.Body)
		}
	}
}

// Body returns the recorded output of cmd.
func (f Fixture) Body(t testing.TB, cmd string) string {
	t.Helper()
	for _, c := range f.Cmds {
		if c.Cmd == cmd {
			return c.Body
		}
	}
	t.Fatalf("fixture %s has no %q", f.ID, cmd)
	return ""
}

// fakeCmd is the stand-in executable; see the comment at its top.
//
//go:embed fakecmd.sh
var fakeCmd []byte

// FakeTools installs fakecmd.sh under each of names in dir and returns a
// real ExecRunner whose table lists, for each name, a missing path and then
// the copy (so the candidate fallback is exercised too). The caller puts
// host.txtar and phones/SERIAL.txtar next to them. Stat is overridden
// because the copies are not root-owned in every test environment;
// everything else (process start, arguments, exit status, stderr,
// timeouts) is the production path.
func FakeTools(t testing.TB, dir string, names ...string) *platform.ExecRunner {
	t.Helper()
	paths := map[string][]string{}
	for _, name := range names {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, fakeCmd, 0o755); err != nil {
			t.Fatal(err)
		}
		paths[name] = []string{filepath.Join(dir, "missing", name), p}
	}
	return &platform.ExecRunner{Paths: paths, Stat: func(p string) bool {
		st, err := os.Stat(p)
		return err == nil && st.Mode().IsRegular()
	}}
}
