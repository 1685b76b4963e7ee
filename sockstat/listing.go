package sockstat

import "context"

// Sockets lists sockets like `ss -antu`: the protocols and states of o,
// on its port (at either end when no peer is asked) and towards its peer
// or target, with owners and tcp_info when asked. The kernel filters
// states and ports, so asking for listeners only never walks the
// established connections.
func Sockets(ctx context.Context, o Options) (Listing, error) {
	c, rd, err := open(ctx, o)
	if err != nil {
		return Listing{}, err
	}
	defer rd.close()
	return c.sockets(ctx, rd)
}

func (c config) sockets(ctx context.Context, rd reader) (Listing, error) {
	var out []Socket
	if c.protocols&TCP != 0 && c.states.has(Established) && c.sel.ranges == nil {
		// A listing of every connection: allocate it once.
		out = make([]Socket, 0, socketHint(rd))
	}
	if c.protocols&TCP != 0 {
		err := rd.dump(ctx, tcpRequests(c.tcpInfo, c.states, c.sel.ranges), func() { out = out[:0] }, func(m *diagMsg) {
			if c.sel.matches(m) {
				out = append(out, socketOf(m, TCP, c.tcpInfo))
			}
		})
		if err != nil {
			return Listing{Source: rd.source()}, err
		}
	}
	if c.protocols&UDP != 0 {
		n := len(out)
		reqs := []diagRequest{
			{family: afInet, protocol: protoUDP, states: c.states, filter: c.sel.ranges},
			{family: afInet6, protocol: protoUDP, states: c.states, filter: c.sel.ranges},
		}
		err := rd.dump(ctx, reqs, func() { out = out[:n] }, func(m *diagMsg) {
			if c.sel.matches(m) {
				out = append(out, socketOf(m, UDP, false))
			}
		})
		if err != nil {
			return Listing{Source: rd.source()}, err
		}
	}
	if c.owners {
		want := make(map[uint64][]Process, len(out))
		for _, k := range out {
			if k.Inode != 0 {
				want[k.Inode] = nil
			}
		}
		err := findOwners(ctx, c.procRoot, want)
		for i := range out {
			out[i].Processes = want[out[i].Inode]
		}
		if err != nil {
			return Listing{Sockets: out, Source: rd.source()}, err
		}
	}
	return Listing{Sockets: out, Source: rd.source()}, nil
}
