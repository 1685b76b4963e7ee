// Package bench compares the health handler's cached answer with
// github.com/alexliesenfeld/health's. It is a module of its own so that
// the library never depends on what it is compared with:
//
//	cd bench && go test -run '^$' -bench HealthCached -benchmem
//
// Both sides serve a readiness answer from their cache for one configured
// check, a real TCP connect to a loopback listener, into the same minimal
// ResponseWriter reused across requests, so that neither side pays for a
// recorder and what is measured is the handler's own work. The check runs
// once, before the timer starts; each benchmark fails if it ran again.
package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	alex "github.com/alexliesenfeld/health"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/health"
	"github.com/triagekit/triage/probe"
)

// writer is the ResponseWriter both sides write into: a header map reused
// across requests and a body that is counted, not kept.
type writer struct {
	h    http.Header
	code int
	n    int
}

func newWriter() *writer { return &writer{h: http.Header{}} }

func (w *writer) Header() http.Header  { return w.h }
func (w *writer) WriteHeader(code int) { w.code = code }
func (w *writer) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.n += len(b)
	return len(b), nil
}

// dependency is a loopback listener the checks connect to.
type dependency struct {
	ln   net.Listener
	done chan struct{}
}

func listen(b *testing.B) *dependency {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	d := &dependency{ln: ln, done: make(chan struct{})}
	go func() {
		defer close(d.done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	b.Cleanup(func() { ln.Close(); <-d.done })
	return d
}

// handler is one side of the comparison: a readiness handler whose one
// check connects to dep, and a count of the check's runs.
type handler struct {
	name string
	make func(b *testing.B, dep string) (http.Handler, *atomic.Int64)
}

var sides = []handler{
	{"triage", func(b *testing.B, dep string) (http.Handler, *atomic.Int64) {
		var runs atomic.Int64
		h := health.New(health.Options{
			TTL: time.Hour,
			Checks: []triage.Check{triage.Func("dep", func(ctx context.Context) probe.TCPResult {
				runs.Add(1)
				return probe.TCP(ctx, probe.TCPOptions{Address: dep, Timeout: time.Second})
			})},
		})
		return h.Readyz(), &runs
	}},
	{"alexliesenfeld", func(b *testing.B, dep string) (http.Handler, *atomic.Int64) {
		var runs atomic.Int64
		c := alex.NewChecker(
			alex.WithCacheDuration(time.Hour),
			// Status only, like /readyz without ?verbose.
			alex.WithDisabledDetails(),
			alex.WithCheck(alex.Check{Name: "dep", Check: func(ctx context.Context) error {
				runs.Add(1)
				var d net.Dialer
				conn, err := d.DialContext(ctx, "tcp", dep)
				if err != nil {
					return err
				}
				return conn.Close()
			}}),
		)
		b.Cleanup(c.Stop)
		return alex.NewHandler(c), &runs
	}},
}

// prime serves one request, which runs the check and fills the cache,
// and checks that the answer is a pass.
func prime(b *testing.B, h http.Handler, req *http.Request, runs *atomic.Int64) {
	b.Helper()
	w := newWriter()
	h.ServeHTTP(w, req)
	if w.code != http.StatusOK || w.n == 0 {
		b.Fatalf("first answer: status %d, %d bytes; want 200 and a body", w.code, w.n)
	}
	if n := runs.Load(); n != 1 {
		b.Fatalf("check ran %d times before the first answer; want 1", n)
	}
}

func served(b *testing.B, runs *atomic.Int64) {
	b.Helper()
	if n := runs.Load(); n != 1 {
		b.Fatalf("check ran %d times; every answer after the first must come from the cache", n)
	}
}

// BenchmarkHealthCached is one reader at a time.
func BenchmarkHealthCached(b *testing.B) {
	for _, side := range sides {
		b.Run(side.name, func(b *testing.B) {
			dep := listen(b)
			h, runs := side.make(b, dep.ln.Addr().String())
			req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
			prime(b, h, req, runs)
			w := newWriter()
			b.ReportAllocs()
			for b.Loop() {
				w.code = 0
				h.ServeHTTP(w, req)
			}
			if w.code != http.StatusOK {
				b.Fatalf("status %d", w.code)
			}
			served(b, runs)
		})
	}
}

// BenchmarkHealthCachedParallel is many readers at once: one goroutine
// per P, then sixteen, as a probe storm would be. A handler that takes a
// lock per request loses here what it does not lose alone; run it with
// -cpu 1,2,4 to see how each side scales.
func BenchmarkHealthCachedParallel(b *testing.B) {
	for _, side := range sides {
		for _, perP := range []int{1, 16} {
			name := fmt.Sprintf("%s/readers=%d", side.name, perP*runtime.GOMAXPROCS(0))
			b.Run(name, func(b *testing.B) {
				dep := listen(b)
				h, runs := side.make(b, dep.ln.Addr().String())
				req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
				prime(b, h, req, runs)
				var bad atomic.Int64
				b.ReportAllocs()
				b.SetParallelism(perP)
				b.RunParallel(func(pb *testing.PB) {
					w := newWriter()
					for pb.Next() {
						w.code = 0
						h.ServeHTTP(w, req)
						if w.code != http.StatusOK {
							bad.Add(1)
						}
					}
				})
				if n := bad.Load(); n > 0 {
					b.Fatalf("%d answers were not 200", n)
				}
				served(b, runs)
			})
		}
	}
}
