package sockstat

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/triagekit/triage"
)

// maxPeers bounds the per-peer tallies, so that a flood from many
// distinct peers cannot grow memory without limit. Peers first seen after
// the bound are not tallied (their sockets are still counted per state).
const maxPeers = 4096

// Check looks at the sockets and counters named by o and reports
// findings. See [Options] for what the zero value does.
//
// Err is set (and the status at least Unknown) when the check could not
// tell: bad options (triage.ErrInvalid), another OS
// (triage.ErrUnsupported), no permission (os.ErrPermission), the context's
// deadline (context.DeadlineExceeded), a dump the kernel kept interrupting
// ([ErrDumpInterrupted]). Falling back to /proc is not an error; it shows
// in Result.Source.
func Check(ctx context.Context, o Options) Result {
	start := time.Now()
	r := Result{}
	r.Check = "sockstat"
	err := check(ctx, &o, &r)
	r.Finish(err)
	r.Duration = time.Since(start)
	return r
}

func check(ctx context.Context, o *Options, r *Result) error {
	if err := o.validate(); err != nil {
		return err
	}
	th := o.Thresholds.withDefaults()
	rd, err := newReader(ctx, o)
	if err != nil {
		return err
	}
	defer rd.close()

	var errs []error
	c0, c0err := readCounters(rd)
	t0 := time.Now()
	if c0err != nil {
		errs = append(errs, c0err)
	}
	lo, hi, perr := readPortRange(rd)
	if perr != nil {
		errs = append(errs, perr)
	}

	s := newScan(o, lo, hi)
	if b, err := rd.readFile("sys/net/ipv6/bindv6only"); err == nil {
		s.v6only = len(b) > 0 && b[0] == '1'
	}
	if o.Protocols&TCP != 0 {
		if err := s.tcp(ctx, rd, c0); err != nil {
			r.Source = rd.source()
			return errors.Join(append(errs, err)...)
		}
	}
	if o.Protocols&UDP != 0 {
		if err := s.udp(ctx, rd); err != nil {
			errs = append(errs, err)
		}
	}
	r.Source = rd.source()
	if o.Owners {
		if err := s.owners(ctx, o.ProcRoot); err != nil {
			errs = append(errs, err)
		}
	}
	s.fill(r)
	if lo > 0 {
		r.Ephemeral = &s.eph
	}

	if c0err == nil {
		c := c0
		r.Counters = &c
		if o.Sample >= 0 {
			window := o.Sample
			if window == 0 {
				window = DefaultSample
			}
			if dl, ok := ctx.Deadline(); ok {
				// End the window with a quarter of what is left to spare.
				window = min(window, time.Since(t0)+time.Until(dl)*3/4)
			}
			if wait := window - time.Since(t0); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
				case <-t.C:
				}
				t.Stop()
			}
			if ctx.Err() == nil {
				if c1, err := readCounters(rd); err == nil {
					r.Counters.Growth = c1.minus(c0)
					r.Counters.Window = time.Since(t0).Round(time.Millisecond)
				}
			}
		}
	}
	findings(o, th, r)
	return errors.Join(errs...)
}

// scan gathers what one pass over the socket tables tells.
type scan struct {
	o        *Options
	lo, hi   int
	states   [maxState]int
	v6only   bool // net.ipv6.bindv6only, for listeners whose flag is not reported
	nUDP     int
	target   map[State]int
	listen   []Listener
	sockets  []Socket
	synSent  map[netip.Addr]int
	timeWait map[netip.Addr]int
	closeW   map[uint16]int
	eph      Ephemeral
	ephPeers map[netip.AddrPort]int
	// listening ports: accepted sockets share their listener's port, so
	// those are not ephemeral even inside the range.
	listening map[uint16]bool
}

func newScan(o *Options, lo, hi int) scan {
	s := scan{
		o: o, lo: lo, hi: hi,
		synSent:   map[netip.Addr]int{},
		timeWait:  map[netip.Addr]int{},
		closeW:    map[uint16]int{},
		ephPeers:  map[netip.AddrPort]int{},
		listening: map[uint16]bool{},
	}
	s.eph.Low, s.eph.High = lo, hi
	if o.Port != 0 || o.Peer.IsValid() || o.PeerPort != 0 {
		s.target = map[State]int{}
	}
	return s
}

// onTarget reports whether the socket is on Options.Port or towards the
// asked peer.
func (s *scan) onTarget(m *diagMsg) bool {
	o := s.o
	if o.Port != 0 && (int(m.local.Port()) == o.Port || (!o.Peer.IsValid() && o.PeerPort == 0 && int(m.peer.Port()) == o.Port)) {
		return true
	}
	if o.Peer.IsValid() || o.PeerPort != 0 {
		if o.Peer.IsValid() && m.peer.Addr().Unmap() != o.Peer {
			return false
		}
		if o.PeerPort != 0 && int(m.peer.Port()) != o.PeerPort {
			return false
		}
		return true
	}
	return false
}

func (s *scan) wantSocket(m *diagMsg) bool {
	if !s.o.Details {
		return false
	}
	if len(s.o.States) > 0 && !maskOf(s.o.States).has(m.state) {
		return false
	}
	return s.target == nil || s.onTarget(m)
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
	if s.target != nil && st != Listen && s.onTarget(m) {
		s.target[st]++
	}
	switch st {
	case Listen:
		s.listening[m.local.Port()] = true
		if s.o.Port == 0 || int(m.local.Port()) == s.o.Port {
			s.listen = append(s.listen, listenerOf(m, TCP, s.v6only))
		}
	case SynSent:
		tally(s.synSent, m.peer.Addr().Unmap())
	case TimeWait:
		tally(s.timeWait, m.peer.Addr().Unmap())
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
		s.sockets = append(s.sockets, socketOf(m, TCP, s.o.TCPInfo))
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

// tcp dumps every TCP state but ESTABLISHED, then counts ESTABLISHED the
// cheapest exact way: from CurrEstab when no established socket is needed
// one by one, else from a dump the kernel filters down to the sockets on
// the target and in the ephemeral range.
func (s *scan) tcp(ctx context.Context, rd reader, c Counters) error {
	o := s.o
	var ext uint8
	if o.TCPInfo {
		ext = 1 << (attrInfo - 1)
	}
	reqs := func(states stateMask, filter []portRange) []diagRequest {
		return []diagRequest{
			{family: afInet, protocol: protoTCP, ext: ext, states: states, filter: filter},
			{family: afInet6, protocol: protoTCP, ext: ext, states: states, filter: filter},
		}
	}
	reset := func() {
		v6 := s.v6only
		*s = newScan(o, s.lo, s.hi)
		s.v6only = v6
	}
	nonEstab := allStates &^ (1 << Established)
	if err := rd.dump(ctx, reqs(nonEstab, nil), reset, s.add); err != nil {
		return err
	}
	// Everything but ESTAB is tallied; keep it while ESTAB is added.
	kept := *s
	// /proc has to be read whole anyway, and a full listing needs every
	// socket: then ESTAB is counted from the dump itself.
	full := rd.source().Name == "proc" || o.Details && s.target == nil
	var filter []portRange
	if !full {
		if s.lo > 0 {
			filter = append(filter, portRange{lo: uint16(s.lo), hi: uint16(s.hi)})
		}
		if o.Port != 0 {
			filter = append(filter, portRange{lo: uint16(o.Port), hi: uint16(o.Port)})
			if !o.Peer.IsValid() && o.PeerPort == 0 {
				filter = append(filter, portRange{peer: true, lo: uint16(o.Port), hi: uint16(o.Port)})
			}
		}
		if o.PeerPort != 0 {
			filter = append(filter, portRange{peer: true, lo: uint16(o.PeerPort), hi: uint16(o.PeerPort)})
		} else if o.Peer.IsValid() {
			filter = append(filter, portRange{peer: true, lo: 1, hi: 65535})
		}
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
		if err := rd.dump(ctx, reqs(1<<Established, filter), estabOnly, s.add); err != nil {
			return err
		}
	}
	if !full {
		s.states[Established] = estabFromSNMP(c.CurrEstab, s.states[CloseWait], kernelCountsCloseWait())
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
		if m.state == Close && (s.o.Port == 0 || int(m.local.Port()) == s.o.Port) {
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
func (s *scan) owners(ctx context.Context, procRoot string) error {
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
	err := findOwners(ctx, procRoot, want)
	for i := range s.listen {
		s.listen[i].Processes = want[s.listen[i].Inode]
	}
	for i := range s.sockets {
		s.sockets[i].Processes = want[s.sockets[i].Inode]
	}
	return err
}

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
	r.TopPeers = append(r.TopPeers, top(CloseWait, s.closeW, 5)...)
	for p, n := range s.ephPeers {
		if n > s.eph.PeerUsed || n == s.eph.PeerUsed && p.Compare(s.eph.Peer) < 0 {
			s.eph.Peer, s.eph.PeerUsed = p, n
		}
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

func hostPort(a netip.Addr, port int) string {
	if !a.IsValid() {
		return ":" + strconv.Itoa(port)
	}
	return netip.AddrPortFrom(a, uint16(port)).String()
}

func ownerAttrs(ps []Process) []slog.Attr {
	if len(ps) == 0 {
		return nil
	}
	return []slog.Attr{slog.Int("pid", ps[0].PID), slog.String("process", ps[0].Name)}
}

func ownerText(ps []Process) string {
	if len(ps) == 0 {
		return ""
	}
	return fmt.Sprintf(" by %s (pid %d)", ps[0].Name, ps[0].PID)
}

func findings(o *Options, th Thresholds, r *Result) {
	if o.Port != 0 {
		portFindings(o, r)
	}
	for _, l := range r.Listeners {
		if l.Proto != TCP || l.Backlog == 0 || l.Queue < l.Backlog {
			continue
		}
		r.Add(triage.Finding{
			Code:   CodeAcceptQueueFull,
			Status: triage.Fail,
			Summary: fmt.Sprintf("accept queue of %s full: %d waiting, backlog %d%s",
				l.Local, l.Queue, l.Backlog, ownerText(l.Processes)),
			Evidence: append(triage.Evidence{
				slog.Int("port", int(l.Local.Port())), slog.String("addr", l.Local.Addr().String()),
				slog.Int("queue", int(l.Queue)), slog.Int("backlog", int(l.Backlog)),
			}, ownerAttrs(l.Processes)...),
			Command: fmt.Sprintf("ss -lntp 'sport = :%d'", l.Local.Port()),
		})
	}
	if c := r.Counters; c != nil && c.Growth != nil {
		g := c.Growth
		if g.ListenOverflows > 0 || g.ListenDrops > 0 {
			r.Add(triage.Finding{
				Code:   CodeListenOverflows,
				Status: triage.Warn,
				Summary: fmt.Sprintf("listen queues overflowed %d times (%d SYNs dropped) in %s",
					g.ListenOverflows, g.ListenDrops, c.Window),
				Evidence: triage.Evidence{
					slog.Uint64("overflows", g.ListenOverflows), slog.Uint64("drops", g.ListenDrops),
					slog.Duration("window", c.Window),
				},
				Command: "nstat -az TcpExtListenOverflows TcpExtListenDrops",
			})
		}
		if g.OutSegs >= 200 {
			pct := 100 * float64(g.RetransSegs) / float64(g.OutSegs)
			if pct >= th.RetransPct {
				r.Add(triage.Finding{
					Code:   CodeRetransmitsHigh,
					Status: triage.Warn,
					Summary: fmt.Sprintf("%.1f%% of segments retransmitted in %s (%d of %d, %d timeouts)",
						pct, c.Window, g.RetransSegs, g.OutSegs, g.Timeouts),
					Evidence: triage.Evidence{
						slog.Uint64("retrans", g.RetransSegs), slog.Uint64("out", g.OutSegs),
						slog.Float64("retrans_pct", pct), slog.Uint64("timeouts", g.Timeouts),
						slog.Duration("window", c.Window),
					},
					Command: "nstat -az TcpRetransSegs TcpOutSegs TcpExtTCPTimeouts",
				})
			}
		}
	}
	for _, pc := range r.TopPeers {
		switch {
		case pc.State == SynSent && pc.Count >= th.SynSentPerPeer:
			r.Add(triage.Finding{
				Code:     CodeSynSentBacklog,
				Status:   triage.Warn,
				Summary:  fmt.Sprintf("%d connections to %s stuck in SYN-SENT: the peer or the network drops SYNs", pc.Count, pc.Peer),
				Evidence: triage.Evidence{slog.String("peer", pc.Peer.String()), slog.Int("count", pc.Count)},
				Command:  fmt.Sprintf("ss -tn state syn-sent 'dst %s'", pc.Peer),
			})
		case pc.State == CloseWait && pc.Count >= th.CloseWaitPerPort:
			r.Add(triage.Finding{
				Code:     CodeCloseWaitLeak,
				Status:   triage.Warn,
				Summary:  fmt.Sprintf("%d sockets in CLOSE-WAIT on local port %d: the application does not close them", pc.Count, pc.Port),
				Evidence: triage.Evidence{slog.Int("port", pc.Port), slog.Int("count", pc.Count)},
				Command:  fmt.Sprintf("ss -tnp state close-wait 'sport = :%d'", pc.Port),
			})
		}
	}
	if n := r.States[TimeWait]; n >= th.TimeWait {
		ev := triage.Evidence{slog.Int("count", n)}
		sum := fmt.Sprintf("%d sockets in TIME-WAIT: short connections without keep-alive or pooling", n)
		for _, pc := range r.TopPeers {
			if pc.State == TimeWait {
				ev = append(ev, slog.String("peer", pc.Peer.String()), slog.Int("peer_count", pc.Count))
				sum += fmt.Sprintf(", most with %s (%d)", pc.Peer, pc.Count)
				break
			}
		}
		r.Add(triage.Finding{Code: CodeTimeWaitExcess, Status: triage.Warn, Summary: sum, Evidence: ev, Command: "ss -s; ss -tn state time-wait"})
	}
	if e := r.Ephemeral; e != nil && e.PeerUsed > 0 {
		size := e.High - e.Low + 1
		pct := 100 * float64(e.PeerUsed) / float64(size)
		if pct >= th.EphemeralPct {
			st := triage.Warn
			if pct >= 95 {
				st = triage.Fail
			}
			r.Add(triage.Finding{
				Code:   CodeEphemeralPortsLow,
				Status: st,
				Summary: fmt.Sprintf("%d of %d ephemeral ports (%.1f%%) in use towards %s",
					e.PeerUsed, size, pct, e.Peer),
				Evidence: triage.Evidence{
					slog.String("peer", e.Peer.String()), slog.Int("used", e.PeerUsed),
					slog.String("range", fmt.Sprintf("%d-%d", e.Low, e.High)), slog.Float64("used_pct", pct),
				},
				Command: fmt.Sprintf("ss -tan 'dst %s' | wc -l; sysctl net.ipv4.ip_local_port_range", e.Peer),
			})
		}
	}
}

func portFindings(o *Options, r *Result) {
	var on []Listener
	for _, l := range r.Listeners {
		// The question is TCP's unless only UDP was asked.
		udpOnly := o.Protocols == UDP
		if int(l.Local.Port()) == o.Port && (l.Proto == TCP && !udpOnly || l.Proto == UDP && udpOnly) {
			on = append(on, l)
		}
	}
	proto := "tcp"
	flag := "t"
	if o.Protocols == UDP {
		proto, flag = "udp", "u"
	}
	cmd := fmt.Sprintf("ss -ln%sp 'sport = :%d'", flag, o.Port)
	if len(on) == 0 {
		r.Add(triage.Finding{
			Code:     CodeNoListener,
			Status:   triage.Fail,
			Summary:  fmt.Sprintf("no listener on %s (nothing on any address)", hostPort(o.Addr, o.Port)),
			Evidence: triage.Evidence{slog.Int("port", o.Port), slog.String("proto", proto)},
			Command:  cmd,
		})
		return
	}
	if o.Addr.IsValid() {
		var serving *Listener
		for i := range on {
			if on[i].Serves(o.Addr) {
				serving = &on[i]
				break
			}
		}
		if serving == nil {
			addrs := make([]string, len(on))
			for i, l := range on {
				addrs[i] = l.Local.String()
			}
			r.Add(triage.Finding{
				Code:   CodeWrongAddress,
				Status: triage.Fail,
				Summary: fmt.Sprintf("nothing listens on %s: port %d is listened to on %s%s",
					hostPort(o.Addr, o.Port), o.Port, strings.Join(addrs, ", "), ownerText(on[0].Processes)),
				Evidence: append(triage.Evidence{
					slog.Int("port", o.Port), slog.String("addr", o.Addr.String()),
					slog.String("listen_addr", on[0].Local.Addr().String()),
				}, ownerAttrs(on[0].Processes)...),
				Command: cmd,
			})
			return
		}
		on = []Listener{*serving}
	}
	l := on[0]
	ev := triage.Evidence{slog.Int("port", o.Port), slog.String("addr", l.Local.Addr().String())}
	ev = append(ev, ownerAttrs(l.Processes)...)
	ev = append(ev, slog.Int("queue", int(l.Queue)), slog.Int("backlog", int(l.Backlog)))
	dual := ""
	if l.DualStack {
		dual = " (IPv4 too)"
	}
	r.Add(triage.Finding{
		Code:     CodeListening,
		Status:   triage.OK,
		Summary:  fmt.Sprintf("listening on %s%s%s", l.Local, dual, ownerText(l.Processes)),
		Evidence: ev,
		Command:  cmd,
	})
}

// Summarize counts TCP sockets per state, the way `ss -s` does but
// exactly: ESTABLISHED from the kernel's CurrEstab counter and the other
// states from a dump that skips established sockets. Its memory does not
// grow with the number of established sockets. Options other than NetNS
// and ProcRoot are ignored.
func Summarize(ctx context.Context, o Options) (Summary, error) {
	o = Options{NetNS: o.NetNS, ProcRoot: o.ProcRoot}
	if err := o.validate(); err != nil {
		return Summary{}, err
	}
	rd, err := newReader(ctx, &o)
	if err != nil {
		return Summary{}, err
	}
	defer rd.close()
	c, err := readCounters(rd, "net/snmp")
	if err != nil {
		return Summary{}, err
	}
	s := newScan(&o, 0, 0)
	if err := s.tcp(ctx, rd, c); err != nil {
		return Summary{Source: rd.source()}, err
	}
	var r Result
	s.fill(&r)
	return Summary{States: r.States, Total: r.Total, Source: rd.source()}, nil
}

// Sockets lists sockets like `ss -antu`: the protocols, states, port
// (either end) and peer of o, with owners and tcp_info when asked. The
// kernel filters states and ports, so asking for listeners only never
// walks the established connections.
func Sockets(ctx context.Context, o Options) (Listing, error) {
	if err := o.validate(); err != nil {
		return Listing{}, err
	}
	rd, err := newReader(ctx, &o)
	if err != nil {
		return Listing{}, err
	}
	defer rd.close()
	var ext uint8
	if o.TCPInfo {
		ext = 1 << (attrInfo - 1)
	}
	var filter []portRange
	if o.Port != 0 {
		filter = append(filter, portRange{lo: uint16(o.Port), hi: uint16(o.Port)}, portRange{peer: true, lo: uint16(o.Port), hi: uint16(o.Port)})
	}
	if o.PeerPort != 0 {
		filter = []portRange{{peer: true, lo: uint16(o.PeerPort), hi: uint16(o.PeerPort)}}
		if o.Port != 0 {
			filter = nil // both ends: the port checks below do it
		}
	}
	var reqs []diagRequest
	states := maskOf(o.States)
	if o.Protocols&TCP != 0 {
		reqs = append(reqs,
			diagRequest{family: afInet, protocol: protoTCP, ext: ext, states: states, filter: filter},
			diagRequest{family: afInet6, protocol: protoTCP, ext: ext, states: states, filter: filter})
	}
	var out []Socket
	if len(o.States) == 0 || maskOf(o.States).has(Established) {
		out = make([]Socket, 0, socketHint(rd))
	}
	match := func(m *diagMsg) bool {
		if o.Port != 0 && int(m.local.Port()) != o.Port && (o.PeerPort != 0 || int(m.peer.Port()) != o.Port) {
			return false
		}
		if o.PeerPort != 0 && int(m.peer.Port()) != o.PeerPort {
			return false
		}
		return !o.Peer.IsValid() || m.peer.Addr().Unmap() == o.Peer
	}
	reset := func() { out = out[:0] }
	if len(reqs) > 0 {
		err := rd.dump(ctx, reqs, reset, func(m *diagMsg) {
			if match(m) {
				out = append(out, socketOf(m, TCP, o.TCPInfo))
			}
		})
		if err != nil {
			return Listing{Source: rd.source()}, err
		}
	}
	if o.Protocols&UDP != 0 {
		n := len(out)
		reqs = []diagRequest{
			{family: afInet, protocol: protoUDP, states: states, filter: filter},
			{family: afInet6, protocol: protoUDP, states: states, filter: filter},
		}
		err := rd.dump(ctx, reqs, func() { out = out[:n] }, func(m *diagMsg) {
			if match(m) {
				out = append(out, socketOf(m, UDP, false))
			}
		})
		if err != nil {
			return Listing{Source: rd.source()}, err
		}
	}
	if o.Owners {
		want := make(map[uint64][]Process, len(out))
		for _, k := range out {
			if k.Inode != 0 {
				want[k.Inode] = nil
			}
		}
		err := findOwners(ctx, o.ProcRoot, want)
		for i := range out {
			out[i].Processes = want[out[i].Inode]
		}
		if err != nil {
			return Listing{Sockets: out, Source: rd.source()}, err
		}
	}
	return Listing{Sockets: out, Source: rd.source()}, nil
}

// readCounters reads /proc/net/snmp and /proc/net/netstat, or the files
// named.
func readCounters(rd reader, files ...string) (Counters, error) {
	if len(files) == 0 {
		files = []string{"net/snmp", "net/netstat"}
	}
	m := make(map[string]uint64, 256)
	for _, name := range files {
		b, err := rd.readFile(name)
		if err != nil {
			return Counters{}, err
		}
		if err := parseSNMP(strings.NewReader(string(b)), m); err != nil {
			return Counters{}, fmt.Errorf("%s: %w", name, err)
		}
	}
	return countersFrom(m), nil
}

func readPortRange(rd reader) (int, int, error) {
	b, err := rd.readFile("sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, 0, err
	}
	return parsePortRange(b)
}

// reader is where sockets and /proc files come from: netlink and the
// namespace's /proc on Linux, nothing elsewhere.
type reader interface {
	// dump runs the requests and calls fn for every socket. reset is
	// called before a dump is retried, so fn's tallies start over.
	dump(ctx context.Context, reqs []diagRequest, reset func(), fn func(*diagMsg)) error
	// readFile reads a file under the namespace's /proc ("net/snmp").
	readFile(name string) ([]byte, error)
	source() Source
	close()
}

// socketHint guesses how many sockets a full listing holds, from
// /proc/net/sockstat{,6}, so the listing is allocated once. Zero when
// unknown.
func socketHint(rd reader) int {
	n := 0
	for _, name := range []string{"net/sockstat", "net/sockstat6"} {
		b, err := rd.readFile(name)
		if err != nil {
			continue
		}
		n += sockstatInUse(b)
	}
	return min(n, 1<<22)
}

// sockstatInUse adds up "inuse" and "tw" of the TCP, TCP6, UDP and UDP6
// lines of /proc/net/sockstat.
func sockstatInUse(b []byte) int {
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		proto, rest, ok := strings.Cut(line, ": ")
		if !ok || (proto != "TCP" && proto != "TCP6" && proto != "UDP" && proto != "UDP6") {
			continue
		}
		f := strings.Fields(rest)
		for i := 0; i+1 < len(f); i += 2 {
			if f[i] == "inuse" || f[i] == "tw" {
				v, _ := strconv.Atoi(f[i+1])
				n += max(v, 0)
			}
		}
	}
	return n
}
