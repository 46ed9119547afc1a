package install

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kardianos/service"
	"golang.org/x/sys/windows/svc/eventlog"
)

// Event ids of lifecycle messages in the Application log.
const (
	eventStarted = 1
	eventStopped = 2
	eventFailed  = 3
)

// RunService runs the agent under the Windows service control manager (or
// in the console when started interactively) until stopped or ctx ends.
//
// kardianos reports StartPending, calls program.Start and reports Running
// when it returns; Start therefore only launches run in a goroutine, so the
// SCM sees Running at once and all slow work (opening the database, the
// first scan) happens afterwards — the SCM kills services that take longer
// than its ServicesPipeTimeout to start (Kolide launcher svc_windows.go).
// Stop cancels run and waits at most StopTimeout. If run returns on its own
// with an error, the process exits non-zero so that the recovery actions
// restart it. Lifecycle messages also go to the Application event log.
func RunService(ctx context.Context, run func(context.Context) error, note func(msg string, isErr bool)) error {
	if service.Interactive() {
		// `agent run` in a console: Ctrl-C cancels ctx (see main).
		return run(ctx)
	}
	el, err := eventlog.Open(ServiceName)
	if err == nil {
		defer el.Close()
	}
	logEvent := func(id uint32, msg string) {
		if el != nil {
			if id == eventFailed {
				el.Error(id, msg)
			} else {
				el.Info(id, msg)
			}
		}
		if note != nil {
			note(msg, id == eventFailed)
		}
	}
	p := &program{parent: ctx, run: run, logEvent: logEvent}
	s, err := service.New(p, &service.Config{Name: ServiceName})
	if err != nil {
		return fmt.Errorf("service: %w", err)
	}
	if err := s.Run(); err != nil {
		return err
	}
	return p.result()
}

type program struct {
	parent   context.Context
	run      func(context.Context) error
	logEvent func(uint32, string)
	cancel   context.CancelFunc
	done     chan struct{}
	err      error
}

func (p *program) Start(s service.Service) error {
	ctx, cancel := context.WithCancel(p.parent)
	p.cancel, p.done = cancel, make(chan struct{})
	go func() {
		err := p.run(ctx)
		unexpected := ctx.Err() == nil
		if unexpected && err == nil {
			err = errors.New("agent stopped unexpectedly")
		}
		p.err = err
		close(p.done)
		if unexpected {
			// run ended without being asked to: ask the SCM to stop
			// us; Stop then returns the error, kardianos reports a
			// non-zero service exit code and the recovery actions
			// (which include non-crash failures) restart the agent.
			p.logEvent(eventFailed, "msgguard agent failed: "+err.Error())
			s.Stop()
		}
	}()
	p.logEvent(eventStarted, "msgguard agent started")
	return nil
}

func (p *program) Stop(service.Service) error {
	p.cancel()
	select {
	case <-p.done:
	case <-time.After(StopTimeout - time.Second):
		return errors.New("agent did not stop in time")
	}
	p.logEvent(eventStopped, "msgguard agent stopped")
	return p.err
}

// result is run's error once it has returned.
func (p *program) result() error {
	select {
	case <-p.done:
		return p.err
	default:
		return errors.New("agent did not stop in time")
	}
}
