package process

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/triagekit/triage/internal/procfs"
)

// Parsers for /proc/<pid> files. Pure, table-tested and fuzzed.

// clockTicks is USER_HZ, the unit of the times in /proc/<pid>/stat.
// Linux exposes 100 to user space on every architecture Go supports,
// whatever the kernel's internal HZ.
const clockTicks = 100

// taskStat is what the process check needs from /proc/<pid>/stat or
// /proc/<pid>/task/<tid>/stat.
type taskStat struct {
	pid       int
	comm      string
	state     byte
	ppid      int
	ticks     uint64 // utime + stime
	threads   int
	startTime uint64 // clock ticks after boot
	rssPages  int64
	majflt    uint64 // major page faults: pages read back from swap or files
}

// parseStat parses a stat line:
//
//	1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 ...
//
// The name may hold spaces and parentheses, so it ends at the last ')'.
func parseStat(b []byte) (taskStat, error) {
	var s taskStat
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 1 || end < open {
		return s, fmt.Errorf("%w stat: no (comm)", procfs.ErrMalformed)
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil || pid <= 0 {
		return s, fmt.Errorf("%w stat pid %q", procfs.ErrMalformed, b[:open])
	}
	s.pid = pid
	s.comm = string(b[open+1 : end])
	rest := b[end+1:]
	// Fields after the name, numbered as in proc(5) from 3 (state).
	var utime, stime uint64
	for n := 3; n <= 24; n++ {
		var f []byte
		f, rest = procfs.Field(rest)
		if len(f) == 0 {
			return s, fmt.Errorf("%w stat: %d fields", procfs.ErrMalformed, n-1)
		}
		switch n {
		case 3:
			if len(f) != 1 {
				return s, fmt.Errorf("%w stat state %q", procfs.ErrMalformed, f)
			}
			s.state = f[0]
		case 4:
			s.ppid, err = strconv.Atoi(string(f))
		case 12:
			s.majflt, err = strconv.ParseUint(string(f), 10, 64)
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
			return s, fmt.Errorf("%w stat field %d %q", procfs.ErrMalformed, n, f)
		}
	}
	s.ticks = utime + stime
	return s, nil
}

// parseStatusUID returns the real UID of a /proc/<pid>/status file
// ("Uid:\t1000\t1000\t1000\t1000").
func parseStatusUID(b []byte) (int, error) {
	uid, _, err := parseStatus(b)
	return uid, err
}

// parseStatus returns the real UID of a /proc/<pid>/status file and the
// bytes of its memory in swap ("VmSwap:\t  1024 kB"; zero when the line
// is absent, as for kernel threads).
func parseStatus(b []byte) (uid int, swap uint64, err error) {
	uid = -1
	for len(b) > 0 {
		var line []byte
		line, b = procfs.NextLine(b)
		if rest, ok := bytes.CutPrefix(line, []byte("Uid:")); ok {
			f, _ := procfs.Field(rest)
			n, err := strconv.ParseUint(string(f), 10, 32)
			if err != nil {
				return 0, 0, fmt.Errorf("%w status Uid %q", procfs.ErrMalformed, f)
			}
			uid = int(n)
		} else if rest, ok := bytes.CutPrefix(line, []byte("VmSwap:")); ok {
			f, rest := procfs.Field(rest)
			n, err := strconv.ParseUint(string(f), 10, 64)
			if unit, _ := procfs.Field(rest); err != nil || string(unit) != "kB" || n > 1<<44 {
				return 0, 0, fmt.Errorf("%w status VmSwap %q", procfs.ErrMalformed, line)
			}
			swap = n << 10
		}
	}
	if uid < 0 {
		return 0, 0, fmt.Errorf("%w status: no Uid line", procfs.ErrMalformed)
	}
	return uid, swap, nil
}

// parseLimitsNofile returns the soft "Max open files" limit of a
// /proc/<pid>/limits file; zero when unlimited.
//
//	Limit                     Soft Limit           Hard Limit           Units
//	Max open files            1024                 524288               files
func parseLimitsNofile(b []byte) (uint64, error) {
	for len(b) > 0 {
		var line []byte
		line, b = procfs.NextLine(b)
		rest, ok := bytes.CutPrefix(line, []byte("Max open files"))
		if !ok {
			continue
		}
		f, _ := procfs.Field(rest)
		if string(f) == "unlimited" {
			return 0, nil
		}
		n, err := strconv.ParseUint(string(f), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w limits: max open files %q", procfs.ErrMalformed, f)
		}
		return n, nil
	}
	return 0, fmt.Errorf("%w limits: no max open files line", procfs.ErrMalformed)
}

// parsePidfile returns the PID in a pidfile: a decimal number, maybe
// surrounded by white space, maybe followed by more lines.
func parsePidfile(b []byte) (int, error) {
	line, _ := procfs.NextLine(bytes.TrimLeft(b, " \t\r\n"))
	f := bytes.TrimSpace(line)
	pid, err := strconv.Atoi(string(f))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%w pidfile content %q", procfs.ErrMalformed, f)
	}
	return pid, nil
}

// joinArgs turns /proc/<pid>/cmdline (NUL-separated arguments) into
// one line with spaces, as ps shows it.
func joinArgs(b []byte) string {
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

// argv0Base returns the base name of the first argument in a
// /proc/<pid>/cmdline buffer.
func argv0Base(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if i := bytes.LastIndexByte(b, '/'); i >= 0 {
		b = b[i+1:]
	}
	return b
}

// statComm returns the name in a stat line without parsing the rest,
// so a scan compares names without allocating.
func statComm(b []byte) []byte {
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return nil
	}
	return b[open+1 : end]
}

// parseBootTime returns the boot time, in Unix seconds, of /proc/stat
// (its "btime" line).
func parseBootTime(b []byte) (int64, error) {
	for len(b) > 0 {
		var line []byte
		line, b = procfs.NextLine(b)
		key, rest := procfs.Field(line)
		if string(key) != "btime" {
			continue
		}
		val, _ := procfs.Field(rest)
		t, err := strconv.ParseInt(string(val), 10, 64)
		if err != nil || t <= 0 {
			return 0, fmt.Errorf("%w btime %q", procfs.ErrMalformed, val)
		}
		return t, nil
	}
	return 0, fmt.Errorf("%w stat: no btime line", procfs.ErrMalformed)
}

// parseMemTotal returns MemTotal of /proc/meminfo, in bytes.
func parseMemTotal(b []byte) (uint64, error) {
	for len(b) > 0 {
		var line []byte
		line, b = procfs.NextLine(b)
		key, rest := procfs.Field(line)
		if string(key) != "MemTotal:" {
			continue
		}
		val, rest := procfs.Field(rest)
		n, err := strconv.ParseUint(string(val), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w meminfo MemTotal %q", procfs.ErrMalformed, val)
		}
		if unit, _ := procfs.Field(rest); string(unit) == "kB" {
			if n > (1<<64-1)/1024 {
				return 0, fmt.Errorf("%w meminfo MemTotal too large", procfs.ErrMalformed)
			}
			n *= 1024
		}
		return n, nil
	}
	return 0, fmt.Errorf("%w meminfo: no MemTotal line", procfs.ErrMalformed)
}

// parseNSpid returns the PIDs of a /proc/<pid>/status file's NSpid line,
// from this host's namespace to the innermost ("NSpid:\t4242\t7\t1").
func parseNSpid(b []byte) ([]int, error) {
	for len(b) > 0 {
		var line []byte
		line, b = procfs.NextLine(b)
		rest, ok := bytes.CutPrefix(line, []byte("NSpid:"))
		if !ok {
			continue
		}
		var ids []int
		for f, r := procfs.Field(rest); len(f) > 0; f, r = procfs.Field(r) {
			n, err := strconv.Atoi(string(f))
			if err != nil || n <= 0 || len(ids) == 32 {
				return nil, fmt.Errorf("%w status NSpid %q", procfs.ErrMalformed, line)
			}
			ids = append(ids, n)
		}
		if len(ids) == 0 {
			return nil, fmt.Errorf("%w status: empty NSpid", procfs.ErrMalformed)
		}
		return ids, nil
	}
	return nil, fmt.Errorf("%w status: no NSpid line", procfs.ErrMalformed)
}
