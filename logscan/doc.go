// Package logscan reports what the logs say: the routine's second step,
// "journalctl -u svc -n 200", "tail -n 200", "rg 'ERROR|Exception'" and
// "look for the trace id", as one typed check.
//
// [Check] reads the tail window of each source (the last N lines or the
// last duration), groups error lines into [Signature]s, turns known
// operational failures into findings with their targets ([Signal]s:
// connections refused or timing out to host:port, nginx upstream errors,
// full disks, file descriptor and memory exhaustion, connection pools,
// DNS failures, the kernel's OOM killer, SYN floods, conntrack and I/O
// errors), applies the routine's rule that timeouts without stack traces
// point at the network, a dependency or a pool rather than the
// application, and collects the lines carrying a trace id.
//
// # Sources
//
// Files are read backwards from their end: the window is found by
// counting newlines back from the end, or for a duration by galloping
// back and bisecting on line timestamps, so the cost depends on the
// window and not on the file's size. A window that reaches back past the
// first line continues in the rotated sibling path.1. Rotation while
// reading is noticed (by rename: the new file is read too; by
// copytruncate: the file shrank). Lines longer than 64 KiB are cut with a
// marker; NUL bytes, control characters and invalid UTF-8 are replaced.
//
// Lines are looked at cheaply. A line whose level is info, debug, trace
// or notice is passed over after a few byte comparisons at the column
// where the file's level sits (learnt from the lines before it); any
// other line is parsed only when it holds one of a set of literals that
// every error pattern and signal contains. Lines carrying the trace id or
// matching a caller's pattern are found by a search over whole blocks, so
// they are never passed over whatever their level.
//
// journald is read with `journalctl -o json --no-pager` under the
// context, from this host's journal or from a journal directory
// ([Options.JournalDir]). A container's journal is read through
// [Options.Open]: its files are opened inside its root and journalctl is
// given the descriptors, never a path it could follow out of the
// container. Without journalctl or journal files the source reports
// [ErrNoJournal]. The kernel log is read from /dev/kmsg without blocking,
// or from dmesg.
//
// Timestamps are read from RFC 3339 and ISO 8601 (Java, Python, logback),
// Go's log and nginx's error log, syslog, Apache's error log, the common
// and combined access log formats, glog, java.util.logging and JSON
// fields (time, ts, timestamp, @timestamp, as text or Unix numbers).
// JSON lines give their level, message and trace fields (trace_id,
// traceId, traceparent, correlation_id, request_id ...).
//
// # Platforms
//
// Files and journald work everywhere journalctl does; the kernel log is
// Linux only (other platforms report triage.ErrUnsupported for it).
//
// # Privileges
//
// Reading /dev/kmsg needs CAP_SYSLOG where kernel.dmesg_restrict is set;
// journald needs membership of systemd-journal or adm for other users'
// units. Without them the source reports an error wrapping
// os.ErrPermission and the result is Unknown.
package logscan
