package probe

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// cgroupLocation finds the cgroup v2 directory to judge. ok is false when
// there is no cgroup2 mount or the process is in no v2 cgroup.
func cgroupLocation(procRoot, sysRoot string, o *HostOptions) (dir, cgPath string, ok bool, err error) {
	root, mountRoot := o.CgroupRoot, "/"
	if root == "" {
		b, err := os.ReadFile(filepath.Join(procRoot, "self", "mountinfo"))
		if err != nil {
			return "", "", false, fmt.Errorf("finding the cgroup2 mount: %w", err)
		}
		var found bool
		mountRoot, root, found = parseCgroupMountinfo(b)
		if !found {
			return "", "", false, nil
		}
		// A mount under /sys is looked up under SysRoot, so a fixture
		// tree stands in for the real one.
		if rel, under := strings.CutPrefix(root, "/sys/"); under {
			root = filepath.Join(sysRoot, rel)
		} else if root == "/sys" {
			root = sysRoot
		}
	}
	cgPath = o.CgroupPath
	if cgPath == "" {
		b, err := os.ReadFile(filepath.Join(procRoot, "self", "cgroup"))
		if err != nil {
			return "", "", false, fmt.Errorf("finding the process's cgroup: %w", err)
		}
		var found bool
		cgPath, found = parseCgroupSelf(b)
		if !found {
			return "", "", false, nil
		}
		// The mount may show only part of the hierarchy (a container's
		// bind mount): strip the part it hides.
		if mountRoot != "/" {
			if rel, under := strings.CutPrefix(cgPath, mountRoot); under && (rel == "" || rel[0] == '/') {
				cgPath = rel
			}
		}
	}
	cgPath = path.Clean("/" + cgPath)
	return filepath.Join(root, filepath.FromSlash(cgPath)), cgPath, true, nil
}

// parseCgroupMountinfo returns the root and mount point of the first
// cgroup2 mount in a mountinfo file.
func parseCgroupMountinfo(b []byte) (mountRoot, mountPoint string, ok bool) {
	for len(b) > 0 {
		var line []byte
		line, b = hostNextLine(b)
		left, right, found := bytes.Cut(line, []byte(" - "))
		if !found {
			continue
		}
		fstype, _ := hostField(right)
		if string(fstype) != "cgroup2" {
			continue
		}
		f := bytes.Fields(left)
		if len(f) < 5 {
			continue
		}
		return cgroupUnescape(string(f[3])), cgroupUnescape(string(f[4])), true
	}
	return "", "", false
}

// cgroupUnescape undoes mountinfo's octal escapes (\040 for a space).
func cgroupUnescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// parseCgroupSelf returns the cgroup v2 path of a /proc/<pid>/cgroup file
// (its "0::" line).
func parseCgroupSelf(b []byte) (string, bool) {
	for len(b) > 0 {
		var line []byte
		line, b = hostNextLine(b)
		if p, ok := bytes.CutPrefix(line, []byte("0::")); ok {
			return string(p), true
		}
	}
	return "", false
}

// parseCgroupCPUMax parses cpu.max: "max 100000" or "50000 100000".
func parseCgroupCPUMax(b []byte) (quota, period uint64, limited bool, err error) {
	line, _ := hostNextLine(b)
	q, rest := hostField(line)
	p, _ := hostField(rest)
	period, err = strconv.ParseUint(string(p), 10, 64)
	if err != nil || period == 0 {
		return 0, 0, false, fmt.Errorf("%w cpu.max period %q", errHostMalformed, p)
	}
	if string(q) == "max" {
		return 0, period, false, nil
	}
	quota, err = strconv.ParseUint(string(q), 10, 64)
	if err != nil {
		return 0, 0, false, fmt.Errorf("%w cpu.max quota %q", errHostMalformed, q)
	}
	return quota, period, true, nil
}

// parseCgroupMemoryValue parses memory.max or memory.current: a number of
// bytes or "max".
func parseCgroupMemoryValue(b []byte) (v uint64, limited bool, err error) {
	f, _ := hostField(bytes.TrimSpace(b))
	if string(f) == "max" {
		return 0, false, nil
	}
	v, err = strconv.ParseUint(string(f), 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("%w memory value %q", errHostMalformed, f)
	}
	return v, true, nil
}

// cgroupCounters are the cgroup counters sampled twice over the window.
type cgroupCounters struct {
	nrPeriods, nrThrottled, throttledUsec uint64
	oomKill                               uint64
}

// readCgroup reads the cgroup directory dir. Files the cgroup does not
// have (the root cgroup has no memory.max, a controller may be off) are
// left at zero.
func readCgroup(dir, cgPath string) (*Cgroup, cgroupCounters, error) {
	var c cgroupCounters
	cg := &Cgroup{Path: cgPath}
	if _, err := os.Stat(dir); err != nil {
		return nil, c, fmt.Errorf("cgroup %s: %w", cgPath, err)
	}
	if b, err := cgroupRead(dir, "memory.max"); err != nil {
		return nil, c, err
	} else if b != nil {
		v, limited, err := parseCgroupMemoryValue(b)
		if err != nil {
			return nil, c, fmt.Errorf("cgroup %s memory.max: %w", cgPath, err)
		}
		if limited {
			cg.MemoryMaxBytes = v
		}
	}
	if b, err := cgroupRead(dir, "memory.current"); err != nil {
		return nil, c, err
	} else if b != nil {
		v, _, err := parseCgroupMemoryValue(b)
		if err != nil {
			return nil, c, fmt.Errorf("cgroup %s memory.current: %w", cgPath, err)
		}
		cg.MemoryCurrentBytes = v
	}
	cg.WorkingSetBytes = cg.MemoryCurrentBytes
	if b, err := cgroupRead(dir, "memory.stat"); err != nil {
		return nil, c, err
	} else if b != nil {
		_ = parseHostKV(b, func(k []byte, v uint64) {
			if string(k) == "inactive_file" {
				if v < cg.WorkingSetBytes {
					cg.WorkingSetBytes -= v
				} else {
					cg.WorkingSetBytes = 0
				}
			}
		})
	}
	if cg.MemoryMaxBytes > 0 {
		cg.MemoryUsedPct = pct(float64(cg.WorkingSetBytes), float64(cg.MemoryMaxBytes))
	}
	if b, err := cgroupRead(dir, "cpu.max"); err != nil {
		return nil, c, err
	} else if b != nil {
		q, p, limited, err := parseCgroupCPUMax(b)
		if err != nil {
			return nil, c, fmt.Errorf("cgroup %s cpu.max: %w", cgPath, err)
		}
		if limited {
			cg.CPUQuotaCores = float64(q) / float64(p)
		}
	}
	c, err := readCgroupCounters(dir, cgPath)
	if err != nil {
		return nil, c, err
	}
	cg.OOMKills = c.oomKill
	cg.NrPeriods, cg.NrThrottled = c.nrPeriods, c.nrThrottled
	cg.Throttled = time.Duration(min(c.throttledUsec, uint64(1<<63-1)/1000)) * time.Microsecond
	if c.nrPeriods > 0 {
		cg.ThrottledPct = pct(float64(c.nrThrottled), float64(c.nrPeriods))
	}
	var pr Pressure
	for _, f := range []struct {
		name string
		dst  **PSI
	}{{"cpu.pressure", &pr.CPU}, {"memory.pressure", &pr.Memory}, {"io.pressure", &pr.IO}} {
		b, err := cgroupRead(dir, f.name)
		if err != nil {
			return nil, c, err
		}
		if b == nil {
			continue
		}
		p, err := parseHostPSI(b)
		if err != nil {
			return nil, c, fmt.Errorf("cgroup %s %s: %w", cgPath, f.name, err)
		}
		*f.dst = &p
	}
	if pr.CPU != nil || pr.Memory != nil || pr.IO != nil {
		cg.Pressure = &pr
	}
	return cg, c, nil
}

// readCgroupCounters reads the counters the window compares.
func readCgroupCounters(dir, cgPath string) (cgroupCounters, error) {
	var c cgroupCounters
	if b, err := cgroupRead(dir, "cpu.stat"); err != nil {
		return c, err
	} else if b != nil {
		_ = parseHostKV(b, func(k []byte, v uint64) {
			switch string(k) {
			case "nr_periods":
				c.nrPeriods = v
			case "nr_throttled":
				c.nrThrottled = v
			case "throttled_usec":
				c.throttledUsec = v
			}
		})
	}
	if b, err := cgroupRead(dir, "memory.events"); err != nil {
		return c, err
	} else if b != nil {
		_ = parseHostKV(b, func(k []byte, v uint64) {
			if string(k) == "oom_kill" {
				c.oomKill = v
			}
		})
	}
	return c, nil
}

// cgroupRead reads one file of a cgroup; nil, nil when the cgroup does not
// have it (controller not enabled, root cgroup). Some cgroup files exist
// but refuse reads (EOPNOTSUPP, EINVAL); they count as missing too.
func cgroupRead(dir, name string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	switch {
	case err == nil:
		return b, nil
	case errors.Is(err, fs.ErrNotExist), cgroupUnreadable(err):
		return nil, nil
	}
	return nil, fmt.Errorf("cgroup: %w", err)
}

func pct(part, whole float64) float64 {
	if whole <= 0 {
		return 0
	}
	return part / whole * 100
}
