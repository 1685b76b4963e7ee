package sockstat

import (
	"context"
	"io/fs"
	"math"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

// TestBadInputEveryEntryPoint adds to TestCheckBadInput: each case goes
// through Check, Sockets and Summarize, which must all refuse it with
// triage.ErrInvalid (or, for a missing file, fs.ErrNotExist) and never
// panic.
func TestBadInputEveryEntryPoint(t *testing.T) {
	if !supported() {
		t.Skip("sockstat reads Linux interfaces only")
	}
	missing := filepath.Join(t.TempDir(), "none")
	tests := []struct {
		name string
		opts Options
		// summary is whether Summarize, which reads only NetNS and
		// ProcRoot, must refuse the case too.
		summary bool
	}{
		{"negative peer port", Options{Peer: netip.MustParseAddr("127.0.0.1"), PeerPort: -1}, false},
		{"peer port too large", Options{Peer: netip.MustParseAddr("127.0.0.1"), PeerPort: 1 << 16}, false},
		{"unknown state among known", Options{States: []State{Listen, State(200)}}, false},
		{"negative threshold", Options{Thresholds: Thresholds{SynSentPerPeer: -1}}, false},
		{"NaN percentage", Options{Thresholds: Thresholds{EphemeralPct: math.NaN()}}, false},
		{"percentage over 100", Options{Thresholds: Thresholds{RetransPct: 101}}, false},
		{"missing namespace", Options{NetNS: missing}, true},
		{"namespace is a directory", Options{NetNS: t.TempDir()}, true},
		{"relative proc root", Options{ProcRoot: "proc"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Result
			require.NotPanics(t, func() { r = Check(context.Background(), tt.opts) })
			assert.Equal(t, triage.Unknown, r.Status, "findings: %v", r.Findings)
			assert.Error(t, r.Err)
			if tt.opts.NetNS == missing {
				assert.ErrorIs(t, r.Err, fs.ErrNotExist)
			}
			_, err := Sockets(context.Background(), tt.opts)
			assert.Error(t, err)
			if !tt.summary {
				assert.ErrorIs(t, r.Err, triage.ErrInvalid)
				assert.ErrorIs(t, err, triage.ErrInvalid)
				return
			}
			_, err = Summarize(context.Background(), tt.opts)
			assert.Error(t, err)
		})
	}
}
