package process

import (
	"context"
	"time"

	"github.com/triagekit/triage"
)

// KindCheck is the kind of check [Check] makes: the Check of its results.
const KindCheck = "process"

// Finding codes. The process's PID is under the evidence key
// triage.KeyPID and its name (comm) under triage.KeyProcess; the other
// keys listed are this package's own measurements, and durations end in
// "_ns".
const (
	// CodeRunning: a process matched. OK, one per match. Evidence: pid,
	// process, state, uptime_ns.
	CodeRunning triage.Code = "process.running"
	// CodeNotFound: no process matched, the PID does not exist, or the
	// pidfile is missing or names a process that is gone. Fail. Evidence:
	// the selectors given (process for Options.Name, cmdline, pid,
	// pidfile).
	CodeNotFound triage.Code = "process.not_found"
	// CodeZombie: the process has exited and its parent has not reaped it
	// (state Z); it serves nothing. Fail. Evidence: pid, ppid, process.
	CodeZombie triage.Code = "process.zombie"
	// CodeUninterruptible: the process is in uninterruptible sleep (state
	// D), usually stuck on disk or NFS I/O. Warn. Evidence: pid, process,
	// wchan when readable.
	CodeUninterruptible triage.Code = "process.uninterruptible"
	// CodeFDsNearLimit: open file descriptors reached Options.FDsPct of
	// the soft RLIMIT_NOFILE ("too many open files" is near). Warn; Fail
	// at 95%. Evidence: pid, process, fds, fd_limit, fds_pct.
	CodeFDsNearLimit triage.Code = "process.fds_near_limit"
	// CodeThreadHot: one thread used at least Options.ThreadHotPct of a
	// core over the window, a busy loop or a single-threaded bottleneck
	// (top -H). Warn. Evidence: pid, process, tid, thread (its name),
	// cpu_pct, window_ns.
	CodeThreadHot triage.Code = "process.thread_hot"
	// CodeSwapping: the process has memory in swap and took at least
	// Options.MajorFaultsPerSec major page faults a second over the window:
	// its pages come back from disk while it runs, and every access that
	// waits for one is slow (vmstat si, for one process). Warn. Evidence:
	// pid, process, swap_bytes, major_faults_per_sec, window_ns.
	CodeSwapping triage.Code = "process.swapping"
	// CodeRestartedRecently: the process started less than
	// Options.RecentStart ago, a sign of a crash loop or a fresh deploy.
	// Warn. Evidence: pid, process, uptime_ns, started.
	CodeRestartedRecently triage.Code = "process.restarted_recently"
	// CodePermissionDenied: part of the process (or of the process table,
	// or the pidfile) could not be read for lack of permission. Unknown;
	// the result's Err matches os.ErrPermission. Evidence: pid (0 for the
	// table), what (the file, or how many processes), process (empty
	// when unknown).
	CodePermissionDenied triage.Code = "process.permission_denied"
)

// DefaultWindow is the sample window when Options.Window is zero.
const DefaultWindow = 250 * time.Millisecond

// MinJudgeWindow is the shortest window over which CPU use is judged. The
// kernel counts CPU time in 10ms ticks, so a shorter window still reports
// the percentages but raises no hot-thread findings.
const MinJudgeWindow = 100 * time.Millisecond

// Options selects the processes [Check] reports and how it
// judges them. At least one of Name, Cmdline, PID and Pidfile must be set;
// the selectors that are set must all match.
type Options struct {
	// Name matches the process name exactly, like pgrep -x: the kernel's
	// comm (15 bytes at most) or, for longer names, comm as a prefix
	// together with the base name of the first argument.
	Name string
	// Cmdline matches processes whose command line (arguments joined by
	// spaces) contains it, like ps aux | grep.
	Cmdline string
	// PID selects one process.
	PID int
	// Pidfile names a file holding the PID, such as /run/nginx.pid.
	Pidfile string

	// PIDNamespaceOf, when positive, keeps only the processes in the PID
	// namespace of this process (a container's init) and in the PID
	// namespaces nested in it, and reads PID as a PID in that namespace,
	// as the container sees it: Info.NSPID is each match's PID there,
	// Info.PID its PID on this host.
	PIDNamespaceOf int
	// ProcRoot is where procfs is mounted. If empty, "/proc" is used.
	ProcRoot string
	// Window is how long CPU use is sampled for the processes and their
	// threads. If zero, DefaultWindow is used. It is shortened to half of
	// what is left before the context's deadline.
	Window time.Duration
	// TopThreads is how many of each process's busiest threads are
	// reported. If zero, 5; negative reports none.
	TopThreads int
	// FDsPct is the share of the soft RLIMIT_NOFILE in use that raises
	// CodeFDsNearLimit. If zero, 80.
	FDsPct float64
	// ThreadHotPct is the share of one core a single thread must use to
	// raise CodeThreadHot. If zero, 90. Windows shorter than
	// MinJudgeWindow raise no hot threads.
	ThreadHotPct float64
	// MajorFaultsPerSec is the rate of major page faults, while the
	// process has memory in swap, that raises CodeSwapping. If zero, 50.
	// Windows shorter than MinJudgeWindow raise no swapping findings.
	MajorFaultsPerSec float64
	// RecentStart is the uptime under which CodeRestartedRecently
	// is raised. If zero, 5 minutes; negative turns the finding off.
	RecentStart time.Duration
	// MaxMatches bounds how many matching processes are reported (the
	// oldest first). If zero, 64.
	MaxMatches int
}

// Result is what [Check] found. Its Check is [KindCheck]. Its Target
// holds the name and PID asked for (the PID a pidfile holds included) and,
// when exactly one process is reported, its PID.
type Result struct {
	triage.Result
	// Processes are the matches, oldest first.
	Processes []Info `json:"processes"`
	// Matched is how many processes matched; more than len(Processes)
	// when MaxMatches cut the list.
	Matched int `json:"matched"`
	// Window is how long CPU use was sampled; zero when the check ended
	// before the second sample.
	Window time.Duration `json:"window_ns"`
}

// Info is one process, as ps and top show it.
type Info struct {
	PID int `json:"pid"`
	// NSPID is the PID in the namespace of Options.PIDNamespaceOf; zero
	// without it.
	NSPID int `json:"ns_pid,omitempty"`
	PPID  int `json:"ppid"`
	// Name is the kernel's name for it (comm).
	Name string `json:"name"`
	// User is the real user's name, or the UID as text when it has none.
	User string `json:"user"`
	UID  int    `json:"uid"`
	// State is ps's one-letter state: R running, S sleeping, D
	// uninterruptible, Z zombie, T stopped, t traced, I idle.
	State string `json:"state"`
	// Cmdline is the arguments joined by spaces; empty for kernel threads
	// and zombies.
	Cmdline string `json:"cmdline"`
	// CPUPct is CPU use over the window in percent of one core, like top.
	CPUPct   float64 `json:"cpu_pct"`
	RSSBytes uint64  `json:"rss_bytes"`
	// MemPct is RSS in percent of the host's memory, like ps %mem.
	MemPct  float64 `json:"mem_pct"`
	Threads int     `json:"threads"`
	// SwapBytes is how much of its memory is in swap (VmSwap).
	SwapBytes uint64 `json:"swap_bytes"`
	// MajorFaultsPerSec is the rate of page faults over the window that
	// had to read the page from disk: from swap, or from a file.
	MajorFaultsPerSec float64 `json:"major_faults_per_sec"`
	// FDs is the number of open file descriptors; -1 when they could not
	// be counted (see Err).
	FDs int `json:"fds"`
	// FDLimit is the soft RLIMIT_NOFILE; zero when unknown or unlimited.
	FDLimit uint64  `json:"fd_limit"`
	FDsPct  float64 `json:"fds_pct"`
	// Started is when the process started; Uptime how long ago.
	Started time.Time     `json:"started"`
	Uptime  time.Duration `json:"uptime_ns"`
	// HotThreads are the busiest threads over the window, busiest first.
	HotThreads []Thread `json:"hot_threads,omitempty"`
	// Err says what could not be read about this process; nil when
	// everything was.
	Err error `json:"-"`
	// Error is Err's text for JSON.
	Error string `json:"error,omitempty"`
}

// Thread is one thread's CPU use over the window, like a line of
// top -H.
type Thread struct {
	TID    int     `json:"tid"`
	Name   string  `json:"name"`
	State  string  `json:"state"`
	CPUPct float64 `json:"cpu_pct"`
}

// Check finds processes by name, command line, PID or pidfile and
// reports each: state, CPU and memory, threads, open files against the
// limit, uptime and its busiest threads over the sample window.
//
// Finding no process is a process.not_found finding (Fail), not an error.
// Processes that exit during the scan are skipped. Files that cannot be
// read for lack of permission give a process.permission_denied finding
// and an Err matching os.ErrPermission, so the result is never healthy
// when part of it could not be seen. No selector, or PID and Pidfile that
// disagree, gives Unknown with triage.ErrInvalid; a context that ends
// during the window gives what was read with the context's error.
func Check(ctx context.Context, opts Options) Result {
	r := Result{Result: triage.Begin(KindCheck, triage.Target{Process: opts.Name, PID: max(opts.PID, 0)}),
		Processes: []Info{}}
	r.Finish(run(ctx, &opts, &r))
	return r
}
