package diskcheck

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// inflight keeps at most one call per key running. A call into a stuck
// mount blocks in the kernel where no context reaches it; instead of
// starting another one that would block too, later callers wait for the
// call already running, and give up on their own deadline.
type inflight struct {
	mu    sync.Mutex
	calls map[string]*call
}

// call is one function running under a key.
type call struct {
	key   string
	done  chan struct{}
	start time.Time
	val   any
	err   error
}

// calls is shared by every check in the process: a goroutine stuck in
// statfs belongs to the process, not to the check that started it.
var calls = &inflight{calls: map[string]*call{}}

// start runs fn under key on a goroutine of its own, or returns the call
// for key already in flight. Starting every call before waiting for any
// lets one caller wait for many calls at once, on one goroutine.
func (g *inflight) start(key string, fn func() (any, error)) *call {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, ok := g.calls[key]; ok {
		return c
	}
	c := &call{key: key, done: make(chan struct{}), start: time.Now()}
	g.calls[key] = c
	go func() {
		v, err := fn()
		g.mu.Lock()
		c.val, c.err = v, err
		delete(g.calls, key)
		g.mu.Unlock()
		close(c.done)
	}()
	return c
}

// do runs fn under key, or joins the call for key already in flight, and
// waits for it (see [call.wait]).
func (g *inflight) do(ctx context.Context, key string, timeout time.Duration, fn func() (any, error)) (val any, stuck bool, err error) {
	return g.start(key, fn).wait(ctx, timeout)
}

// wait returns the call's result when it finishes within timeout of the
// call's start (not of this caller's) and before ctx ends. Otherwise it
// returns an error wrapping ErrStuckMount (and ctx.Err() when ctx ended
// first), and stuck reports whether the call has been in flight for
// timeout or more, as opposed to ctx merely ending early.
func (c *call) wait(ctx context.Context, timeout time.Duration) (val any, stuck bool, err error) {
	select {
	case <-c.done:
		return c.val, false, c.err
	default:
	}
	wait := time.Until(c.start.Add(timeout))
	if wait <= 0 {
		return nil, true, c.stuck(nil)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-c.done:
		return c.val, false, c.err
	case <-t.C:
		return nil, true, c.stuck(nil)
	case <-ctx.Done():
		// A result that came in at the same time still counts.
		select {
		case <-c.done:
			return c.val, false, c.err
		default:
		}
		return nil, false, c.stuck(ctx.Err())
	}
}

func (c *call) stuck(cause error) error {
	err := fmt.Errorf("%w: %s: no answer for %s", ErrStuckMount, c.key, time.Since(c.start).Round(time.Millisecond))
	if cause != nil {
		err = fmt.Errorf("%w: %w", err, cause)
	}
	return err
}

// pending reports whether a call for key is in flight.
func (g *inflight) pending(key string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.calls[key]
	return ok
}
