// Command agent is msgguard's device policy agent: it inspects this device
// for messengers and protection settings, evaluates them against the GDPR
// policy, records the result and reports it. See README.md; the verbs live
// in agent/cli.
package main

import (
	"context"
	"os"

	"github.com/msgguard/msgguard/agent/cli"
)

// main only hands the arguments to the verbs. Which verbs stop cleanly on
// SIGINT and SIGTERM is decided there (cli.interruptible): listening for
// signals costs every start a thread.
func main() {
	os.Exit(cli.Run(context.Background(), os.Args[1:], cli.NewEnv(os.Stdout, os.Stderr)))
}
