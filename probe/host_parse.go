package probe

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Parsers for the host's /proc files. They are pure: the caller reads the
// file, so the parsers are table-tested and fuzzed on raw text.

var errHostMalformed = errors.New("malformed")

// hostCPUTimes is one cpu line of /proc/stat, in clock ticks. Guest time
// is already counted in user and nice, so it is left out.
type hostCPUTimes struct {
	user, nice, system, idle, iowait, irq, softirq, steal uint64
}

func (t hostCPUTimes) total() uint64 {
	return t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal
}

// hostStat is what the host check needs from /proc/stat.
type hostStat struct {
	all          hostCPUTimes
	cores        []hostCore
	procsRunning int
	procsBlocked int
	bootTime     int64 // btime, Unix seconds
}

type hostCore struct {
	cpu   int
	times hostCPUTimes
}

// parseHostStat parses /proc/stat.
func parseHostStat(b []byte) (hostStat, error) {
	var s hostStat
	seenAll := false
	for len(b) > 0 {
		var line []byte
		line, b = hostNextLine(b)
		if !bytes.HasPrefix(line, []byte("cpu")) {
			key, rest := hostField(line)
			val, _ := hostField(rest)
			switch string(key) {
			case "procs_running":
				n, err := strconv.Atoi(string(val))
				if err != nil {
					return s, fmt.Errorf("%w procs_running %q", errHostMalformed, val)
				}
				s.procsRunning = n
			case "procs_blocked":
				n, err := strconv.Atoi(string(val))
				if err != nil {
					return s, fmt.Errorf("%w procs_blocked %q", errHostMalformed, val)
				}
				s.procsBlocked = n
			case "btime":
				n, err := strconv.ParseInt(string(val), 10, 64)
				if err != nil {
					return s, fmt.Errorf("%w btime %q", errHostMalformed, val)
				}
				s.bootTime = n
			}
			continue
		}
		name, rest := hostField(line)
		var t hostCPUTimes
		fields := [...]*uint64{&t.user, &t.nice, &t.system, &t.idle, &t.iowait, &t.irq, &t.softirq, &t.steal}
		n := 0
		for _, f := range fields {
			var v []byte
			v, rest = hostField(rest)
			if len(v) == 0 {
				break
			}
			x, err := strconv.ParseUint(string(v), 10, 64)
			if err != nil {
				return s, fmt.Errorf("%w %s value %q", errHostMalformed, name, v)
			}
			*f = x
			n++
		}
		if n < 4 {
			return s, fmt.Errorf("%w %s line has %d values", errHostMalformed, name, n)
		}
		if string(name) == "cpu" {
			s.all = t
			seenAll = true
			continue
		}
		id, err := strconv.Atoi(string(name[3:]))
		if err != nil || id < 0 {
			return s, fmt.Errorf("%w cpu name %q", errHostMalformed, name)
		}
		s.cores = append(s.cores, hostCore{cpu: id, times: t})
	}
	if !seenAll {
		return s, fmt.Errorf("%w: no cpu line", errHostMalformed)
	}
	return s, nil
}

// hostMeminfo is what the host check needs from /proc/meminfo, in bytes.
type hostMeminfo struct {
	total, available, swapTotal, swapFree uint64
}

// parseHostMeminfo parses /proc/meminfo. Kernels before 3.14 have no
// MemAvailable; free, buffers and page cache stand in for it.
func parseHostMeminfo(b []byte) (hostMeminfo, error) {
	var m hostMeminfo
	var free, buffers, cached uint64
	var haveTotal, haveAvail bool
	for len(b) > 0 {
		var line []byte
		line, b = hostNextLine(b)
		key, rest := hostField(line)
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
		val, unit := hostField(rest)
		x, err := strconv.ParseUint(string(val), 10, 64)
		if err != nil {
			return m, fmt.Errorf("%w meminfo %s %q", errHostMalformed, key, val)
		}
		if u, _ := hostField(unit); string(u) == "kB" {
			if x > (1<<64-1)/1024 {
				return m, fmt.Errorf("%w meminfo %s too large", errHostMalformed, key)
			}
			x *= 1024
		}
		*dst = x
	}
	if !haveTotal {
		return m, fmt.Errorf("%w: no MemTotal", errHostMalformed)
	}
	if !haveAvail {
		m.available = min(free+buffers+cached, m.total)
	}
	return m, nil
}

// hostVmstat is what the host check needs from /proc/vmstat.
type hostVmstat struct {
	pswpin, pswpout, pgfault, pgmajfault uint64
	oomKill                              uint64
	hasOOMKill                           bool // kernels before 4.13 do not count
}

// parseHostVmstat parses /proc/vmstat.
func parseHostVmstat(b []byte) (hostVmstat, error) {
	var v hostVmstat
	err := parseHostKV(b, func(key []byte, val uint64) {
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
	return v, err
}

// parseHostLoadavg parses /proc/loadavg: "0.52 0.58 0.59 2/345 12345".
func parseHostLoadavg(b []byte) (load1, load5, load15 float64, err error) {
	line, _ := hostNextLine(b)
	var vals [3]float64
	for i := range vals {
		var f []byte
		f, line = hostField(line)
		vals[i], err = strconv.ParseFloat(string(f), 64)
		if err != nil || vals[i] < 0 {
			return 0, 0, 0, fmt.Errorf("%w loadavg %q", errHostMalformed, f)
		}
	}
	return vals[0], vals[1], vals[2], nil
}

// parseHostPSI parses a pressure file (/proc/pressure/cpu or a cgroup's
// cpu.pressure):
//
//	some avg10=1.53 avg60=0.87 avg300=0.47 total=2351290
//	full avg10=0.00 avg60=0.00 avg300=0.00 total=0
func parseHostPSI(b []byte) (PSI, error) {
	var p PSI
	seen := false
	for len(b) > 0 {
		var line []byte
		line, b = hostNextLine(b)
		kind, rest := hostField(line)
		var dst *PSILine
		switch string(kind) {
		case "some":
			dst = &p.Some
		case "full":
			dst = &p.Full
		case "":
			continue
		default:
			return p, fmt.Errorf("%w pressure line %q", errHostMalformed, kind)
		}
		seen = true
		for len(rest) > 0 {
			var kv []byte
			kv, rest = hostField(rest)
			if len(kv) == 0 {
				break
			}
			k, v, ok := bytes.Cut(kv, []byte("="))
			if !ok {
				return p, fmt.Errorf("%w pressure field %q", errHostMalformed, kv)
			}
			if string(k) == "total" {
				us, err := strconv.ParseUint(string(v), 10, 63)
				if err != nil || us > uint64(1<<63-1)/uint64(time.Microsecond) {
					return p, fmt.Errorf("%w pressure total %q", errHostMalformed, v)
				}
				dst.Total = time.Duration(us) * time.Microsecond
				continue
			}
			f, err := strconv.ParseFloat(string(v), 64)
			if err != nil {
				return p, fmt.Errorf("%w pressure %s %q", errHostMalformed, k, v)
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
		return p, fmt.Errorf("%w: empty pressure file", errHostMalformed)
	}
	return p, nil
}

// parseHostKV parses "key value" lines of unsigned numbers, as in
// /proc/vmstat, cpu.stat, memory.events and memory.stat. Lines whose value
// is not a number are skipped.
func parseHostKV(b []byte, fn func(key []byte, val uint64)) error {
	for len(b) > 0 {
		var line []byte
		line, b = hostNextLine(b)
		key, rest := hostField(line)
		if len(key) == 0 {
			continue
		}
		val, _ := hostField(rest)
		x, err := strconv.ParseUint(string(val), 10, 64)
		if err != nil {
			continue
		}
		fn(key, x)
	}
	return nil
}

// hostNextLine splits off the first line of b.
func hostNextLine(b []byte) (line, rest []byte) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i], b[i+1:]
	}
	return b, nil
}

// hostField splits off the first space- or tab-separated field of b.
func hostField(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	j := i
	for j < len(b) && b[j] != ' ' && b[j] != '\t' {
		j++
	}
	return b[i:j], b[j:]
}
