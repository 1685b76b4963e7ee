package main

import (
	"context"
	"strconv"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/host"
	"github.com/triagekit/triage/process"
)

// planHost always checks the host's resources (top, free, vmstat) and adds
// one process check per -process NAME and per -pid N (ps, top -H). With a
// -pid, the host step judges memory and CPU against that process's cgroup
// limits, as a service in a container lives by them.
func planHost(c *config) ([]planned, error) {
	var hostOpts host.Options
	if len(c.pid) > 0 {
		hostOpts.CgroupPID = c.pid[0]
	}
	plan := []planned{{step: stepProcess, check: triage.Func("host", func(ctx context.Context) host.Result {
		return host.Check(ctx, hostOpts)
	})}}
	for _, name := range c.process {
		if name == "" {
			return nil, usagef("-process needs a process name")
		}
		opts := process.Options{Name: name}
		if c.inContainer() {
			// The container's processes of that name, not the host's.
			opts.PIDNamespaceOf = c.ctr.PID()
		}
		plan = append(plan, planned{step: stepProcess, check: triage.Func("process "+name,
			func(ctx context.Context) process.Result { return process.Check(ctx, opts) })})
	}
	for _, pid := range c.pid {
		if pid <= 0 {
			return nil, usagef("-pid must be a positive process id, not %d", pid)
		}
		opts := process.Options{PID: pid}
		plan = append(plan, planned{step: stepProcess, check: triage.Func("process "+strconv.Itoa(pid),
			func(ctx context.Context) process.Result { return process.Check(ctx, opts) })})
	}
	return plan, nil
}
