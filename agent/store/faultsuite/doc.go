// Package faultsuite is the agent's fault suite: it builds the real agent
// binary and runs it as separate processes against damaged databases and a
// hostile environment — a corpus of corrupted state.db files (fixed-seed bit
// flips, truncations, page-size fields, element sizes, page ids), too few
// file descriptors (prlimit), a read-only directory, a full file system,
// and kill -9 in the middle of scans. It asserts that no process crashes,
// that a database is moved aside only when an independent oracle (bbolt's
// own Tx.Check and a full read, in a child process) proves it damaged, and
// that no drift event is lost or duplicated. RELIABILITY.md records its
// figures.
//
// It runs only with MSGGUARD_FAULTS=1 (CI has a step of its own for it: it
// starts about a thousand processes); parts need root and skip with a
// message otherwise. FAULTSUITE_AGENT=path runs another agent binary
// instead of building one (the figures of an older release). The package
// has no code of its own.
package faultsuite
