// Command agent is msgguard's device policy agent: it inspects this device
// for messengers and protection settings, evaluates them against the GDPR
// policy, records the result and reports it. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], newEnv(os.Stdout, os.Stderr))
	stop()
	os.Exit(code)
}
