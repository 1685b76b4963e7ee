package sockstat

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"slices"
	"syscall"
	"time"
)

// inet_diag wire format (include/uapi/linux/inet_diag.h). The kernel
// writes host byte order except for ports and addresses, which are in
// network order.
const (
	sockDiagByFamily = 20 // SOCK_DIAG_BY_FAMILY
	tcpDiagGetSock   = 18 // TCPDIAG_GETSOCK: the older request, both families at once

	reqV1Len = 60 // struct inet_diag_req

	reqV2Len  = 56 // struct inet_diag_req_v2
	diagMsgLn = 72 // struct inet_diag_msg

	attrInfo     = 2  // INET_DIAG_INFO: struct tcp_info
	attrShutdown = 8  // INET_DIAG_SHUTDOWN
	attrV6Only   = 11 // INET_DIAG_SKV6ONLY
	attrBytecode = 1  // INET_DIAG_REQ_BYTECODE (request side)

	bcSGE = 2 // INET_DIAG_BC_S_GE
	bcSLE = 3 // INET_DIAG_BC_S_LE

	afInet  = 2
	afInet6 = 10

	protoTCP = 6
	protoUDP = 17
)

var errShortMsg = errors.New("sockstat: short inet_diag message")

// diagRequest is an inet_diag_req_v2 with optional filter bytecode.
type diagRequest struct {
	family   uint8
	protocol uint8
	ext      uint8 // 1<<(attr-1) for each attribute wanted
	states   stateMask
	// filter, when not empty, keeps only sockets matching one of the
	// ranges (filtered by the kernel).
	filter []portRange
	// bothFamilies asks for IPv4 and IPv6 TCP sockets in one request
	// (TCPDIAG_GETSOCK), so the kernel walks its socket hash once instead
	// of once per family; family is then ignored.
	bothFamilies bool
}

// msgType is the netlink message type of the request and its replies.
func (r diagRequest) msgType() uint16 {
	if r.bothFamilies {
		return tcpDiagGetSock
	}
	return sockDiagByFamily
}

// mergeFamilies turns each IPv4 and IPv6 TCP request pair that differs
// only in family into one request for both.
func mergeFamilies(reqs []diagRequest) []diagRequest {
	out := make([]diagRequest, 0, len(reqs))
	for i := 0; i < len(reqs); i++ {
		q := reqs[i]
		if i+1 < len(reqs) && q.protocol == protoTCP && q.family == afInet {
			n := reqs[i+1]
			if n.protocol == protoTCP && n.family == afInet6 && n.ext == q.ext && n.states == q.states && slices.Equal(n.filter, q.filter) {
				q.bothFamilies = true
				i++
			}
		}
		out = append(out, q)
	}
	return out
}

// marshal encodes the request body (without the netlink header).
func (r diagRequest) marshal() []byte {
	bc := bytecode(r.filter)
	hl := reqV2Len
	if r.bothFamilies {
		hl = reqV1Len
	}
	n := hl
	if len(bc) > 0 {
		n += 4 + len(bc)
	}
	b := make([]byte, n)
	// The socket id stays zero: a dump ignores it.
	if r.bothFamilies {
		// struct inet_diag_req: family, src_len, dst_len, ext, id,
		// states, dbs. The kernel dumps every family for it.
		b[3] = r.ext
		binary.NativeEndian.PutUint32(b[52:56], uint32(r.states))
	} else {
		b[0] = r.family
		b[1] = r.protocol
		b[2] = r.ext
		binary.NativeEndian.PutUint32(b[4:8], uint32(r.states))
	}
	if len(bc) > 0 {
		a := b[hl:]
		binary.NativeEndian.PutUint16(a[0:2], uint16(4+len(bc)))
		binary.NativeEndian.PutUint16(a[2:4], attrBytecode)
		copy(a[4:], bc)
	}
	return b
}

func putOp(b []byte, code, yes uint8, no uint16) {
	b[0] = code
	b[1] = yes
	binary.NativeEndian.PutUint16(b[2:4], no)
}

// diagMsg is one parsed inet_diag_msg. Slices point into the message.
type diagMsg struct {
	family  uint8
	state   State
	timer   uint8
	retrans uint8
	local   netip.AddrPort
	peer    netip.AddrPort
	ifindex uint32
	expires uint32 // milliseconds
	rqueue  uint32
	wqueue  uint32
	uid     uint32
	inode   uint32
	v6only  int8 // -1 not reported, 0 off, 1 on
	info    []byte
}

// parseDiagMsg decodes an inet_diag_msg and the attributes after it. It
// never panics on short or malformed input; unknown attributes are
// skipped and a malformed attribute list ends the attribute walk.
func parseDiagMsg(b []byte) (diagMsg, error) {
	var m diagMsg
	if len(b) < diagMsgLn {
		return m, errShortMsg
	}
	m.family = b[0]
	m.state = State(b[1])
	m.timer = b[2]
	m.retrans = b[3]
	sport := binary.BigEndian.Uint16(b[4:6])
	dport := binary.BigEndian.Uint16(b[6:8])
	switch m.family {
	case afInet:
		m.local = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[8:12])), sport)
		m.peer = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[24:28])), dport)
	case afInet6:
		m.local = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[8:24])), sport)
		m.peer = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[24:40])), dport)
	default:
		return m, errShortMsg
	}
	m.ifindex = binary.NativeEndian.Uint32(b[40:44])
	m.expires = binary.NativeEndian.Uint32(b[52:56])
	m.rqueue = binary.NativeEndian.Uint32(b[56:60])
	m.wqueue = binary.NativeEndian.Uint32(b[60:64])
	m.uid = binary.NativeEndian.Uint32(b[64:68])
	m.inode = binary.NativeEndian.Uint32(b[68:72])
	m.v6only = -1
	a := b[diagMsgLn:]
	for len(a) >= 4 {
		l := int(binary.NativeEndian.Uint16(a[0:2]))
		t := binary.NativeEndian.Uint16(a[2:4]) &^ 0xc000 // NLA_F_NESTED, NLA_F_NET_BYTEORDER
		if l < 4 || l > len(a) {
			break
		}
		v := a[4:l]
		switch t {
		case attrInfo:
			m.info = v
		case attrV6Only:
			if len(v) >= 1 {
				m.v6only = int8(min(v[0], 1))
			}
		}
		al := (l + 3) &^ 3
		if al > len(a) {
			break
		}
		a = a[al:]
	}
	return m, nil
}

// TCPInfo is the part of the kernel's struct tcp_info that triage reads.
// A kernel that sends a shorter struct leaves the missing fields zero;
// a longer one has its extra fields ignored.
type TCPInfo struct {
	// Retransmits is the number of unrecovered RTO timeouts in a row.
	Retransmits uint8 `json:"retransmits"`
	// Probes is the number of unanswered zero-window or keepalive probes.
	Probes uint8 `json:"probes"`
	// Backoff is the exponential backoff of the retransmission timer.
	Backoff uint8 `json:"backoff"`
	// RTO is the retransmission timeout.
	RTO time.Duration `json:"rto_ns"`
	// RTT and RTTVar are the smoothed round-trip time and its variance.
	RTT    time.Duration `json:"rtt_ns"`
	RTTVar time.Duration `json:"rtt_var_ns"`
	// Unacked, Lost and Retrans are segments in flight, presumed lost, and
	// retransmitted but not yet acknowledged.
	Unacked uint32 `json:"unacked"`
	Lost    uint32 `json:"lost"`
	Retrans uint32 `json:"retrans"`
	// TotalRetrans counts every retransmission of the connection's life.
	TotalRetrans uint32 `json:"total_retrans"`
	// SndCwnd is the congestion window in segments.
	SndCwnd uint32 `json:"snd_cwnd"`
	// LastDataRecv is the time since data was last received.
	LastDataRecv time.Duration `json:"last_data_recv_ns"`
	// BytesAcked and BytesReceived are zero on kernels before 4.1.
	BytesAcked    uint64 `json:"bytes_acked"`
	BytesReceived uint64 `json:"bytes_received"`
}

const tcpInfoLen = 136 // through tcpi_bytes_received

// parseTCPInfo decodes struct tcp_info of any length.
func parseTCPInfo(b []byte) TCPInfo {
	var buf [tcpInfoLen]byte
	copy(buf[:], b)
	u32 := func(off int) uint32 { return binary.NativeEndian.Uint32(buf[off : off+4]) }
	us := func(off int) time.Duration { return time.Duration(u32(off)) * time.Microsecond }
	ms := func(off int) time.Duration { return time.Duration(u32(off)) * time.Millisecond }
	return TCPInfo{
		Retransmits:   buf[2],
		Probes:        buf[3],
		Backoff:       buf[4],
		RTO:           us(8),
		Unacked:       u32(24),
		Lost:          u32(32),
		Retrans:       u32(36),
		LastDataRecv:  ms(52),
		RTT:           us(68),
		RTTVar:        us(72),
		SndCwnd:       u32(80),
		TotalRetrans:  u32(100),
		BytesAcked:    binary.NativeEndian.Uint64(buf[120:128]),
		BytesReceived: binary.NativeEndian.Uint64(buf[128:136]),
	}
}

// portRange keeps sockets whose local (or, with peer set, remote) port
// lies in [lo, hi].
type portRange struct {
	peer   bool
	lo, hi uint16
}

const (
	bcJMP = 1 // INET_DIAG_BC_JMP
	bcDGE = 4 // INET_DIAG_BC_D_GE
	bcDLE = 5 // INET_DIAG_BC_D_LE
)

// bytecode compiles "any of the ranges" into inet_diag filter bytecode.
// Each range is two comparisons whose "no" jumps to the next range; ranges
// are joined by a JMP to the end, which accepts. The layout follows what
// ss emits for "a or b" so that the kernel's audit walks every op.
func bytecode(ranges []portRange) []byte {
	if len(ranges) == 0 {
		return nil
	}
	total := 20*len(ranges) - 4
	b := make([]byte, total)
	off := 0
	for i, r := range ranges {
		ge, le := uint8(bcSGE), uint8(bcSLE)
		if r.peer {
			ge, le = bcDGE, bcDLE
		}
		// A failed comparison jumps to just past this range's 16 bytes:
		// the start of the next range (after the JMP), or past the end.
		putOp(b[off:], ge, 8, 20)
		putOp(b[off+4:], 0, 0, r.lo)
		putOp(b[off+8:], le, 8, 12)
		putOp(b[off+12:], 0, 0, r.hi)
		off += 16
		if i < len(ranges)-1 {
			rest := total - off - 4
			putOp(b[off:], bcJMP, 4, uint16(rest+4))
			off += 4
		}
	}
	return b
}

// Netlink framing (include/uapi/linux/netlink.h).
const (
	nlmsgHdrLen  = 16
	nlmsgError   = 2
	nlmsgDone    = 3
	nlmFDumpIntr = 0x10
)

// errnoError is an error the kernel reported in an NLMSG_ERROR or in the
// payload of NLMSG_DONE. It unwraps to the syscall.Errno.
type errnoError struct{ errno syscall.Errno }

func (e errnoError) Error() string { return "kernel replied: " + e.errno.Error() }
func (e errnoError) Unwrap() error { return e.errno }

// parseDatagram walks the netlink messages of one datagram of a dump
// reply. done is set at NLMSG_DONE; intr when the kernel flagged the dump
// as inconsistent (NLM_F_DUMP_INTR). Messages of other sequences are
// skipped. It never panics on malformed input.
func parseDatagram(b []byte, seq uint32, fn func(*diagMsg)) (done, intr bool, err error) {
	m := new(diagMsg) // one per datagram, not per socket
	for len(b) >= nlmsgHdrLen {
		l := int(binary.NativeEndian.Uint32(b[0:4]))
		typ := binary.NativeEndian.Uint16(b[4:6])
		flags := binary.NativeEndian.Uint16(b[6:8])
		s := binary.NativeEndian.Uint32(b[8:12])
		if l < nlmsgHdrLen || l > len(b) {
			return false, intr, errShortMsg
		}
		body := b[nlmsgHdrLen:l]
		if al := (l + 3) &^ 3; al <= len(b) {
			b = b[al:]
		} else {
			b = b[len(b):]
		}
		if s != seq {
			continue
		}
		if flags&nlmFDumpIntr != 0 {
			intr = true
		}
		switch typ {
		case nlmsgDone, nlmsgError:
			// Both carry an int32 errno, 0 for none; a DONE may be empty.
			if len(body) >= 4 {
				if e := int32(binary.NativeEndian.Uint32(body[0:4])); e < 0 {
					return true, intr, errnoError{syscall.Errno(-e)}
				}
			}
			if typ == nlmsgDone {
				return true, intr, nil
			}
			// An ERROR with errno 0 is an acknowledgement; keep reading.
		case sockDiagByFamily, tcpDiagGetSock:
			if *m, err = parseDiagMsg(body); err != nil {
				return false, intr, err
			}
			fn(m)
		}
	}
	return false, intr, nil
}
