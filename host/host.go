package host

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/triagekit/triage"
)

// KindCheck is the kind of check [Check] makes: the Check of its results.
const KindCheck = "host"

// Finding codes. The evidence keys listed are this package's own
// measurements, except cgroup, which is triage.KeyCgroup; durations end
// in "_ns".
const (
	// CodeCPUSaturated: the CPUs were busy (user, system, irq, steal ...,
	// not idle and not iowait) for at least Thresholds.CPUBusyPct of
	// the window. Warn; Fail at 98% and above. Evidence: busy_pct,
	// user_pct, system_pct, cores, window_ns.
	CodeCPUSaturated triage.Code = "host.cpu_saturated"
	// CodeCPUImbalance: one core was busy for at least
	// Thresholds.CoreBusyPct of the window while the cores together were
	// under two thirds of Thresholds.CPUBusyPct (mpstat -P ALL): a
	// single-threaded bottleneck, a spinning thread, or interrupts pinned
	// to one CPU, which the average hides. Warn. Evidence: cpu (the
	// busiest), core_busy_pct, busy_pct (all cores), cores, window_ns.
	CodeCPUImbalance triage.Code = "host.cpu_imbalance"
	// CodeIOWaitHigh: CPUs sat idle waiting for I/O for at least
	// Thresholds.IOWaitPct of the window. Warn. Evidence: iowait_pct,
	// procs_blocked, window_ns.
	CodeIOWaitHigh triage.Code = "host.iowait_high"
	// CodeDiskBusy: a whole disk was doing I/O for at least
	// Thresholds.DiskBusyPct of the window (iostat -xz's %util). Warn.
	// Evidence: device, util_pct, await_ns (the mean time an I/O took),
	// iops, window_ns.
	CodeDiskBusy triage.Code = "host.disk_busy"
	// CodeNICErrors: a network interface counted receive or transmit
	// errors or drops during the window (sar -n EDEV, ip -s link): a bad
	// link, a full ring buffer, a qdisc dropping. Warn. Evidence:
	// interface, rx_errors, rx_dropped, tx_errors, tx_dropped (counted in
	// the window), window_ns.
	CodeNICErrors triage.Code = "host.nic_errors"
	// CodeStealHigh: the hypervisor gave the CPUs to someone else for at
	// least Thresholds.StealPct of the window. Warn. Evidence:
	// steal_pct, window_ns.
	CodeStealHigh triage.Code = "host.steal_high"
	// CodeLoadHigh: the 1-minute load average per core is at least
	// Thresholds.LoadPerCore. Warn. Evidence: load1, load5, load15,
	// cores, load1_per_core, procs_running.
	CodeLoadHigh triage.Code = "host.load_high"
	// CodeMemoryLow: available memory is under
	// Thresholds.MemoryAvailablePct of the total. When the cgroup has
	// a memory limit below the host's memory, both are the cgroup's (limit
	// minus working set). Warn; Fail under half the threshold. Evidence:
	// available_bytes, total_bytes, available_pct, judged_against ("host"
	// or "cgroup").
	CodeMemoryLow triage.Code = "host.memory_low"
	// CodeSwapping: pages moved to or from swap at
	// Thresholds.SwapPagesPerSec or more during the window, the
	// "sudden latency" sign (vmstat si/so). Warn. Evidence:
	// swap_in_pages_per_sec, swap_out_pages_per_sec, swap_used_bytes,
	// window_ns.
	CodeSwapping triage.Code = "host.swapping"
	// CodeCPUPressure: tasks stalled waiting for CPU (PSI "some" avg10 of
	// /proc/pressure/cpu, or of the cgroup's cpu.pressure) at least
	// Thresholds.CPUPressurePct. Warn. Evidence: scope ("host" or
	// "cgroup"), some_avg10_pct, some_avg60_pct, full_avg10_pct.
	CodeCPUPressure triage.Code = "host.cpu_pressure"
	// CodeMemoryPressure: like CodeCPUPressure for memory, against
	// Thresholds.MemoryPressurePct. Warn; Fail when "full" avg10 (every
	// task stalled) also reaches the threshold. Same evidence.
	CodeMemoryPressure triage.Code = "host.memory_pressure"
	// CodeIOPressure: like CodeCPUPressure for I/O, against
	// Thresholds.IOPressurePct. Warn; Fail when "full" avg10 also
	// reaches the threshold. Same evidence.
	CodeIOPressure triage.Code = "host.io_pressure"
	// CodeCgroupCPUThrottled: the cgroup hit its cpu.max quota in at least
	// Thresholds.CgroupThrottledPct of its scheduling periods (during
	// the window when periods elapsed in it, else since the cgroup was
	// made). Warn. Evidence: cgroup, throttled_pct, nr_periods,
	// nr_throttled, throttled_ns (in all), quota_cores, scope ("window"
	// or "total").
	CodeCgroupCPUThrottled triage.Code = "host.cgroup_cpu_throttled"
	// CodeCgroupMemoryNearLimit: the cgroup's working set (memory.current
	// minus inactive file pages) is at least
	// Thresholds.CgroupMemoryPct of memory.max. Warn; Fail at 98%.
	// Evidence: cgroup, used_pct, current_bytes, working_set_bytes,
	// max_bytes.
	CodeCgroupMemoryNearLimit triage.Code = "host.cgroup_memory_near_limit"
	// CodeOOMKills: the kernel OOM killer has killed processes: in the
	// cgroup (memory.events oom_kill; Warn) or on the host (/proc/vmstat
	// oom_kill, since boot; OK, for the record, because the counter never
	// goes down). Fail in either scope when the count grew during the
	// window. Evidence: scope ("host" or "cgroup"), oom_kills,
	// oom_kills_in_window, and cgroup for the cgroup scope.
	CodeOOMKills triage.Code = "host.oom_kills"
)

// DefaultWindow is the sample window when Options.Window is zero.
const DefaultWindow = 250 * time.Millisecond

// MinJudgeWindow is the shortest window over which CPU use is judged. The
// kernel counts CPU time in 10ms ticks, so a shorter window still reports
// its percentages but raises no CPU or swap findings.
const MinJudgeWindow = 100 * time.Millisecond

// Options configures [Check]. The zero value checks this host with the
// default window and thresholds.
type Options struct {
	// ProcRoot is where procfs is mounted. If empty, "/proc" is used.
	ProcRoot string
	// SysRoot is where sysfs is mounted. If empty, "/sys" is used. A
	// cgroup2 mount found under /sys in mountinfo is looked up under
	// SysRoot instead.
	SysRoot string
	// CgroupRoot is the cgroup v2 mount. If empty, it is taken from
	// ProcRoot/self/mountinfo (the cgroup2 line).
	CgroupRoot string
	// CgroupPath is the cgroup v2 cgroup to judge, relative to
	// CgroupRoot, such as "/system.slice/nginx.service". If empty, the
	// current process's cgroup is used (the "0::" line of
	// ProcRoot/self/cgroup).
	//
	// When both are empty and the v2 tree has neither the memory nor the
	// cpu controller (a cgroup v1 host, or the hybrid layout with an
	// empty v2 tree), the process's cgroup v1 memory and cpu cgroups are
	// judged instead, and [Cgroup.Version] is 1. With no cgroup at all,
	// Result.Cgroup is nil.
	CgroupPath string
	// CgroupPID, if not zero, judges the cgroup of the process with this
	// PID (ProcRoot/PID/cgroup) instead of this process's, so that an
	// agent beside a service can judge the service's container against
	// its limits. CgroupPath, when set, wins. The mounts are still read
	// from ProcRoot/self/mountinfo: the files are opened from this
	// process's view. The result's Target holds the PID and the cgroup
	// judged.
	CgroupPID int
	// Window is how long CPU, swap and throttling counters are sampled. If
	// zero, DefaultWindow is used. It is shortened to half of what is left
	// before the context's deadline, so the check answers in time.
	Window time.Duration
	// Thresholds are the levels that raise findings. Zero fields take
	// their defaults.
	Thresholds Thresholds
}

// Thresholds are the levels at which [Check] raises findings. A zero
// field means its default, given in brackets; a level no measurement
// reaches, such as 101 for a percentage, turns its finding off. Negative
// and non-finite levels make Check return triage.ErrInvalid.
type Thresholds struct {
	CPUBusyPct         float64 // CPU busy % of the window for CodeCPUSaturated [90]
	CoreBusyPct        float64 // one core's busy % of the window for CodeCPUImbalance [90]
	DiskBusyPct        float64 // a disk's %util over the window for CodeDiskBusy [90]
	IOWaitPct          float64 // iowait % of the window for CodeIOWaitHigh [20]
	StealPct           float64 // steal % of the window for CodeStealHigh [10]
	LoadPerCore        float64 // 1-minute load per core for CodeLoadHigh [2]
	MemoryAvailablePct float64 // available % of total under which CodeMemoryLow [10]
	SwapPagesPerSec    float64 // swap-in plus swap-out pages/s for CodeSwapping [10]
	CPUPressurePct     float64 // PSI cpu some avg10 for CodeCPUPressure [25]
	MemoryPressurePct  float64 // PSI memory some avg10 for CodeMemoryPressure [10]
	IOPressurePct      float64 // PSI io some avg10 for CodeIOPressure [25]
	CgroupThrottledPct float64 // % of periods throttled for CodeCgroupCPUThrottled [10]
	CgroupMemoryPct    float64 // working set % of memory.max for CodeCgroupMemoryNearLimit [90]
}

// validate refuses thresholds no measurement could be judged against:
// negative or not finite.
func (t Thresholds) validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"CPUBusyPct", t.CPUBusyPct}, {"CoreBusyPct", t.CoreBusyPct}, {"DiskBusyPct", t.DiskBusyPct}, {"IOWaitPct", t.IOWaitPct}, {"StealPct", t.StealPct},
		{"LoadPerCore", t.LoadPerCore}, {"MemoryAvailablePct", t.MemoryAvailablePct},
		{"SwapPagesPerSec", t.SwapPagesPerSec}, {"CPUPressurePct", t.CPUPressurePct},
		{"MemoryPressurePct", t.MemoryPressurePct}, {"IOPressurePct", t.IOPressurePct},
		{"CgroupThrottledPct", t.CgroupThrottledPct}, {"CgroupMemoryPct", t.CgroupMemoryPct},
	} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0 {
			return fmt.Errorf("%w: threshold %s is %v", triage.ErrInvalid, f.name, f.v)
		}
	}
	return nil
}

func (t Thresholds) withDefaults() Thresholds {
	def := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&t.CPUBusyPct, 90)
	def(&t.CoreBusyPct, 90)
	def(&t.DiskBusyPct, 90)
	def(&t.IOWaitPct, 20)
	def(&t.StealPct, 10)
	def(&t.LoadPerCore, 2)
	def(&t.MemoryAvailablePct, 10)
	def(&t.SwapPagesPerSec, 10)
	def(&t.CPUPressurePct, 25)
	def(&t.MemoryPressurePct, 10)
	def(&t.IOPressurePct, 25)
	def(&t.CgroupThrottledPct, 10)
	def(&t.CgroupMemoryPct, 90)
	return t
}

// Result is what [Check] saw. Its Check is [KindCheck]. Its Target is the
// zero target (this host) unless the options name a cgroup to judge:
// Options.CgroupPID fills Target.PID and Target.Cgroup, Options.CgroupPath
// fills Target.Cgroup. The cgroup of the process running the check is
// judged as part of the host and is not a target.
type Result struct {
	triage.Result
	// Window is how long the counters were sampled; zero when the check
	// ended before the second sample.
	Window time.Duration `json:"window_ns"`
	// CPU is the CPU time split over the window.
	CPU CPUStats `json:"cpu"`
	// Load is the load average and the run queue.
	Load LoadStats `json:"load"`
	// Memory is memory and swap, judged against the cgroup limit when
	// there is one.
	Memory MemoryStats `json:"memory"`
	// Pressure is the host's pressure stall information; nil when the
	// kernel has none (no /proc/pressure).
	Pressure *Pressure `json:"pressure,omitempty"`
	// Cgroup is the cgroup the check judged; nil when there is none.
	Cgroup *Cgroup `json:"cgroup,omitempty"`
	// OOMKills is the kernel's oom_kill counter since boot; nil when the
	// kernel does not report it.
	OOMKills *uint64 `json:"oom_kills,omitempty"`
	// NICs are the network interfaces (loopback left out) whose error or
	// drop counters rose during the window, as sar -n EDEV shows them;
	// empty when none did or /proc/net/dev could not be read.
	NICs []NICStats `json:"nics,omitempty"`
	// Disks are the whole disks (loop, RAM and zram devices and
	// partitions left out) that did I/O during the window, as iostat -xz
	// shows them; empty when none did or /proc/diskstats could not be
	// read.
	Disks []DiskStats `json:"disks,omitempty"`
}

// DiskStats is one disk's I/O during the window.
type DiskStats struct {
	Device string `json:"device"`
	// UtilPct is the share of the window the disk had I/O in flight.
	UtilPct float64 `json:"util_pct"`
	// Await is the mean time an I/O took, queueing included.
	Await time.Duration `json:"await_ns"`
	// IOPS are reads and writes completed per second.
	IOPS float64 `json:"iops"`
}

// NICStats is how many receive and transmit errors and drops one
// interface counted during the window.
type NICStats struct {
	Name      string `json:"name"`
	RxErrors  uint64 `json:"rx_errors"`
	RxDropped uint64 `json:"rx_dropped"`
	TxErrors  uint64 `json:"tx_errors"`
	TxDropped uint64 `json:"tx_dropped"`
}

// CPUStats is how the CPUs spent the window, in percent of all cores.
type CPUStats struct {
	Cores     int     `json:"cores"` // online CPUs in /proc/stat
	BusyPct   float64 `json:"busy_pct"`
	UserPct   float64 `json:"user_pct"`   // user and nice
	SystemPct float64 `json:"system_pct"` // system, irq and softirq
	IOWaitPct float64 `json:"iowait_pct"`
	StealPct  float64 `json:"steal_pct"`
	IdlePct   float64 `json:"idle_pct"`
	// PerCore is the busy percentage of each core, like top's "1" view.
	PerCore []CoreStats `json:"per_core,omitempty"`
}

// CoreStats is one core's share of the window.
type CoreStats struct {
	CPU       int     `json:"cpu"`
	BusyPct   float64 `json:"busy_pct"`
	IOWaitPct float64 `json:"iowait_pct"`
	StealPct  float64 `json:"steal_pct"`
}

// LoadStats is /proc/loadavg and the instantaneous run queue.
type LoadStats struct {
	Load1        float64 `json:"load1"`
	Load5        float64 `json:"load5"`
	Load15       float64 `json:"load15"`
	Load1PerCore float64 `json:"load1_per_core"`
	ProcsRunning int     `json:"procs_running"` // runnable tasks (the run queue)
	ProcsBlocked int     `json:"procs_blocked"` // tasks in uninterruptible I/O wait
}

// MemoryStats is memory and swap. Rates are per second over the window.
type MemoryStats struct {
	// TotalBytes and AvailableBytes are what the check judged: the host's
	// MemTotal and MemAvailable, or the cgroup's memory.max and its
	// headroom when that limit is below the host's memory.
	TotalBytes     uint64  `json:"total_bytes"`
	AvailableBytes uint64  `json:"available_bytes"`
	AvailablePct   float64 `json:"available_pct"`
	// JudgedAgainst is "host" or "cgroup".
	JudgedAgainst string `json:"judged_against"`
	// HostTotalBytes and HostAvailableBytes are /proc/meminfo's.
	HostTotalBytes     uint64  `json:"host_total_bytes"`
	HostAvailableBytes uint64  `json:"host_available_bytes"`
	SwapTotalBytes     uint64  `json:"swap_total_bytes"`
	SwapUsedBytes      uint64  `json:"swap_used_bytes"`
	SwapInPagesPerSec  float64 `json:"swap_in_pages_per_sec"`  // vmstat si, in pages
	SwapOutPagesPerSec float64 `json:"swap_out_pages_per_sec"` // vmstat so, in pages
	FaultsPerSec       float64 `json:"faults_per_sec"`
	MajorFaultsPerSec  float64 `json:"major_faults_per_sec"`
}

// Pressure is pressure stall information for one scope (the host's
// /proc/pressure or a cgroup's *.pressure files). A nil member was not
// reported.
type Pressure struct {
	CPU    *PSI `json:"cpu,omitempty"`
	Memory *PSI `json:"memory,omitempty"`
	IO     *PSI `json:"io,omitempty"`
}

// PSI is one pressure file: the share of time some (or all non-idle)
// tasks were stalled on the resource.
type PSI struct {
	Some PSILine `json:"some"`
	// Full is absent from the host's cpu file on older kernels; it is then
	// zero.
	Full PSILine `json:"full"`
}

// PSILine is one line of a pressure file: stall percentages averaged over
// 10, 60 and 300 seconds, and the total stall time.
type PSILine struct {
	Avg10  float64       `json:"avg10"`
	Avg60  float64       `json:"avg60"`
	Avg300 float64       `json:"avg300"`
	Total  time.Duration `json:"total_ns"`
}

// Cgroup is the cgroup the host check judged. The field comments name the
// cgroup v2 files; on cgroup v1 they come from memory.limit_in_bytes,
// memory.usage_in_bytes, total_inactive_file, memory.oom_control,
// cpu.cfs_quota_us / cpu.cfs_period_us and cpu.stat throttled_time.
type Cgroup struct {
	// Path is the cgroup's path below its mount, such as
	// "/system.slice/nginx.service"; on cgroup v1, the memory
	// controller's.
	Path string `json:"path"`
	// CPUPath is, on cgroup v1, the cpu controller's cgroup, which holds
	// the CPU quota and its throttling, when it differs from Path; empty
	// otherwise.
	CPUPath string `json:"cpu_path,omitempty"`
	// Version is 2 for the unified hierarchy, 1 when the limits came
	// from cgroup v1's memory and cpu controllers.
	Version int `json:"version"`
	// MemoryMaxBytes is memory.max when MemoryLimited; zero otherwise.
	MemoryMaxBytes uint64 `json:"memory_max_bytes"`
	// MemoryLimited reports whether memory.max sets a limit: false for
	// "max" or no file. A limit of 0, which lets nothing be charged, is a
	// limit.
	MemoryLimited      bool   `json:"memory_limited"`
	MemoryCurrentBytes uint64 `json:"memory_current_bytes"`
	// WorkingSetBytes is memory.current minus inactive_file of
	// memory.stat: what cannot simply be dropped when the limit is hit.
	WorkingSetBytes uint64 `json:"working_set_bytes"`
	// MemoryUsedPct is the working set against memory.max; zero without
	// a limit.
	MemoryUsedPct float64 `json:"memory_used_pct"`
	// OOMKills is memory.events oom_kill: processes the OOM killer
	// killed in this cgroup.
	OOMKills uint64 `json:"oom_kills"`
	// CPUQuotaCores is cpu.max as a number of cores (quota / period);
	// zero means no quota.
	CPUQuotaCores float64 `json:"cpu_quota_cores"`
	// NrPeriods, NrThrottled and Throttled are cpu.stat's totals.
	NrPeriods   uint64        `json:"nr_periods"`
	NrThrottled uint64        `json:"nr_throttled"`
	Throttled   time.Duration `json:"throttled_ns"`
	// ThrottledPct is the share of periods throttled during the window,
	// or since the cgroup was made when no period ended in the window.
	ThrottledPct float64 `json:"throttled_pct"`
	// Pressure is the cgroup's own pressure files; nil when absent.
	Pressure *Pressure `json:"pressure,omitempty"`
}

// Check samples the host's CPU, load, memory, swap, pressure and cgroup
// limits over a short window, like top, free and vmstat 1, and reports
// what needs attention.
//
// It returns by the context's deadline: the window shrinks to fit, and a
// context that ends during the window yields the values that need no
// window (load, memory, pressure, limits) with an Unknown status and the
// context's error. Options it cannot use give Unknown with an error
// matching triage.ErrInvalid; on platforms without /proc it returns Unknown
// with triage.ErrUnsupported.
func Check(ctx context.Context, opts Options) Result {
	var t triage.Target
	if opts.CgroupPath == "" && opts.CgroupPID > 0 {
		t.PID = opts.CgroupPID
	}
	r := Result{Result: triage.Begin(KindCheck, t)}
	r.Finish(run(ctx, &opts, &r))
	return r
}
