// Command agent is msgguard's device policy agent: it inspects this device
// for messengers and protection settings, evaluates them against the GDPR
// policy, records the result and reports it. See README.md; the verbs live
// in agent/cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/msgguard/msgguard/agent/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.NewEnv(os.Stdout, os.Stderr))
	stop()
	os.Exit(code)
}
