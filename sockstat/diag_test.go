package sockstat

import (
	"encoding/binary"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawDiag builds an inet_diag_msg the way the kernel writes it.
func rawDiag(family uint8, st State, local, peer netip.AddrPort, rq, wq, uid, inode uint32, attrs ...[]byte) []byte {
	b := make([]byte, diagMsgLn)
	b[0], b[1], b[2], b[3] = family, uint8(st), 1, 2
	binary.BigEndian.PutUint16(b[4:], local.Port())
	binary.BigEndian.PutUint16(b[6:], peer.Port())
	la, pa := local.Addr().As16(), peer.Addr().As16()
	if family == afInet {
		l4, p4 := local.Addr().As4(), peer.Addr().As4()
		copy(b[8:], l4[:])
		copy(b[24:], p4[:])
	} else {
		copy(b[8:], la[:])
		copy(b[24:], pa[:])
	}
	binary.NativeEndian.PutUint32(b[52:], 1500)
	binary.NativeEndian.PutUint32(b[56:], rq)
	binary.NativeEndian.PutUint32(b[60:], wq)
	binary.NativeEndian.PutUint32(b[64:], uid)
	binary.NativeEndian.PutUint32(b[68:], inode)
	for _, a := range attrs {
		b = append(b, a...)
	}
	return b
}

func rawAttr(typ uint16, v []byte) []byte {
	a := make([]byte, 4, 4+len(v)+3)
	binary.NativeEndian.PutUint16(a[0:], uint16(4+len(v)))
	binary.NativeEndian.PutUint16(a[2:], typ)
	a = append(a, v...)
	for len(a)%4 != 0 {
		a = append(a, 0)
	}
	return a
}

func TestParseDiagMsg(t *testing.T) {
	info := make([]byte, 232)
	binary.NativeEndian.PutUint32(info[68:], 1500) // rtt 1.5ms
	binary.NativeEndian.PutUint32(info[100:], 7)   // total retrans
	lo4 := netip.MustParseAddrPort("127.0.0.1:8080")
	pe4 := netip.MustParseAddrPort("10.1.2.3:40000")
	any6 := netip.MustParseAddrPort("[::]:443")

	tests := []struct {
		name    string
		in      []byte
		wantErr bool
		check   func(t *testing.T, m diagMsg)
	}{
		{
			name: "ipv4 listener",
			in:   rawDiag(afInet, Listen, lo4, netip.AddrPortFrom(netip.IPv4Unspecified(), 0), 3, 128, 1000, 4242),
			check: func(t *testing.T, m diagMsg) {
				assert.Equal(t, Listen, m.state)
				assert.Equal(t, lo4, m.local)
				assert.Equal(t, uint32(3), m.rqueue)
				assert.Equal(t, uint32(128), m.wqueue)
				assert.Equal(t, uint32(1000), m.uid)
				assert.Equal(t, uint32(4242), m.inode)
				assert.Equal(t, int8(-1), m.v6only)
			},
		},
		{
			name: "ipv6 dual-stack listener",
			in:   rawDiag(afInet6, Listen, any6, netip.AddrPortFrom(netip.IPv6Unspecified(), 0), 0, 4096, 0, 1, rawAttr(attrV6Only, []byte{0})),
			check: func(t *testing.T, m diagMsg) {
				assert.Equal(t, any6, m.local)
				assert.Equal(t, int8(0), m.v6only)
			},
		},
		{
			name: "established with tcp_info and unknown attributes",
			in:   rawDiag(afInet, Established, lo4, pe4, 0, 0, 0, 9, rawAttr(99, []byte{1, 2, 3}), rawAttr(attrInfo, info), rawAttr(attrV6Only|0x8000, []byte{1})),
			check: func(t *testing.T, m diagMsg) {
				assert.Equal(t, pe4, m.peer)
				require.Len(t, m.info, 232)
				ti := parseTCPInfo(m.info)
				assert.Equal(t, 1500*time.Microsecond, ti.RTT)
				assert.Equal(t, uint32(7), ti.TotalRetrans)
				assert.Equal(t, int8(1), m.v6only)
			},
		},
		{
			name: "attribute longer than message ends the walk",
			in:   append(rawDiag(afInet, TimeWait, lo4, pe4, 0, 0, 0, 0), 0xff, 0x00, 0x02, 0x00),
			check: func(t *testing.T, m diagMsg) {
				assert.Equal(t, TimeWait, m.state)
				assert.Nil(t, m.info)
			},
		},
		{name: "short", in: make([]byte, 71), wantErr: true},
		{name: "unknown family", in: make([]byte, 72), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := parseDiagMsg(tt.in)
			if tt.wantErr {
				assert.ErrorIs(t, err, errShortMsg)
				return
			}
			require.NoError(t, err)
			tt.check(t, m)
		})
	}
}

func TestParseTCPInfoLengths(t *testing.T) {
	full := make([]byte, 300)
	binary.NativeEndian.PutUint32(full[68:], 250)
	binary.NativeEndian.PutUint64(full[128:], 1<<40)
	tests := []struct {
		name  string
		in    []byte
		rtt   time.Duration
		bytes uint64
	}{
		{"empty", nil, 0, 0},
		{"old kernel, 104 bytes", full[:104], 250 * time.Microsecond, 0},
		{"exact", full[:tcpInfoLen], 250 * time.Microsecond, 1 << 40},
		{"newer kernel, longer", full, 250 * time.Microsecond, 1 << 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ti := parseTCPInfo(tt.in)
			assert.Equal(t, tt.rtt, ti.RTT)
			assert.Equal(t, tt.bytes, ti.BytesReceived)
		})
	}
}

// runBytecode interprets filter bytecode the way the kernel's
// inet_diag_bc_run does, for the ops this package emits.
func runBytecode(bc []byte, sport, dport uint16) bool {
	l := len(bc)
	off := 0
	for l > 0 {
		code, yes, no := bc[off], int(bc[off+1]), int(binary.NativeEndian.Uint16(bc[off+2:]))
		var ok bool
		switch code {
		case bcJMP:
			ok = false
		case bcSGE, bcSLE, bcDGE, bcDLE:
			arg := binary.NativeEndian.Uint16(bc[off+6:])
			p := sport
			if code == bcDGE || code == bcDLE {
				p = dport
			}
			if code == bcSGE || code == bcDGE {
				ok = p >= arg
			} else {
				ok = p <= arg
			}
		default:
			panic("unexpected op")
		}
		step := no
		if ok {
			step = yes
		}
		l -= step
		off += step
	}
	return l == 0
}

func TestBytecode(t *testing.T) {
	f := []portRange{{lo: 32768, hi: 60999}, {lo: 8080, hi: 8080}, {peer: true, lo: 5432, hi: 5432}}
	bc := bytecode(f)
	require.Len(t, bc, 56)
	tests := []struct {
		sport, dport uint16
		want         bool
	}{
		{40000, 80, true},
		{8080, 51000, true},
		{22, 5432, true},
		{22, 5433, false},
		{8081, 1, false},
		{32767, 60999, false},
		{60999, 0, true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, runBytecode(bc, tt.sport, tt.dport), "sport %d dport %d", tt.sport, tt.dport)
		m := diagMsg{local: netip.AddrPortFrom(netip.IPv4Unspecified(), tt.sport), peer: netip.AddrPortFrom(netip.IPv4Unspecified(), tt.dport)}
		assert.Equal(t, tt.want, matchFilter(f, &m), "sport %d dport %d", tt.sport, tt.dport)
	}
	assert.Nil(t, bytecode(nil))

	req := diagRequest{family: afInet6, protocol: protoTCP, states: 1 << Listen, filter: f}.marshal()
	require.Len(t, req, reqV2Len+4+56)
	assert.Equal(t, uint8(afInet6), req[0])
	assert.Equal(t, uint32(1<<Listen), binary.NativeEndian.Uint32(req[4:]))
	assert.Equal(t, uint16(attrBytecode), binary.NativeEndian.Uint16(req[reqV2Len+2:]))
}

func TestStateText(t *testing.T) {
	for s := Established; s < maxState; s++ {
		var got State
		require.NoError(t, got.UnmarshalText([]byte(s.String())))
		assert.Equal(t, s, got)
	}
	var s State
	require.NoError(t, s.UnmarshalText([]byte("time_wait")))
	assert.Equal(t, TimeWait, s)
	require.NoError(t, s.UnmarshalText([]byte("established")))
	assert.Equal(t, Established, s)
	assert.Error(t, s.UnmarshalText([]byte("bogus")))
	assert.Equal(t, "State(99)", State(99).String())

	for _, p := range []Protocol{TCP, UDP, TCP | UDP} {
		b, err := p.MarshalText()
		require.NoError(t, err)
		var got Protocol
		require.NoError(t, got.UnmarshalText(b))
		assert.Equal(t, p, got)
	}
	var p Protocol
	assert.Error(t, p.UnmarshalText([]byte("sctp")))
}

func FuzzParseDiagMsg(f *testing.F) {
	lo := netip.MustParseAddrPort("127.0.0.1:80")
	f.Add(rawDiag(afInet, Listen, lo, lo, 1, 2, 3, 4))
	f.Add(rawDiag(afInet6, Established, netip.MustParseAddrPort("[::1]:80"), netip.MustParseAddrPort("[::1]:9"), 0, 0, 0, 0, rawAttr(attrInfo, make([]byte, 40)), rawAttr(attrV6Only, []byte{1})))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseDiagMsg(b)
		if err != nil {
			return
		}
		_ = parseTCPInfo(m.info)
		_ = socketOf(&m, TCP, true)
		_ = listenerOf(&m, TCP, false)
	})
}

func BenchmarkParseDiagMsg(b *testing.B) {
	msg := rawDiag(afInet6, Established, netip.MustParseAddrPort("[::1]:80"), netip.MustParseAddrPort("[::1]:51000"), 0, 0, 1000, 77,
		rawAttr(attrInfo, make([]byte, 232)), rawAttr(attrV6Only, []byte{0}))
	b.ReportAllocs()
	for b.Loop() {
		m, err := parseDiagMsg(msg)
		if err != nil || m.inode != 77 {
			b.Fatal(err)
		}
	}
}

func nlmsg(typ, flags uint16, seq uint32, body []byte) []byte {
	b := make([]byte, nlmsgHdrLen, nlmsgHdrLen+len(body)+3)
	binary.NativeEndian.PutUint32(b[0:], uint32(nlmsgHdrLen+len(body)))
	binary.NativeEndian.PutUint16(b[4:], typ)
	binary.NativeEndian.PutUint16(b[6:], flags)
	binary.NativeEndian.PutUint32(b[8:], seq)
	b = append(b, body...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func errnoBody(e int32) []byte {
	b := make([]byte, 4)
	binary.NativeEndian.PutUint32(b, uint32(e))
	return b
}

func TestParseDatagram(t *testing.T) {
	lo := netip.MustParseAddrPort("127.0.0.1:80")
	sock := rawDiag(afInet, Listen, lo, lo, 0, 128, 0, 1)
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	tests := []struct {
		name       string
		in         []byte
		socks      int
		done, intr bool
		errno      syscall.Errno
		short      bool
	}{
		{name: "two sockets, more to come", in: cat(nlmsg(sockDiagByFamily, 2, 7, sock), nlmsg(sockDiagByFamily, 2, 7, sock)), socks: 2},
		{name: "sockets then done", in: cat(nlmsg(sockDiagByFamily, 2, 7, sock), nlmsg(nlmsgDone, 2, 7, errnoBody(0))), socks: 1, done: true},
		{name: "empty done", in: nlmsg(nlmsgDone, 2, 7, nil), done: true},
		{name: "interrupted dump", in: cat(nlmsg(sockDiagByFamily, 2|nlmFDumpIntr, 7, sock), nlmsg(nlmsgDone, 2|nlmFDumpIntr, 7, nil)), socks: 1, done: true, intr: true},
		{name: "error carried in done", in: nlmsg(nlmsgDone, 2, 7, errnoBody(-int32(syscall.EPERM))), done: true, errno: syscall.EPERM},
		{name: "error message", in: nlmsg(nlmsgError, 0, 7, append(errnoBody(-int32(syscall.EPROTONOSUPPORT)), make([]byte, 16)...)), done: true, errno: syscall.EPROTONOSUPPORT},
		{name: "other sequence skipped", in: cat(nlmsg(sockDiagByFamily, 2, 6, sock), nlmsg(nlmsgDone, 2, 6, nil)), socks: 0},
		{name: "length past the datagram", in: nlmsg(sockDiagByFamily, 2, 7, sock)[:60], short: true},
		{name: "short socket message", in: nlmsg(sockDiagByFamily, 2, 7, sock[:40]), short: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			done, intr, err := parseDatagram(tt.in, 7, func(*diagMsg) { n++ })
			switch {
			case tt.errno != 0:
				assert.ErrorIs(t, err, tt.errno)
			case tt.short:
				assert.ErrorIs(t, err, errShortMsg)
			default:
				assert.NoError(t, err)
			}
			assert.Equal(t, tt.socks, n)
			assert.Equal(t, tt.done, done)
			assert.Equal(t, tt.intr, intr)
		})
	}
}

func FuzzParseDatagram(f *testing.F) {
	lo := netip.MustParseAddrPort("127.0.0.1:80")
	f.Add(append(nlmsg(sockDiagByFamily, 2, 1, rawDiag(afInet, Listen, lo, lo, 0, 1, 0, 1, rawAttr(attrV6Only, []byte{1}))), nlmsg(nlmsgDone, 2, 1, errnoBody(0))...))
	f.Add(nlmsg(nlmsgError, 0, 1, errnoBody(-1)))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = parseDatagram(b, 1, func(m *diagMsg) {
			_ = socketOf(m, TCP, true)
		})
	})
}

func TestMergeFamilies(t *testing.T) {
	f := []portRange{{lo: 1, hi: 2}}
	reqs := []diagRequest{
		{family: afInet, protocol: protoTCP, states: 2, filter: f},
		{family: afInet6, protocol: protoTCP, states: 2, filter: f},
		{family: afInet, protocol: protoUDP, states: 2},
		{family: afInet6, protocol: protoUDP, states: 2},
		{family: afInet, protocol: protoTCP, states: 2},
		{family: afInet6, protocol: protoTCP, states: 4},
	}
	got := mergeFamilies(reqs)
	require.Len(t, got, 5)
	assert.True(t, got[0].bothFamilies)
	assert.Equal(t, uint16(tcpDiagGetSock), got[0].msgType())
	for _, q := range got[1:] {
		assert.False(t, q.bothFamilies)
	}
	b := got[0].marshal()
	require.Len(t, b, reqV1Len+4+16)
	assert.Equal(t, uint32(2), binary.NativeEndian.Uint32(b[52:56]))
}
