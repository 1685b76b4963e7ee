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
	assert.Equal(t, map[State]int{Listen: 0, CloseWait: 12}[CloseWait], r.TargetStates[CloseWait])
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
	if !supported() {
		t.Skip("sockstat reads Linux interfaces only")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	r := Check(ctx, Options{})
	assert.ErrorIs(t, r.Err, context.Canceled)
	assert.Equal(t, triage.Unknown, r.Status)
	assert.Less(t, time.Since(start), time.Second)
}

func TestFindingsFromCounters(t *testing.T) {
	th := Thresholds{}.withDefaults()
	tests := []struct {
		name   string
		r      Result
		code   triage.Code
		status triage.Status
		key    string
		want   float64
	}{
		{
			name: "retransmits over 2%",
			r:    Result{Counters: &Counters{Window: time.Second, Growth: &Counters{OutSegs: 1000, RetransSegs: 50, Timeouts: 3}}},
			code: CodeRetransmitsHigh, status: triage.Warn, key: "retrans_pct", want: 5,
		},
		{
			name: "listen overflows grew",
			r:    Result{Counters: &Counters{Window: time.Second, Growth: &Counters{ListenOverflows: 7, ListenDrops: 7}}},
			code: CodeListenOverflows, status: triage.Warn, key: "overflows", want: 7,
		},
		{
			name: "ephemeral ports nearly gone towards one peer",
			r:    Result{Ephemeral: &Ephemeral{Low: 32768, High: 60999, PeerUsed: 27000, Peer: netip.MustParseAddrPort("10.0.0.9:5432")}},
			code: CodeEphemeralPortsLow, status: triage.Fail, key: "used_pct", want: 100 * 27000.0 / 28232,
		},
		{
			name: "ephemeral ports getting low",
			r:    Result{Ephemeral: &Ephemeral{Low: 32768, High: 60999, PeerUsed: 24000, Peer: netip.MustParseAddrPort("10.0.0.9:5432")}},
			code: CodeEphemeralPortsLow, status: triage.Warn, key: "used_pct", want: 100 * 24000.0 / 28232,
		},
		{
			name: "accept queue at its backlog",
			r:    Result{Listeners: []Listener{{Proto: TCP, Local: netip.MustParseAddrPort("0.0.0.0:80"), Queue: 511, Backlog: 511, Processes: []Process{{PID: 42, Name: "nginx"}}}}},
			code: CodeAcceptQueueFull, status: triage.Fail, key: "pid", want: 42,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.r
			config{th: th}.findings(&r)
			require.Len(t, r.Findings, 1, "%v", r.Findings)
			f := r.Findings[0]
			assert.Equal(t, tt.code, f.Code)
			assert.Equal(t, tt.status, f.Status)
			got, ok := f.Evidence.Float(tt.key)
			require.True(t, ok)
			assert.InDelta(t, tt.want, got, 0.01)
			assert.NotEmpty(t, f.Command)
		})
	}

	// Below the thresholds: nothing.
	r := Result{
		Counters:  &Counters{Window: time.Second, Growth: &Counters{OutSegs: 150, RetransSegs: 100}},
		Ephemeral: &Ephemeral{Low: 32768, High: 60999, PeerUsed: 100},
		Listeners: []Listener{{Proto: TCP, Queue: 3, Backlog: 4096}, {Proto: TCP, Queue: 3}},
	}
	config{th: th}.findings(&r)
	assert.Empty(t, r.Findings)
}

// supported reports whether this platform can read sockets at all.
func supported() bool {
	_, err := newReader(context.Background(), config{procRoot: "/proc"})
	return err == nil
}
