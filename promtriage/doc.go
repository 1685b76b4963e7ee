// Package promtriage exposes triage results to Prometheus, for when one
// host is not enough and a fleet's health is watched in one place.
//
// A [Collector] reads the cached snapshot of a [health.Handler], so a
// scrape never runs checks of its own: the handler's TTL and single
// refresh hold for scrapes as for probes. The metrics use low-cardinality
// labels only — check names, finding codes, hypothesis ids and layers,
// all fixed by configuration or by the library — never hosts, paths or
// error texts:
//
//	triage_check_status{check,status}           1 for the check's current status (a state set)
//	triage_check_duration_seconds{check}        how long the check took
//	triage_findings{check,code,status}          findings by code
//	triage_hypothesis_score{id,layer}           score of each raised hypothesis
//	triage_top_hypothesis{id,symptom,layer}     1 for the best hypothesis, if any
//	triage_symptom{symptom}                     1 for the symptom ("none" when there is none)
//	triage_ready                                1 when /readyz would answer 200
//	triage_snapshot_timestamp_seconds           when the checks ran
//
// It is a separate package so that the core does not depend on
// prometheus/client_golang.
package promtriage
