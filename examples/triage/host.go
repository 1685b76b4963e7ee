package main

import (
	"context"
	"strconv"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/probe"
)

// planHost always checks the host's resources (top, free, vmstat) and adds
// one process check per -process NAME and per -pid N (ps, top -H). With a
// -pid, the host step judges memory and CPU against that process's cgroup
// limits, as a service in a container lives by them.
func planHost(c *config) ([]planned, error) {
	var host probe.HostOptions
	if len(c.pid) > 0 {
		host.CgroupPID = c.pid[0]
	}
	plan := []planned{{step: stepProcess, check: triage.Func("host", func(ctx context.Context) probe.HostResult {
		return probe.Host(ctx, host)
	})}}
	for _, name := range c.process {
		if name == "" {
			return nil, usagef("-process needs a process name")
		}
		opts := probe.ProcessOptions{Name: name}
		plan = append(plan, planned{step: stepProcess, check: triage.Func("process "+name,
			func(ctx context.Context) probe.ProcessResult { return probe.Process(ctx, opts) })})
	}
	for _, pid := range c.pid {
		if pid <= 0 {
			return nil, usagef("-pid must be a positive process id, not %d", pid)
		}
		opts := probe.ProcessOptions{PID: pid}
		plan = append(plan, planned{step: stepProcess, check: triage.Func("process "+strconv.Itoa(pid),
			func(ctx context.Context) probe.ProcessResult { return probe.Process(ctx, opts) })})
	}
	return plan, nil
}
