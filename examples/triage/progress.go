package main

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/triagekit/triage"
)

// progressAfter is how long checks run before a progress line appears.
const progressAfter = 300 * time.Millisecond

// showProgress wraps checks so that their completion is counted and, on a
// terminal, keeps a progress line on w while they run longer than a
// moment. The returned stop clears the line and ends the ticker.
func showProgress(w io.Writer, checks []triage.Check) (stop func()) {
	if !isTerminal(w) || len(checks) == 0 {
		return func() {}
	}
	var done atomic.Int32
	for i := range checks {
		run := checks[i].Run
		if run == nil {
			continue
		}
		checks[i].Run = func(ctx context.Context) triage.Outcome {
			defer done.Add(1)
			return run(ctx)
		}
	}
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		start := time.Now()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		shown := false
		for {
			select {
			case <-quit:
				if shown {
					fmt.Fprint(w, "\r\x1b[K")
				}
				return
			case <-tick.C:
				if time.Since(start) < progressAfter {
					continue
				}
				shown = true
				fmt.Fprintf(w, "\r\x1b[Kchecking: %d of %d done (%s)", done.Load(), len(checks), time.Since(start).Round(100*time.Millisecond))
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
	}
}
