//go:build !linux

package probe

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/triagekit/triage"
)

func TestUnsupportedPlatform(t *testing.T) {
	h := Host(context.Background(), HostOptions{})
	assert.ErrorIs(t, h.Err, triage.ErrUnsupported)
	assert.Equal(t, triage.Unknown, h.Status)
	p := Process(context.Background(), ProcessOptions{PID: 1})
	assert.ErrorIs(t, p.Err, triage.ErrUnsupported)
	assert.Equal(t, triage.Unknown, p.Status)
}
