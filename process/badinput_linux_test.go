package process

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

func TestBadInputMore(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"blank name", Options{Name: " "}},
		{"name with a slash", Options{Name: "usr/bin/nginx"}},
		{"negative fds share", Options{Name: "x", FDsPct: -1}},
		{"fds share over 100", Options{Name: "x", FDsPct: 101}},
		{"negative hot thread share", Options{Name: "x", ThreadHotPct: -5}},
		{"NaN fds share", Options{Name: "x", FDsPct: math.NaN()}},
		{"hot thread share over 100", Options{Name: "x", ThreadHotPct: 150}},
		// It once sliced the matches with it.
		{"negative max matches", Options{Name: "my (odd) srv", MaxMatches: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r Result
			require.NotPanics(t, func() { r = fixture(tc.opts) })
			assertInvalid(t, r.Result)
			assert.Empty(t, r.Processes)
		})
	}
}
