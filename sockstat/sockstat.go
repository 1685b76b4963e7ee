package sockstat

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/triagekit/triage"
)

// Finding codes. Evidence keys are listed with each.
const (
	// CodeListening (OK): something listens on the asked port and address.
	// Evidence: port, addr (the listen address), pid, process (when
	// Options.Owners is set and the owner was found), queue, backlog.
	CodeListening triage.Code = "sockstat.listening"
	// CodeNoListener (Fail): nothing listens on the asked port on any
	// address. Evidence: port, proto.
	CodeNoListener triage.Code = "sockstat.no_listener"
	// CodeWrongAddress (Fail): the port is listened to, but on other
	// addresses than the one asked (127.0.0.1 only while 10.0.0.5 was
	// asked). Evidence: port, addr (asked), listen_addr (the first of the
	// listeners), pid, process.
	CodeWrongAddress triage.Code = "sockstat.wrong_address"
	// CodeAcceptQueueFull (Fail): a listener's accept queue is at its
	// backlog, so new connections wait or are dropped. Evidence: port,
	// addr, queue, backlog, pid, process.
	CodeAcceptQueueFull triage.Code = "sockstat.accept_queue_full"
	// CodeListenOverflows (Warn): TcpExt ListenOverflows or ListenDrops grew
	// during the sample window. Evidence: overflows, drops, window.
	CodeListenOverflows triage.Code = "sockstat.listen_overflows"
	// CodeSynSentBacklog (Warn): many connections towards one peer are
	// stuck in SYN-SENT: the peer or the network drops SYNs. Evidence:
	// peer, count.
	CodeSynSentBacklog triage.Code = "sockstat.syn_sent_backlog"
	// CodeTimeWaitExcess (Warn): TIME-WAIT sockets above the threshold:
	// short connections without keep-alive or pooling. Evidence: count,
	// peer (the top one), peer_count.
	CodeTimeWaitExcess triage.Code = "sockstat.time_wait_excess"
	// CodeCloseWaitLeak (Warn): sockets the peer closed but the application
	// did not, piling up on one local port: the application leaks
	// sockets. Evidence: port, count.
	CodeCloseWaitLeak triage.Code = "sockstat.close_wait_leak"
	// CodeEphemeralPortsLow (Warn, Fail above 95%): connections towards one
	// destination use most of net.ipv4.ip_local_port_range. Evidence:
	// peer, used, range, used_pct.
	CodeEphemeralPortsLow triage.Code = "sockstat.ephemeral_ports_low"
	// CodeRetransmitsHigh (Warn): retransmitted segments over sent
	// segments during the sample window above the threshold. Evidence:
	// retrans, out, retrans_pct, timeouts, window.
	CodeRetransmitsHigh triage.Code = "sockstat.retransmits_high"
)

// Errors the package returns, wrapped, in Result.Err or from [Sockets]
// and [Summary].
var (
	// ErrDumpInterrupted means the kernel kept flagging the dump as
	// inconsistent (NLM_F_DUMP_INTR) after retries: the socket table
	// changed under it. Counts are from the last attempt.
	ErrDumpInterrupted = errors.New("sockstat: socket dump interrupted")
)

// DefaultSample is how long [Check] watches the kernel counters when
// Options.Sample is zero: as long as the host probe's window, so that the
// whole routine stays well under a second.
const DefaultSample = 250 * time.Millisecond

// Options selects what to look at. The zero value looks at the whole
// host's TCP sockets in the caller's network namespace.
type Options struct {
	// Port is the local port of interest: is it listened to, on which
	// address, by whom, and which sockets use it. Zero: none.
	Port int
	// Addr is the local address the port is asked on (the address a
	// client connects to). A listener on another address yields
	// CodeWrongAddress. Zero: any address.
	Addr netip.Addr
	// Peer and PeerPort pick the remote end of interest: the states of
	// the connections towards it. Zero: none.
	Peer     netip.Addr
	PeerPort int
	// Protocols selects TCP, UDP or both. Zero: TCP.
	Protocols Protocol
	// States limits the sockets listed by [Sockets] and in
	// Result.Sockets. Nil: every state.
	States []State
	// Owners looks up the owning processes of listeners and listed
	// sockets in /proc/<pid>/fd, like ss -p.
	Owners bool
	// Details lists the individual sockets in Result.Sockets: those on
	// Port or towards Peer, or all of them when neither is set.
	Details bool
	// TCPInfo adds the kernel's tcp_info (RTT, retransmissions) to each
	// listed TCP socket.
	TCPInfo bool
	// NetNS is a network namespace file (/var/run/netns/NAME,
	// /proc/PID/ns/net). Empty: the caller's namespace.
	NetNS string
	// ProcRoot is where procfs is mounted. Empty: /proc. Any other root
	// (a fixture tree, the host's /proc mounted in a container) is read
	// from files only: sockets come from its net/tcp files, not netlink,
	// and NetNS is not used.
	ProcRoot string
	// Sample is how long Check watches the kernel counters grow
	// (ListenOverflows, retransmissions). Zero: DefaultSample, shortened
	// to fit the context deadline. Negative: no sample, one reading.
	Sample time.Duration
	// Thresholds tune when findings are raised. Zero fields take defaults.
	Thresholds Thresholds
}

// Thresholds decide when counts become findings. Negative counts and
// shares outside 0-100 are invalid input.
type Thresholds struct {
	// SynSentPerPeer: SYN-SENT sockets towards one peer. Default 5.
	SynSentPerPeer int
	// TimeWait: TIME-WAIT sockets in all. Default 20000.
	TimeWait int
	// CloseWaitPerPort: CLOSE-WAIT sockets on one local port. Default 10.
	CloseWaitPerPort int
	// EphemeralPct: ephemeral ports used towards one destination, in
	// percent of the range. Default 80.
	EphemeralPct float64
	// RetransPct: retransmitted per sent segments in the sample window,
	// in percent, counted once at least 200 segments were sent. Default 2.
	RetransPct float64
}

func (t Thresholds) withDefaults() Thresholds {
	if t.SynSentPerPeer <= 0 {
		t.SynSentPerPeer = 5
	}
	if t.TimeWait <= 0 {
		t.TimeWait = 20000
	}
	if t.CloseWaitPerPort <= 0 {
		t.CloseWaitPerPort = 10
	}
	if t.EphemeralPct <= 0 {
		t.EphemeralPct = 80
	}
	if t.RetransPct <= 0 {
		t.RetransPct = 2
	}
	return t
}

// validate refuses thresholds that could never be reached, or that
// would be reached by nothing at all: a NaN or a share over 100% would
// keep a finding silent and the result OK.
func (t Thresholds) validate() error {
	if t.SynSentPerPeer < 0 || t.TimeWait < 0 || t.CloseWaitPerPort < 0 {
		return fmt.Errorf("%w: negative threshold in %+v", triage.ErrInvalid, t)
	}
	for _, pct := range []float64{t.EphemeralPct, t.RetransPct} {
		if !(pct >= 0 && pct <= 100) {
			return fmt.Errorf("%w: threshold %v%% is not a share", triage.ErrInvalid, pct)
		}
	}
	return nil
}

func (o *Options) validate() error {
	if o.Port < 0 || o.Port > 65535 {
		return fmt.Errorf("%w: port %d", triage.ErrInvalid, o.Port)
	}
	if o.PeerPort < 0 || o.PeerPort > 65535 {
		return fmt.Errorf("%w: peer port %d", triage.ErrInvalid, o.PeerPort)
	}
	if o.Addr.IsValid() && o.Port == 0 {
		return fmt.Errorf("%w: address %s without a port", triage.ErrInvalid, o.Addr)
	}
	if o.Protocols&^(TCP|UDP) != 0 {
		return fmt.Errorf("%w: protocols %d", triage.ErrInvalid, o.Protocols)
	}
	for _, s := range o.States {
		if s == 0 || s >= maxState {
			return fmt.Errorf("%w: state %d", triage.ErrInvalid, s)
		}
	}
	if err := o.Thresholds.validate(); err != nil {
		return err
	}
	if o.Protocols == 0 {
		o.Protocols = TCP
	}
	if o.ProcRoot == "" {
		o.ProcRoot = "/proc"
	}
	o.Addr = o.Addr.Unmap()
	o.Peer = o.Peer.Unmap()
	return nil
}

// Result is what [Check] found.
type Result struct {
	triage.Result
	// Source says where the sockets came from.
	Source Source `json:"source"`
	// Listeners are the listening TCP sockets (on Options.Port, or all)
	// and, when UDP was asked, the bound unconnected UDP sockets.
	Listeners []Listener `json:"listeners"`
	// States counts TCP sockets per state (NewSynRecv counted as SynRecv).
	States map[State]int `json:"states"`
	// Total is the number of TCP sockets.
	Total int `json:"total"`
	// UDP is the number of UDP sockets, when UDP was asked.
	UDP int `json:"udp,omitempty"`
	// TargetStates counts TCP sockets per state on Options.Port (either end)
	// or towards Options.Peer; nil when neither was set.
	TargetStates map[State]int `json:"target_states,omitempty"`
	// TopPeers are the peers with the most SYN-SENT and TIME-WAIT
	// sockets, and the local ports with the most CLOSE-WAIT ones.
	TopPeers []PeerCount `json:"top_peers,omitempty"`
	// Sockets are listed when Options.Details is set.
	Sockets []Socket `json:"sockets,omitempty"`
	// Counters are the kernel's TCP counters, with their growth over the
	// sample window; nil when they could not be read.
	Counters *Counters `json:"counters,omitempty"`
	// Ephemeral is the use of the local port range; nil when unknown.
	Ephemeral *Ephemeral `json:"ephemeral,omitempty"`
}

// Source says how sockets were read.
type Source struct {
	// Name is "netlink" (sock_diag) or "proc" (/proc/net/tcp and friends).
	Name string `json:"name"`
	// Fallback says why /proc was read instead of netlink; empty when it
	// was not a fallback.
	Fallback string `json:"fallback,omitempty"`
}

// Process is a process holding a socket.
type Process struct {
	PID  int    `json:"pid"`
	Name string `json:"name"`
}

// Listener is a listening TCP socket or a bound, unconnected UDP socket.
type Listener struct {
	Proto Protocol       `json:"proto"`
	Local netip.AddrPort `json:"local"`
	// DualStack is set for a [::] listener with IPV6_V6ONLY off, which
	// accepts IPv4 connections too.
	DualStack bool `json:"dual_stack"`
	// Queue is the number of connections waiting for accept(); Backlog is
	// the most the kernel will queue (listen(2)'s backlog, capped by
	// net.core.somaxconn). Backlog is zero when unknown (/proc fallback).
	Queue   uint32 `json:"queue"`
	Backlog uint32 `json:"backlog"`
	UID     uint32 `json:"uid"`
	Inode   uint64 `json:"inode"`
	// Processes own the socket; empty unless Options.Owners. One process
	// is named even when several share the socket (forked workers).
	Processes []Process `json:"processes,omitempty"`
}

// Serves reports whether a connection to addr reaches the listener.
func (l Listener) Serves(addr netip.Addr) bool {
	la := l.Local.Addr()
	addr = addr.Unmap()
	if la.IsUnspecified() {
		if la.Is4() {
			return addr.Is4()
		}
		return addr.Is6() || l.DualStack
	}
	return la.Unmap() == addr
}

// Socket is one socket, as ss lists it.
type Socket struct {
	Proto Protocol       `json:"proto"`
	State State          `json:"state"`
	Local netip.AddrPort `json:"local"`
	Peer  netip.AddrPort `json:"peer"`
	// RecvQ and SendQ are ss's Recv-Q and Send-Q: bytes queued, or for a
	// listener the accept queue and the backlog.
	RecvQ uint32 `json:"recv_q"`
	SendQ uint32 `json:"send_q"`
	UID   uint32 `json:"uid"`
	Inode uint64 `json:"inode"`
	// Timer is the pending timer: "on" (retransmit), "keepalive",
	// "timewait", "persist" or "" for none; Expires is when it fires and
	// Retransmits how often it has fired.
	Timer       string        `json:"timer,omitempty"`
	Expires     time.Duration `json:"expires_ns,omitempty"`
	Retransmits uint8         `json:"retransmits,omitempty"`
	// Info is the tcp_info, when Options.TCPInfo was set and the kernel
	// sent it.
	Info      *TCPInfo  `json:"info,omitempty"`
	Processes []Process `json:"processes,omitempty"`
}

// PeerCount is a peer (or, for CLOSE-WAIT, a local port) and how many
// sockets in a state it has.
type PeerCount struct {
	State State      `json:"state"`
	Peer  netip.Addr `json:"peer,omitzero"`
	Port  int        `json:"port,omitempty"`
	Count int        `json:"count"`
}

// Counters are the kernel's TCP counters from /proc/net/snmp and
// /proc/net/netstat, since boot (or since the namespace was made).
type Counters struct {
	ListenOverflows uint64 `json:"listen_overflows"`
	ListenDrops     uint64 `json:"listen_drops"`
	ActiveOpens     uint64 `json:"active_opens"`
	AttemptFails    uint64 `json:"attempt_fails"`
	EstabResets     uint64 `json:"estab_resets"`
	OutSegs         uint64 `json:"out_segs"`
	RetransSegs     uint64 `json:"retrans_segs"`
	Timeouts        uint64 `json:"timeouts"`
	SynRetrans      uint64 `json:"syn_retrans"`
	AbortOnTimeout  uint64 `json:"abort_on_timeout"`
	CurrEstab       uint64 `json:"curr_estab"`
	// Growth is how much each counter grew over Window; nil without a
	// sample. Its CurrEstab is the value at the end of the window.
	Growth *Counters     `json:"growth,omitempty"`
	Window time.Duration `json:"window_ns,omitempty"`
}

func countersFrom(m map[string]uint64) Counters {
	return Counters{
		ListenOverflows: m["TcpExt.ListenOverflows"],
		ListenDrops:     m["TcpExt.ListenDrops"],
		ActiveOpens:     m["Tcp.ActiveOpens"],
		AttemptFails:    m["Tcp.AttemptFails"],
		EstabResets:     m["Tcp.EstabResets"],
		OutSegs:         m["Tcp.OutSegs"],
		RetransSegs:     m["Tcp.RetransSegs"],
		Timeouts:        m["TcpExt.TCPTimeouts"],
		SynRetrans:      m["TcpExt.TCPSynRetrans"],
		AbortOnTimeout:  m["TcpExt.TCPAbortOnTimeout"],
		CurrEstab:       m["Tcp.CurrEstab"],
	}
}

func (c Counters) minus(p Counters) *Counters {
	d := func(a, b uint64) uint64 {
		if a < b {
			return 0
		}
		return a - b
	}
	return &Counters{
		ListenOverflows: d(c.ListenOverflows, p.ListenOverflows),
		ListenDrops:     d(c.ListenDrops, p.ListenDrops),
		ActiveOpens:     d(c.ActiveOpens, p.ActiveOpens),
		AttemptFails:    d(c.AttemptFails, p.AttemptFails),
		EstabResets:     d(c.EstabResets, p.EstabResets),
		OutSegs:         d(c.OutSegs, p.OutSegs),
		RetransSegs:     d(c.RetransSegs, p.RetransSegs),
		Timeouts:        d(c.Timeouts, p.Timeouts),
		SynRetrans:      d(c.SynRetrans, p.SynRetrans),
		AbortOnTimeout:  d(c.AbortOnTimeout, p.AbortOnTimeout),
		CurrEstab:       c.CurrEstab,
	}
}

// Ephemeral is the use of the local port range by connecting sockets.
type Ephemeral struct {
	// Low and High are net.ipv4.ip_local_port_range.
	Low  int `json:"low"`
	High int `json:"high"`
	// InUse counts TCP sockets (not listening) whose local port is in the
	// range.
	InUse int `json:"in_use"`
	// Peer is the destination (address and port) with the most of them,
	// and PeerUsed their number: connect() runs out of ports per
	// destination, so this is what nears exhaustion first.
	Peer     netip.AddrPort `json:"peer,omitzero"`
	PeerUsed int            `json:"peer_used"`
}

// Summary is the state histogram of [Summarize].
type Summary struct {
	// States counts TCP sockets per state.
	States map[State]int `json:"states"`
	// Total is the number of TCP sockets.
	Total  int    `json:"total"`
	Source Source `json:"source"`
}

// Listing is what [Sockets] returns.
type Listing struct {
	Sockets []Socket `json:"sockets"`
	Source  Source   `json:"source"`
}
