// Package stages assembles the stage list of a scan (agent/scan): the
// compliance workflow adjusts the findings, the report is built and
// recorded, drift turns it into events, and the outbox queues them for the
// sinks — all in the scan's one write transaction. It lives apart from
// agent/scan because the stages' packages import scan.
package stages

import (
	"github.com/msgguard/msgguard/agent/compliance"
	"github.com/msgguard/msgguard/agent/drift"
	"github.com/msgguard/msgguard/agent/report/outbox"
	"github.com/msgguard/msgguard/agent/scan"
	"github.com/msgguard/msgguard/agent/store"
)

// For returns the stages of a scan recorded in st, in order: compliance,
// report, record, drift, outbox. With a nil st (a dry run, `agent scan
// --no-store`) it is compliance without records, then the report.
func For(st *store.Store, keep compliance.Retention, d drift.Config) []scan.Stage {
	if st == nil {
		return []scan.Stage{scan.Adjust("compliance", (*compliance.Store)(nil).ApplyTx), scan.Report()}
	}
	cs := compliance.NewStore(st.DB(), keep)
	return []scan.Stage{
		scan.Adjust("compliance", cs.ApplyTx),
		scan.Report(),
		scan.Record(st),
		drift.Stage(st, d),
		outbox.Stage(),
	}
}
