package host

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/triagekit/triage"
)

func assertInvalid(t *testing.T, r triage.Result) {
	t.Helper()
	assert.ErrorIs(t, r.Err, triage.ErrInvalid)
	assert.Equal(t, triage.Unknown, r.Status, "findings: %v", r.Findings)
}

func TestBadThresholds(t *testing.T) {
	for _, tc := range []struct {
		name string
		th   Thresholds
	}{
		{"negative cpu", Thresholds{CPUBusyPct: -1}},
		{"NaN memory", Thresholds{MemoryAvailablePct: math.NaN()}},
		{"infinite load", Thresholds{LoadPerCore: math.Inf(1)}},
		{"negative cgroup memory", Thresholds{CgroupMemoryPct: -90}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r Result
			require.NotPanics(t, func() { r = fixture(t, "container", Options{Thresholds: tc.th}) })
			assertInvalid(t, r.Result)
		})
	}
	// A level nothing reaches turns its finding off.
	r := fixture(t, "container", Options{Thresholds: Thresholds{CgroupMemoryPct: 101}})
	require.NoError(t, r.Err)
	assert.False(t, r.Has(CodeCgroupMemoryNearLimit))
}
