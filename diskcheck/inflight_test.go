package diskcheck

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInflightGuard runs a call that blocks like statfs on a dead mount:
// the first caller gives up at the timeout, later callers join the same
// call instead of starting another, and once it answers the key is free.
func TestInflightGuard(t *testing.T) {
	g := &inflight{calls: map[string]*call{}}
	release := make(chan struct{})
	var started atomic.Int32
	blocking := func() (any, error) {
		started.Add(1)
		<-release
		return "answered", nil
	}
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	ctx := context.Background()
	begin := time.Now()
	_, stuck, err := g.do(ctx, "statfs /dead", 100*time.Millisecond, blocking)
	assert.ErrorIs(t, err, ErrStuckMount)
	assert.True(t, stuck)
	assert.Less(t, time.Since(begin), 100*time.Millisecond+slack)

	// The call has been in flight past its timeout: a second caller learns
	// that at once, without starting another call.
	begin = time.Now()
	_, stuck, err = g.do(ctx, "statfs /dead", 100*time.Millisecond, blocking)
	assert.ErrorIs(t, err, ErrStuckMount)
	assert.True(t, stuck)
	assert.Less(t, time.Since(begin), slack)

	// A caller whose context ends first gets the context's error too, and
	// the mount is not called stuck on its account.
	g2ctx, cancel := context.WithCancel(ctx)
	cancel()
	_, stuck, err = g.do(g2ctx, "statfs /dead", time.Hour, blocking)
	assert.ErrorIs(t, err, ErrStuckMount)
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, stuck)
	assert.Equal(t, int32(1), started.Load(), "calls piled onto a stuck mount")
	assert.True(t, g.pending("statfs /dead"))

	// Other keys are not held up.
	v, _, err := g.do(ctx, "statfs /ok", time.Second, func() (any, error) { return 1, nil })
	require.NoError(t, err)
	assert.Equal(t, 1, v)

	close(release)
	require.Eventually(t, func() bool { return !g.pending("statfs /dead") }, 5*time.Second, 5*time.Millisecond)
	v, _, err = g.do(ctx, "statfs /dead", time.Second, blocking)
	require.NoError(t, err)
	assert.Equal(t, "answered", v)
	assert.Equal(t, int32(2), started.Load())

	_, _, err = g.do(ctx, "statfs /err", time.Second, func() (any, error) { return nil, errors.New("boom") })
	assert.Error(t, err)
	assert.NotErrorIs(t, err, ErrStuckMount)
}

// slack is how much later than its deadline a check may return in a test:
// generous, because the machine is shared and a VM can stall for a second.
const slack = 2 * time.Second
