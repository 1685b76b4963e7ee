package probe

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/triagekit/triage"
)

func hostRun(ctx context.Context, o *HostOptions, r *HostResult) error {
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
	procRoot, sysRoot := o.ProcRoot, o.SysRoot
	if procRoot == "" {
		procRoot = "/proc"
	}
	if sysRoot == "" {
		sysRoot = "/sys"
	}
	window := o.Window
	if window == 0 {
		window = DefaultWindow
	}
	if deadline, ok := ctx.Deadline(); ok {
		window = min(window, time.Until(deadline)/2)
	}

	rd := hostReader{buf: make([]byte, 0, 16<<10)}
	stat1, err := rd.stat(procRoot)
	if err != nil {
		return err
	}
	vm1, err := rd.vmstat(procRoot)
	if err != nil {
		return err
	}
	loc, haveCg, err := cgroupLocation(procRoot, sysRoot, o)
	if err != nil {
		return err
	}
	var cg1 cgroupCounters
	if haveCg {
		if cg1, err = readCgroupCounters(loc); err != nil {
			return err
		}
	}
	t1 := time.Now()

	var ctxErr error
	if window > 0 {
		timer := time.NewTimer(window)
		select {
		case <-ctx.Done():
			ctxErr = fmt.Errorf("sampling over %s: %w", window, ctx.Err())
		case <-timer.C:
		}
		timer.Stop()
	} else {
		ctxErr = fmt.Errorf("no time left to sample: %w", context.DeadlineExceeded)
	}

	facts := hostFacts{cgroup: loc}
	stat2, vm2 := stat1, vm1
	if ctxErr == nil {
		if stat2, err = rd.stat(procRoot); err != nil {
			return err
		}
		if vm2, err = rd.vmstat(procRoot); err != nil {
			return err
		}
		r.Window = time.Since(t1)
		facts.sampled = r.Window >= MinJudgeWindow
	}
	r.CPU = hostCPU(stat1, stat2)
	r.Load.ProcsRunning, r.Load.ProcsBlocked = stat2.procsRunning, stat2.procsBlocked

	b, err := rd.read(filepath.Join(procRoot, "loadavg"))
	if err != nil {
		return err
	}
	if r.Load.Load1, r.Load.Load5, r.Load.Load15, err = parseHostLoadavg(b); err != nil {
		return fmt.Errorf("%s/loadavg: %w", procRoot, err)
	}
	if r.CPU.Cores > 0 {
		r.Load.Load1PerCore = r.Load.Load1 / float64(r.CPU.Cores)
	}

	b, err = rd.read(filepath.Join(procRoot, "meminfo"))
	if err != nil {
		return err
	}
	mi, err := parseHostMeminfo(b)
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
		m.SwapInPagesPerSec = float64(hostDelta(vm1.pswpin, vm2.pswpin)) / secs
		m.SwapOutPagesPerSec = float64(hostDelta(vm1.pswpout, vm2.pswpout)) / secs
		m.FaultsPerSec = float64(hostDelta(vm1.pgfault, vm2.pgfault)) / secs
		m.MajorFaultsPerSec = float64(hostDelta(vm1.pgmajfault, vm2.pgmajfault)) / secs
	}
	if vm2.hasOOMKill {
		n := vm2.oomKill
		r.OOMKills = &n
		facts.oomInWindow = hostDelta(vm1.oomKill, vm2.oomKill)
	}

	var pr Pressure
	for _, f := range []struct {
		name string
		dst  **PSI
	}{{"cpu", &pr.CPU}, {"memory", &pr.Memory}, {"io", &pr.IO}} {
		b, err := rd.read(filepath.Join(procRoot, "pressure", f.name))
		if errors.Is(err, fs.ErrNotExist) || (err != nil && cgroupUnreadable(err)) {
			continue
		}
		if err != nil {
			return err
		}
		p, err := parseHostPSI(b)
		if err != nil {
			return fmt.Errorf("%s/pressure/%s: %w", procRoot, f.name, err)
		}
		*f.dst = &p
	}
	if pr.CPU != nil || pr.Memory != nil || pr.IO != nil {
		r.Pressure = &pr
	}

	if haveCg {
		cg, cg2, err := readCgroup(loc)
		if err != nil {
			return err
		}
		r.Cgroup = cg
		if facts.sampled {
			if d := hostDelta(cg1.nrPeriods, cg2.nrPeriods); d > 0 {
				cg.ThrottledPct = hostPct(float64(hostDelta(cg1.nrThrottled, cg2.nrThrottled)), float64(d))
				facts.throttledInWindow = true
			}
			facts.cgroupOOMInWindow = hostDelta(cg1.oomKill, cg2.oomKill)
		}
		if cg.MemoryMaxBytes > 0 && cg.MemoryMaxBytes < mi.total {
			m.TotalBytes, m.JudgedAgainst = cg.MemoryMaxBytes, "cgroup"
			var headroom uint64
			if cg.WorkingSetBytes < cg.MemoryMaxBytes {
				headroom = cg.MemoryMaxBytes - cg.WorkingSetBytes
			}
			m.AvailableBytes = min(headroom, mi.available)
		}
	}
	m.AvailablePct = hostPct(float64(m.AvailableBytes), float64(m.TotalBytes))

	hostJudge(r, o.Thresholds.withDefaults(), facts)
	return ctxErr
}

// hostReader reads /proc files into one reused buffer. The bytes it
// returns are valid until the next read.
type hostReader struct{ buf []byte }

func (h *hostReader) read(name string) ([]byte, error) {
	b, err := hostReadInto(name, h.buf[:0])
	h.buf = b
	return b, err
}

func (h *hostReader) stat(procRoot string) (hostStat, error) {
	b, err := h.read(filepath.Join(procRoot, "stat"))
	if err != nil {
		return hostStat{}, err
	}
	s, err := parseHostStat(b)
	if err != nil {
		return s, fmt.Errorf("%s/stat: %w", procRoot, err)
	}
	return s, nil
}

func (h *hostReader) vmstat(procRoot string) (hostVmstat, error) {
	b, err := h.read(filepath.Join(procRoot, "vmstat"))
	if err != nil {
		return hostVmstat{}, err
	}
	return parseHostVmstat(b)
}
