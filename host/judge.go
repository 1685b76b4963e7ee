package host

import (
	"cmp"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/human"
	"github.com/triagekit/triage/internal/procfs"
)

// cpuStats turns two /proc/stat samples into percentages. With one sample
// (a == b) every percentage is zero, which the result's Window of zero
// explains.
func cpuStats(a, b statFile) CPUStats {
	s := CPUStats{Cores: len(b.cores)}
	if s.Cores == 0 {
		s.Cores = 1
	}
	d := timesDelta(a.all, b.all)
	total := float64(d.total())
	s.BusyPct = pct(total-float64(d.idle+d.iowait), total)
	s.UserPct = pct(float64(d.user+d.nice), total)
	s.SystemPct = pct(float64(d.system+d.irq+d.softirq), total)
	s.IOWaitPct = pct(float64(d.iowait), total)
	s.StealPct = pct(float64(d.steal), total)
	s.IdlePct = pct(float64(d.idle), total)
	if total == 0 {
		return s
	}
	for _, c2 := range b.cores {
		for _, c1 := range a.cores {
			if c1.cpu != c2.cpu {
				continue
			}
			d := timesDelta(c1.times, c2.times)
			t := float64(d.total())
			s.PerCore = append(s.PerCore, CoreStats{
				CPU:       c2.cpu,
				BusyPct:   pct(t-float64(d.idle+d.iowait), t),
				IOWaitPct: pct(float64(d.iowait), t),
				StealPct:  pct(float64(d.steal), t),
			})
			break
		}
	}
	return s
}

func timesDelta(a, b cpuTimes) cpuTimes {
	return cpuTimes{
		user:    procfs.Delta(a.user, b.user),
		nice:    procfs.Delta(a.nice, b.nice),
		system:  procfs.Delta(a.system, b.system),
		idle:    procfs.Delta(a.idle, b.idle),
		iowait:  procfs.Delta(a.iowait, b.iowait),
		irq:     procfs.Delta(a.irq, b.irq),
		softirq: procfs.Delta(a.softirq, b.softirq),
		steal:   procfs.Delta(a.steal, b.steal),
	}
}

// busiestCore is the core busiest over the window, if per-core figures
// were taken.
func busiestCore(c CPUStats) (CoreStats, bool) {
	if len(c.PerCore) == 0 {
		return CoreStats{}, false
	}
	hot := c.PerCore[0]
	for _, k := range c.PerCore[1:] {
		if k.BusyPct > hot.BusyPct {
			hot = k
		}
	}
	return hot, true
}

// windowFacts are what the judge needs beyond the result itself.
type windowFacts struct {
	sampled           bool   // both samples were taken, MinJudgeWindow apart
	oomInWindow       uint64 // host oom_kill growth during the window
	cgroupOOMInWindow uint64
	throttledInWindow bool // Cgroup.ThrottledPct is of the window
	cgroup            cgroupLoc
}

// judge adds the findings the result's values call for.
func judge(r *Result, th Thresholds, f windowFacts) {
	win := slog.Duration("window_ns", r.Window)
	c := r.CPU
	if f.sampled {
		if c.BusyPct >= th.CPUBusyPct {
			r.Add(triage.Finding{
				Code:   CodeCPUSaturated,
				Status: level(c.BusyPct >= 98),
				Summary: fmt.Sprintf("cpu %.1f%% busy over %s on %d cores (user %.1f%%, system %.1f%%)",
					c.BusyPct, round(r.Window), c.Cores, c.UserPct, c.SystemPct),
				Evidence: triage.Evidence{slog.Float64("busy_pct", c.BusyPct), slog.Float64("user_pct", c.UserPct),
					slog.Float64("system_pct", c.SystemPct), slog.Int("cores", c.Cores), win},
				Command: "top -b -n 1 | head -20",
			})
		}
		if hot, ok := busiestCore(c); ok && c.Cores >= 2 && hot.BusyPct >= th.CoreBusyPct && c.BusyPct < th.CPUBusyPct*2/3 {
			r.Add(triage.Finding{
				Code:   CodeCPUImbalance,
				Status: triage.Warn,
				Summary: fmt.Sprintf("cpu%d %.1f%% busy over %s while the %d cores together are %.1f%% busy: one thread or one interrupt source is the bottleneck",
					hot.CPU, hot.BusyPct, round(r.Window), c.Cores, c.BusyPct),
				Evidence: triage.Evidence{slog.Int("cpu", hot.CPU), slog.Float64("core_busy_pct", hot.BusyPct),
					slog.Float64("busy_pct", c.BusyPct), slog.Int("cores", c.Cores), win},
				Command: "mpstat -P ALL 1 5",
			})
		}
		for _, d := range r.Disks {
			if d.UtilPct < th.DiskBusyPct {
				continue
			}
			r.Add(triage.Finding{
				Code:   CodeDiskBusy,
				Status: triage.Warn,
				Summary: fmt.Sprintf("disk %s busy %.0f%% of %s, %.0f I/Os a second taking %s each on average",
					d.Device, d.UtilPct, round(r.Window), d.IOPS, round(d.Await)),
				Evidence: triage.Evidence{slog.String("device", d.Device), slog.Float64("util_pct", d.UtilPct),
					slog.Duration("await_ns", d.Await), slog.Float64("iops", d.IOPS), win},
				Command: "iostat -xz 1 5",
			})
		}
		for _, n := range r.NICs {
			r.Add(triage.Finding{
				Code:   CodeNICErrors,
				Status: triage.Warn,
				Summary: fmt.Sprintf("%s counted %d receive errors, %d receive drops, %d transmit errors and %d transmit drops over %s",
					n.Name, n.RxErrors, n.RxDropped, n.TxErrors, n.TxDropped, round(r.Window)),
				Evidence: triage.Evidence{slog.String("interface", n.Name), slog.Uint64("rx_errors", n.RxErrors),
					slog.Uint64("rx_dropped", n.RxDropped), slog.Uint64("tx_errors", n.TxErrors),
					slog.Uint64("tx_dropped", n.TxDropped), win},
				Command: "ip -s link show " + n.Name,
			})
		}
		if c.IOWaitPct >= th.IOWaitPct {
			r.Add(triage.Finding{
				Code:   CodeIOWaitHigh,
				Status: triage.Warn,
				Summary: fmt.Sprintf("cpu %.1f%% in iowait over %s, %d tasks blocked on I/O",
					c.IOWaitPct, round(r.Window), r.Load.ProcsBlocked),
				Evidence: triage.Evidence{slog.Float64("iowait_pct", c.IOWaitPct),
					slog.Int("procs_blocked", r.Load.ProcsBlocked), win},
				Command: "vmstat 1 5",
			})
		}
		if c.StealPct >= th.StealPct {
			r.Add(triage.Finding{
				Code:     CodeStealHigh,
				Status:   triage.Warn,
				Summary:  fmt.Sprintf("cpu %.1f%% stolen by the hypervisor over %s", c.StealPct, round(r.Window)),
				Evidence: triage.Evidence{slog.Float64("steal_pct", c.StealPct), win},
				Command:  "vmstat 1 5",
			})
		}
	}
	l := r.Load
	if l.Load1PerCore >= th.LoadPerCore {
		r.Add(triage.Finding{
			Code:   CodeLoadHigh,
			Status: triage.Warn,
			Summary: fmt.Sprintf("load %.2f %.2f %.2f on %d cores (%.2f per core), %d runnable",
				l.Load1, l.Load5, l.Load15, c.Cores, l.Load1PerCore, l.ProcsRunning),
			Evidence: triage.Evidence{slog.Float64("load1", l.Load1), slog.Float64("load5", l.Load5),
				slog.Float64("load15", l.Load15), slog.Int("cores", c.Cores),
				slog.Float64("load1_per_core", l.Load1PerCore), slog.Int("procs_running", l.ProcsRunning)},
			Command: "uptime; top -b -n 1 | head -20",
		})
	}
	m := r.Memory
	if m.TotalBytes > 0 && m.AvailablePct < th.MemoryAvailablePct {
		of := "the host's memory"
		if m.JudgedAgainst == "cgroup" {
			of = "the cgroup's memory.max"
		}
		r.Add(triage.Finding{
			Code:   CodeMemoryLow,
			Status: level(m.AvailablePct < th.MemoryAvailablePct/2),
			Summary: fmt.Sprintf("%s available of %s (%.1f%% of %s)",
				human.Bytes(m.AvailableBytes), human.Bytes(m.TotalBytes), m.AvailablePct, of),
			Evidence: triage.Evidence{slog.Uint64("available_bytes", m.AvailableBytes),
				slog.Uint64("total_bytes", m.TotalBytes), slog.Float64("available_pct", m.AvailablePct),
				slog.String("judged_against", m.JudgedAgainst)},
			Command: "free -h",
		})
	}
	if f.sampled && m.SwapInPagesPerSec+m.SwapOutPagesPerSec >= th.SwapPagesPerSec {
		r.Add(triage.Finding{
			Code:   CodeSwapping,
			Status: triage.Warn,
			Summary: fmt.Sprintf("swapping %.0f pages/s in and %.0f pages/s out over %s, %s of swap used",
				m.SwapInPagesPerSec, m.SwapOutPagesPerSec, round(r.Window), human.Bytes(m.SwapUsedBytes)),
			Evidence: triage.Evidence{slog.Float64("swap_in_pages_per_sec", m.SwapInPagesPerSec),
				slog.Float64("swap_out_pages_per_sec", m.SwapOutPagesPerSec),
				slog.Uint64("swap_used_bytes", m.SwapUsedBytes), win},
			Command: "vmstat 1 5",
		})
	}
	if r.Pressure != nil {
		judgePressure(r, th, r.Pressure, "host", "/proc/pressure")
	}
	if cg := r.Cgroup; cg != nil {
		// The root cgroup's pressure is the host's, judged above.
		if cg.Pressure != nil && cg.Path != "/" {
			judgePressure(r, th, cg.Pressure, "cgroup", f.cgroup.memDir)
		}
		if cg.CPUQuotaCores > 0 && cg.ThrottledPct >= th.CgroupThrottledPct {
			scope, during := "total", "since the cgroup was made"
			if f.throttledInWindow {
				scope, during = "window", "over "+round(r.Window).String()
			}
			// On cgroup v1 the quota is the cpu controller's cgroup's,
			// which need not be the memory controller's.
			cpuCg := cmp.Or(cg.CPUPath, cg.Path)
			r.Add(triage.Finding{
				Code:   CodeCgroupCPUThrottled,
				Status: triage.Warn,
				Summary: fmt.Sprintf("cgroup %s throttled in %.1f%% of cpu periods %s (quota %.2g cores, %s throttled in all)",
					cpuCg, cg.ThrottledPct, during, cg.CPUQuotaCores, cg.Throttled),
				Evidence: triage.Evidence{slog.String("scope", "cgroup"), slog.String(triage.KeyCgroup, cpuCg),
					slog.Float64("throttled_pct", cg.ThrottledPct),
					slog.Uint64("nr_periods", cg.NrPeriods), slog.Uint64("nr_throttled", cg.NrThrottled),
					slog.Duration("throttled_ns", cg.Throttled),
					slog.Float64("quota_cores", cg.CPUQuotaCores), slog.String("over", scope)},
				Command: "cat " + f.cgroup.file(cgroupFile(cg, "cpu.max", "cpu.cfs_quota_us")) + " " + f.cgroup.file("cpu.stat"),
			})
		}
		if cg.MemoryLimited && cg.MemoryUsedPct >= th.CgroupMemoryPct {
			r.Add(triage.Finding{
				Code:   CodeCgroupMemoryNearLimit,
				Status: level(cg.MemoryUsedPct >= 98),
				Summary: fmt.Sprintf("cgroup %s uses %s of its %s memory.max (%.1f%%, working set)",
					cg.Path, human.Bytes(cg.WorkingSetBytes), human.Bytes(cg.MemoryMaxBytes), cg.MemoryUsedPct),
				Evidence: triage.Evidence{slog.String(triage.KeyCgroup, cg.Path), slog.Float64("used_pct", cg.MemoryUsedPct),
					slog.Uint64("current_bytes", cg.MemoryCurrentBytes),
					slog.Uint64("working_set_bytes", cg.WorkingSetBytes), slog.Uint64("max_bytes", cg.MemoryMaxBytes)},
				Command: "cat " + f.cgroup.file(cgroupFile(cg, "memory.current", "memory.usage_in_bytes")) + " " +
					f.cgroup.file(cgroupFile(cg, "memory.max", "memory.limit_in_bytes")),
			})
		}
		if cg.OOMKills > 0 {
			r.Add(triage.Finding{
				Code:   CodeOOMKills,
				Status: level(f.cgroupOOMInWindow > 0),
				Summary: fmt.Sprintf("the OOM killer killed %d processes in cgroup %s (%d during the check)",
					cg.OOMKills, cg.Path, f.cgroupOOMInWindow),
				Evidence: triage.Evidence{slog.String("scope", "cgroup"), slog.Uint64("oom_kills", cg.OOMKills),
					slog.Uint64("oom_kills_in_window", f.cgroupOOMInWindow), slog.String(triage.KeyCgroup, cg.Path)},
				Command: "cat " + f.cgroup.file(cgroupFile(cg, "memory.events", "memory.oom_control")),
			})
		}
	}
	if r.OOMKills != nil && *r.OOMKills > 0 {
		// The host counter only ever grows: kills days ago would make every
		// run look unhealthy. It is a problem only when it grows under our
		// eyes; when they happened is the kernel log's to tell.
		status := triage.OK
		if f.oomInWindow > 0 {
			status = triage.Fail
		}
		r.Add(triage.Finding{
			Code:   CodeOOMKills,
			Status: status,
			Summary: fmt.Sprintf("the kernel OOM killer killed %d processes since boot (%d during the check)",
				*r.OOMKills, f.oomInWindow),
			Evidence: triage.Evidence{slog.String("scope", "host"), slog.Uint64("oom_kills", *r.OOMKills),
				slog.Uint64("oom_kills_in_window", f.oomInWindow)},
			Command: "journalctl -k --no-pager | grep -i 'killed process'",
		})
	}
}

func judgePressure(r *Result, th Thresholds, p *Pressure, scope, dir string) {
	for _, k := range []struct {
		code     triage.Code
		name     string
		psi      *PSI
		limit    float64
		fullFail bool
	}{
		{CodeCPUPressure, "cpu", p.CPU, th.CPUPressurePct, false},
		{CodeMemoryPressure, "memory", p.Memory, th.MemoryPressurePct, true},
		{CodeIOPressure, "io", p.IO, th.IOPressurePct, true},
	} {
		if k.psi == nil || k.psi.Some.Avg10 < k.limit {
			continue
		}
		file := filepath.Join(dir, k.name)
		if scope == "cgroup" {
			file = filepath.Join(dir, k.name+".pressure")
		}
		r.Add(triage.Finding{
			Code:   k.code,
			Status: level(k.fullFail && k.psi.Full.Avg10 >= k.limit),
			Summary: fmt.Sprintf("%s %s pressure: some tasks stalled %.1f%% of the last 10s (%.1f%% over 60s), all stalled %.1f%%",
				scope, k.name, k.psi.Some.Avg10, k.psi.Some.Avg60, k.psi.Full.Avg10),
			Evidence: triage.Evidence{slog.String("scope", scope), slog.Float64("some_avg10_pct", k.psi.Some.Avg10),
				slog.Float64("some_avg60_pct", k.psi.Some.Avg60), slog.Float64("full_avg10_pct", k.psi.Full.Avg10)},
			Command: "cat " + human.Quote(file),
		})
	}
}

func level(fail bool) triage.Status {
	if fail {
		return triage.Fail
	}
	return triage.Warn
}

func round(d time.Duration) time.Duration { return d.Round(time.Millisecond) }

// cgroupFile picks a file name by cgroup version.
func cgroupFile(cg *Cgroup, v2, v1 string) string {
	if cg.Version == 1 {
		return v1
	}
	return v2
}
