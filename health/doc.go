// Package health serves the triage checks as Kubernetes-style health
// endpoints: /livez, /readyz and a details document.
//
// The routine answers "is the service healthy, and if not, why?"; this
// package answers it for load balancers, orchestrators and dashboards:
//
//   - /livez says the process serves HTTP. Check results never make it
//     fail: restarting a process because its database is down only adds a
//     second outage.
//   - /readyz runs the configured checks and answers 200 or 503, with
//     Kubernetes' ?verbose text ("[+]disk ok", "[-]db failed: reason").
//   - /health returns the full report as application/health+json, in the
//     shape of the IETF health check response draft, with the triage
//     findings and the ranked hypotheses as an extension.
//
// # Safety
//
// Targets come only from [Options]; nothing in the request chooses what is
// probed. Reasons, findings and hypotheses can carry hostnames, addresses
// and error texts, so they are shown only when [Options.Details] allows
// the request; without it, /readyz?verbose lists check names and states
// only and /health says only the overall status.
//
// Results are cached for [Options.TTL]. When the cache is stale, one
// request refreshes it while the others are served the last snapshot, so a
// storm of probes never becomes a storm of /proc scans or DNS queries. A
// cached answer reads one atomic pointer and writes pre-rendered bytes.
package health
