package promtriage

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/classify"
	"github.com/triagekit/triage/health"
)

// DefaultTimeout bounds a scrape that has to wait for the first round of
// checks when [Collector] has no Timeout.
const DefaultTimeout = 5 * time.Second

var (
	descStatus = prometheus.NewDesc("triage_check_status",
		"Current status of a triage check: 1 for the status it has, 0 for the others.",
		[]string{"check", "status"}, nil)
	descDuration = prometheus.NewDesc("triage_check_duration_seconds",
		"How long the triage check took; for a check still running from an earlier round, how long it has run.", []string{"check"}, nil)
	descFindings = prometheus.NewDesc("triage_findings",
		"Findings of a triage check by code and status.", []string{"check", "code", "status"}, nil)
	descScore = prometheus.NewDesc("triage_hypothesis_score",
		"Score of each raised hypothesis, from 0 to 1.", []string{"id", "layer"}, nil)
	descTop = prometheus.NewDesc("triage_top_hypothesis",
		"1 for the best-ranked hypothesis, when it has enough support to be called the cause.", []string{"id", "symptom", "layer"}, nil)
	descSymptom = prometheus.NewDesc("triage_symptom",
		"1 for the symptom derived or given; \"none\" when there is none.", []string{"symptom"}, nil)
	descReady = prometheus.NewDesc("triage_ready",
		"1 when the readiness endpoint would answer 200.", nil, nil)
	descTime = prometheus.NewDesc("triage_snapshot_timestamp_seconds",
		"Unix time the checks of the current snapshot ran.", nil, nil)
	descTarget = prometheus.NewDesc("triage_target_info",
		"What the checks are about, as the embedder named it: 1, with the target's process, unit and port as labels.", []string{"process", "unit", "port"}, nil)
	descAbandoned = prometheus.NewDesc("triage_checks_abandoned",
		"Checks still running after the round that started them gave up on them; each is not started again until it returns.", nil, nil)
)

var statuses = []triage.Status{triage.Unknown, triage.OK, triage.Warn, triage.Fail}

// Collector is a prometheus.Collector over a health handler's snapshot.
type Collector struct {
	// Source is the handler whose snapshot is exposed.
	Source *health.Handler
	// Timeout bounds a scrape that waits for the first round of checks.
	// If zero, DefaultTimeout.
	Timeout time.Duration
	// Target, when it names a process, a unit or a port, is exported as
	// triage_target_info, so that alerts and dashboards can say which
	// service an instance is.
	Target TargetInfo
}

// TargetInfo is what triage_target_info says of the target: the parts of
// a triage.Target that are the same on every instance of a service. Its
// URL, host, addresses, DNS name and paths are left out: they differ per
// instance and can be secret.
type TargetInfo struct {
	Process string
	Unit    string
	Port    int
}

// TargetInfoOf takes a target's process, unit and port.
func TargetInfoOf(t triage.Target) TargetInfo {
	return TargetInfo{Process: t.Process, Unit: t.Unit, Port: t.Port}
}

// NewCollector returns a collector over h.
func NewCollector(h *health.Handler) *Collector { return &Collector{Source: h} }

// Describe sends the descriptors of every metric the collector exports.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descStatus, descDuration, descFindings, descScore, descTop, descSymptom, descReady, descTime, descAbandoned, descTarget} {
		ch <- d
	}
}

// Collect sends the metrics of the current snapshot. When no snapshot can
// be had in time, it sends nothing, so that the scrape shows the gap
// rather than made-up values.
//
// Collect never panics and never sends two series with the same labels:
// a label that is not valid UTF-8 has its bad bytes replaced by U+FFFD,
// and checks that share a name are one series, whose status is the worst
// of theirs, whose duration the longest and whose findings are counted
// together. Should reading the snapshot panic nonetheless, the scrape
// reports the error instead of taking the process down.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	defer func() {
		if v := recover(); v != nil {
			ch <- prometheus.NewInvalidMetric(descReady, fmt.Errorf("promtriage: collecting the snapshot panicked: %v", v))
		}
	}()
	if t := c.Target; t.Process != "" || t.Unit != "" || t.Port != 0 {
		port := ""
		if t.Port != 0 {
			port = strconv.Itoa(t.Port)
		}
		ch <- prometheus.MustNewConstMetric(descTarget, prometheus.GaugeValue, 1, label(t.Process), label(t.Unit), port)
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s, ok := c.Source.Snapshot(ctx)
	if !ok {
		return
	}
	collect(ch, s)
}

// check is what the metrics say of the checks of one name.
type check struct {
	name     string
	status   triage.Status
	duration time.Duration
}

func collect(ch chan<- prometheus.Metric, s health.Snapshot) {
	var checks []*check
	byName := map[string]*check{}
	type findingKey struct {
		check, code, status string
	}
	counts := map[findingKey]int{}
	var order []findingKey
	for _, o := range s.Results {
		r := o.Common()
		name := label(triage.Redact(r.Label()))
		st := r.Status
		if st != triage.OK && st != triage.Warn && st != triage.Fail {
			st = triage.Unknown // also a status out of range
		}
		c := byName[name]
		if c == nil {
			c = &check{name: name, status: st}
			byName[name] = c
			checks = append(checks, c)
		}
		c.status = triage.Worst(c.status, st)
		c.duration = max(c.duration, r.Duration)
		for _, f := range r.Findings {
			k := findingKey{name, label(string(f.Code)), f.Status.String()}
			if counts[k] == 0 {
				order = append(order, k)
			}
			counts[k]++
		}
	}
	for _, c := range checks {
		for _, st := range statuses {
			send(ch, descStatus, boolValue(c.status == st), c.name, st.String())
		}
		send(ch, descDuration, c.duration.Seconds(), c.name)
	}
	for _, k := range order {
		send(ch, descFindings, float64(counts[k]), k.check, k.code, k.status)
	}
	type hypothesisKey struct{ id, layer string }
	scores := map[hypothesisKey]bool{}
	for _, h := range s.Report.Hypotheses {
		k := hypothesisKey{label(string(h.ID)), label(string(h.Layer))}
		if scores[k] {
			continue // ranked best first: the first is the one that counts
		}
		scores[k] = true
		send(ch, descScore, h.Score, k.id, k.layer)
	}
	// An inconclusive report has candidates, not a cause: an alert that
	// names one would be confidently wrong.
	if top, ok := s.Report.Cause(); ok {
		send(ch, descTop, 1, label(string(top.ID)), label(string(top.Symptom)), label(string(top.Layer)))
	}
	for _, sym := range []classify.Symptom{classify.None, classify.Refused, classify.Timeout, classify.Status5xx} {
		send(ch, descSymptom, boolValue(s.Report.Symptom == sym), string(sym))
	}
	send(ch, descReady, boolValue(s.Ready))
	send(ch, descTime, float64(s.Time.UnixNano())/1e9)
	send(ch, descAbandoned, float64(len(s.Abandoned)))
}

// send sends one gauge; the labels are valid by construction, so an error
// here would be a bug in this package, reported to the scrape.
func send(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	m, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, v, labels...)
	if err != nil {
		m = prometheus.NewInvalidMetric(d, err)
	}
	ch <- m
}

// label makes s a valid label value.
func label(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
