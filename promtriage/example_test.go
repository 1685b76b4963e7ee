package promtriage_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/health"
	"github.com/triagekit/triage/promtriage"
)

func ExampleNewCollector() {
	disk := triage.Check{Name: "disk", Run: func(ctx context.Context) triage.Outcome {
		r := &triage.Result{}
		r.Finish(nil)
		return r
	}}
	h := health.New(health.Options{Checks: []triage.Check{disk}})

	reg := prometheus.NewRegistry()
	reg.MustRegister(promtriage.NewCollector(h))
	mux := http.NewServeMux()
	mux.Handle("/readyz", h)
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))

	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "triage_ready" {
			fmt.Println(mf.GetName(), mf.GetMetric()[0].GetGauge().GetValue())
		}
	}
	// Output:
	// triage_ready 1
}
