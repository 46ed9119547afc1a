package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"

	"github.com/msgguard/msgguard/policy"
)

// memKeeper is a PolicyKeeper in memory that counts writes.
type memKeeper struct {
	p       *SavedPolicy
	saves   int
	forgets int
}

func (m *memKeeper) Save(p SavedPolicy) error {
	m.saves++
	m.p = &p
	return nil
}

func (m *memKeeper) Saved() (SavedPolicy, bool, error) {
	if m.p == nil {
		return SavedPolicy{}, false, nil
	}
	return *m.p, true, m.p.check()
}

func (m *memKeeper) Forget() error {
	m.forgets++
	m.p = nil
	return nil
}

func saved(file, content string) *SavedPolicy {
	sum := sha256.Sum256([]byte(content))
	return &SavedPolicy{File: file, SHA256: hex.EncodeToString(sum[:]), Data: []byte(content),
		SavedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
}

func openBolt(t *testing.T, path string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestLastGoodPolicySurvivesRestart: a daemon runs a custom policy and
// stops; the file is replaced with garbage; the next daemon (same
// database) runs the custom policy, with the file's errors and the
// policy.invalid finding, and keeps the fix once there is one.
func TestLastGoodPolicySurvivesRestart(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "state.db")
	file := filepath.Join(t.TempDir(), "policy.yaml")
	withKeep := func(db *bolt.DB) func(*Options) {
		return func(o *Options) {
			o.Policy.File = file
			o.Policy.Keep = KeepPolicyIn(db)
		}
	}

	db := openBolt(t, dbPath)
	writePolicy(t, file, "name: custom")
	h := newHarness(t, fastSchedule(), withKeep(db))
	h.start(t)
	waitFor(t, "the first run's scan", func() bool { return h.scanner.count() == 1 })
	h.cancel()
	<-h.done
	h.done <- nil
	db.Close()

	writePolicy(t, file, "}}} garbage {{{")
	db = openBolt(t, dbPath)
	defer db.Close()
	h = newHarness(t, fastSchedule(), withKeep(db))
	h.start(t)
	waitFor(t, "the second run's scan", func() bool { return h.scanner.count() == 1 })
	p := h.scanner.last()
	if p.Ref.Name != "custom" || p.Ref.Source != file {
		t.Errorf("policy after a restart with garbage = %q from %q; want the last good (custom) from %s", p.Ref.Name, p.Ref.Source, file)
	}
	wantErrs := []string{file + ":1:1: not a policy", file + ":2:1: second error"}
	if diff := cmp.Diff(wantErrs, p.Ref.Errors); diff != "" {
		t.Errorf("Ref.Errors (-want +got):\n%s", diff)
	}
	if len(p.Extra) != 1 || p.Extra[0].Rule != policy.RulePolicyInvalid || p.Extra[0].Status != policy.StatusFail {
		t.Errorf("Extra = %+v; want one failing policy.invalid finding", p.Extra)
	}
	if hl := h.d.Health(context.Background()); hl.OK || len(hl.Problems) != 1 || !strings.Contains(hl.Problems[0], `"custom" stays in force`) {
		t.Errorf("Health = %+v; want the rejected file with custom in force", hl)
	}

	writePolicy(t, file, "name: fixed")
	waitFor(t, "a rescan after the fix", func() bool { return h.scanner.count() == 2 })
	if p := h.scanner.last(); p.Ref.Name != "fixed" || len(p.Ref.Errors) != 0 {
		t.Errorf("after the fix: %+v", p.Ref)
	}
	sp, ok, err := KeepPolicyIn(db).Saved()
	if err != nil || !ok || string(sp.Data) != "name: fixed" || sp.File != file {
		t.Errorf("kept after the fix = %+v, %v, %v; want the fixed file", sp, ok, err)
	}
}

// TestRestoreAtStart covers what runs when the file fails at start.
func TestRestoreAtStart(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.yaml")
	tests := []struct {
		name     string
		kept     *SavedPolicy
		content  string // "" = no file
		optional bool
		wantName string
		wantErr  bool
	}{
		{"nothing kept", nil, "garbage", false, "embedded-default", true},
		{"kept from the same file", saved(file, "name: custom"), "garbage", false, "custom", true},
		{"missing required file", saved(file, "name: custom"), "", false, "custom", true},
		{"kept from another file", saved(filepath.Join(dir, "old.yaml"), "name: custom"), "garbage", false, "embedded-default", true},
		{"kept no longer loads", saved(file, "not a policy any more"), "garbage", false, "embedded-default", true},
		{"damaged record", &SavedPolicy{File: file, SHA256: "00", Data: []byte("name: custom")}, "garbage", false, "embedded-default", true},
		{"good file wins", saved(file, "name: custom"), "name: new", false, "new", false},
		{"optional file absent", saved(file, "name: custom"), "", true, "embedded-default", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(file)
			if tt.content != "" {
				writePolicy(t, file, tt.content)
			}
			k := &memKeeper{p: tt.kept}
			w := newPolicyWatch(PolicySource{File: file, Optional: tt.optional, Load: fakeLoad, Default: fakeDefault, Keep: k},
				time.Now, zerolog.New(zerolog.NewTestWriter(t)))
			w.check(true)
			p := w.current()
			if p.Ref.Name != tt.wantName || (len(p.Ref.Errors) > 0) != tt.wantErr {
				t.Errorf("in force: %q with errors %v; want %q (errors: %v)", p.Ref.Name, p.Ref.Errors, tt.wantName, tt.wantErr)
			}
		})
	}
}

// TestKeepWritesOnlyChanges: the kept policy is written when a new file
// loads, not on every check, never for a rejected file, and dropped when
// the optional file disappears.
func TestKeepWritesOnlyChanges(t *testing.T) {
	file := filepath.Join(t.TempDir(), "policy.yaml")
	writePolicy(t, file, "name: one")
	k := &memKeeper{}
	clock := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	w := newPolicyWatch(PolicySource{File: file, Optional: true, Load: fakeLoad, Default: fakeDefault, Keep: k},
		func() time.Time { return clock }, zerolog.New(zerolog.NewTestWriter(t)))
	steps := []struct {
		write     string // "" = remove the file; "-" = leave it
		wantSaves int
		wantKept  string // kept content, "" = none
	}{
		{"-", 1, "name: one"},
		{"-", 1, "name: one"},
		{"garbage", 1, "name: one"},
		{"name: two", 2, "name: two"},
		{"name: two", 2, "name: two"},
		{"", 2, ""},
		{"name: two", 3, "name: two"},
	}
	for i, st := range steps {
		switch st.write {
		case "-":
		case "":
			os.Remove(file)
		default:
			writePolicy(t, file, st.write)
		}
		clock = clock.Add(time.Hour)
		w.check(true)
		kept := ""
		if k.p != nil {
			kept = string(k.p.Data)
		}
		if k.saves != st.wantSaves || kept != st.wantKept {
			t.Errorf("step %d (%q): %d saves, kept %q; want %d, %q", i, st.write, k.saves, kept, st.wantSaves, st.wantKept)
		}
	}
	if k.forgets != 1 {
		t.Errorf("forgets = %d; want 1", k.forgets)
	}
	if k.p == nil || !k.p.SavedAt.Equal(clock) || k.p.File != file {
		t.Errorf("kept = %+v; want saved at the last step from %s", k.p, file)
	}
}

// TestBoltKeeper round-trips through bbolt and refuses a damaged record.
func TestBoltKeeper(t *testing.T) {
	db := openBolt(t, filepath.Join(t.TempDir(), "state.db"))
	defer db.Close()
	k := KeepPolicyIn(db)
	if _, ok, err := k.Saved(); ok || err != nil {
		t.Fatalf("Saved on an empty database = %v, %v; want none", ok, err)
	}
	want := *saved("/etc/msgguard/policy.yaml", "name: custom\n")
	if err := k.Save(want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := k.Saved()
	if err != nil || !ok {
		t.Fatalf("Saved = %v, %v", ok, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Saved (-want +got):\n%s", diff)
	}
	bad := want
	bad.Data = []byte("name: tampered\n")
	if err := k.Save(bad); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := k.Saved(); ok || err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("Saved of a damaged record = %v, %v; want an error", ok, err)
	}
	if err := k.Forget(); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := k.Saved(); ok || err != nil {
		t.Errorf("Saved after Forget = %v, %v; want none", ok, err)
	}
}
