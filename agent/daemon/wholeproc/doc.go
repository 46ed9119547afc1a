// Package wholeproc holds whole-process tests of the service: they build
// the real agent binary (CGO_ENABLED=0, as released), run `agent run` with
// temporary paths and measure it from outside through /proc — a
// connection flood from an unprivileged account, many concurrent status
// requests during scans, and the idle resident set. They need root (the
// agent checks the owners of its files, and the flood runs as nobody) and
// skip otherwise or under -short. The package has no code of its own.
package wholeproc
