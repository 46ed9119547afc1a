package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/msgguard/msgguard/agent/version"
)

// versionInfo is `agent version --json`.
type versionInfo struct {
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
	Go       string `json:"go"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
}

func cmdVersion(ctx context.Context, e *Env, args []string) int {
	c := e.flags("version", flagJSON|flagLang)
	if code, ok := c.parse(args); !ok {
		return code
	}
	if code, ok := c.noArgs(); !ok {
		return code
	}
	v := versionInfo{Version: version.Version, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v.Revision = s.Value[:12]
			}
		}
	}
	if c.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return encodeOrFail(e, "version", enc.Encode(v))
	}
	rev := ""
	if v.Revision != "" {
		rev = " " + v.Revision
	}
	fmt.Fprintf(e.stdout, "msgguard agent %s%s (%s, %s/%s)\n", v.Version, rev, v.Go, v.OS, v.Arch)
	return 0
}
