// Package host answers the first question of the incident routine about
// the machine: is it saturated? [Check] is top, free and vmstat in one
// call.
//
// It samples /proc/stat and /proc/vmstat twice over a short window
// (Options.Window, [DefaultWindow] by default, cut short to fit the
// context's deadline) and reports CPU busy, user, system, iowait and steal
// percentages, load average per core, the run queue, memory available,
// swap used and swap-in/out rates, page faults, pressure stall information
// (/proc/pressure) when the kernel has it, the cgroup limits of the current
// process, of another process ([Options.CgroupPID], a service's container)
// or of a given cgroup (memory.max against memory.current, memory.events
// oom_kill, cpu.max throttling from cpu.stat; the v1 equivalents on cgroup
// v1 hosts) and the kernel's OOM kill counter. A process in a container
// with a memory limit is judged against that limit, not the host's RAM.
// Each threshold is a field of [Thresholds] with a documented default.
// Codes are under host.
//
// # Units
//
// CPU percentages are of the whole machine (100 means every core busy).
// Memory is in bytes, swap rates in pages per second.
//
// # Platforms
//
// The check reads Linux's /proc and /sys. On other platforms it returns an
// Unknown result whose error matches triage.ErrUnsupported. The filesystem
// roots are options (ProcRoot, SysRoot, CgroupRoot), never environment
// variables, so tests and callers in another mount namespace can point
// them at another tree. The files are opened without blocking and read
// only when they are regular files of at most a few MiB, because a
// container controls its cgroup files: anything else gives Unknown with
// the reason.
//
// # Privileges
//
// Everything the check reads is world-readable; it needs no privileges.
// Judging another process's cgroup (Options.CgroupPID) reads
// /proc/PID/cgroup, which any user may read as well.
package host
