// Package triage turns the backend incident routine into typed checks that
// a Go program can run in a second.
//
// When requests fail or get slow, an operator works down a fixed list: is
// the process alive and the host saturated (top, ps, free, vmstat), what do
// the logs say (journalctl, tail, grep), does the request reach the port
// (ss -lntp, ss -antp), where does the name resolve and how far does the
// request get (dig, curl -v), is the disk full in bytes or inodes (df -h,
// df -i, du), and is a dependency timing out or out of pooled connections.
// The aim is not to guess the cause but to shrink the list of candidates
// fast, starting from the symptom the client sees: connection refused,
// timeout, or 5xx.
//
// Each step is a check in its own package:
//
//   - host: CPU, memory, swap, pressure stalls and cgroup limits (top, free, vmstat)
//   - process: processes by name, PID or pidfile, their threads and file descriptors (ps, top -H)
//   - logscan: tail windows of file logs and journald, error signatures, trace ids
//   - sockstat: listeners with owners, TCP states, queues, kernel counters
//   - probe: the request reproduced (TCP, HTTP like curl -v) and dependencies probed (databases)
//   - dnscheck: what the application resolves versus each resolver, iterative trace
//   - diskcheck: bytes and inodes per filesystem, writability, space consumers
//
// Above them, classify turns the combined results into a symptom and
// ranked hypotheses; above that, health serves the checks as /livez,
// /readyz and a health+json document with a cache that a probe storm
// cannot break through, and promtriage exposes the same snapshot to
// Prometheus.
//
// This package holds what they share: [Status], [Finding], [Target], the
// common part of every result ([Result]) and a [Runner] that executes many
// checks under one deadline. It imports only the standard library, so
// importing one check package stays cheap.
//
// # Results
//
// Every check returns its own typed result (sockstat.Result,
// diskcheck.Result, ...) that embeds [Result]. The embedded part names the
// kind of check, what it was aimed at ([Target]) and how it ended: its
// [Status] is the worst of its findings, and a non-nil Err says why the
// check could not tell. "The target failed" and "the check could not tell"
// are different outcomes: a refused port is a [Fail] finding with
// evidence, a permission error is [Unknown] with the error kept for
// errors.Is.
//
// A typed result marshals whole: json.Marshal writes the common part and
// the typed fields side by side, every duration as integer nanoseconds
// under a key ending in "_ns"; slog prints its common part. A [Record]
// reads any result back, so that a saved report can be classified again.
//
// # Findings
//
// A [Finding] is one observation with a stable [Code] that the emitting
// package exports as a constant, a status, a one-line summary carrying the
// measured values, typed [Evidence] and the shell command a person would
// run to see the same thing. Codes are API: they never change meaning.
package triage
