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

type call struct {
	done  chan struct{}
	start time.Time
	val   any
	err   error
}

// calls is shared by every check in the process: a goroutine stuck in
// statfs belongs to the process, not to the check that started it.
var calls = &inflight{calls: map[string]*call{}}

// do runs fn under key, or joins the call for key already in flight. It
// returns fn's result when the call finishes within timeout of the call's
// start (not of this caller's) and before ctx ends. Otherwise it returns an
// error wrapping ErrStuckMount (and ctx.Err() when ctx ended first), and
// stuck reports whether the call has been in flight for timeout or more,
// as opposed to ctx merely ending early.
func (g *inflight) do(ctx context.Context, key string, timeout time.Duration, fn func() (any, error)) (val any, stuck bool, err error) {
	g.mu.Lock()
	c, ok := g.calls[key]
	if !ok {
		c = &call{done: make(chan struct{}), start: time.Now()}
		g.calls[key] = c
		go func() {
			v, err := fn()
			g.mu.Lock()
			c.val, c.err = v, err
			delete(g.calls, key)
			g.mu.Unlock()
			close(c.done)
		}()
	}
	g.mu.Unlock()

	wait := time.Until(c.start.Add(timeout))
	if wait <= 0 {
		select {
		case <-c.done:
			return c.val, false, c.err
		default:
		}
		return nil, true, fmt.Errorf("%w: %s: no answer for %s", ErrStuckMount, key, time.Since(c.start).Round(time.Millisecond))
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-c.done:
		return c.val, false, c.err
	case <-t.C:
		return nil, true, fmt.Errorf("%w: %s: no answer for %s", ErrStuckMount, key, time.Since(c.start).Round(time.Millisecond))
	case <-ctx.Done():
		// A result that came in at the same time still counts.
		select {
		case <-c.done:
			return c.val, false, c.err
		default:
		}
		return nil, false, fmt.Errorf("%w: %s: no answer for %s: %w", ErrStuckMount, key, time.Since(c.start).Round(time.Millisecond), ctx.Err())
	}
}

// pending reports whether a call for key is in flight.
func (g *inflight) pending(key string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.calls[key]
	return ok
}
