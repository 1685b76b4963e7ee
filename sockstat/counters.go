package sockstat

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// readCounters reads /proc/net/snmp and /proc/net/netstat, or the files
// named, and the connection-tracking table's figures where the
// namespace has them.
func readCounters(rd reader, files ...string) (Counters, error) {
	all := len(files) == 0
	if all {
		files = []string{"net/snmp", "net/netstat"}
	}
	var c Counters
	for _, name := range files {
		b, err := rd.readFile(name)
		if err != nil {
			return Counters{}, err
		}
		if err := walkSNMP(b, c.set); err != nil {
			return Counters{}, fmt.Errorf("%s: %w", name, err)
		}
	}
	if all {
		// Absent without connection tracking in the kernel, or before
		// any rule needs it: nothing is tracked, nothing dropped.
		if b, err := rd.readFile("net/stat/nf_conntrack"); err == nil {
			c.ConntrackDrops, _ = conntrackDrops(b)
		}
		c.ConntrackEntries = readUint(rd, "sys/net/netfilter/nf_conntrack_count")
		c.ConntrackMax = readUint(rd, "sys/net/netfilter/nf_conntrack_max")
	}
	return c, nil
}

// readUint reads a file of one number; zero when it cannot.
func readUint(rd reader, name string) uint64 {
	b, err := rd.readFile(name)
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseUint(string(bytes.TrimSpace(b)), 10, 64)
	return n
}

// conntrackDrops sums the drop column of /proc/net/stat/nf_conntrack: a
// header naming the columns, then one line per CPU in hexadecimal.
//
//	entries  clashres found invalid ignore insert insert_failed drop ...
//	00000000  00000000 00000000 00000000 00000000 00000000 00000000 00000012 ...
func conntrackDrops(b []byte) (uint64, error) {
	head, rest := procfsLine(b)
	col := -1
	for i, f := range strings.Fields(string(head)) {
		if f == "drop" {
			col = i
		}
	}
	if col < 0 {
		return 0, fmt.Errorf("nf_conntrack stat: no drop column")
	}
	var sum uint64
	for len(rest) > 0 {
		var line []byte
		line, rest = procfsLine(rest)
		fs := bytes.Fields(line)
		if len(fs) == 0 {
			continue
		}
		if col >= len(fs) {
			return 0, fmt.Errorf("nf_conntrack stat: %d columns", len(fs))
		}
		n, err := strconv.ParseUint(string(fs[col]), 16, 64)
		if err != nil {
			return 0, fmt.Errorf("nf_conntrack stat: drop %q", fs[col])
		}
		sum += n
	}
	return sum, nil
}

func procfsLine(b []byte) (line, rest []byte) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i], b[i+1:]
	}
	return b, nil
}

func countersFrom(m map[string]uint64) Counters {
	var c Counters
	for k, v := range m {
		if p, n, ok := strings.Cut(k, "."); ok {
			c.set([]byte(p), []byte(n), v)
		}
	}
	return c
}

// set records the counter prefix.name ("Tcp", "CurrEstab") when it is one
// of those Counters holds.
func (c *Counters) set(prefix, name []byte, v uint64) {
	var f *uint64
	switch string(prefix) {
	case "Tcp":
		switch string(name) {
		case "ActiveOpens":
			f = &c.ActiveOpens
		case "AttemptFails":
			f = &c.AttemptFails
		case "EstabResets":
			f = &c.EstabResets
		case "OutSegs":
			f = &c.OutSegs
		case "RetransSegs":
			f = &c.RetransSegs
		case "CurrEstab":
			f = &c.CurrEstab
		}
	case "TcpExt":
		switch string(name) {
		case "ListenOverflows":
			f = &c.ListenOverflows
		case "ListenDrops":
			f = &c.ListenDrops
		case "TCPTimeouts":
			f = &c.Timeouts
		case "TCPSynRetrans":
			f = &c.SynRetrans
		case "TCPAbortOnTimeout":
			f = &c.AbortOnTimeout
		}
	}
	if f != nil {
		*f = v
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
		ListenOverflows:  d(c.ListenOverflows, p.ListenOverflows),
		ListenDrops:      d(c.ListenDrops, p.ListenDrops),
		ActiveOpens:      d(c.ActiveOpens, p.ActiveOpens),
		AttemptFails:     d(c.AttemptFails, p.AttemptFails),
		EstabResets:      d(c.EstabResets, p.EstabResets),
		OutSegs:          d(c.OutSegs, p.OutSegs),
		RetransSegs:      d(c.RetransSegs, p.RetransSegs),
		Timeouts:         d(c.Timeouts, p.Timeouts),
		SynRetrans:       d(c.SynRetrans, p.SynRetrans),
		AbortOnTimeout:   d(c.AbortOnTimeout, p.AbortOnTimeout),
		CurrEstab:        c.CurrEstab,
		ConntrackDrops:   d(c.ConntrackDrops, p.ConntrackDrops),
		ConntrackEntries: c.ConntrackEntries,
		ConntrackMax:     c.ConntrackMax,
	}
}

func readPortRange(rd reader) (int, int, error) {
	b, err := rd.readFile("sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, 0, err
	}
	return parsePortRange(b)
}

// readV6Only reads net.ipv6.bindv6only, the default of IPV6_V6ONLY for
// listeners whose flag the kernel does not report.
func readV6Only(rd reader) bool {
	b, err := rd.readFile("sys/net/ipv6/bindv6only")
	return err == nil && len(b) > 0 && b[0] == '1'
}

// readTotals reads the kernel's running counts of sockets.
func readTotals(rd reader) (Totals, error) {
	var t Totals
	for _, name := range []string{"net/sockstat", "net/sockstat6"} {
		b, err := rd.readFile(name)
		if err != nil {
			if name == "net/sockstat6" {
				continue // IPv6 disabled
			}
			return Totals{}, err
		}
		parseSockstat(b, &t)
	}
	c, err := readCounters(rd, "net/snmp")
	if err != nil {
		return Totals{}, err
	}
	t.Established = int(min(c.CurrEstab, 1<<62))
	return t, nil
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

// sockstatInUse adds up the TCP, TIME-WAIT and UDP sockets of
// /proc/net/sockstat or sockstat6.
func sockstatInUse(b []byte) int {
	var t Totals
	parseSockstat(b, &t)
	return t.TCP + t.TimeWait + t.UDP
}

// parseSockstat adds the counts of /proc/net/sockstat or sockstat6 to t:
// "TCP: inuse 5 orphan 0 tw 2 alloc 7 mem 1", "UDP6: inuse 1". Lines and
// fields it does not know, and values that are not counts, are skipped.
func parseSockstat(b []byte, t *Totals) {
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		proto, rest, ok := bytes.Cut(line, []byte(": "))
		if !ok {
			continue
		}
		var inuse *int
		switch string(proto) {
		case "TCP", "TCP6":
			inuse = &t.TCP
		case "UDP", "UDP6":
			inuse = &t.UDP
		default:
			continue
		}
		f := bytes.Fields(rest)
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.Atoi(string(f[i+1]))
			if err != nil || v < 0 {
				continue
			}
			switch string(f[i]) {
			case "inuse":
				*inuse += v
			case "tw":
				if proto[0] == 'T' {
					t.TimeWait += v
				}
			case "orphan":
				if proto[0] == 'T' {
					t.Orphans += v
				}
			}
		}
	}
}
