// Package promtriage exposes triage results to Prometheus, for when one
// host is not enough and a fleet's health is watched in one place.
//
// A [Collector] reads the cached snapshot of a [health.Handler], so a
// scrape never runs checks of its own: the handler's TTL and single
// background refresh hold for scrapes as for probes, and a scrape that
// finds the snapshot stale is answered from it at once. The metrics use
// low-cardinality labels only — check names, finding codes, hypothesis
// ids and layers, all fixed by configuration or by the library — never
// hosts, paths or error texts:
//
//	triage_check_status{check,status}           1 for the check's current status (a state set)
//	triage_check_duration_seconds{check}        how long the check took (a stuck one: how long it has run)
//	triage_findings{check,code,status}          findings by code
//	triage_hypothesis_score{id,layer}           score of each raised hypothesis
//	triage_top_hypothesis{id,symptom,layer}     1 for the best hypothesis, if it is the cause (not inconclusive)
//	triage_symptom{symptom}                     1 for the symptom ("none" when there is none)
//	triage_ready                                1 when /readyz would answer 200
//	triage_snapshot_timestamp_seconds           when the checks ran
//	triage_checks_abandoned                     checks still running from a round that gave up on them
//	triage_target_info{process,unit,port}       1, what the checks are about (Collector.Target; absent when unset)
//
// Every one is a gauge: states, scores and counts of what is running now;
// none counts up. Each label's values are fixed by configuration (check
// names, the target) or by the library (codes, ids, layers, symptoms,
// statuses), so a fleet's series number its instances times a constant.
// A status means what it means in every answer of the health handler (see
// its package documentation): a check that could not tell — an error, a
// panic, a check that did not return — is status="unknown", never "ok".
// triage_checks_abandoned is at most the number of checks: one that
// ignores its context is not started again until it returns.
//
// A scrape never fails and the process never crashes because of a name:
// label values that are not valid UTF-8 are mended, and checks that share
// a name are exported as one.
//
// # Rules
//
// rules/triage.rules.yml holds recording and alerting rules to load in
// Prometheus: TriageNotReady (an instance out of rotation for 5 minutes,
// its first hypothesis in the description), TriageCause (the same with
// the hypothesis id as a label, for routing), TriageSharedCause (three
// instances or more blaming one hypothesis: what they share is the
// suspect), TriageStale (checks that stopped running), and counts per
// hypothesis and per job. rules/triage.rules.test.yml is their unit test
// (promtool test rules), run with this package's tests where promtool is
// installed.
//
// It is a separate package so that the core does not depend on
// prometheus/client_golang.
package promtriage
