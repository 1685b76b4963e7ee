package probe

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestHopTraceFinish(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	tests := []struct {
		name string
		cur  phase
		ends map[phase]time.Time
		end  time.Time
		want HTTPTimings
	}{
		{
			name: "every phase",
			cur:  phaseTransfer,
			ends: map[phase]time.Time{phaseDNS: ms(1), phaseConnect: ms(3), phaseTLS: ms(6), phaseWait: ms(10)},
			end:  ms(15),
			want: HTTPTimings{DNS: 1e6, Connect: 2e6, TLS: 3e6, Wait: 4e6, Transfer: 5e6, Total: 15e6},
		},
		{
			name: "ip address, no tls, stuck waiting",
			cur:  phaseWait,
			ends: map[phase]time.Time{phaseConnect: ms(2)},
			end:  ms(500),
			want: HTTPTimings{Connect: 2e6, Wait: 498e6, Total: 500e6},
		},
		{
			name: "connect never finished",
			cur:  phaseConnect,
			ends: map[phase]time.Time{phaseDNS: ms(4)},
			end:  ms(300),
			want: HTTPTimings{DNS: 4e6, Connect: 296e6, Total: 300e6},
		},
		{
			// A late hook can stamp a phase after the next one ended; the
			// phases are clamped so that they still add up.
			name: "out of order",
			cur:  phaseTransfer,
			ends: map[phase]time.Time{phaseConnect: ms(5), phaseTLS: ms(3), phaseWait: ms(8), phaseTransfer: ms(9)},
			end:  ms(10),
			want: HTTPTimings{Connect: 5e6, TLS: 0, Wait: 3e6, Transfer: 2e6, Total: 10e6},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHopTrace(t0)
			h.cur = tt.cur
			for p, e := range tt.ends {
				h.ends[p] = e
			}
			got := h.finish(tt.end)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, got.Total, got.DNS+got.Connect+got.TLS+got.Wait+got.Transfer)
		})
	}
}
