// Package window fits a sample window into a context's deadline. Checks
// that measure a rate read a counter twice; they all follow the one policy
// here, so that every check hands back its result by the deadline.
package window

import (
	"context"
	"time"
)

// Fit returns how long a window that wants to last want may last when it
// starts now: want, but at most half of what is left before ctx's
// deadline, so that the other half is left to read the second sample and
// report. The result is never negative.
func Fit(ctx context.Context, want time.Duration) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		want = min(want, time.Until(dl)/2)
	}
	return max(want, 0)
}

// Wait waits d, or until ctx ends; it returns ctx's error if ctx ended
// first.
func Wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
