package main

import (
	"context"
	"fmt"
	"time"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/probe"
)

// probeTimeout bounds each request and connect of the drill's probes: the
// faults are on loopback, where an answer takes microseconds.
const probeTimeout = 2 * time.Second

func httpCheck(name string, o probe.HTTPOptions) triage.Check {
	if o.Timeout == 0 {
		o.Timeout = probeTimeout
	}
	return triage.Func(name, func(ctx context.Context) probe.HTTPResult { return probe.HTTP(ctx, o) })
}

// works requests o.URL as a client would before the fault, and says how
// it went; an error when it did not answer 200, since the drill cannot
// break what does not work.
func works(ctx context.Context, o probe.HTTPOptions) (string, error) {
	if o.Timeout == 0 {
		o.Timeout = probeTimeout
	}
	r := probe.HTTP(ctx, o)
	f, ok := r.Find(probe.CodeHTTPOK)
	if !ok {
		return "", fmt.Errorf("the server does not work before the fault: %s is %s: %v", o.URL, r.Status, r.Findings)
	}
	return f.Summary, nil
}
