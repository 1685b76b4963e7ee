package main

import (
	"context"
	"path/filepath"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/diskcheck"
)

// planDisk checks every real filesystem plus those holding the -log files
// or, with -path, the filesystems holding those directories: bytes, inodes,
// read-only, deleted-but-open files, a writability probe, and the largest
// consumers under each -path.
func planDisk(c *config) ([]planned, error) {
	for _, p := range c.path {
		if p == "" {
			return nil, usagef("-path needs a directory")
		}
	}
	// A log's directory is on the log's filesystem and is still there when
	// the log was rotated away.
	var logDirs []string
	for _, l := range c.log {
		logDirs = append(logDirs, filepath.Dir(l))
	}
	o := diskcheck.Options{DeletedOpen: true}
	if len(c.path) > 0 {
		// Paths the user named are the ones the service writes to: probe them.
		o.Paths = append(append([]string{}, c.path...), logDirs...)
		o.Probe = !c.readOnly
	} else {
		o.Paths = logDirs
		o.All = true
	}
	pid := 0
	if c.inContainer() {
		// The filesystems as the container sees them, its paths resolved,
		// probed and walked inside its root.
		pid = c.ctr.PID()
		o.PID = pid
	}
	out := []planned{{step: stepDisk, check: triage.Func("diskcheck", func(ctx context.Context) diskcheck.Result {
		return diskcheck.Check(ctx, o)
	})}}
	for _, p := range c.path {
		out = append(out, planned{step: stepDisk, check: triage.Func("usage "+p, func(ctx context.Context) diskcheck.UsageResult {
			return diskcheck.Usage(ctx, diskcheck.UsageOptions{Path: p, Top: 5, PID: pid})
		})})
	}
	return out, nil
}
