// Package version holds the agent's release version. It is a leaf package
// (no imports) so that the packaging tool, the CLI and the daemon can all
// read it, and so that one linker flag stamps it:
//
//	go build -ldflags "-X github.com/msgguard/msgguard/agent/version.Version=1.2.3" ./agent
package version

// Version is "dev" in a plain `go build`; release builds (install/package)
// set it with -ldflags -X.
var Version = "dev"
