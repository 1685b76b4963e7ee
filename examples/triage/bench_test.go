package main

import (
	"context"
	"io"
	"testing"
)

// BenchmarkRoutine is `triage` with no flags, in process: the host, kernel
// log, socket and disk checks, the classifier and the report, written to
// io.Discard. Most of its time is the two 250ms sample windows (host CPU,
// socket counters), which run side by side; its allocations are what one
// run of the routine costs the program embedding it.
func BenchmarkRoutine(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if code := run(ctx, nil, io.Discard, io.Discard); code > 1 {
			b.Fatalf("exit status %d", code)
		}
	}
}
