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

// parseSNMP reads /proc/net/snmp or /proc/net/netstat: pairs of lines,
// "Tcp: name name ..." then "Tcp: value value ...". Keys come back as
// "Tcp.CurrEstab", "TcpExt.ListenOverflows". Negative values (a few
// gauges such as Tcp.MaxConn) are kept as zero.
func parseSNMP(r io.Reader, into map[string]uint64) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 8192), 1<<20)
	var names [][]byte
	var prefix []byte
	for sc.Scan() {
		line := sc.Bytes()
		p, rest, ok := bytes.Cut(line, []byte(": "))
		if !ok {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			return fmt.Errorf("%w: %q", errProcFormat, line)
		}
		if names == nil || !bytes.Equal(p, prefix) {
			names = bytes.Fields(bytes.Clone(rest))
			prefix = bytes.Clone(p)
			continue
		}
		vals := bytes.Fields(rest)
		if len(vals) != len(names) {
			return fmt.Errorf("%w: %s has %d names and %d values", errProcFormat, p, len(names), len(vals))
		}
		for i, v := range vals {
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				u, uerr := strconv.ParseUint(string(v), 10, 64)
				if uerr != nil {
					return fmt.Errorf("%w: %s %s=%q", errProcFormat, p, names[i], v)
				}
				n = int64(u >> 1) // beyond int64: keep it large
			}
			into[string(prefix)+"."+string(names[i])] = uint64(max(n, 0))
		}
		names = nil
	}
	return sc.Err()
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
