package triage_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/triagekit/triage"
)

// Negative settings read as their zero value (documented as "if zero or
// negative" or "if zero"): the runner still runs every check, bounded by
// the context, and reports each one.
func TestRunnerBadInput(t *testing.T) {
	slow := triage.Func("slow", func(ctx context.Context) fake {
		var r fake
		<-ctx.Done()
		r.Finish(ctx.Err())
		return r
	})
	slow.Timeout = -time.Second
	tests := []struct {
		name string
		r    triage.Runner
	}{
		{"negative concurrency", triage.Runner{Concurrency: -3}},
		{"negative timeout", triage.Runner{Timeout: -time.Second}},
		{"negative grace", triage.Runner{Grace: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			out := tt.r.Run(ctx, okCheck("a"), slow, triage.Check{Name: "norun"})
			assert.Equal(t, triage.OK, out[0].Common().Status)
			assert.ErrorIs(t, out[1].Common().Err, context.DeadlineExceeded, "bounded by the context, not cut at once")
			assert.Equal(t, triage.Unknown, out[1].Common().Status)
			assert.ErrorIs(t, out[2].Common().Err, triage.ErrInvalid)
			assert.Equal(t, triage.Unknown, out[2].Common().Status)
		})
	}
}
