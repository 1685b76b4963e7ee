package probe

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProcessBadInputMore(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts ProcessOptions
	}{
		{"blank name", ProcessOptions{Name: " "}},
		{"name with a slash", ProcessOptions{Name: "usr/bin/nginx"}},
		{"negative fds share", ProcessOptions{Name: "x", FDsPct: -1}},
		{"fds share over 100", ProcessOptions{Name: "x", FDsPct: 101}},
		{"negative hot thread share", ProcessOptions{Name: "x", ThreadHotPct: -5}},
		{"NaN fds share", ProcessOptions{Name: "x", FDsPct: math.NaN()}},
		{"hot thread share over 100", ProcessOptions{Name: "x", ThreadHotPct: 150}},
		// It once sliced the matches with it.
		{"negative max matches", ProcessOptions{Name: "my (odd) srv", MaxMatches: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r ProcessResult
			require.NotPanics(t, func() { r = fixtureProcess(tc.opts) })
			assertInvalid(t, r.Result)
			assert.Empty(t, r.Processes)
		})
	}
}

func TestHostBadThresholds(t *testing.T) {
	for _, tc := range []struct {
		name string
		th   HostThresholds
	}{
		{"negative cpu", HostThresholds{CPUBusyPct: -1}},
		{"NaN memory", HostThresholds{MemoryAvailablePct: math.NaN()}},
		{"infinite load", HostThresholds{LoadPerCore: math.Inf(1)}},
		{"negative cgroup memory", HostThresholds{CgroupMemoryPct: -90}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r HostResult
			require.NotPanics(t, func() { r = fixtureHost(t, "container", HostOptions{Thresholds: tc.th}) })
			assertInvalid(t, r.Result)
		})
	}
	// A level nothing reaches turns its finding off.
	r := fixtureHost(t, "container", HostOptions{Thresholds: HostThresholds{CgroupMemoryPct: 101}})
	require.NoError(t, r.Err)
	assert.False(t, r.Has(CodeCgroupMemoryNearLimit))
}
