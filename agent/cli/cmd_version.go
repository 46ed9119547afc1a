package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/msgguard/msgguard/agent/version"
)

func cmdVersion(ctx context.Context, e *Env, args []string) int {
	rev := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = " " + s.Value[:12]
			}
		}
	}
	fmt.Fprintf(e.stdout, "msgguard agent %s%s (%s, %s/%s)\n", version.Version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return 0
}
