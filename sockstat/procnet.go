package sockstat

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
)

var errProcFormat = errors.New("sockstat: unexpected /proc/net format")

// parseProcNet reads /proc/net/tcp, tcp6, udp or udp6 and calls fn for
// every socket, in the shape a netlink dump gives. It keeps one line in
// memory at a time. fn returning false stops the walk.
func parseProcNet(r io.Reader, family uint8, fn func(*diagMsg) bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	first := true
	var m diagMsg
	for sc.Scan() {
		line := sc.Bytes()
		if first {
			first = false
			if bytes.Contains(line, []byte("local_address")) {
				continue
			}
		}
		if err := parseProcNetLine(line, family, &m); err != nil {
			return err
		}
		if !fn(&m) {
			return nil
		}
	}
	return sc.Err()
}

// parseProcNetLine decodes one socket line such as
//
//	0: 0100007F:1F90 00000000:0000 0A 00000000:00000005 00:00000000 00000000  1000  0 12345 1 ...
func parseProcNetLine(line []byte, family uint8, m *diagMsg) error {
	*m = diagMsg{family: family, v6only: -1}
	var f [10][]byte
	n := 0
	for i := 0; i < len(line) && n < len(f); {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
			j++
		}
		if j > i {
			f[n] = line[i:j]
			n++
		}
		i = j
	}
	if n < 10 {
		return fmt.Errorf("%w: %d fields in %q", errProcFormat, n, line)
	}
	var err error
	if m.local, err = parseHexAddrPort(f[1], family); err != nil {
		return err
	}
	if m.peer, err = parseHexAddrPort(f[2], family); err != nil {
		return err
	}
	st, err := parseHex(f[3], 8)
	if err != nil {
		return err
	}
	m.state = State(st)
	tx, rx, ok := bytes.Cut(f[4], []byte(":"))
	if !ok {
		return fmt.Errorf("%w: queues %q", errProcFormat, f[4])
	}
	wq, err := parseHex(tx, 32)
	if err != nil {
		return err
	}
	rq, err := parseHex(rx, 32)
	if err != nil {
		return err
	}
	m.wqueue, m.rqueue = uint32(wq), uint32(rq)
	tr, when, ok := bytes.Cut(f[5], []byte(":"))
	if !ok {
		return fmt.Errorf("%w: timer %q", errProcFormat, f[5])
	}
	t, err := parseHex(tr, 8)
	if err != nil {
		return err
	}
	ticks, err := parseHex(when, 64)
	if err != nil {
		return err
	}
	m.timer = uint8(t)
	// clock_t ticks at USER_HZ, which is 100 on every Linux ABI.
	m.expires = uint32(min(ticks*10, 1<<32-1))
	re, err := parseHex(f[6], 64)
	if err != nil {
		return err
	}
	m.retrans = uint8(min(re, 255))
	uid, err := strconv.ParseUint(string(f[7]), 10, 32)
	if err != nil {
		return fmt.Errorf("%w: uid %q", errProcFormat, f[7])
	}
	m.uid = uint32(uid)
	ino, err := strconv.ParseUint(string(f[9]), 10, 32)
	if err != nil {
		return fmt.Errorf("%w: inode %q", errProcFormat, f[9])
	}
	m.inode = uint32(ino)
	return nil
}

func parseHex(b []byte, bits int) (uint64, error) {
	if len(b) == 0 || len(b) > bits/4+1 {
		return 0, fmt.Errorf("%w: hex %q", errProcFormat, b)
	}
	var v uint64
	for _, c := range b {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		default:
			return 0, fmt.Errorf("%w: hex %q", errProcFormat, b)
		}
		v = v<<4 | uint64(d)
	}
	if bits < 64 && v>>bits != 0 {
		return 0, fmt.Errorf("%w: hex %q", errProcFormat, b)
	}
	return v, nil
}

// parseHexAddrPort decodes "0100007F:1F90": the address as the kernel's
// 32-bit words in host order, the port in hex.
func parseHexAddrPort(b []byte, family uint8) (netip.AddrPort, error) {
	a, p, ok := bytes.Cut(b, []byte(":"))
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("%w: address %q", errProcFormat, b)
	}
	port, err := parseHex(p, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	words := 1
	if family == afInet6 {
		words = 4
	}
	if len(a) != 8*words {
		return netip.AddrPort{}, fmt.Errorf("%w: address %q", errProcFormat, b)
	}
	var raw [16]byte
	for i := 0; i < words; i++ {
		w, err := parseHex(a[8*i:8*i+8], 32)
		if err != nil {
			return netip.AddrPort{}, err
		}
		binary.NativeEndian.PutUint32(raw[4*i:], uint32(w))
	}
	if family == afInet6 {
		return netip.AddrPortFrom(netip.AddrFrom16(raw), uint16(port)), nil
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte(raw[:4])), uint16(port)), nil
}

// parseSNMP reads /proc/net/snmp or /proc/net/netstat into a map whose
// keys are "Tcp.CurrEstab", "TcpExt.ListenOverflows". See walkSNMP.
func parseSNMP(r io.Reader, into map[string]uint64) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	return walkSNMP(b, func(prefix, name []byte, v uint64) {
		into[string(prefix)+"."+string(name)] = v
	})
}

// walkSNMP calls fn for every counter of /proc/net/snmp or
// /proc/net/netstat text: pairs of lines, "Tcp: name name ..." then
// "Tcp: value value ...". Negative values (a few gauges such as
// Tcp.MaxConn) come as zero, values beyond int64 halved (still large).
// It allocates nothing: a check reads these files twice, and a short
// command once.
func walkSNMP(b []byte, fn func(prefix, name []byte, v uint64)) error {
	var names, prefix []byte
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		p, rest, ok := bytes.Cut(line, []byte(": "))
		if !ok {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			return fmt.Errorf("%w: %q", errProcFormat, line)
		}
		if names == nil || !bytes.Equal(p, prefix) {
			names, prefix = rest, p
			continue
		}
		ns, vs := names, rest
		for {
			var name, val []byte
			name, ns = nextField(ns)
			val, vs = nextField(vs)
			if name == nil && val == nil {
				break
			}
			if name == nil || val == nil {
				return fmt.Errorf("%w: %s has %d names and %d values", errProcFormat, p, len(bytes.Fields(names)), len(bytes.Fields(rest)))
			}
			v, ok := parseCounter(val)
			if !ok {
				return fmt.Errorf("%w: %s %s=%q", errProcFormat, p, name, val)
			}
			fn(prefix, name, v)
		}
		names = nil
	}
	return nil
}

// nextField returns the first space-separated field of b and what
// follows it; nil when there is none.
func nextField(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	if i == len(b) {
		return nil, nil
	}
	j := i
	for j < len(b) && b[j] != ' ' && b[j] != '\t' {
		j++
	}
	return b[i:j], b[j:]
}

// parseCounter reads a decimal counter as parseSNMP keeps it: a negative
// one as zero, one beyond int64 halved.
func parseCounter(b []byte) (uint64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false // beyond uint64
		}
		n = n*10 + d
	}
	switch {
	case neg && n > 1<<63:
		return 0, false // beyond int64, as ParseInt has it
	case neg:
		return 0, true
	case n > 1<<63-1:
		return n >> 1, true
	}
	return n, true
}

// parsePortRange reads net.ipv4.ip_local_port_range: "32768\t60999".
func parsePortRange(b []byte) (lo, hi int, err error) {
	f := bytes.Fields(b)
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("%w: port range %q", errProcFormat, b)
	}
	lo, err1 := strconv.Atoi(string(f[0]))
	hi, err2 := strconv.Atoi(string(f[1]))
	if err1 != nil || err2 != nil || lo < 1 || hi > 65535 || lo > hi {
		return 0, 0, fmt.Errorf("%w: port range %q", errProcFormat, b)
	}
	return lo, hi, nil
}
