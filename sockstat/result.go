package sockstat

import (
	"net/netip"
	"time"

	"github.com/triagekit/triage"
)

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
	// TargetStates counts the TCP sockets about the target per state:
	// those on the asked port (at either end when no peer was asked) and
	// towards the asked peer; listeners are in Listeners. Nil when neither
	// a port nor a peer was asked.
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
	// NetNS is the inode of the network namespace read, as the kernel
	// names it in its messages; zero when unknown (files under a
	// ProcRoot).
	NetNS uint64 `json:"netns,omitempty"`
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

// PeerCount is a peer (or, for CLOSE-WAIT, a local port; for TIME-WAIT
// with a Port, the service port the connections were to, on either side)
// and how many sockets in a state it has.
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
	// ConntrackDrops counts new connections the kernel's connection
	// tracking dropped because its table was full (the drop column of
	// /proc/net/stat/nf_conntrack summed over CPUs, as conntrack -S
	// shows). ConntrackEntries and ConntrackMax are the table's size and
	// limit (net.netfilter.nf_conntrack_count and _max). All three are
	// zero where the namespace tracks no connections.
	ConntrackDrops   uint64 `json:"conntrack_drops"`
	ConntrackEntries uint64 `json:"conntrack_entries"`
	ConntrackMax     uint64 `json:"conntrack_max"`
	// Growth is how much each counter grew over Window; nil without a
	// sample. Its CurrEstab, ConntrackEntries and ConntrackMax are the
	// values at the end of the window.
	Growth *Counters     `json:"growth,omitempty"`
	Window time.Duration `json:"window_ns,omitempty"`
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
	// States counts TCP sockets per state, for the states counted.
	States map[State]int `json:"states"`
	// Total is the number of TCP sockets in those states.
	Total int `json:"total"`
	// Totals are the kernel's own running counts; nil when they could
	// not be read.
	Totals *Totals `json:"totals,omitempty"`
	Source Source  `json:"source"`
}

// Totals are the kernel's running counts of a namespace's sockets, from
// /proc/net/sockstat, /proc/net/sockstat6 and /proc/net/snmp: what
// `ss -s` prints. Reading them costs no dump, whatever the number of
// sockets, but they do not tell most states apart.
type Totals struct {
	// TCP counts the TCP sockets of both families in the kernel's
	// tables: every state but TIME-WAIT and SYN-RECV.
	TCP int `json:"tcp"`
	// TimeWait counts the sockets the kernel keeps after close:
	// TIME-WAIT, and FIN-WAIT-2 once its owner closed it.
	TimeWait int `json:"time_wait"`
	// Established is Tcp.CurrEstab: ESTABLISHED sockets, and since
	// Linux 6.10 CLOSE-WAIT ones too.
	Established int `json:"established"`
	// Orphans counts TCP sockets no process holds any more, still
	// closing; of the whole host, not only of the namespace.
	Orphans int `json:"orphans"`
	// UDP counts the UDP sockets of both families.
	UDP int `json:"udp"`
}

// Listing is what [Sockets] returns.
type Listing struct {
	Sockets []Socket `json:"sockets"`
	Source  Source   `json:"source"`
}
