//go:build !windows

package install

import "context"

// RunService runs the agent under the service manager until ctx ends. On
// Unix the service managers just start the process and send SIGTERM, which
// the caller turns into ctx's cancellation; run must return within
// StopTimeout of that.
func RunService(ctx context.Context, run func(context.Context) error, _ func(msg string, isErr bool)) error {
	return run(ctx)
}
