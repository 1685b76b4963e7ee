//go:build !linux

package process

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/triagekit/triage"
)

func TestUnsupportedPlatform(t *testing.T) {
	p := Check(context.Background(), Options{PID: 1})
	assert.ErrorIs(t, p.Err, triage.ErrUnsupported)
	assert.Equal(t, triage.Unknown, p.Status)
}
