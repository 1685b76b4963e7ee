package sockstat

import (
	"cmp"
	"context"
	"maps"
	"net/netip"
	"slices"
	"time"
)

// maxPeers bounds the per-peer tallies, so that a flood from many
// distinct peers cannot grow memory without limit. Peers first seen after
// the bound are not tallied (their sockets are still counted per state).
const maxPeers = 4096

// scan gathers what one pass over the socket tables tells.
type scan struct {
	c        config
	lo, hi   int
	states   [maxState]int
	v6only   bool // net.ipv6.bindv6only, for listeners whose flag is not reported
	nUDP     int
	target   map[State]int // nil unless a port or peer was asked
	listen   []Listener
	sockets  []Socket
	synSent  map[netip.Addr]int
	timeWait map[netip.Addr]int
	// twPort counts TIME-WAIT sockets by the service port they were
	// connections to: the local port when it is listened to (the server
	// closed first), the peer's otherwise (this host was the client).
	twPort   map[uint16]int
	closeW   map[uint16]int
	eph      Ephemeral
	ephPeers map[netip.AddrPort]int
	// listening ports: accepted sockets share their listener's port, so
	// those are not ephemeral even inside the range.
	listening map[uint16]bool
}

func newScan(c config, lo, hi int) scan {
	s := scan{
		c: c, lo: lo, hi: hi,
		synSent:   map[netip.Addr]int{},
		timeWait:  map[netip.Addr]int{},
		twPort:    map[uint16]int{},
		closeW:    map[uint16]int{},
		ephPeers:  map[netip.AddrPort]int{},
		listening: map[uint16]bool{},
	}
	s.eph.Low, s.eph.High = lo, hi
	if c.sel.any() {
		s.target = map[State]int{}
	}
	return s
}

func (s *scan) wantSocket(m *diagMsg) bool {
	if !s.c.details || !s.c.states.has(m.state) {
		return false
	}
	return s.target == nil || s.c.sel.matches(m)
}

func (s *scan) inRange(p uint16) bool { return s.lo > 0 && int(p) >= s.lo && int(p) <= s.hi }

// add tallies one TCP socket.
func (s *scan) add(m *diagMsg) {
	st := m.state
	if st == NewSynRecv {
		st = SynRecv
	}
	if st == 0 || st >= maxState {
		return
	}
	s.states[st]++
	if s.target != nil && st != Listen && s.c.sel.matches(m) {
		s.target[st]++
	}
	switch st {
	case Listen:
		s.listening[m.local.Port()] = true
		if s.c.sel.port == 0 || int(m.local.Port()) == s.c.sel.port {
			s.listen = append(s.listen, listenerOf(m, TCP, s.v6only))
		}
	case SynSent:
		tally(s.synSent, m.peer.Addr().Unmap())
	case TimeWait:
		tally(s.timeWait, m.peer.Addr().Unmap())
		if s.listening[m.local.Port()] {
			tally(s.twPort, m.local.Port())
		} else {
			tally(s.twPort, m.peer.Port())
		}
	case CloseWait:
		tally(s.closeW, m.local.Port())
	}
	// The kernel dumps listeners before other sockets, so the listening
	// ports are known by now.
	if st != Listen && s.inRange(m.local.Port()) && !s.listening[m.local.Port()] {
		s.eph.InUse++
		tally(s.ephPeers, netip.AddrPortFrom(m.peer.Addr().Unmap(), m.peer.Port()))
	}
	if s.wantSocket(m) {
		s.sockets = append(s.sockets, socketOf(m, TCP, s.c.tcpInfo))
	}
}

func tally[K comparable](m map[K]int, k K) {
	if n, ok := m[k]; ok || len(m) < maxPeers {
		m[k] = n + 1
	}
}

func listenerOf(m *diagMsg, p Protocol, v6onlyDefault bool) Listener {
	l := Listener{
		Proto: p,
		Local: netip.AddrPortFrom(m.local.Addr().Unmap(), m.local.Port()),
		UID:   m.uid,
		Inode: uint64(m.inode),
	}
	if p == TCP {
		l.Queue, l.Backlog = m.rqueue, m.wqueue
	}
	if l.Local.Addr().Is6() && l.Local.Addr().IsUnspecified() {
		l.DualStack = m.v6only == 0 || m.v6only < 0 && !v6onlyDefault
	}
	return l
}

var timerNames = [...]string{1: "on", 2: "keepalive", 3: "timewait", 4: "persist"}

func socketOf(m *diagMsg, p Protocol, info bool) Socket {
	s := Socket{
		Proto:       p,
		State:       m.state,
		Local:       m.local,
		Peer:        m.peer,
		RecvQ:       m.rqueue,
		SendQ:       m.wqueue,
		UID:         m.uid,
		Inode:       uint64(m.inode),
		Retransmits: m.retrans,
	}
	if int(m.timer) < len(timerNames) && m.timer > 0 {
		s.Timer = timerNames[m.timer]
		s.Expires = time.Duration(m.expires) * time.Millisecond
	}
	if p == UDP && s.State == Close {
		s.Peer = netip.AddrPort{}
	}
	if info && m.info != nil {
		ti := parseTCPInfo(m.info)
		s.Info = &ti
	}
	return s
}

// tcpRequests asks for the TCP sockets of both families in the given
// states, filtered by the kernel to the given port ranges. CLOSE is left
// out: no TCP socket in the kernel's tables is in it, and asking for it
// would make a dump of listeners walk every connection too.
func tcpRequests(tcpInfo bool, states stateMask, filter []portRange) []diagRequest {
	states &^= 1 << Close
	var ext uint8
	if tcpInfo {
		ext = 1 << (attrInfo - 1)
	}
	return []diagRequest{
		{family: afInet, protocol: protoTCP, ext: ext, states: states, filter: filter},
		{family: afInet6, protocol: protoTCP, ext: ext, states: states, filter: filter},
	}
}

// tcp tallies the TCP sockets in the states of want. It dumps every
// wanted state but ESTABLISHED, then counts ESTABLISHED the cheapest
// exact way: from CurrEstab when no established socket is needed one by
// one, else from a dump the kernel filters down to the sockets on the
// target and in the ephemeral range. A dump of LISTEN alone reads only
// the kernel's table of listeners; any other state walks every socket of
// the namespace.
func (s *scan) tcp(ctx context.Context, rd reader, c Counters, want stateMask) error {
	tcpInfo := s.c.tcpInfo
	reset := func() {
		v6 := s.v6only
		*s = newScan(s.c, s.lo, s.hi)
		s.v6only = v6
	}
	estab := want.has(Established)
	// Since Linux 6.10 CurrEstab includes CLOSE-WAIT, which must then be
	// counted to be taken off.
	withCW := estab && kernelCountsCloseWait()
	dumped := want &^ (1 << Established)
	if withCW {
		dumped |= 1 << CloseWait
	}
	if dumped != 0 {
		if err := rd.dump(ctx, tcpRequests(tcpInfo, dumped, nil), reset, s.add); err != nil {
			return err
		}
	}
	if !estab {
		return nil
	}
	// Everything but ESTAB is tallied; keep it while ESTAB is added.
	kept := *s
	// /proc has to be read whole anyway, and a full listing needs every
	// socket: then ESTAB is counted from the dump itself.
	full := rd.source().Name == "proc" || s.c.details && s.target == nil
	var filter []portRange
	if !full {
		if s.lo > 0 {
			filter = append(filter, portRange{lo: uint16(s.lo), hi: uint16(s.hi)})
		}
		filter = append(filter, s.c.sel.ranges...)
	}
	estabOnly := func() {
		// Start from the tallies without ESTAB, copying what ESTAB adds to
		// so that a retried dump does not count twice.
		*s = kept
		s.target = maps.Clone(kept.target)
		s.ephPeers = maps.Clone(kept.ephPeers)
		s.sockets = slices.Clip(kept.sockets)
	}
	if full || filter != nil {
		if err := rd.dump(ctx, tcpRequests(tcpInfo, 1<<Established, filter), estabOnly, s.add); err != nil {
			return err
		}
	}
	if !full {
		s.states[Established] = estabFromSNMP(c.CurrEstab, s.states[CloseWait], withCW)
	}
	return nil
}

// estabFromSNMP turns Tcp.CurrEstab into an ESTABLISHED count. Since
// Linux 6.10 the counter includes CLOSE-WAIT, as RFC 1213 says.
func estabFromSNMP(curr uint64, closeWait int, includesCloseWait bool) int {
	n := int(curr)
	if includesCloseWait {
		n -= closeWait
	}
	return max(n, 0)
}

func (s *scan) udp(ctx context.Context, rd reader) error {
	reqs := []diagRequest{
		{family: afInet, protocol: protoUDP, states: allStates},
		{family: afInet6, protocol: protoUDP, states: allStates},
	}
	var listen []Listener
	var socks []Socket
	n := 0
	reset := func() { listen, socks, n = nil, nil, 0 }
	err := rd.dump(ctx, reqs, reset, func(m *diagMsg) {
		n++
		if m.state == Close && (s.c.sel.port == 0 || int(m.local.Port()) == s.c.sel.port) {
			listen = append(listen, listenerOf(m, UDP, s.v6only))
		}
		if s.wantSocket(m) {
			socks = append(socks, socketOf(m, UDP, false))
		}
	})
	if err != nil {
		return err
	}
	s.nUDP = n
	s.listen = append(s.listen, listen...)
	s.sockets = append(s.sockets, socks...)
	return nil
}

// owners fills in the processes of listeners and listed sockets.
func (s *scan) owners(ctx context.Context) error {
	want := map[uint64][]Process{}
	for _, l := range s.listen {
		if l.Inode != 0 {
			want[l.Inode] = nil
		}
	}
	for _, k := range s.sockets {
		if k.Inode != 0 {
			want[k.Inode] = nil
		}
	}
	if len(want) == 0 {
		return nil
	}
	err := findOwners(ctx, s.c.procRoot, want)
	for i := range s.listen {
		s.listen[i].Processes = want[s.listen[i].Inode]
	}
	for i := range s.sockets {
		s.sockets[i].Processes = want[s.sockets[i].Inode]
	}
	return err
}

// fill puts the tallies into r. Only the states counted have an entry
// in r.States.
func (s *scan) fill(r *Result) {
	r.States = map[State]int{}
	for st, n := range s.states {
		if n > 0 {
			r.States[State(st)] = n
			r.Total += n
		}
	}
	r.UDP = s.nUDP
	r.TargetStates = s.target
	slices.SortFunc(s.listen, func(a, b Listener) int {
		return cmp.Or(cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.Local.Port(), b.Local.Port()), a.Local.Addr().Compare(b.Local.Addr()))
	})
	r.Listeners = s.listen
	if r.Listeners == nil {
		r.Listeners = []Listener{}
	}
	r.Sockets = s.sockets
	r.TopPeers = append(r.TopPeers, top(SynSent, s.synSent, 5)...)
	r.TopPeers = append(r.TopPeers, top(TimeWait, s.timeWait, 5)...)
	r.TopPeers = append(r.TopPeers, top(TimeWait, s.twPort, 1)...)
	r.TopPeers = append(r.TopPeers, top(CloseWait, s.closeW, 5)...)
	for p, n := range s.ephPeers {
		if n > s.eph.PeerUsed || n == s.eph.PeerUsed && p.Compare(s.eph.Peer) < 0 {
			s.eph.Peer, s.eph.PeerUsed = p, n
		}
	}
	if s.lo > 0 {
		e := s.eph
		r.Ephemeral = &e
	}
}

func top[K netip.Addr | uint16](st State, m map[K]int, n int) []PeerCount {
	out := make([]PeerCount, 0, len(m))
	for k, c := range m {
		pc := PeerCount{State: st, Count: c}
		switch k := any(k).(type) {
		case netip.Addr:
			pc.Peer = k
		case uint16:
			pc.Port = int(k)
		}
		out = append(out, pc)
	}
	slices.SortFunc(out, func(a, b PeerCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), a.Peer.Compare(b.Peer), cmp.Compare(a.Port, b.Port))
	})
	return out[:min(n, len(out))]
}
