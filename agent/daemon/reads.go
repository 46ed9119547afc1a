package daemon

import (
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/localapi"
	"github.com/msgguard/msgguard/agent/records"
)

// The read endpoints (localapi.Reader) serve `agent attest --list`, `agent
// exempt --list`, `agent baseline show` and `agent explain` from the open
// database while the daemon holds it. They take no work slot: each is one
// bbolt read transaction (agent/records), which sees a scan's or a
// record's write transaction either wholly or not at all, runs alongside
// it, and is waited for by the database's Close at shutdown.

// readDB returns the open database the read endpoints use; without
// AdminOptions they answer 501, as the record endpoints do.
func (d *Daemon) readDB() (*bolt.DB, error) {
	if d.opt.Admin == nil || d.opt.Admin.DB == nil {
		return nil, localapi.ErrUnavailable
	}
	return d.opt.Admin.DB, nil
}

// Attestations implements localapi.Reader.
func (d *Daemon) Attestations(_ context.Context, device string) (*apitype.AttestationList, error) {
	db, err := d.readDB()
	if err != nil {
		return nil, err
	}
	return records.Attestations(db, device)
}

// Exemptions implements localapi.Reader.
func (d *Daemon) Exemptions(_ context.Context, device string) (*apitype.ExemptionList, error) {
	db, err := d.readDB()
	if err != nil {
		return nil, err
	}
	return records.Exemptions(db, device)
}

// Baselines implements localapi.Reader.
func (d *Daemon) Baselines(_ context.Context, device string) (*apitype.BaselineList, error) {
	db, err := d.readDB()
	if err != nil {
		return nil, err
	}
	return records.Baselines(db, device)
}

// Explain implements localapi.Reader.
func (d *Daemon) Explain(_ context.Context, rule, device string) (*apitype.RuleHistory, error) {
	db, err := d.readDB()
	if err != nil {
		return nil, err
	}
	return records.Explain(db, rule, device)
}
