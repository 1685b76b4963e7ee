package promtriage

import (
	"context"
	"time"

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
		"How long the triage check took.", []string{"check"}, nil)
	descFindings = prometheus.NewDesc("triage_findings",
		"Findings of a triage check by code and status.", []string{"check", "code", "status"}, nil)
	descScore = prometheus.NewDesc("triage_hypothesis_score",
		"Score of each raised hypothesis, from 0 to 1.", []string{"id", "layer"}, nil)
	descTop = prometheus.NewDesc("triage_top_hypothesis",
		"1 for the best-ranked hypothesis.", []string{"id", "symptom", "layer"}, nil)
	descSymptom = prometheus.NewDesc("triage_symptom",
		"1 for the symptom derived or given; \"none\" when there is none.", []string{"symptom"}, nil)
	descReady = prometheus.NewDesc("triage_ready",
		"1 when the readiness endpoint would answer 200.", nil, nil)
	descTime = prometheus.NewDesc("triage_snapshot_timestamp_seconds",
		"Unix time the checks of the current snapshot ran.", nil, nil)
)

var statuses = []triage.Status{triage.Unknown, triage.OK, triage.Warn, triage.Fail}

// Collector is a prometheus.Collector over a health handler's snapshot.
type Collector struct {
	// Source is the handler whose snapshot is exposed.
	Source *health.Handler
	// Timeout bounds a scrape that waits for the first round of checks.
	// If zero, DefaultTimeout.
	Timeout time.Duration
}

// NewCollector returns a collector over h.
func NewCollector(h *health.Handler) *Collector { return &Collector{Source: h} }

// Describe sends the descriptors of every metric the collector exports.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descStatus, descDuration, descFindings, descScore, descTop, descSymptom, descReady, descTime} {
		ch <- d
	}
}

// Collect sends the metrics of the current snapshot. When no snapshot can
// be had in time, it sends nothing, so that the scrape shows the gap
// rather than made-up values.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
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

func collect(ch chan<- prometheus.Metric, s health.Snapshot) {
	type findingKey struct {
		check, code, status string
	}
	counts := map[findingKey]int{}
	var order []findingKey
	for _, o := range s.Results {
		r := o.Common()
		for _, st := range statuses {
			ch <- prometheus.MustNewConstMetric(descStatus, prometheus.GaugeValue, boolValue(r.Status == st), r.Label(), st.String())
		}
		ch <- prometheus.MustNewConstMetric(descDuration, prometheus.GaugeValue, r.Duration.Seconds(), r.Label())
		for _, f := range r.Findings {
			k := findingKey{r.Label(), string(f.Code), f.Status.String()}
			if counts[k] == 0 {
				order = append(order, k)
			}
			counts[k]++
		}
	}
	for _, k := range order {
		ch <- prometheus.MustNewConstMetric(descFindings, prometheus.GaugeValue, float64(counts[k]), k.check, k.code, k.status)
	}
	for _, h := range s.Report.Hypotheses {
		ch <- prometheus.MustNewConstMetric(descScore, prometheus.GaugeValue, h.Score, string(h.ID), string(h.Layer))
	}
	if top, ok := s.Report.Top(); ok {
		ch <- prometheus.MustNewConstMetric(descTop, prometheus.GaugeValue, 1, string(top.ID), string(top.Symptom), string(top.Layer))
	}
	for _, sym := range []classify.Symptom{classify.None, classify.Refused, classify.Timeout, classify.Status5xx} {
		ch <- prometheus.MustNewConstMetric(descSymptom, prometheus.GaugeValue, boolValue(s.Report.Symptom == sym), string(sym))
	}
	ch <- prometheus.MustNewConstMetric(descReady, prometheus.GaugeValue, boolValue(s.Ready))
	ch <- prometheus.MustNewConstMetric(descTime, prometheus.GaugeValue, float64(s.Time.UnixNano())/1e9)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
