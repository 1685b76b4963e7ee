package sockstat

import (
	"context"
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

func fixture(o Options) Options {
	o.ProcRoot = "testdata/proc"
	o.Sample = -1
	return o
}

func TestCheckFixture(t *testing.T) {
	if !supported() {
		t.Skip("sockstat reads Linux interfaces only")
	}
	tests := []struct {
		name   string
		opts   Options
		codes  []triage.Code
		status triage.Status
	}{
		{
			name:   "whole host",
			opts:   Options{},
			codes:  []triage.Code{CodeSynSentBacklog, CodeCloseWaitLeak},
			status: triage.Warn,
		},
		{
			name:   "port listened to on the asked address",
			opts:   Options{Port: 8080, Addr: netip.MustParseAddr("127.0.0.1")},
			codes:  []triage.Code{CodeListening, CodeSynSentBacklog, CodeCloseWaitLeak},
			status: triage.Warn,
		},
		{
			name:   "port listened to on loopback only",
			opts:   Options{Port: 8080, Addr: netip.MustParseAddr("10.0.0.5")},
			codes:  []triage.Code{CodeWrongAddress, CodeSynSentBacklog, CodeCloseWaitLeak},
			status: triage.Fail,
		},
		{
			name:   "nothing on the port",
			opts:   Options{Port: 9999, Thresholds: Thresholds{SynSentPerPeer: 100, CloseWaitPerPort: 100}},
			codes:  []triage.Code{CodeNoListener},
			status: triage.Fail,
		},
		{
			name:   "ipv4 wildcard serves any ipv4 address",
			opts:   Options{Port: 22, Addr: netip.MustParseAddr("192.0.2.1"), Thresholds: Thresholds{SynSentPerPeer: 100, CloseWaitPerPort: 100}},
			codes:  []triage.Code{CodeListening},
			status: triage.OK,
		},
		{
			name:   "time-wait over a low threshold",
			opts:   Options{Thresholds: Thresholds{SynSentPerPeer: 100, CloseWaitPerPort: 100, TimeWait: 3}},
			codes:  []triage.Code{CodeTimeWaitExcess},
			status: triage.Warn,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Check(context.Background(), fixture(tt.opts))
			require.NoError(t, r.Err)
			var codes []triage.Code
			for _, f := range r.Findings {
				codes = append(codes, f.Code)
			}
			assert.ElementsMatch(t, tt.codes, codes)
			assert.Equal(t, tt.status, r.Status)
			assert.Equal(t, "sockstat", r.Check)
			assert.Equal(t, "proc", r.Source.Name)
			assert.Equal(t, 29, r.Total)
			assert.Equal(t, 6, r.States[SynSent])
			assert.Equal(t, 5, r.States[Established])
		})
	}

	r := Check(context.Background(), fixture(Options{Port: 8080, Details: true, Protocols: TCP | UDP}))
	f, ok := r.Find(CodeCloseWaitLeak)
	require.True(t, ok)
	n, _ := f.Evidence.Int("count")
	assert.Equal(t, int64(12), n)
	assert.Equal(t, map[State]int{Listen: 0, CloseWait: 12}[CloseWait], r.Target[CloseWait])
	assert.Len(t, r.Sockets, 13) // the listener and the CLOSE-WAIT ones
	assert.Equal(t, 1, r.UDP)
	require.NotNil(t, r.Ephemeral)
	assert.Equal(t, 13, r.Ephemeral.InUse)
	assert.Equal(t, netip.MustParseAddrPort("10.0.0.9:5432"), r.Ephemeral.Peer)
	b, err := json.Marshal(r)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"CLOSE-WAIT":12`)
}

func TestCheckBadInput(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"negative port", Options{Port: -1}},
		{"port too large", Options{Port: 70000}},
		{"address without port", Options{Addr: netip.MustParseAddr("127.0.0.1")}},
		{"unknown protocol", Options{Protocols: 8}},
		{"unknown state", Options{States: []State{42}}},
		{"not a namespace", Options{NetNS: "testdata/proc/net/tcp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !supported() {
				t.Skip("sockstat reads Linux interfaces only")
			}
			r := Check(context.Background(), tt.opts)
			assert.ErrorIs(t, r.Err, triage.ErrInvalid)
			assert.Equal(t, triage.Unknown, r.Status)
			_, err := Sockets(context.Background(), tt.opts)
			assert.ErrorIs(t, err, triage.ErrInvalid)
		})
	}
}

func TestCheckCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	r := Check(ctx, Options{})
	assert.ErrorIs(t, r.Err, context.Canceled)
	assert.Equal(t, triage.Unknown, r.Status)
	assert.Less(t, time.Since(start), time.Second)
}
