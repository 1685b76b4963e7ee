package host

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

	"github.com/triagekit/triage/internal/human"
	"github.com/triagekit/triage/internal/procfs"
)

// cgroupLoc is where the judged cgroup's files are. For cgroup v2 both
// directories are the same; for v1 they are the memory and cpu
// controllers' own hierarchies.
type cgroupLoc struct {
	version        int
	path           string // as in /proc/self/cgroup, below the mount
	cpuPath        string // v1: the cpu controller's path, when not path
	memDir, cpuDir string // "" when the controller is not mounted (v1)
}

// file names the cgroup's file for a person to cat, quoted for a shell.
func (l cgroupLoc) file(name string) string {
	dir := l.memDir
	if strings.HasPrefix(name, "cpu") {
		dir = l.cpuDir
	}
	return human.Quote(filepath.Join(dir, name))
}

// cgroupLocation finds the cgroup to judge: the cgroup v2 one, or on a
// host whose v2 tree has no memory or cpu controller (cgroup v1, or the
// hybrid layout with an empty v2 tree) the v1 memory and cpu cgroups. ok
// is false when there is none.
func cgroupLocation(rd *procfs.Reader, procRoot, sysRoot string, o *Options) (loc cgroupLoc, ok bool, err error) {
	var mountinfo, self []byte
	if o.CgroupRoot == "" || o.CgroupPath == "" {
		if mountinfo, err = procfs.ReadFile(filepath.Join(procRoot, "self", "mountinfo")); err != nil {
			return loc, false, fmt.Errorf("finding the cgroup mounts: %w", err)
		}
		owner := "self"
		if o.CgroupPID > 0 {
			owner = strconv.Itoa(o.CgroupPID)
		}
		if self, err = procfs.ReadFile(filepath.Join(procRoot, owner, "cgroup")); err != nil {
			return loc, false, fmt.Errorf("finding the process's cgroup: %w", err)
		}
	}
	rebase := func(mp string) string {
		if rel, under := strings.CutPrefix(mp, "/sys/"); under {
			return filepath.Join(sysRoot, rel)
		} else if mp == "/sys" {
			return sysRoot
		}
		return mp
	}

	root, mountRoot, v2 := o.CgroupRoot, "/", o.CgroupRoot != ""
	if !v2 {
		mountRoot, root, v2 = parseCgroupMountinfo(mountinfo)
		root = rebase(root)
	}
	cgPath, havePath := o.CgroupPath, o.CgroupPath != ""
	if !havePath && v2 {
		cgPath, havePath = parseCgroupSelf(self)
		cgPath = cgroupStrip(cgPath, mountRoot)
	}
	if v2 && havePath {
		cgPath = path.Clean("/" + cgPath)
		dir := filepath.Join(root, filepath.FromSlash(cgPath))
		loc = cgroupLoc{version: 2, path: cgPath, memDir: dir, cpuDir: dir}
		// An explicit choice is kept; so is a v2 cgroup with controllers.
		if o.CgroupRoot != "" || o.CgroupPath != "" || cgroupHasV2Controllers(rd, root) {
			return loc, true, nil
		}
	}

	// cgroup v1: the memory and cpu controllers, each in its hierarchy.
	v1 := cgroupLoc{version: 1}
	for _, ctl := range []string{"memory", "cpu"} {
		mRoot, mPoint, found := parseCgroupV1Mount(mountinfo, ctl)
		if !found {
			continue
		}
		p, found := parseCgroupV1Self(self, ctl)
		if !found {
			continue
		}
		p = path.Clean("/" + cgroupStrip(p, mRoot))
		dir := filepath.Join(rebase(mPoint), filepath.FromSlash(p))
		if ctl == "memory" {
			v1.memDir, v1.path = dir, p
		} else {
			v1.cpuDir, v1.cpuPath = dir, p
		}
	}
	switch {
	case v1.path == "":
		v1.path, v1.cpuPath = v1.cpuPath, ""
	case v1.cpuPath == v1.path:
		v1.cpuPath = ""
	}
	if v1.memDir != "" || v1.cpuDir != "" {
		return v1, true, nil
	}
	return loc, loc.version == 2, nil
}

// cgroupStrip removes the part of a cgroup path a mount hides (a
// container's bind mount of its own subtree).
func cgroupStrip(cgPath, mountRoot string) string {
	if mountRoot == "/" || mountRoot == "" {
		return cgPath
	}
	if rel, under := strings.CutPrefix(cgPath, mountRoot); under && (rel == "" || rel[0] == '/') {
		return rel
	}
	return cgPath
}

// cgroupHasV2Controllers reports whether the v2 tree at root has the
// memory or cpu controller; the hybrid layout's v2 tree has neither.
func cgroupHasV2Controllers(rd *procfs.Reader, root string) bool {
	b, err := rd.Read(filepath.Join(root, "cgroup.controllers"))
	if err != nil {
		return false
	}
	for _, c := range strings.Fields(string(b)) {
		if c == "memory" || c == "cpu" {
			return true
		}
	}
	return false
}

// parseCgroupV1Mount returns the root and mount point of the cgroup v1
// hierarchy that holds controller.
func parseCgroupV1Mount(b []byte, controller string) (mountRoot, mountPoint string, ok bool) {
	return cgroupMount(b, "cgroup", controller)
}

// cgroupMount returns the root and mount point of the first mount of a
// mountinfo file whose type is fstype and, unless controller is empty,
// whose super options name controller.
func cgroupMount(b []byte, fstype, controller string) (mountRoot, mountPoint string, ok bool) {
	for len(b) > 0 {
		var line []byte
		line, b = procfs.NextLine(b)
		left, right, found := bytes.Cut(line, []byte(" - "))
		if !found {
			continue
		}
		t, rest := procfs.Field(right)
		if string(t) != fstype {
			continue
		}
		if controller != "" {
			_, rest = procfs.Field(rest) // source
			opts, _ := procfs.Field(rest)
			if !cgroupListHas(string(opts), controller) {
				continue
			}
		}
		f := bytes.Fields(left)
		if len(f) < 5 {
			continue
		}
		return cgroupUnescape(string(f[3])), cgroupUnescape(string(f[4])), true
	}
	return "", "", false
}

// parseCgroupV1Self returns the path of controller's line in a
// /proc/<pid>/cgroup file ("4:memory:/docker/abc" or "2:cpu,cpuacct:/x").
func parseCgroupV1Self(b []byte, controller string) (string, bool) {
	for len(b) > 0 {
		var line []byte
		line, b = procfs.NextLine(b)
		_, rest, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		ctls, p, ok := bytes.Cut(rest, []byte(":"))
		if ok && cgroupListHas(string(ctls), controller) {
			return string(p), true
		}
	}
	return "", false
}

func cgroupListHas(list, item string) bool {
	for len(list) > 0 {
		var f string
		f, list, _ = strings.Cut(list, ",")
		if f == item {
			return true
		}
	}
	return false
}

// parseCgroupMountinfo returns the root and mount point of the first
// cgroup2 mount in a mountinfo file.
func parseCgroupMountinfo(b []byte) (mountRoot, mountPoint string, ok bool) {
	return cgroupMount(b, "cgroup2", "")
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
		line, b = procfs.NextLine(b)
		if p, ok := bytes.CutPrefix(line, []byte("0::")); ok {
			return string(p), true
		}
	}
	return "", false
}

// parseCgroupCPUMax parses cpu.max: "max 100000" or "50000 100000".
func parseCgroupCPUMax(b []byte) (quota, period uint64, limited bool, err error) {
	line, _ := procfs.NextLine(b)
	q, rest := procfs.Field(line)
	p, _ := procfs.Field(rest)
	period, err = strconv.ParseUint(string(p), 10, 64)
	if err != nil || period == 0 {
		return 0, 0, false, fmt.Errorf("%w cpu.max period %q", procfs.ErrMalformed, p)
	}
	if string(q) == "max" {
		return 0, period, false, nil
	}
	quota, err = strconv.ParseUint(string(q), 10, 64)
	if err != nil {
		return 0, 0, false, fmt.Errorf("%w cpu.max quota %q", procfs.ErrMalformed, q)
	}
	return quota, period, true, nil
}

// parseCgroupMemoryValue parses memory.max or memory.current: a number of
// bytes or "max".
func parseCgroupMemoryValue(b []byte) (v uint64, limited bool, err error) {
	f, _ := procfs.Field(bytes.TrimSpace(b))
	if string(f) == "max" {
		return 0, false, nil
	}
	v, err = strconv.ParseUint(string(f), 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("%w memory value %q", procfs.ErrMalformed, f)
	}
	return v, true, nil
}

// cgroupCounters are the cgroup counters sampled twice over the window.
type cgroupCounters struct {
	nrPeriods, nrThrottled, throttledUsec uint64
	oomKill                               uint64
}

// cgroupV1Unlimited is where cgroup v1 memory limits start to mean "no
// limit": the kernel reports an unset limit as the largest page count
// times the page size (9223372036854771712 on 4KiB pages).
const cgroupV1Unlimited = 1 << 62

// readCgroup reads the cgroup at loc. Files the cgroup does not have (the
// root cgroup has no memory.max, a controller may be off) are left at
// zero.
func readCgroup(rd *procfs.Reader, loc cgroupLoc) (*Cgroup, cgroupCounters, error) {
	var c cgroupCounters
	cg := &Cgroup{Path: loc.path, CPUPath: loc.cpuPath, Version: loc.version}
	for _, d := range []string{loc.memDir, loc.cpuDir} {
		if d == "" {
			continue
		}
		if _, err := os.Stat(d); err != nil {
			return nil, c, fmt.Errorf("cgroup %s: %w", loc.path, err)
		}
	}
	maxFile, curFile, inactiveKey := "memory.max", "memory.current", "inactive_file"
	if loc.version == 1 {
		maxFile, curFile, inactiveKey = "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"
	}
	if b, err := cgroupRead(rd, loc.memDir, maxFile); err != nil {
		return nil, c, err
	} else if b != nil {
		v, limited, err := parseCgroupMemoryValue(b)
		if err != nil {
			return nil, c, fmt.Errorf("cgroup %s %s: %w", loc.path, maxFile, err)
		}
		if limited && v < cgroupV1Unlimited {
			cg.MemoryMaxBytes, cg.MemoryLimited = v, true
		}
	}
	if b, err := cgroupRead(rd, loc.memDir, curFile); err != nil {
		return nil, c, err
	} else if b != nil {
		v, _, err := parseCgroupMemoryValue(b)
		if err != nil {
			return nil, c, fmt.Errorf("cgroup %s %s: %w", loc.path, curFile, err)
		}
		cg.MemoryCurrentBytes = v
	}
	cg.WorkingSetBytes = cg.MemoryCurrentBytes
	if b, err := cgroupRead(rd, loc.memDir, "memory.stat"); err != nil {
		return nil, c, err
	} else if b != nil {
		procfs.ParseKV(b, func(k []byte, v uint64) {
			if string(k) == inactiveKey {
				cg.WorkingSetBytes -= min(v, cg.WorkingSetBytes)
			}
		})
	}
	switch {
	case cg.MemoryLimited && cg.MemoryMaxBytes == 0:
		cg.MemoryUsedPct = 100 // no room at all
	case cg.MemoryLimited:
		cg.MemoryUsedPct = pct(float64(cg.WorkingSetBytes), float64(cg.MemoryMaxBytes))
	}
	if loc.version == 2 {
		if b, err := cgroupRead(rd, loc.cpuDir, "cpu.max"); err != nil {
			return nil, c, err
		} else if b != nil {
			q, p, limited, err := parseCgroupCPUMax(b)
			if err != nil {
				return nil, c, fmt.Errorf("cgroup %s cpu.max: %w", loc.path, err)
			}
			if limited {
				cg.CPUQuotaCores = float64(q) / float64(p)
			}
		}
	} else {
		b, err := cgroupRead(rd, loc.cpuDir, "cpu.cfs_quota_us")
		if err != nil {
			return nil, c, err
		}
		// Kept before the next read reuses the reader's buffer.
		q, haveQuota := string(bytes.TrimSpace(b)), b != nil
		p, err := cgroupRead(rd, loc.cpuDir, "cpu.cfs_period_us")
		if err != nil {
			return nil, c, err
		}
		if haveQuota && p != nil {
			quota, err1 := strconv.ParseInt(q, 10, 64)
			period, err2 := strconv.ParseUint(string(bytes.TrimSpace(p)), 10, 64)
			if err1 != nil || err2 != nil || period == 0 {
				return nil, c, fmt.Errorf("cgroup %s cpu.cfs_quota_us %q / cpu.cfs_period_us %q: %w",
					loc.path, q, bytes.TrimSpace(p), procfs.ErrMalformed)
			}
			if quota > 0 {
				cg.CPUQuotaCores = float64(quota) / float64(period)
			}
		}
	}
	c, err := readCgroupCounters(rd, loc)
	if err != nil {
		return nil, c, err
	}
	cg.OOMKills = c.oomKill
	cg.NrPeriods, cg.NrThrottled = c.nrPeriods, c.nrThrottled
	cg.Throttled = time.Duration(min(c.throttledUsec, uint64(1<<63-1)/1000)) * time.Microsecond
	if c.nrPeriods > 0 {
		cg.ThrottledPct = pct(float64(c.nrThrottled), float64(c.nrPeriods))
	}
	if loc.version == 1 {
		return cg, c, nil
	}
	var pr Pressure
	for _, f := range []struct {
		name string
		dst  **PSI
	}{{"cpu.pressure", &pr.CPU}, {"memory.pressure", &pr.Memory}, {"io.pressure", &pr.IO}} {
		b, err := cgroupRead(rd, loc.memDir, f.name)
		if err != nil {
			return nil, c, err
		}
		if b == nil {
			continue
		}
		p, err := parsePSI(b)
		if err != nil {
			return nil, c, fmt.Errorf("cgroup %s %s: %w", loc.path, f.name, err)
		}
		*f.dst = &p
	}
	if pr.CPU != nil || pr.Memory != nil || pr.IO != nil {
		cg.Pressure = &pr
	}
	return cg, c, nil
}

// readCgroupCounters reads the counters the window compares.
func readCgroupCounters(rd *procfs.Reader, loc cgroupLoc) (cgroupCounters, error) {
	var c cgroupCounters
	if b, err := cgroupRead(rd, loc.cpuDir, "cpu.stat"); err != nil {
		return c, err
	} else if b != nil {
		procfs.ParseKV(b, func(k []byte, v uint64) {
			switch string(k) {
			case "nr_periods":
				c.nrPeriods = v
			case "nr_throttled":
				c.nrThrottled = v
			case "throttled_usec":
				c.throttledUsec = v
			case "throttled_time": // cgroup v1, in nanoseconds
				c.throttledUsec = v / 1000
			}
		})
	}
	events := "memory.events"
	if loc.version == 1 {
		events = "memory.oom_control"
	}
	if b, err := cgroupRead(rd, loc.memDir, events); err != nil {
		return c, err
	} else if b != nil {
		procfs.ParseKV(b, func(k []byte, v uint64) {
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
func cgroupRead(rd *procfs.Reader, dir, name string) ([]byte, error) {
	if dir == "" {
		return nil, nil
	}
	b, err := rd.Read(filepath.Join(dir, name))
	switch {
	case err == nil:
		return b, nil
	case errors.Is(err, fs.ErrNotExist), cgroupUnreadable(err):
		return nil, nil
	}
	return nil, fmt.Errorf("cgroup: %w", err)
}

// pct is part in percent of whole; zero when whole is.
func pct(part, whole float64) float64 {
	if whole <= 0 {
		return 0
	}
	return part / whole * 100
}
