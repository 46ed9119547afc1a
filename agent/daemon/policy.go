package daemon

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/msgguard/msgguard/agent/scan"
	"github.com/msgguard/msgguard/install"
	"github.com/msgguard/msgguard/platform"
	"github.com/msgguard/msgguard/policy"
)

// PolicySource says where the policy comes from and how it is loaded.
type PolicySource struct {
	// File is the policy file; empty means the embedded default only.
	File string
	// Optional makes a missing File mean "use the default" rather than an
	// error: the installed location is empty until an administrator puts a
	// policy there.
	Optional bool
	// Load parses a policy file (policy.Load with its PolicyRef).
	Load func(file string, data []byte) (scan.Policy, error)
	// Default is the embedded default policy.
	Default func() scan.Policy
	// InvalidFinding builds the policy.invalid finding raised while a
	// rejected file is ignored; nil uses a built-in one.
	InvalidFinding func(err error, now time.Time) policy.Finding
	// Read reads File; nil uses readPolicyFile.
	Read func(file string) ([]byte, error)
	// Keep, if set, stores each policy file that loads, so that a restart
	// with a broken file runs the last good policy again (re-validated
	// with Load) instead of the embedded default; nil keeps it for this
	// process only.
	Keep PolicyKeeper
}

func (s PolicySource) check() error {
	if s.Default == nil || (s.File != "" && s.Load == nil) {
		return errors.New("daemon: policy Default (and Load, with a File) are required")
	}
	return nil
}

// fullCheckEvery rereads and hashes the policy file even when its stat
// stamp is unchanged: a same-size rewrite within the file system's time
// granularity would otherwise go unnoticed.
const fullCheckEvery = time.Minute

// policyWatch holds the policy in force and notices when the file changes.
// A file that fails to load never replaces the last good policy; its error
// is kept and reported until a good file appears.
type policyWatch struct {
	src PolicySource
	now func() time.Time
	log zerolog.Logger

	mu       sync.Mutex
	init     bool
	good     scan.Policy
	seen     string // content hash, "absent", or "error:<msg>"
	stamp    string
	lastFull time.Time
	loadErr  error
	// keptFile and keptSHA describe what Keep holds ("" when nothing), so
	// that an unchanged policy is not written again.
	keptFile, keptSHA string
}

func newPolicyWatch(src PolicySource, now func() time.Time, log zerolog.Logger) *policyWatch {
	if src.Read == nil {
		src.Read = readPolicyFile
	}
	return &policyWatch{src: src, now: now, log: log}
}

// readPolicyFile reads the policy without following a symbolic link and
// capped in size; running as root, the file must also be root-owned and not
// writable by group or others, since whoever writes the policy decides what
// the agent checks.
func readPolicyFile(file string) ([]byte, error) {
	if os.Geteuid() == 0 {
		return install.ReadTrusted(file, platform.MaxConfigSize)
	}
	return platform.ReadPath(file, platform.MaxConfigSize)
}

// stampOf is a cheap change indicator from Lstat.
func stampOf(file string) string {
	st, err := os.Lstat(file)
	if err != nil {
		return "err:" + err.Error()
	}
	// Not Sys(): it holds the access time, which our own reads change.
	return fmt.Sprintf("%d|%d|%v", st.Size(), st.ModTime().UnixNano(), st.Mode())
}

// check looks at the policy file and reports whether what it found differs
// from last time (new content, now broken, now missing). force skips the
// cheap stat comparison.
func (w *policyWatch) check(force bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.src.File == "" {
		if !w.init {
			w.good, w.init = w.src.Default(), true
		}
		return false
	}
	now := w.now()
	stamp := stampOf(w.src.File)
	if !force && w.init && stamp == w.stamp && now.Sub(w.lastFull) < fullCheckEvery {
		return false
	}
	w.stamp, w.lastFull = stamp, now
	var saved *SavedPolicy
	if !w.init {
		saved = w.readKept()
	}
	data, err := w.src.Read(w.src.File)
	var key string
	switch {
	case errors.Is(err, fs.ErrNotExist) && w.src.Optional:
		key = "absent"
	case err != nil:
		key = "error:" + err.Error()
	default:
		sum := sha256.Sum256(data)
		key = hex.EncodeToString(sum[:])
	}
	if w.init && key == w.seen {
		return false
	}
	w.seen = key
	first := !w.init
	w.init = true
	switch {
	case key == "absent":
		w.good, w.loadErr = w.src.Default(), nil
		w.forget()
		w.log.Info().Str("file", w.src.File).Msg("policy_file_absent_using_default")
	case err != nil:
		w.reject(fmt.Errorf("reading policy %s: %w", w.src.File, err), first, saved)
	default:
		p, err := w.src.Load(w.src.File, data)
		if err != nil {
			w.reject(err, first, saved)
			break
		}
		w.good, w.loadErr = p, nil
		w.log.Info().Str("name", p.Ref.Name).Str("sha256", p.Ref.SHA256).Msg("policy_loaded")
		w.remember(key, data)
	}
	return true
}

// reject records a bad policy; with no good policy yet in this process,
// the last good one kept from before the restart takes its place, else the
// embedded default.
func (w *policyWatch) reject(err error, first bool, saved *SavedPolicy) {
	w.loadErr = err
	if first {
		w.good = w.restore(saved)
	}
	w.log.Error().Str("file", w.src.File).Str("in_force", w.good.Ref.Name).
		Strs("errors", errorLines(err)).Msg("policy_rejected_keeping_last_good")
}

// readKept reads what Keep holds; a damaged or unreadable record counts as
// none (the default then applies, as before a policy was ever kept).
func (w *policyWatch) readKept() *SavedPolicy {
	if w.src.Keep == nil {
		return nil
	}
	sp, ok, err := w.src.Keep.Saved()
	if err != nil {
		w.log.Warn().Err(err).Msg("last_good_policy_unreadable")
		return nil
	}
	if !ok {
		return nil
	}
	w.keptFile, w.keptSHA = sp.File, sp.SHA256
	return &sp
}

// restore returns the policy to run when the file fails at start: the
// kept last good policy of the same file, validated again with Load (the
// agent may have been upgraded since), else the embedded default. A policy
// kept for another file is not used: the configuration was changed to
// point elsewhere on purpose.
func (w *policyWatch) restore(saved *SavedPolicy) scan.Policy {
	switch {
	case saved == nil:
		return w.src.Default()
	case saved.File != w.src.File:
		w.log.Info().Str("kept_file", saved.File).Str("file", w.src.File).Msg("last_good_policy_of_another_file_ignored")
		return w.src.Default()
	}
	p, err := w.src.Load(saved.File, saved.Data)
	if err != nil {
		w.log.Warn().Str("file", saved.File).Strs("errors", errorLines(err)).Msg("last_good_policy_no_longer_loads")
		return w.src.Default()
	}
	w.log.Info().Str("name", p.Ref.Name).Str("sha256", saved.SHA256).Time("saved_at", saved.SavedAt).Msg("last_good_policy_restored")
	return p
}

// remember keeps a policy that loaded, unless Keep already holds it.
func (w *policyWatch) remember(sha string, data []byte) {
	if w.src.Keep == nil || (w.keptFile == w.src.File && w.keptSHA == sha) {
		return
	}
	sp := SavedPolicy{File: w.src.File, SHA256: sha, SavedAt: w.now().UTC(), Data: data}
	if err := w.src.Keep.Save(sp); err != nil {
		// Not fatal: the policy runs; only a restart with a broken file
		// would fall back further than necessary.
		w.log.Warn().Err(err).Msg("last_good_policy_not_kept")
		return
	}
	w.keptFile, w.keptSHA = sp.File, sp.SHA256
}

// forget drops the kept policy once the optional file is absent and the
// default is in force, so that a restart agrees with this process.
func (w *policyWatch) forget() {
	if w.src.Keep == nil || w.keptSHA == "" {
		return
	}
	if err := w.src.Keep.Forget(); err != nil {
		w.log.Warn().Err(err).Msg("last_good_policy_not_forgotten")
		return
	}
	w.keptFile, w.keptSHA = "", ""
}

// current returns the policy to scan with: the last good one, carrying the
// rejected file's errors and the policy.invalid finding while there are any.
func (w *policyWatch) current() scan.Policy {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.good
	p.Extra = slices.Clone(p.Extra)
	p.Ref.Errors = nil
	if w.loadErr != nil {
		p.Ref.Errors = errorLines(w.loadErr)
		mk := w.src.InvalidFinding
		if mk == nil {
			mk = invalidPolicyFinding
		}
		p.Extra = append(p.Extra, mk(w.loadErr, w.now()))
	}
	return p
}

// problem is the health line while a policy file is rejected.
func (w *policyWatch) problem() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.loadErr == nil {
		return ""
	}
	return fmt.Sprintf("policy file %s rejected; %q stays in force", w.src.File, w.good.Ref.Name)
}

func (w *policyWatch) describe() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.src.File == "" {
		return "embedded"
	}
	return w.src.File
}

// errorLines splits a (possibly multi-error) load error into lines, at
// most 20, for PolicyRef.Errors.
func errorLines(err error) []string {
	var out []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
		if len(out) == 20 {
			out = append(out, "...")
			break
		}
	}
	return out
}
