package main

import (
	"context"
	"os"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/logscan"
)

// planLogs reads the files given with -log and the units given with
// -unit (from the -journal-dir journal when given) over the -since window,
// and the kernel log when it is readable. Under -container, the files and
// the journal are the container's.
func planLogs(c *config) ([]planned, error) {
	if c.since < 0 {
		return nil, usagef("-since must not be negative")
	}
	for _, p := range c.log {
		if p == "" {
			return nil, usagef("-log needs a path")
		}
	}
	for _, u := range c.unit {
		if u == "" || u[0] == '-' {
			return nil, usagef("-unit %q is not a unit name", u)
		}
	}
	if c.journalDir != "" && !c.inContainer() {
		if st, err := os.Stat(c.journalDir); err != nil || !st.IsDir() {
			return nil, usagef("-journal-dir %q is not a directory", c.journalDir)
		}
	}
	o := logscan.Options{
		Files:      c.log,
		Units:      c.unit,
		JournalDir: c.journalDir,
		Since:      c.since,
		// The kernel log explains timeouts and disk failures; read it when
		// this user may.
		Kernel: kernelLogReadable(),
	}
	if c.inContainer() {
		// The files and the journal by the paths the container uses,
		// inside its root.
		o.Open = c.ctr.Open
	}
	journal := len(o.Units) > 0 || o.JournalDir != ""
	if len(o.Files) == 0 && !journal && !o.Kernel {
		return nil, nil
	}
	trace := c.trace
	if trace != nil && (len(o.Files) > 0 || journal) {
		o.TraceID = trace.parent
	} else {
		trace = nil
	}
	return []planned{{step: stepLogs, check: triage.Func("logscan", func(ctx context.Context) logscan.Result {
		if trace != nil {
			// The service logs the request while or after answering it.
			trace.wait(ctx)
		}
		return logscan.Check(ctx, o)
	})}}, nil
}

func kernelLogReadable() bool {
	f, err := os.Open("/dev/kmsg")
	if err != nil {
		return false
	}
	f.Close()
	return true
}
