package host

import (
	"context"
	"testing"
	"time"
)

// BenchmarkHost is the default check, window included: what a caller
// pays per call. BenchmarkHost/window=1ms shows the cost of the reads and
// parsing without the wait.
func BenchmarkHost(b *testing.B) {
	ctx := context.Background()
	for _, bc := range []struct {
		name   string
		window time.Duration
	}{{"default", 0}, {"window=1ms", time.Millisecond}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := Check(ctx, Options{Window: bc.window})
				if r.Err != nil {
					b.Fatal(r.Err)
				}
			}
		})
	}
}
