package window

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestFit(t *testing.T) {
	assert.Equal(t, 250*time.Millisecond, Fit(context.Background(), 250*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	got := Fit(ctx, time.Second)
	assert.LessOrEqual(t, got, 100*time.Millisecond)
	assert.Greater(t, got, time.Duration(0))
	done, stop := context.WithCancel(context.Background())
	stop()
	assert.NoError(t, Wait(context.Background(), time.Millisecond))
	assert.ErrorIs(t, Wait(done, time.Hour), context.Canceled)
	expired, c := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer c()
	assert.Zero(t, Fit(expired, time.Second))
}
