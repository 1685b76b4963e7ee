package sockstat

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"

	"github.com/triagekit/triage"
)

// findings turns what r holds into findings, by c's thresholds.
func (c config) findings(r *Result) {
	if c.sel.port != 0 {
		c.portFindings(r)
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
				slog.Int(triage.KeyPort, int(l.Local.Port())), slog.String(triage.KeyAddr, l.Local.Addr().String()),
				slog.Int("queue", int(l.Queue)), slog.Int("backlog", int(l.Backlog)),
			}, ownerAttrs(l.Processes)...),
			Command: fmt.Sprintf("ss -lntp 'sport = :%d'", l.Local.Port()),
		})
	}
	if ct := r.Counters; ct != nil {
		conntrackFinding(r, ct)
		if ct.Growth != nil {
			c.counterFindings(r, ct)
		}
	}
	th := c.th
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
				Evidence: triage.Evidence{slog.Int(triage.KeyPort, pc.Port), slog.Int("count", pc.Count)},
				Command:  fmt.Sprintf("ss -tnp state close-wait 'sport = :%d'", pc.Port),
			})
		}
	}
	if n := r.States[TimeWait]; n >= th.TimeWait {
		ev := triage.Evidence{slog.Int("count", n)}
		sum := fmt.Sprintf("%d sockets in TIME-WAIT: short connections without keep-alive or pooling", n)
		peer := false
		for _, pc := range r.TopPeers {
			switch {
			case pc.State != TimeWait:
			case pc.Peer.IsValid() && !peer:
				peer = true
				ev = append(ev, slog.String("peer", pc.Peer.String()), slog.Int("peer_count", pc.Count))
				sum += fmt.Sprintf(", most with %s (%d)", pc.Peer, pc.Count)
			case pc.Port != 0 && pc.Count*2 >= n:
				// Most are connections to one service: name its port.
				ev = append(ev, slog.Int(triage.KeyPort, pc.Port), slog.Int("port_count", pc.Count))
				sum += fmt.Sprintf(", %d of them to port %d", pc.Count, pc.Port)
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

// counterFindings judges the growth of the kernel's counters over the
// sample window.
func (c config) counterFindings(r *Result, ct *Counters) {
	g := ct.Growth
	if g.ListenOverflows > 0 || g.ListenDrops > 0 {
		r.Add(triage.Finding{
			Code:   CodeListenOverflows,
			Status: triage.Warn,
			Summary: fmt.Sprintf("listen queues overflowed %d times (%d SYNs dropped) in %s",
				g.ListenOverflows, g.ListenDrops, ct.Window),
			Evidence: triage.Evidence{
				slog.Uint64("overflows", g.ListenOverflows), slog.Uint64("drops", g.ListenDrops),
				slog.Duration("window_ns", ct.Window),
			},
			Command: "nstat -az TcpExtListenOverflows TcpExtListenDrops",
		})
	}
	if secs := ct.Window.Seconds(); secs > 0 {
		if rate := float64(g.EstabResets+g.AttemptFails) / secs; rate >= c.th.ResetsPerSec {
			r.Add(triage.Finding{
				Code:   CodeResetsHigh,
				Status: triage.Warn,
				Summary: fmt.Sprintf("%.0f connections a second reset or failed to open in %s (%d reset, %d attempts failed)",
					rate, ct.Window, g.EstabResets, g.AttemptFails),
				Evidence: triage.Evidence{
					slog.Uint64("estab_resets", g.EstabResets), slog.Uint64("attempt_fails", g.AttemptFails),
					slog.Float64("per_sec", rate), slog.Duration("window_ns", ct.Window),
				},
				Command: "nstat -az TcpEstabResets TcpAttemptFails",
			})
		}
	}
	if g.OutSegs < 200 {
		return
	}
	pct := 100 * float64(g.RetransSegs) / float64(g.OutSegs)
	if pct < c.th.RetransPct {
		return
	}
	r.Add(triage.Finding{
		Code:   CodeRetransmitsHigh,
		Status: triage.Warn,
		Summary: fmt.Sprintf("%.1f%% of segments retransmitted in %s (%d of %d, %d timeouts)",
			pct, ct.Window, g.RetransSegs, g.OutSegs, g.Timeouts),
		Evidence: triage.Evidence{
			slog.Uint64("retrans", g.RetransSegs), slog.Uint64("out", g.OutSegs),
			slog.Float64("retrans_pct", pct), slog.Uint64("timeouts", g.Timeouts),
			slog.Duration("window_ns", ct.Window),
		},
		Command: "nstat -az TcpRetransSegs TcpOutSegs TcpExtTCPTimeouts",
	})
}

// portFindings answers the question about the asked port: is it
// listened to, on the asked address, and by whom.
func (c config) portFindings(r *Result) {
	port := c.sel.port
	// The question is TCP's unless only UDP was asked.
	udpOnly := c.protocols == UDP
	var on []Listener
	for _, l := range r.Listeners {
		if int(l.Local.Port()) == port && (l.Proto == TCP && !udpOnly || l.Proto == UDP && udpOnly) {
			on = append(on, l)
		}
	}
	proto, flag := "tcp", "t"
	if udpOnly {
		proto, flag = "udp", "u"
	}
	cmd := fmt.Sprintf("ss -ln%sp 'sport = :%d'", flag, port)
	if len(on) == 0 {
		r.Add(triage.Finding{
			Code:     CodeNoListener,
			Status:   triage.Fail,
			Summary:  fmt.Sprintf("no listener on %s (nothing on any address)", hostPort(c.addr, port)),
			Evidence: triage.Evidence{slog.Int(triage.KeyPort, port), slog.String("proto", proto)},
			Command:  cmd,
		})
		return
	}
	if c.addr.IsValid() {
		var serving *Listener
		for i := range on {
			if on[i].Serves(c.addr) {
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
					hostPort(c.addr, port), port, strings.Join(addrs, ", "), ownerText(on[0].Processes)),
				Evidence: append(triage.Evidence{
					slog.Int(triage.KeyPort, port), slog.String(triage.KeyAddr, c.addr.String()),
					slog.String("listen_addr", on[0].Local.Addr().String()),
				}, ownerAttrs(on[0].Processes)...),
				Command: cmd,
			})
			return
		}
		on = []Listener{*serving}
	}
	l := on[0]
	ev := triage.Evidence{slog.Int(triage.KeyPort, port), slog.String(triage.KeyAddr, l.Local.Addr().String())}
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
	return []slog.Attr{slog.Int(triage.KeyPID, ps[0].PID), slog.String(triage.KeyProcess, ps[0].Name)}
}

func ownerText(ps []Process) string {
	if len(ps) == 0 {
		return ""
	}
	return fmt.Sprintf(" by %s (pid %d)", ps[0].Name, ps[0].PID)
}

// conntrackFinding judges the connection-tracking table: its size against
// its limit at the end of the window (or at the one reading there is),
// and the new connections it dropped during the window.
func conntrackFinding(r *Result, ct *Counters) {
	now, drops, window := *ct, uint64(0), ct.Window
	if g := ct.Growth; g != nil {
		now, drops = *g, g.ConntrackDrops
	}
	if drops > 0 || (now.ConntrackMax > 0 && now.ConntrackEntries*10 >= now.ConntrackMax*9) {
		// At its limit the kernel drops every new connection it cannot
		// make room for by evicting one not yet established; not every
		// kernel counts those drops.
		st, what := triage.Fail, fmt.Sprintf("dropped %d new connections in %s", drops, window)
		switch {
		case drops == 0 && now.ConntrackEntries >= now.ConntrackMax:
			what = "is full: new connections are dropped"
		case drops == 0:
			st, what = triage.Warn, "is nearly full"
		}
		r.Add(triage.Finding{
			Code:   CodeConntrackFull,
			Status: st,
			Summary: fmt.Sprintf("the connection-tracking table holds %d of %d entries and %s",
				now.ConntrackEntries, now.ConntrackMax, what),
			Evidence: triage.Evidence{
				slog.Uint64("drops", drops), slog.Uint64("entries", now.ConntrackEntries),
				slog.Uint64("max", now.ConntrackMax), slog.Duration("window_ns", window),
				slog.Uint64(triage.KeyNetNS, r.Source.NetNS),
			},
			Command: "conntrack -S; sysctl net.netfilter.nf_conntrack_count net.netfilter.nf_conntrack_max",
		})
	}
}
