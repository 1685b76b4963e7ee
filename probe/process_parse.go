package probe

import (
	"bytes"
	"fmt"
	"strconv"
)

// Parsers for /proc/<pid> files. Pure, table-tested and fuzzed.

// procClockTicks is USER_HZ, the unit of the times in /proc/<pid>/stat.
// Linux exposes 100 to user space on every architecture Go supports,
// whatever the kernel's internal HZ.
const procClockTicks = 100

// procStat is what the process check needs from /proc/<pid>/stat or
// /proc/<pid>/task/<tid>/stat.
type procStat struct {
	pid       int
	comm      string
	state     byte
	ppid      int
	ticks     uint64 // utime + stime
	threads   int
	startTime uint64 // clock ticks after boot
	rssPages  int64
}

// parseProcStat parses a stat line:
//
//	1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 ...
//
// The name may hold spaces and parentheses, so it ends at the last ')'.
func parseProcStat(b []byte) (procStat, error) {
	var s procStat
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 1 || end < open {
		return s, fmt.Errorf("%w stat: no (comm)", errHostMalformed)
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil || pid <= 0 {
		return s, fmt.Errorf("%w stat pid %q", errHostMalformed, b[:open])
	}
	s.pid = pid
	s.comm = string(b[open+1 : end])
	rest := b[end+1:]
	// Fields after the name, numbered as in proc(5) from 3 (state).
	var utime, stime uint64
	for n := 3; n <= 24; n++ {
		var f []byte
		f, rest = hostField(rest)
		if len(f) == 0 {
			return s, fmt.Errorf("%w stat: %d fields", errHostMalformed, n-1)
		}
		switch n {
		case 3:
			if len(f) != 1 {
				return s, fmt.Errorf("%w stat state %q", errHostMalformed, f)
			}
			s.state = f[0]
		case 4:
			s.ppid, err = strconv.Atoi(string(f))
		case 14:
			utime, err = strconv.ParseUint(string(f), 10, 64)
		case 15:
			stime, err = strconv.ParseUint(string(f), 10, 64)
		case 20:
			s.threads, err = strconv.Atoi(string(f))
		case 22:
			s.startTime, err = strconv.ParseUint(string(f), 10, 64)
		case 24:
			s.rssPages, err = strconv.ParseInt(string(f), 10, 64)
		}
		if err != nil {
			return s, fmt.Errorf("%w stat field %d %q", errHostMalformed, n, f)
		}
	}
	s.ticks = utime + stime
	return s, nil
}

// parseProcStatusUID returns the real UID of a /proc/<pid>/status file
// ("Uid:\t1000\t1000\t1000\t1000").
func parseProcStatusUID(b []byte) (int, error) {
	for len(b) > 0 {
		var line []byte
		line, b = hostNextLine(b)
		rest, ok := bytes.CutPrefix(line, []byte("Uid:"))
		if !ok {
			continue
		}
		f, _ := hostField(rest)
		uid, err := strconv.ParseUint(string(f), 10, 32)
		if err != nil {
			return 0, fmt.Errorf("%w status Uid %q", errHostMalformed, f)
		}
		return int(uid), nil
	}
	return 0, fmt.Errorf("%w status: no Uid line", errHostMalformed)
}

// parseProcLimitsNofile returns the soft "Max open files" limit of a
// /proc/<pid>/limits file; zero when unlimited.
//
//	Limit                     Soft Limit           Hard Limit           Units
//	Max open files            1024                 524288               files
func parseProcLimitsNofile(b []byte) (uint64, error) {
	for len(b) > 0 {
		var line []byte
		line, b = hostNextLine(b)
		rest, ok := bytes.CutPrefix(line, []byte("Max open files"))
		if !ok {
			continue
		}
		f, _ := hostField(rest)
		if string(f) == "unlimited" {
			return 0, nil
		}
		n, err := strconv.ParseUint(string(f), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w limits: max open files %q", errHostMalformed, f)
		}
		return n, nil
	}
	return 0, fmt.Errorf("%w limits: no max open files line", errHostMalformed)
}

// parseProcPidfile returns the PID in a pidfile: a decimal number, maybe
// surrounded by white space, maybe followed by more lines.
func parseProcPidfile(b []byte) (int, error) {
	line, _ := hostNextLine(bytes.TrimLeft(b, " \t\r\n"))
	f := bytes.TrimSpace(line)
	pid, err := strconv.Atoi(string(f))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%w pidfile content %q", errHostMalformed, f)
	}
	return pid, nil
}

// procCmdline turns /proc/<pid>/cmdline (NUL-separated arguments) into
// one line with spaces, as ps shows it.
func procCmdline(b []byte) string {
	b = bytes.TrimRight(b, "\x00")
	out := make([]byte, len(b))
	for i, c := range b {
		if c == 0 {
			c = ' '
		}
		out[i] = c
	}
	return string(out)
}

// procArgv0Base returns the base name of the first argument in a
// /proc/<pid>/cmdline buffer.
func procArgv0Base(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if i := bytes.LastIndexByte(b, '/'); i >= 0 {
		b = b[i+1:]
	}
	return b
}

// procStatComm returns the name in a stat line without parsing the rest,
// so a scan compares names without allocating.
func procStatComm(b []byte) []byte {
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return nil
	}
	return b[open+1 : end]
}
