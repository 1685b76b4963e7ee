package host

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/triagekit/triage/internal/procfs"
)

// Parsers for the host's /proc files. They are pure: the caller reads the
// file, so the parsers are table-tested and fuzzed on raw text.

// cpuTimes is one cpu line of /proc/stat, in clock ticks. Guest time
// is already counted in user and nice, so it is left out.
type cpuTimes struct {
	user, nice, system, idle, iowait, irq, softirq, steal uint64
}

func (t cpuTimes) total() uint64 {
	return t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal
}

// statFile is what the host check needs from /proc/stat.
type statFile struct {
	all          cpuTimes
	cores        []core
	procsRunning int
	procsBlocked int
}

type core struct {
	cpu   int
	times cpuTimes
}

// parseStat parses /proc/stat.
func parseStat(b []byte) (statFile, error) {
	var s statFile
	seenAll := false
	for len(b) > 0 {
		var line []byte
		line, b = procfs.NextLine(b)
		if !bytes.HasPrefix(line, []byte("cpu")) {
			key, rest := procfs.Field(line)
			val, _ := procfs.Field(rest)
			switch string(key) {
			case "procs_running":
				n, err := strconv.Atoi(string(val))
				if err != nil {
					return s, fmt.Errorf("%w procs_running %q", procfs.ErrMalformed, val)
				}
				s.procsRunning = n
			case "procs_blocked":
				n, err := strconv.Atoi(string(val))
				if err != nil {
					return s, fmt.Errorf("%w procs_blocked %q", procfs.ErrMalformed, val)
				}
				s.procsBlocked = n
			}
			continue
		}
		name, rest := procfs.Field(line)
		var t cpuTimes
		fields := [...]*uint64{&t.user, &t.nice, &t.system, &t.idle, &t.iowait, &t.irq, &t.softirq, &t.steal}
		n := 0
		for _, f := range fields {
			var v []byte
			v, rest = procfs.Field(rest)
			if len(v) == 0 {
				break
			}
			x, err := strconv.ParseUint(string(v), 10, 64)
			if err != nil {
				return s, fmt.Errorf("%w %s value %q", procfs.ErrMalformed, name, v)
			}
			*f = x
			n++
		}
		if n < 4 {
			return s, fmt.Errorf("%w %s line has %d values", procfs.ErrMalformed, name, n)
		}
		if string(name) == "cpu" {
			s.all = t
			seenAll = true
			continue
		}
		id, err := strconv.Atoi(string(name[3:]))
		if err != nil || id < 0 {
			return s, fmt.Errorf("%w cpu name %q", procfs.ErrMalformed, name)
		}
		s.cores = append(s.cores, core{cpu: id, times: t})
	}
	if !seenAll {
		return s, fmt.Errorf("%w: no cpu line", procfs.ErrMalformed)
	}
	return s, nil
}

// meminfo is what the host check needs from /proc/meminfo, in bytes.
type meminfo struct {
	total, available, swapTotal, swapFree uint64
}

// parseMeminfo parses /proc/meminfo. Kernels before 3.14 have no
// MemAvailable; free, buffers and page cache stand in for it.
func parseMeminfo(b []byte) (meminfo, error) {
	var m meminfo
	var free, buffers, cached uint64
	var haveTotal, haveAvail bool
	for len(b) > 0 {
		var line []byte
		line, b = procfs.NextLine(b)
		key, rest := procfs.Field(line)
		key = bytes.TrimSuffix(key, []byte(":"))
		var dst *uint64
		switch string(key) {
		case "MemTotal":
			dst, haveTotal = &m.total, true
		case "MemAvailable":
			dst, haveAvail = &m.available, true
		case "MemFree":
			dst = &free
		case "Buffers":
			dst = &buffers
		case "Cached":
			dst = &cached
		case "SwapTotal":
			dst = &m.swapTotal
		case "SwapFree":
			dst = &m.swapFree
		default:
			continue
		}
		val, unit := procfs.Field(rest)
		x, err := strconv.ParseUint(string(val), 10, 64)
		if err != nil {
			return m, fmt.Errorf("%w meminfo %s %q", procfs.ErrMalformed, key, val)
		}
		if u, _ := procfs.Field(unit); string(u) == "kB" {
			if x > (1<<64-1)/1024 {
				return m, fmt.Errorf("%w meminfo %s too large", procfs.ErrMalformed, key)
			}
			x *= 1024
		}
		*dst = x
	}
	if !haveTotal {
		return m, fmt.Errorf("%w: no MemTotal", procfs.ErrMalformed)
	}
	if !haveAvail {
		m.available = min(free+buffers+cached, m.total)
	}
	return m, nil
}

// vmstat is what the host check needs from /proc/vmstat.
type vmstat struct {
	pswpin, pswpout, pgfault, pgmajfault uint64
	oomKill                              uint64
	hasOOMKill                           bool // kernels before 4.13 do not count
}

// parseVmstat parses /proc/vmstat.
func parseVmstat(b []byte) vmstat {
	var v vmstat
	procfs.ParseKV(b, func(key []byte, val uint64) {
		switch string(key) {
		case "pswpin":
			v.pswpin = val
		case "pswpout":
			v.pswpout = val
		case "pgfault":
			v.pgfault = val
		case "pgmajfault":
			v.pgmajfault = val
		case "oom_kill":
			v.oomKill, v.hasOOMKill = val, true
		}
	})
	return v
}

// parseLoadavg parses /proc/loadavg: "0.52 0.58 0.59 2/345 12345".
func parseLoadavg(b []byte) (load1, load5, load15 float64, err error) {
	line, _ := procfs.NextLine(b)
	var vals [3]float64
	for i := range vals {
		var f []byte
		f, line = procfs.Field(line)
		vals[i], err = strconv.ParseFloat(string(f), 64)
		if err != nil || vals[i] < 0 {
			return 0, 0, 0, fmt.Errorf("%w loadavg %q", procfs.ErrMalformed, f)
		}
	}
	return vals[0], vals[1], vals[2], nil
}

// parsePSI parses a pressure file (/proc/pressure/cpu or a cgroup's
// cpu.pressure):
//
//	some avg10=1.53 avg60=0.87 avg300=0.47 total=2351290
//	full avg10=0.00 avg60=0.00 avg300=0.00 total=0
func parsePSI(b []byte) (PSI, error) {
	var p PSI
	seen := false
	for len(b) > 0 {
		var line []byte
		line, b = procfs.NextLine(b)
		kind, rest := procfs.Field(line)
		var dst *PSILine
		switch string(kind) {
		case "some":
			dst = &p.Some
		case "full":
			dst = &p.Full
		case "":
			continue
		default:
			return p, fmt.Errorf("%w pressure line %q", procfs.ErrMalformed, kind)
		}
		seen = true
		for len(rest) > 0 {
			var kv []byte
			kv, rest = procfs.Field(rest)
			if len(kv) == 0 {
				break
			}
			k, v, ok := bytes.Cut(kv, []byte("="))
			if !ok {
				return p, fmt.Errorf("%w pressure field %q", procfs.ErrMalformed, kv)
			}
			if string(k) == "total" {
				us, err := strconv.ParseUint(string(v), 10, 63)
				if err != nil || us > uint64(1<<63-1)/uint64(time.Microsecond) {
					return p, fmt.Errorf("%w pressure total %q", procfs.ErrMalformed, v)
				}
				dst.Total = time.Duration(us) * time.Microsecond
				continue
			}
			f, err := strconv.ParseFloat(string(v), 64)
			if err != nil {
				return p, fmt.Errorf("%w pressure %s %q", procfs.ErrMalformed, k, v)
			}
			switch string(k) {
			case "avg10":
				dst.Avg10 = f
			case "avg60":
				dst.Avg60 = f
			case "avg300":
				dst.Avg300 = f
			}
		}
	}
	if !seen {
		return p, fmt.Errorf("%w: empty pressure file", procfs.ErrMalformed)
	}
	return p, nil
}

// nicCounters are an interface's error and drop counters from
// /proc/net/dev.
type nicCounters struct {
	rxErrs, rxDrop, txErrs, txDrop uint64
}

// parseNetDev parses /proc/net/dev: two header lines, then
// "  eth0: rxbytes rxpackets rxerrs rxdrop rxfifo rxframe rxcompressed
// rxmulticast txbytes txpackets txerrs txdrop ...". The loopback
// interface is left out: its drops are local sockets' full buffers,
// which sockstat judges.
func parseNetDev(b []byte) (map[string]nicCounters, error) {
	out := map[string]nicCounters{}
	for n := 0; len(b) > 0; n++ {
		var line []byte
		line, b = procfs.NextLine(b)
		if n < 2 {
			continue
		}
		name, rest, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return nil, fmt.Errorf("%w net/dev line %q", procfs.ErrMalformed, line)
		}
		iface := string(bytes.TrimSpace(name))
		var v [12]uint64
		for i := range v {
			var f []byte
			f, rest = procfs.Field(rest)
			x, err := strconv.ParseUint(string(f), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%w net/dev %s field %d %q", procfs.ErrMalformed, iface, i+1, f)
			}
			v[i] = x
		}
		if iface == "lo" || !plainName(iface, 15) {
			continue
		}
		out[iface] = nicCounters{rxErrs: v[2], rxDrop: v[3], txErrs: v[10], txDrop: v[11]}
	}
	return out, nil
}

// plainName accepts what the kernel names interfaces and block devices
// with, as ip link and lsblk show them: up to max bytes (15 for an
// interface, 32 for a disk) of letters, digits and ._@-. Anything else
// in a file a container or caller controls is left out rather than put
// in a command line.
func plainName(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '@' || c == '-') {
			return false
		}
	}
	return true
}

// diskCounters are a block device's counters from /proc/diskstats.
type diskCounters struct {
	ios, ioMs, ticksMs, sectors uint64 // reads+writes, their ms, ms doing I/O, sectors
}

// parseDiskstats parses /proc/diskstats: "major minor name" then at least
// 11 counters: reads, reads merged, sectors read, ms reading, writes,
// writes merged, sectors written, ms writing, in flight, ms doing I/O,
// weighted ms. Loop, RAM and zram devices are left out: their time is
// memory's, not a disk's.
func parseDiskstats(b []byte) (map[string]diskCounters, error) {
	out := map[string]diskCounters{}
	for len(b) > 0 {
		var line []byte
		line, b = procfs.NextLine(b)
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var name []byte
		_, line = procfs.Field(line)
		_, line = procfs.Field(line)
		name, line = procfs.Field(line)
		var v [11]uint64
		for i := range v {
			var f []byte
			f, line = procfs.Field(line)
			x, err := strconv.ParseUint(string(f), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%w diskstats %q field %d %q", procfs.ErrMalformed, name, i+4, f)
			}
			v[i] = x
		}
		if bytes.HasPrefix(name, []byte("loop")) || bytes.HasPrefix(name, []byte("ram")) || bytes.HasPrefix(name, []byte("zram")) {
			continue
		}
		dev := string(name)
		if !plainName(dev, 32) {
			continue
		}
		out[dev] = diskCounters{ios: v[0] + v[4], ioMs: v[3] + v[7], ticksMs: v[9], sectors: v[2] + v[6]}
	}
	return out, nil
}
