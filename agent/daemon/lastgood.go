package daemon

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SavedPolicy is the last policy file that loaded, kept so that a restart
// with a broken file runs it again rather than the embedded default.
type SavedPolicy struct {
	// File is the policy file it was read from.
	File string `json:"file"`
	// SHA256 is the hex digest of Data.
	SHA256  string    `json:"sha256"`
	SavedAt time.Time `json:"saved_at"`
	// Data is the file's content, as read.
	Data []byte `json:"data"`
}

// PolicyKeeper stores the last good policy.
type PolicyKeeper interface {
	// Save replaces the stored policy.
	Save(SavedPolicy) error
	// Saved returns the stored policy; ok is false when there is none.
	Saved() (p SavedPolicy, ok bool, err error)
	// Forget removes it: the embedded default is in force because the
	// (optional) policy file is absent, and a restart must not bring an
	// older file's policy back.
	Forget() error
}

// Bucket and key of the last good policy: a bucket of the daemon's own in
// the agent's database.
var (
	bucketDaemon      = []byte("daemon")
	keyLastGoodPolicy = []byte("last_good_policy")
)

// boltKeeper keeps the last good policy in the agent's database.
type boltKeeper struct{ db *bolt.DB }

// KeepPolicyIn returns a PolicyKeeper on db (store.Store.DB()).
func KeepPolicyIn(db *bolt.DB) PolicyKeeper { return boltKeeper{db: db} }

func (k boltKeeper) Save(p SavedPolicy) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encoding the last good policy: %w", err)
	}
	return k.db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists(bucketDaemon)
		if err != nil {
			return err
		}
		return bk.Put(keyLastGoodPolicy, b)
	})
}

func (k boltKeeper) Saved() (SavedPolicy, bool, error) {
	var p SavedPolicy
	var found bool
	err := k.db.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketDaemon)
		if bk == nil {
			return nil
		}
		v := bk.Get(keyLastGoodPolicy)
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &p)
	})
	if err != nil {
		return SavedPolicy{}, false, fmt.Errorf("reading the last good policy: %w", err)
	}
	if found {
		if err := p.check(); err != nil {
			return SavedPolicy{}, false, err
		}
	}
	return p, found, nil
}

func (k boltKeeper) Forget() error {
	return k.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketDaemon)
		if bk == nil {
			return nil
		}
		return bk.Delete(keyLastGoodPolicy)
	})
}

// check reports a stored policy whose content does not match its digest
// (a damaged record): it must not be run.
func (p SavedPolicy) check() error {
	sum := sha256.Sum256(p.Data)
	if p.File == "" || hex.EncodeToString(sum[:]) != p.SHA256 {
		return errors.New("the stored last good policy is damaged (digest mismatch)")
	}
	return nil
}
