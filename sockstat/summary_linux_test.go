//go:build linux

package sockstat

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage/internal/testnet"
)

// TestIntegrationSummarizeStates counts some states only, and reads the
// kernel's totals alongside.
func TestIntegrationSummarizeStates(t *testing.T) {
	ns := testnet.New(t)
	ln := nsListen(t, ns, "127.0.0.1:0")
	nsListen(t, ns, "[::1]:0")
	pairs(t, ns, ln, 4)
	cl, _ := pairs(t, ns, ln, 2)
	for _, c := range cl {
		c.Close() // CLOSE-WAIT on the server's side, FIN-WAIT-2 on the client's
	}
	ctx := context.Background()
	var all Summary
	require.Eventually(t, func() bool {
		var err error
		all, err = Summarize(ctx, Options{NetNS: ns.Path})
		require.NoError(t, err)
		return all.States[CloseWait] == 2 && all.States[FinWait2] == 2
	}, 5*time.Second, 50*time.Millisecond, "states: %v", all.States)
	assert.Equal(t, map[State]int{Listen: 2, Established: 8, CloseWait: 2, FinWait2: 2}, all.States)
	assert.Equal(t, 14, all.Total)
	require.NotNil(t, all.Totals)
	// A closed FIN-WAIT-2 socket moves from the kernel's tables to its
	// TIME-WAIT count; the sum stays.
	assert.Equal(t, 14, all.Totals.TCP+all.Totals.TimeWait)

	tests := []struct {
		name   string
		states []State
		want   map[State]int
	}{
		{"listeners alone", []State{Listen}, map[State]int{Listen: 2}},
		{"established alone", []State{Established}, map[State]int{Established: 8}},
		{"two states", []State{CloseWait, FinWait2}, map[State]int{CloseWait: 2, FinWait2: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Summarize(ctx, Options{NetNS: ns.Path, States: tt.states})
			require.NoError(t, err)
			assert.Equal(t, tt.want, s.States)
			n := 0
			for _, c := range tt.want {
				n += c
			}
			assert.Equal(t, n, s.Total)
			require.NotNil(t, s.Totals)
			assert.Equal(t, 14, s.Totals.TCP+s.Totals.TimeWait)
			assert.Equal(t, "netlink", s.Source.Name)
		})
	}
}
