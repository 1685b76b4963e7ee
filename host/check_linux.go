package host

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/procfs"
	"github.com/triagekit/triage/internal/window"
)

func run(ctx context.Context, o *Options, r *Result) error {
	if o.Window < 0 {
		return fmt.Errorf("%w: negative window %s", triage.ErrInvalid, o.Window)
	}
	if err := o.Thresholds.validate(); err != nil {
		return err
	}
	if o.CgroupPID < 0 {
		return fmt.Errorf("%w: negative cgroup pid %d", triage.ErrInvalid, o.CgroupPID)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	procRoot := cmp.Or(o.ProcRoot, "/proc")
	sysRoot := cmp.Or(o.SysRoot, "/sys")
	win := window.Fit(ctx, cmp.Or(o.Window, DefaultWindow))

	rd := procfs.NewReader(16 << 10)
	stat1, err := readStat(rd, procRoot)
	if err != nil {
		return err
	}
	vm1, err := readVmstat(rd, procRoot)
	if err != nil {
		return err
	}
	loc, haveCg, err := cgroupLocation(rd, procRoot, sysRoot, o)
	if err != nil {
		return err
	}
	if haveCg && (r.Target.PID != 0 || o.CgroupPath != "") {
		r.Target.Cgroup = loc.path
	}
	var cg1 cgroupCounters
	if haveCg {
		if cg1, err = readCgroupCounters(rd, loc); err != nil {
			return err
		}
	}
	// Interfaces are judged when the file is there; a root without it
	// (a fixture, a jail) only goes without the finding.
	nic1, nicErr := readNetDev(rd, procRoot)
	disk1, diskErr := readDiskstats(rd, procRoot, sysRoot)
	t1 := time.Now()

	var ctxErr error
	if win <= 0 {
		ctxErr = fmt.Errorf("no time left to sample: %w", context.DeadlineExceeded)
	} else if err := window.Wait(ctx, win); err != nil {
		ctxErr = fmt.Errorf("sampling over %s: %w", win, err)
	}

	facts := windowFacts{cgroup: loc}
	stat2, vm2 := stat1, vm1
	if ctxErr == nil {
		if stat2, err = readStat(rd, procRoot); err != nil {
			return err
		}
		if vm2, err = readVmstat(rd, procRoot); err != nil {
			return err
		}
		r.Window = time.Since(t1)
		facts.sampled = r.Window >= MinJudgeWindow
		if nicErr == nil {
			if nic2, err := readNetDev(rd, procRoot); err == nil {
				r.NICs = nicDeltas(nic1, nic2)
			}
		}
		if diskErr == nil {
			if disk2, err := readDiskstats(rd, procRoot, sysRoot); err == nil {
				r.Disks = diskDeltas(disk1, disk2, r.Window)
			}
		}
	}
	r.CPU = cpuStats(stat1, stat2)
	r.Load.ProcsRunning, r.Load.ProcsBlocked = stat2.procsRunning, stat2.procsBlocked

	b, err := rd.Read(filepath.Join(procRoot, "loadavg"))
	if err != nil {
		return err
	}
	if r.Load.Load1, r.Load.Load5, r.Load.Load15, err = parseLoadavg(b); err != nil {
		return fmt.Errorf("%s/loadavg: %w", procRoot, err)
	}
	if r.CPU.Cores > 0 {
		r.Load.Load1PerCore = r.Load.Load1 / float64(r.CPU.Cores)
	}

	b, err = rd.Read(filepath.Join(procRoot, "meminfo"))
	if err != nil {
		return err
	}
	mi, err := parseMeminfo(b)
	if err != nil {
		return fmt.Errorf("%s/meminfo: %w", procRoot, err)
	}
	m := &r.Memory
	m.HostTotalBytes, m.HostAvailableBytes = mi.total, mi.available
	m.TotalBytes, m.AvailableBytes, m.JudgedAgainst = mi.total, mi.available, "host"
	m.SwapTotalBytes = mi.swapTotal
	if mi.swapTotal > mi.swapFree {
		m.SwapUsedBytes = mi.swapTotal - mi.swapFree
	}
	if secs := r.Window.Seconds(); secs > 0 {
		m.SwapInPagesPerSec = float64(procfs.Delta(vm1.pswpin, vm2.pswpin)) / secs
		m.SwapOutPagesPerSec = float64(procfs.Delta(vm1.pswpout, vm2.pswpout)) / secs
		m.FaultsPerSec = float64(procfs.Delta(vm1.pgfault, vm2.pgfault)) / secs
		m.MajorFaultsPerSec = float64(procfs.Delta(vm1.pgmajfault, vm2.pgmajfault)) / secs
	}
	if vm2.hasOOMKill {
		n := vm2.oomKill
		r.OOMKills = &n
		facts.oomInWindow = procfs.Delta(vm1.oomKill, vm2.oomKill)
	}

	var pr Pressure
	for _, f := range []struct {
		name string
		dst  **PSI
	}{{"cpu", &pr.CPU}, {"memory", &pr.Memory}, {"io", &pr.IO}} {
		b, err := rd.Read(filepath.Join(procRoot, "pressure", f.name))
		if errors.Is(err, fs.ErrNotExist) || (err != nil && cgroupUnreadable(err)) {
			continue
		}
		if err != nil {
			return err
		}
		p, err := parsePSI(b)
		if err != nil {
			return fmt.Errorf("%s/pressure/%s: %w", procRoot, f.name, err)
		}
		*f.dst = &p
	}
	if pr.CPU != nil || pr.Memory != nil || pr.IO != nil {
		r.Pressure = &pr
	}

	if haveCg {
		cg, cg2, err := readCgroup(rd, loc)
		if err != nil {
			return err
		}
		r.Cgroup = cg
		if facts.sampled {
			if d := procfs.Delta(cg1.nrPeriods, cg2.nrPeriods); d > 0 {
				cg.ThrottledPct = pct(float64(procfs.Delta(cg1.nrThrottled, cg2.nrThrottled)), float64(d))
				facts.throttledInWindow = true
			}
			facts.cgroupOOMInWindow = procfs.Delta(cg1.oomKill, cg2.oomKill)
		}
		if cg.MemoryLimited && cg.MemoryMaxBytes < mi.total {
			m.TotalBytes, m.JudgedAgainst = cg.MemoryMaxBytes, "cgroup"
			var headroom uint64
			if cg.WorkingSetBytes < cg.MemoryMaxBytes {
				headroom = cg.MemoryMaxBytes - cg.WorkingSetBytes
			}
			m.AvailableBytes = min(headroom, mi.available)
		}
	}
	m.AvailablePct = pct(float64(m.AvailableBytes), float64(m.TotalBytes))

	judge(r, o.Thresholds.withDefaults(), facts)
	return ctxErr
}

func readNetDev(rd *procfs.Reader, procRoot string) (map[string]nicCounters, error) {
	b, err := rd.Read(filepath.Join(procRoot, "net", "dev"))
	if err != nil {
		return nil, err
	}
	return parseNetDev(b)
}

// nicDeltas are the interfaces whose counters rose from a to b, by name.
func nicDeltas(a, b map[string]nicCounters) []NICStats {
	var out []NICStats
	for name, y := range b {
		x, ok := a[name]
		if !ok {
			continue
		}
		n := NICStats{Name: name, RxErrors: procfs.Delta(x.rxErrs, y.rxErrs), RxDropped: procfs.Delta(x.rxDrop, y.rxDrop),
			TxErrors: procfs.Delta(x.txErrs, y.txErrs), TxDropped: procfs.Delta(x.txDrop, y.txDrop)}
		if n.RxErrors+n.RxDropped+n.TxErrors+n.TxDropped > 0 {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(p, q NICStats) int { return strings.Compare(p.Name, q.Name) })
	return out
}

// readDiskstats reads the whole disks' counters: devices that /sys/block
// lists, when there is one (partitions are not there).
func readDiskstats(rd *procfs.Reader, procRoot, sysRoot string) (map[string]diskCounters, error) {
	b, err := rd.Read(filepath.Join(procRoot, "diskstats"))
	if err != nil {
		return nil, err
	}
	m, err := parseDiskstats(b)
	if err != nil {
		return nil, err
	}
	// Lstat opens nothing, so a FIFO in a caller's root cannot hold it.
	block := filepath.Join(sysRoot, "block")
	if fi, err := os.Lstat(block); err == nil && fi.IsDir() {
		maps.DeleteFunc(m, func(name string, _ diskCounters) bool {
			_, err := os.Lstat(filepath.Join(block, name))
			return err != nil
		})
	}
	return m, nil
}

// diskDeltas are the disks that did I/O from a to b, over window.
func diskDeltas(a, b map[string]diskCounters, window time.Duration) []DiskStats {
	var out []DiskStats
	for name, y := range b {
		x, ok := a[name]
		if !ok || window <= 0 {
			continue
		}
		ios := procfs.Delta(x.ios, y.ios)
		ticks := procfs.Delta(x.ticksMs, y.ticksMs)
		if ios == 0 && ticks == 0 {
			continue
		}
		d := DiskStats{Device: name, IOPS: float64(ios) / window.Seconds(),
			UtilPct: min(100, pct(float64(ticks)*float64(time.Millisecond), float64(window)))}
		if ios > 0 {
			d.Await = time.Duration(procfs.Delta(x.ioMs, y.ioMs)) * time.Millisecond / time.Duration(ios)
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(p, q DiskStats) int { return strings.Compare(p.Device, q.Device) })
	return out
}

func readStat(rd *procfs.Reader, procRoot string) (statFile, error) {
	b, err := rd.Read(filepath.Join(procRoot, "stat"))
	if err != nil {
		return statFile{}, err
	}
	s, err := parseStat(b)
	if err != nil {
		return s, fmt.Errorf("%s/stat: %w", procRoot, err)
	}
	return s, nil
}

func readVmstat(rd *procfs.Reader, procRoot string) (vmstat, error) {
	b, err := rd.Read(filepath.Join(procRoot, "vmstat"))
	if err != nil {
		return vmstat{}, err
	}
	return parseVmstat(b), nil
}
