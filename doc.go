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
//   - probe: host resources, processes, TCP and HTTP reproduction, dependencies
//   - logscan: tail windows of file logs and journald, error signatures, trace ids
//   - sockstat: listeners with owners, TCP states, queues, kernel counters
//   - dnscheck: what the application resolves versus each resolver, iterative trace
//   - diskcheck: bytes and inodes per filesystem, writability, space consumers
//   - classify: combined results to a symptom and ranked hypotheses
//
// and two for embedding: health serves the checks as /livez, /readyz and a
// health+json document with a cache that a probe storm cannot break
// through, and promtriage exposes the same snapshot to Prometheus.
//
// This package holds what they share: [Status], [Finding], the common part
// of every result ([Result]) and a [Runner] that executes many checks under
// one deadline. It imports only the standard library, so importing one check
// package stays cheap.
//
// # Results
//
// Every check returns its own typed result (sockstat.Result,
// diskcheck.Result, ...) that embeds [Result]. The embedded part says how
// the check ended: its [Status] is the worst of its findings, and a
// non-nil Err says why the check could not tell. "The target failed" and
// "the check could not tell" are different outcomes: a refused port is a
// [Fail] finding with evidence, a permission error is [Unknown] with the
// error kept for errors.Is.
//
// # Findings
//
// A [Finding] is one observation with a stable [Code] that the emitting
// package exports as a constant, a status, a one-line summary carrying the
// measured values, typed [Evidence] and the shell command a person would
// run to see the same thing. Codes are API: they never change meaning.
package triage
