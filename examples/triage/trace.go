package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/window"
)

// traceLink carries the -url request's W3C traceparent to the log check
// and tells it when the request is over.
type traceLink struct {
	parent string        // 00-<trace id>-<span id>-01
	done   chan struct{} // closed when the request check returns
}

// logSettle is how long the log check waits after the request, for the
// service to write what it logs about it.
const logSettle = 200 * time.Millisecond

func newTraceLink() *traceLink {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return &traceLink{
		parent: "00-" + hex.EncodeToString(b[:16]) + "-" + hex.EncodeToString(b[16:]) + "-01",
		done:   make(chan struct{}),
	}
}

// wrap closes done when c returns, however it returns.
func (l *traceLink) wrap(c triage.Check) triage.Check {
	run := c.Run
	c.Run = func(ctx context.Context) triage.Outcome {
		defer close(l.done)
		return run(ctx)
	}
	return c
}

// wait blocks until the request is over and the service had a moment to
// log it, but never past half of the time ctx has left: when the request
// hangs, what the logs already say (a pool exhausted, a dependency
// refusing) matters most, and the scan needs time to find it.
func (l *traceLink) wait(ctx context.Context) {
	limit := time.NewTimer(window.Fit(ctx, time.Hour))
	defer limit.Stop()
	select {
	case <-l.done:
	case <-limit.C:
		return
	case <-ctx.Done():
		return
	}
	t := time.NewTimer(logSettle)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
