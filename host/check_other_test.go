//go:build !linux

package host

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/triagekit/triage"
)

func TestUnsupportedPlatform(t *testing.T) {
	h := Check(context.Background(), Options{})
	assert.ErrorIs(t, h.Err, triage.ErrUnsupported)
	assert.Equal(t, triage.Unknown, h.Status)
}
