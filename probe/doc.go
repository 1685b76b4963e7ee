// Package probe answers the first questions of the incident routine from
// the machine itself: is the host saturated, is the process alive and
// healthy, and does a request to the service or to one of its dependencies
// get through.
//
// # Host resources
//
// [Host] is top, free and vmstat in one call. It samples /proc/stat and
// /proc/vmstat twice over a short window (HostOptions.Window, 250ms by
// default, cut short to fit the context's deadline) and reports CPU busy,
// user, system, iowait and steal percentages, load average per core, the
// run queue, memory available, swap used and swap-in/out rates, page
// faults, pressure stall information (/proc/pressure) when the kernel has
// it, the cgroup limits of the current process, of another process
// ([HostOptions.CgroupPID], a service's container) or of a given cgroup
// (memory.max against memory.current, memory.events oom_kill, cpu.max
// throttling from cpu.stat; the v1 equivalents on cgroup v1 hosts) and the
// kernel's OOM kill counter. A process in a container with a memory limit
// is judged against that limit, not the host's RAM.
// Each threshold is a field of [HostThresholds] with a documented default.
//
// # Processes
//
// [Process] is ps aux | grep, ps -o pid,ppid,cmd,%cpu,%mem -p and top -H
// in one call. It finds processes by exact name, by a substring of the
// command line, by PID or by pidfile, and reports for every match its
// parent, user, state, command line, CPU and memory use, threads, open
// file descriptors against the soft RLIMIT_NOFILE, start time and the
// hottest threads over the sample window. Processes that exit during the
// scan are skipped.
//
// # Network and dependencies
//
// [TCP] resolves a host (A and AAAA, /etc/hosts included) and connects to
// each address at once, classifying every failure by errno into an
// [ErrorClass]: refused, timeout (no answer to SYN), reset, unreachable,
// ports exhausted, blocked by local policy, DNS not found, timeout or
// error. [HTTP] reproduces a request like curl -v (curl -I with Method
// HEAD, curl -L with FollowRedirects, curl --resolve with Resolve). Each
// hop records phase timings that add up to the total, the address
// connected, protocol, status, the headers that say who answered, and TLS
// facts, including those of a certificate that failed verification.
// Timeouts are named by phase; a 5xx from a proxy says the failing layer
// is behind it. Every request carries a W3C traceparent, fresh or the
// caller's, whose trace id is recorded to find in the service's logs. [DB] pings a *sql.DB between two samples of its pool
// statistics, telling a slow or failing database (ping timeout, ping
// error) from an application that has run out of connections (pool
// exhausted). Their codes are under tcp., http. and db.
//
// # Units
//
// CPU percentages are of the whole machine for [Host] (100 means every
// core busy) and of one core for processes and threads, like top (200
// means two cores). Per-process times in /proc are counted in clock ticks;
// the package assumes USER_HZ = 100, which is what Linux exposes to user
// space on every architecture Go supports.
//
// # Platforms
//
// The host and process checks read Linux's /proc and /sys. On other
// platforms they return an Unknown result whose error matches
// triage.ErrUnsupported. The filesystem roots are options (ProcRoot,
// SysRoot, CgroupRoot), never environment variables, so tests and
// callers in another mount namespace can point them at another tree.
//
// # Privileges
//
// Everything the host check reads is world-readable. The process check
// needs to be root, or the process's owner, to count another user's open
// file descriptors; without it the process is still reported, and the
// result is Unknown with an error matching os.ErrPermission and a
// process.permission_denied finding, never healthy.
package probe
