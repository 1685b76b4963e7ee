// Package health serves the triage checks as Kubernetes-style health
// endpoints: /livez, /readyz, /readyz/<check> and a details document.
//
// The routine answers "is the service healthy, and if not, why?"; this
// package answers it for load balancers, orchestrators and dashboards:
//
//   - /livez says the process serves HTTP. Check results never make it
//     fail: restarting a process because its database is down only adds a
//     second outage.
//   - /readyz answers 200 or 503 over the configured checks, with
//     Kubernetes' ?verbose text ("[+]disk ok", "[-]db failed: reason") and
//     ?exclude=<check>; /readyz/<check> answers for one check.
//   - /health returns the full report as application/health+json, in the
//     shape of the IETF health check response draft, with the triage
//     findings and the ranked hypotheses as an extension.
//
// # Mounting
//
// The paths are relative to where the handler is mounted. At the root:
//
//	mux.Handle("/", h)                             // /livez, /readyz, /readyz/db, /health
//
// under a prefix, with a subtree pattern or http.StripPrefix:
//
//	mux.Handle("/healthz/", h)                     // /healthz/livez, /healthz/readyz/db ...
//	mux.Handle("/ops/", http.StripPrefix("/ops", h))
//
// or path by path, the handler or its parts:
//
//	mux.Handle("GET /livez", h.Livez())
//	mux.Handle("GET /readyz", h.Readyz())
//	mux.Handle("GET /readyz/{check}", h.Readyz())
//	mux.Handle("GET /health", h.Details())
//
// /healthz, Kubernetes' older name, answers as /readyz does, so that
// mux.Handle("/healthz", h) works too.
//
// # What a status means
//
// A check's status reads the same in every answer; "could not tell" is
// never shown as passing:
//
//	status     policy            /readyz  ?verbose line      health+json  triage_check_status
//	ok                           200      [+]db ok           pass         status="ok"
//	warn                         200      [+]db warn         warn         status="warn"
//	warn       FailOn: Warn      503      [-]db warn         fail         status="warn"
//	fail                         503      [-]db failed       fail         status="fail"
//	unknown                      200      [?]db unknown      warn         status="unknown"
//	unknown    FailUnknown       503      [-]db unknown      fail         status="unknown"
//
// Unknown is every way of not knowing: an error such as a permission
// denied, a check that panicked ([triage.ErrPanic]), one that did not
// return by its deadline or is still running from an earlier round
// ([triage.ErrUnresponsive]). The [+] and [-] marks say whether a check
// counts for or against readiness, [?] that it counts for neither. The
// document's overall status is "fail" when /readyz fails, "pass" when
// every check is ok, "warn" otherwise; /readyz/<check> and ?exclude apply
// the same table to the checks they keep.
//
// # Refreshing
//
// Results are cached for [Options.TTL]. A request that finds the snapshot
// stale is answered from it at once and starts a refresh behind it; one
// refresh runs at a time, bounded by [Options.Timeout], so a storm of
// probes never becomes a storm of /proc scans or DNS queries and no probe
// waits for a slow dependency. Only the first request, before any
// snapshot exists, waits for one, at most Timeout. Every answer from a
// snapshot says its age in whole seconds in the Age header; the details
// document carries the time its checks ran. A cached answer reads one
// atomic pointer and writes pre-rendered bytes.
//
// A check that ignores its context is abandoned at the round's deadline
// and not started again until it returns: meanwhile its result is Unknown
// with [triage.ErrUnresponsive], saying how long it has been running, and
// [Snapshot.Abandoned] lists it. A stuck check therefore holds one
// goroutine (one thread, when it is stuck in a system call) however many
// rounds pass. Nothing a check returns can wedge the handler: a result
// that panics while it is encoded is reported as such in the document,
// and the next round runs as usual.
//
// # Serving
//
// The handler answers in well under a microsecond; the server in front of
// it decides whether a probe gets through at all. An embedder must give
// its http.Server ReadHeaderTimeout, ReadTimeout, WriteTimeout (longer
// than Timeout, which the first request may wait), IdleTimeout and
// MaxHeaderBytes, and cap its connections below the process's file limit
// (golang.org/x/net/netutil.LimitListener). A cap alone lets idle
// keep-alive clients take every slot until their IdleTimeout, so that a
// probe's new connection waits in the backlog and liveness fails: close
// connections after their response once most of the cap is in use.
// examples/healthserver does all of it; its README section has the
// figures with 15,000 idle connections. Where the probes can have a port
// of their own, give them one.
//
// # When readiness changes
//
// By the time someone looks, the round that took a service out of
// rotation has been replaced by newer ones. The handler keeps the last
// Options.History changes of readiness (DefaultHistory), each with its
// whole round: the results and the classification. Handler.Transitions
// returns them; /health/transitions serves them, newest first, with the
// symptom, the cause and the failing checks with their reasons, to
// requests Options.Details allows (403 to others). With Options.Logger
// each change is also logged: a warning when the service stops being
// ready, an info line when it is ready again, so that the log pipeline
// keeps the evidence with the rest of the service's logs.
//
// # Safety
//
// Targets come only from [Options]; nothing in the request chooses what is
// probed. Reasons, findings and hypotheses can carry hostnames, addresses
// and error texts, so they are shown only when [Options.Details] allows
// the request; without it, /readyz?verbose lists check names and states
// only and /health says only the overall status.
package health
