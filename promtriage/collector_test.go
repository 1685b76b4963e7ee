package promtriage_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/health"
	"github.com/triagekit/triage/promtriage"
)

func check(name string, fs ...triage.Finding) triage.Check {
	return triage.Check{Name: name, Run: func(ctx context.Context) triage.Outcome {
		r := &triage.Result{}
		r.Add(fs...)
		r.Finish(nil)
		return r
	}}
}

func TestCollector(t *testing.T) {
	h := health.New(health.Options{Checks: []triage.Check{
		check("disk", triage.Finding{Code: "disk.full", Status: triage.Fail, Summary: "/data is full"}),
		check("sockstat", triage.Finding{Code: "sockstat.listening", Status: triage.OK, Summary: "listening on 10.0.0.1:80"}),
	}})
	c := promtriage.NewCollector(h)
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))

	expected := `
# HELP triage_check_status Current status of a triage check: 1 for the status it has, 0 for the others.
# TYPE triage_check_status gauge
triage_check_status{check="disk",status="fail"} 1
triage_check_status{check="disk",status="ok"} 0
triage_check_status{check="disk",status="unknown"} 0
triage_check_status{check="disk",status="warn"} 0
triage_check_status{check="sockstat",status="fail"} 0
triage_check_status{check="sockstat",status="ok"} 1
triage_check_status{check="sockstat",status="unknown"} 0
triage_check_status{check="sockstat",status="warn"} 0
# HELP triage_findings Findings of a triage check by code and status.
# TYPE triage_findings gauge
triage_findings{check="disk",code="disk.full",status="fail"} 1
triage_findings{check="sockstat",code="sockstat.listening",status="ok"} 1
# HELP triage_ready 1 when the readiness endpoint would answer 200.
# TYPE triage_ready gauge
triage_ready 0
# HELP triage_symptom 1 for the symptom derived or given; "none" when there is none.
# TYPE triage_symptom gauge
triage_symptom{symptom="5xx"} 0
triage_symptom{symptom="none"} 1
triage_symptom{symptom="refused"} 0
triage_symptom{symptom="timeout"} 0
# HELP triage_top_hypothesis 1 for the best-ranked hypothesis, when it has enough support to be called the cause.
# TYPE triage_top_hypothesis gauge
triage_top_hypothesis{id="disk.full",layer="disk",symptom="none"} 1
`
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(expected),
		"triage_check_status", "triage_findings", "triage_ready", "triage_symptom", "triage_top_hypothesis"))

	// No label carries a summary, a host or a path.
	n, err := testutil.GatherAndCount(reg)
	require.NoError(t, err)
	assert.Positive(t, n)
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				assert.NotContains(t, l.GetValue(), "/data")
				assert.NotContains(t, l.GetValue(), "10.0.0.1")
			}
		}
	}
}

// A check that panicked or is stuck reads unknown, never ok, and a stuck
// check is counted once, however many rounds pass.
func TestCollectorUnknownAndAbandoned(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	stuck := triage.Check{Name: "stuck", Run: func(context.Context) triage.Outcome {
		<-release // ignores its context
		r := &triage.Result{}
		r.Finish(nil)
		return r
	}}
	panics := triage.Check{Name: "panics", Run: func(context.Context) triage.Outcome { panic("boom") }}
	h := health.New(health.Options{Checks: []triage.Check{stuck, panics}, Timeout: 20 * time.Millisecond})
	for range 5 {
		h.Refresh(context.Background())
	}
	c := promtriage.NewCollector(h)
	expected := `
# HELP triage_check_status Current status of a triage check: 1 for the status it has, 0 for the others.
# TYPE triage_check_status gauge
triage_check_status{check="panics",status="fail"} 0
triage_check_status{check="panics",status="ok"} 0
triage_check_status{check="panics",status="unknown"} 1
triage_check_status{check="panics",status="warn"} 0
triage_check_status{check="stuck",status="fail"} 0
triage_check_status{check="stuck",status="ok"} 0
triage_check_status{check="stuck",status="unknown"} 1
triage_check_status{check="stuck",status="warn"} 0
# HELP triage_checks_abandoned Checks still running after the round that started them gave up on them; each is not started again until it returns.
# TYPE triage_checks_abandoned gauge
triage_checks_abandoned 1
`
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(expected), "triage_check_status", "triage_checks_abandoned"))
}

// TestCheckNamedAfterItsURL: a check named after a URL with a password
// never puts the password in a label.
func TestCheckNamedAfterItsURL(t *testing.T) {
	h := health.New(health.Options{Checks: []triage.Check{check("http://admin:hunter2@api.internal/health",
		triage.Finding{Code: "test.x", Status: triage.Fail})}})
	c := promtriage.NewCollector(h)
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				assert.NotContains(t, l.GetValue(), "hunter2", mf.GetName())
			}
		}
	}
}

func TestTargetInfo(t *testing.T) {
	h := health.New(health.Options{Checks: []triage.Check{check("db", triage.Finding{Code: "tcp.connected", Status: triage.OK, Summary: "ok"})}})
	c := promtriage.NewCollector(h)
	c.Target = promtriage.TargetInfoOf(triage.Target{Process: "orders", Port: 8080, URL: "https://user:secret@orders.internal/", Host: "orders.internal", Paths: []string{"/data"}})
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP triage_target_info What the checks are about, as the embedder named it: 1, with the target's process, unit and port as labels.
# TYPE triage_target_info gauge
triage_target_info{port="8080",process="orders",unit=""} 1
`), "triage_target_info"))
	n, err := testutil.GatherAndCount(reg)
	require.NoError(t, err)
	out, err := testutil.CollectAndFormat(c, expfmt.TypeTextPlain)
	require.NoError(t, err)
	for _, secret := range []string{"secret", "orders.internal", "/data"} {
		assert.NotContains(t, string(out), secret, "never a URL, a host or a path")
	}
	assert.Positive(t, n)

	// Unset, it is not exported at all.
	reg = prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(promtriage.NewCollector(h)))
	n, err = testutil.GatherAndCount(reg, "triage_target_info")
	require.NoError(t, err)
	assert.Zero(t, n)
}
