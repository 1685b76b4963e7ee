package logscan

import "github.com/triagekit/triage"

// KindCheck is the kind of check this package makes: the Check of its
// results.
const KindCheck = "logscan"

// Finding codes. Every finding carries the evidence keys listed with its
// code; first_seen and last_seen are left out when no line of the group had
// a timestamp. The findings of signals carry target (what failed, as the
// lines said it) and, after it, the same fact under the keys every package
// shares: host and port (triage.KeyHost, triage.KeyPort) of a dependency
// or an upstream given as host:port, name (triage.KeyName) of a lookup
// that failed, path (triage.KeyPath) of a full disk or of a file that hit
// the descriptor limit, process and pid (triage.KeyProcess, triage.KeyPID)
// of the OOM killer's victim, port (and addr, triage.KeyAddr, on newer
// kernels) of a SYN flood.
const (
	// CodeErrors: error lines were found (levels error, fatal, critical,
	// panic; exceptions, Go panics, Python tracebacks; caller patterns).
	// Warn. Evidence: count, signatures (distinct), stack_traces,
	// top_signature, top_count.
	CodeErrors triage.Code = "log.errors"
	// CodeTimeoutsNoStack: lines speak of timeouts, none carries a stack
	// trace, and other errors are rare (at most a quarter of the timeout
	// lines): the routine's hint that the network, a dependency or a
	// connection pool is to blame rather than the application. Warn.
	// Evidence: timeouts, stack_traces, other_errors.
	CodeTimeoutsNoStack triage.Code = "log.timeouts_no_stack"
	// CodeDependencyRefused: connections to a dependency were refused
	// ("dial tcp 10.0.0.5:5432: connect: connection refused",
	// ECONNREFUSED, ConnectException). One finding per target. Fail.
	// Evidence: target (host:port, or "unknown"), count, first_seen,
	// last_seen, example.
	CodeDependencyRefused triage.Code = "log.dependency_refused"
	// CodeDependencyTimeout: calls to a dependency timed out ("i/o
	// timeout", "connect timed out", "Read timed out", ETIMEDOUT,
	// "context deadline exceeded"). One finding per target. Fail.
	// Evidence: target, count, first_seen, last_seen, example.
	CodeDependencyTimeout triage.Code = "log.dependency_timeout"
	// CodeUpstreamRefused: a reverse proxy could not connect to its
	// upstream (nginx "connect() failed (111: Connection refused) while
	// connecting to upstream", "no live upstreams"). One finding per
	// upstream. Fail. Evidence: target, count, no_live_upstreams,
	// first_seen, last_seen, example.
	CodeUpstreamRefused triage.Code = "log.upstream_refused"
	// CodeUpstreamTimeout: a reverse proxy timed out on its upstream
	// (nginx "upstream timed out (110: Connection timed out)"). One finding
	// per upstream. Fail. Evidence: target, count, first_seen, last_seen,
	// example.
	CodeUpstreamTimeout triage.Code = "log.upstream_timeout"
	// CodeDiskFull: "No space left on device" (ENOSPC). Fail. Evidence:
	// target (the path when the line names one, else "unknown"), count,
	// first_seen, last_seen, example.
	CodeDiskFull triage.Code = "log.disk_full"
	// CodeTooManyOpenFiles: "too many open files" (EMFILE). Fail.
	// Evidence: target, count, first_seen, last_seen, example.
	CodeTooManyOpenFiles triage.Code = "log.too_many_open_files"
	// CodeOutOfMemory: the application ran out of memory
	// (OutOfMemoryError, "runtime: out of memory", MemoryError, "Cannot
	// allocate memory", "Killed process" in an application log). Fail.
	// Evidence: target, count, first_seen, last_seen, example.
	CodeOutOfMemory triage.Code = "log.out_of_memory"
	// CodePoolExhausted: a connection pool had no free connection
	// (HikariCP "Connection is not available", SQLAlchemy "QueuePool limit",
	// DBCP "Timeout waiting for idle object", "pool exhausted", "pool
	// timeout", PostgreSQL "too many clients already"). Fail. Evidence:
	// target (the pool name when given), count, first_seen, last_seen,
	// example.
	CodePoolExhausted triage.Code = "log.pool_exhausted"
	// CodeDNSFailure: a name did not resolve ("no such host",
	// UnknownHostException, "Name or service not known", "Temporary
	// failure in name resolution", ENOTFOUND). One finding per name. Fail.
	// Evidence: target (the name), count, first_seen, last_seen, example.
	CodeDNSFailure triage.Code = "log.dns_failure"
	// CodeKernelOOMKill: the kernel's OOM killer killed a process. Fail.
	// Evidence: target (the process name), pid (the last one killed),
	// count, first_seen, last_seen, example.
	CodeKernelOOMKill triage.Code = "log.kernel_oom_kill"
	// CodeKernelSYNFlood: "Possible SYN flooding on port N": a listener's
	// SYN queue overflowed and the kernel sent cookies. Warn. Evidence:
	// target (the port), count, first_seen, last_seen, example.
	CodeKernelSYNFlood triage.Code = "log.kernel_syn_flood"
	// CodeKernelConntrackFull: "nf_conntrack: table full, dropping
	// packet": new connections are dropped, which looks like timeouts.
	// Fail. Evidence: target ("nf_conntrack"), count, first_seen,
	// last_seen, example.
	CodeKernelConntrackFull triage.Code = "log.kernel_conntrack_full"
	// CodeKernelIOError: block-device or filesystem I/O errors ("I/O
	// error, dev sda", "Buffer I/O error on dev", "EXT4-fs error"). Fail.
	// Evidence: target (the device), count, first_seen, last_seen, example.
	CodeKernelIOError triage.Code = "log.kernel_io_error"
	// CodeTraceFound: lines carrying [Options.TraceID] were found; they
	// are in [Result.Trace]. OK. Evidence: trace_id, count, error_lines,
	// sources.
	CodeTraceFound triage.Code = "log.trace_found"
)
