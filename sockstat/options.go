package sockstat

import (
	"fmt"
	"math"
	"net"
	"net/netip"
	"time"

	"github.com/triagekit/triage"
)

// Options selects what to look at. The zero value looks at the whole
// host's TCP sockets in the caller's network namespace.
//
// The functions of the package read Options once, when they start, and
// keep nothing of it: the caller may reuse or change it at once.
type Options struct {
	// Target is what the check is aimed at, as the operator named it: a
	// Host (a name or an address literal) and Port, or the Addr a probe
	// dialled. It stands for Port and Addr when the target is on this
	// host (a loopback or unspecified address, an address of one of the
	// namespace's interfaces, or a name resolving to one): is its port
	// listened to, on that address? Otherwise it stands for Peer and
	// PeerPort: the connections towards it. See [Options.Resolver] for
	// names. Its other fields (URL, Process ...) are only carried into
	// Result.Target. Zero: none. Setting Target and any of Port, Addr,
	// Peer or PeerPort is invalid input.
	Target triage.Target
	// Resolver resolves Target.Host when it is a name, under the
	// context's deadline. A name resolving to several addresses of this
	// host is asked on any address (a client tries them all); one that
	// resolves to none of them is looked at as the peer at its first
	// address; one that does not resolve, as connections towards its
	// port on any peer (why it does not resolve is for a DNS check to
	// tell). Nil: net.DefaultResolver.
	Resolver *net.Resolver
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
	// Result.Sockets, and the states [Summarize] counts. Nil: every
	// state.
	States []State
	// Owners looks up the owning processes of listeners and listed
	// sockets in /proc/<pid>/fd, like ss -p.
	Owners bool
	// Details lists the individual sockets in Result.Sockets: those the
	// port or peer selects, or all of them when neither is set.
	Details bool
	// TCPInfo adds the kernel's tcp_info (RTT, retransmissions) to each
	// listed TCP socket.
	TCPInfo bool
	// NetNS is a network namespace file (/var/run/netns/NAME,
	// /proc/PID/ns/net). Empty: the caller's namespace.
	NetNS string
	// NoNetlink reads the sockets from ProcRoot's net/tcp files, never
	// from netlink: the first sock_diag request on a host may make the
	// kernel load the inet_diag modules, which a strictly read-only run
	// must not do. Slower on hosts with many sockets, and without
	// tcp_info. Setting it with NetNS is invalid input.
	NoNetlink bool
	// ProcRoot is where procfs is mounted. Empty: /proc. Any other root
	// (a fixture tree, the host's /proc mounted in a container) is read
	// from files only: sockets come from its net/tcp files, not netlink,
	// NetNS is not used, and only loopback and unspecified addresses
	// count as this host's for Target.
	ProcRoot string
	// Sample is how long Check watches the kernel counters grow
	// (ListenOverflows, retransmissions). Zero: DefaultSample. Either is
	// shortened to at most half of what is left before the context's
	// deadline. Negative: no sample, one reading.
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
	// ResetsPerSec: connections reset plus connection attempts failed, a
	// second, over the sample window. Default 20.
	ResetsPerSec float64
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
	if t.ResetsPerSec <= 0 {
		t.ResetsPerSec = 20
	}
	return t
}

// validate refuses thresholds that could never be reached, or that
// would be reached by nothing at all: a NaN or a share over 100% would
// keep a finding silent and the result OK.
func (t Thresholds) validate() error {
	if t.SynSentPerPeer < 0 || t.TimeWait < 0 || t.CloseWaitPerPort < 0 || !(t.ResetsPerSec >= 0) || math.IsInf(t.ResetsPerSec, 1) {
		return fmt.Errorf("%w: negative threshold in %+v", triage.ErrInvalid, t)
	}
	for _, pct := range []float64{t.EphemeralPct, t.RetransPct} {
		if !(pct >= 0 && pct <= 100) {
			return fmt.Errorf("%w: threshold %v%% is not a share", triage.ErrInvalid, pct)
		}
	}
	return nil
}

// config is Options checked, with its defaults applied, once. Every
// function of the package works from a config value: none keeps or
// changes the caller's Options, and none shares a config by pointer.
// Only [config.aimAt] refines it, into a new value, once Target is
// resolved.
type config struct {
	sel       selection
	addr      netip.Addr // the local address asked, unmapped; zero: any
	protocols Protocol   // never zero
	states    stateMask  // allStates when none were asked
	owners    bool
	details   bool
	tcpInfo   bool
	netns     string
	noNetlink bool
	procRoot  string        // never empty
	sample    time.Duration // negative: no sample
	th        Thresholds    // defaults applied
	// target is what Result.Target reports. When it is Options.Target,
	// aim is set until [config.aimAt] has turned it into sel and addr;
	// resolver resolves its Host.
	target   triage.Target
	aim      bool
	resolver *net.Resolver
}

// config checks o and returns the config it stands for. Errors match
// triage.ErrInvalid.
func (o Options) config() (config, error) {
	if o.Port < 0 || o.Port > 65535 {
		return config{}, fmt.Errorf("%w: port %d", triage.ErrInvalid, o.Port)
	}
	if o.PeerPort < 0 || o.PeerPort > 65535 {
		return config{}, fmt.Errorf("%w: peer port %d", triage.ErrInvalid, o.PeerPort)
	}
	if o.Addr.IsValid() && o.Port == 0 {
		return config{}, fmt.Errorf("%w: address %s without a port", triage.ErrInvalid, o.Addr)
	}
	if o.Protocols&^(TCP|UDP) != 0 {
		return config{}, fmt.Errorf("%w: protocols %d", triage.ErrInvalid, o.Protocols)
	}
	for _, s := range o.States {
		if s == 0 || s >= maxState {
			return config{}, fmt.Errorf("%w: state %d", triage.ErrInvalid, s)
		}
	}
	if err := o.Thresholds.validate(); err != nil {
		return config{}, err
	}
	if o.NoNetlink && o.NetNS != "" {
		return config{}, fmt.Errorf("%w: NoNetlink with NetNS: the files of another namespace are read through ProcRoot", triage.ErrInvalid)
	}
	c := config{
		noNetlink: o.NoNetlink,
		addr:      o.Addr.Unmap(),
		protocols: o.Protocols,
		states:    maskOf(o.States),
		owners:    o.Owners,
		details:   o.Details,
		tcpInfo:   o.TCPInfo,
		netns:     o.NetNS,
		procRoot:  o.ProcRoot,
		sample:    o.Sample,
		th:        o.Thresholds.withDefaults(),
		resolver:  o.Resolver,
	}
	if c.protocols == 0 {
		c.protocols = TCP
	}
	if c.procRoot == "" {
		c.procRoot = "/proc"
	}
	if c.sample == 0 {
		c.sample = DefaultSample
	}
	explicit := o.Port != 0 || o.Addr.IsValid() || o.Peer.IsValid() || o.PeerPort != 0
	if !o.Target.IsZero() {
		if explicit {
			return config{}, fmt.Errorf("%w: a target and a port or peer at once", triage.ErrInvalid)
		}
		t := o.Target
		if t.Port < 0 || t.Port > 65535 {
			return config{}, fmt.Errorf("%w: target port %d", triage.ErrInvalid, t.Port)
		}
		if t.Host != "" && t.Port == 0 && !t.Addr.IsValid() {
			return config{}, fmt.Errorf("%w: target %q without a port", triage.ErrInvalid, t.Host)
		}
		c.target, c.aim = t, true
		return c, nil
	}
	c.sel = newSelection(o.Port, o.Peer.Unmap(), o.PeerPort)
	switch {
	case o.Port != 0:
		c.target.Port = o.Port
		if c.addr.IsValid() {
			c.target.Addr = netip.AddrPortFrom(c.addr, uint16(o.Port))
		}
	case o.Peer.IsValid() || o.PeerPort != 0:
		c.target.Port = o.PeerPort
		if p := c.sel.peer; p.IsValid() {
			c.target.Host = p.String()
			if o.PeerPort != 0 {
				c.target.Addr = netip.AddrPortFrom(p, uint16(o.PeerPort))
			}
		}
	}
	return c, nil
}

// selection says which sockets are about the target: those on a local
// port (at either end when no peer is asked) and towards a peer address
// and port; every part that is set must match.
type selection struct {
	port     int
	peer     netip.Addr // unmapped
	peerPort int
	// ranges are the port ranges the kernel filters a dump by: every
	// selected socket is in one of them. Nil: no filter. Built once, by
	// newSelection, and only read after.
	ranges []portRange
}

func newSelection(port int, peer netip.Addr, peerPort int) selection {
	s := selection{port: port, peer: peer, peerPort: peerPort}
	one := func(peer bool, p int) portRange { return portRange{peer: peer, lo: uint16(p), hi: uint16(p)} }
	switch {
	case peerPort != 0:
		s.ranges = []portRange{one(true, peerPort)}
	case port != 0 && peer.IsValid():
		s.ranges = []portRange{one(false, port)}
	case port != 0:
		s.ranges = []portRange{one(false, port), one(true, port)}
	case peer.IsValid():
		s.ranges = []portRange{{peer: true, lo: 1, hi: 65535}}
	}
	return s
}

// any reports whether a port or a peer was asked.
func (s selection) any() bool { return s.port != 0 || s.remote() }

// remote reports whether a peer address or port was asked.
func (s selection) remote() bool { return s.peer.IsValid() || s.peerPort != 0 }

// matches reports whether a socket is about the target.
func (s selection) matches(m *diagMsg) bool {
	if s.port != 0 && int(m.local.Port()) != s.port && (s.remote() || int(m.peer.Port()) != s.port) {
		return false
	}
	if s.peerPort != 0 && int(m.peer.Port()) != s.peerPort {
		return false
	}
	return !s.peer.IsValid() || m.peer.Addr().Unmap() == s.peer
}
