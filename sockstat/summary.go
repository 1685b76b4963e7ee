package sockstat

import "context"

// Summarize counts TCP sockets per state, exactly, for the states of
// Options.States (nil: every state), and reads the kernel's running
// [Totals], which `ss -s` prints. Its memory does not grow with the
// number of sockets. Options other than States, NetNS and ProcRoot are
// ignored.
//
// What it costs depends on the states asked. LISTEN alone reads only the
// kernel's table of listeners. ESTABLISHED comes from the kernel's
// CurrEstab counter, less the CLOSE-WAIT sockets it includes since Linux
// 6.10. Any other state, and CLOSE-WAIT on those kernels, is counted by a
// dump that walks every socket of the namespace, established ones
// included, but sends only those in the states asked.
func Summarize(ctx context.Context, o Options) (Summary, error) {
	c, err := Options{NetNS: o.NetNS, ProcRoot: o.ProcRoot, States: o.States}.config()
	if err != nil {
		return Summary{}, err
	}
	rd, err := newReader(ctx, c)
	if err != nil {
		return Summary{}, err
	}
	defer rd.close()
	var sum Summary
	var ct Counters
	if t, err := readTotals(rd); err == nil {
		sum.Totals = &t
		ct.CurrEstab = uint64(t.Established)
	} else if c.states.has(Established) {
		if ct, err = readCounters(rd, "net/snmp"); err != nil {
			return Summary{Source: rd.source()}, err
		}
	}
	s := newScan(c, 0, 0)
	if err := s.tcp(ctx, rd, ct, c.states); err != nil {
		return Summary{Source: rd.source()}, err
	}
	sum.States = map[State]int{}
	for st, n := range s.states {
		// CLOSE-WAIT may have been counted only to correct ESTABLISHED.
		if n > 0 && c.states.has(State(st)) {
			sum.States[State(st)] = n
			sum.Total += n
		}
	}
	sum.Source = rd.source()
	return sum, nil
}
