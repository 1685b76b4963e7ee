package promtriage_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/health"
	"github.com/triagekit/triage/promtriage"
)

// scrape GETs url once and returns the body's size and its number of
// samples (lines that are not comments).
func scrape(b *testing.B, c *http.Client, url string) (int, int) {
	resp, err := c.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("scrape %s: %v %s", url, err, resp.Status)
	}
	samples := 0
	for _, l := range strings.Split(string(body), "\n") {
		if l != "" && l[0] != '#' {
			samples++
		}
	}
	return len(body), samples
}

// BenchmarkScrape is a Prometheus scrape of the collector over loopback
// HTTP, for handlers of 10 and 100 checks (each with two findings and a
// hypothesis raised), as promhttp serves it.
func BenchmarkScrape(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprintf("triage/checks=%d", n), func(b *testing.B) {
			var checks []triage.Check
			for i := range n {
				st := triage.OK
				if i%10 == 0 {
					st = triage.Fail
				}
				checks = append(checks, check(fmt.Sprintf("dep-%d", i),
					triage.Finding{Code: "tcp.connected", Status: st, Summary: "x"},
					triage.Finding{Code: "disk.space_low", Status: triage.Warn, Summary: "y"}))
			}
			h := health.New(health.Options{Checks: checks, TTL: time.Hour})
			defer h.Close(context.Background())
			h.Refresh(context.Background())
			reg := prometheus.NewRegistry()
			reg.MustRegister(promtriage.NewCollector(h))
			srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
			defer srv.Close()
			c := srv.Client()
			size, samples := scrape(b, c, srv.URL)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				scrape(b, c, srv.URL)
			}
			b.ReportMetric(float64(samples), "samples")
			b.ReportMetric(float64(size), "bytes")
		})
	}
}

// BenchmarkScrapeNodeExporter scrapes Debian's prometheus-node-exporter
// the same way, started for the benchmark on a free loopback port with its
// default collectors. It skips where the exporter is not installed. Its
// allocations are the client's only; the exporter's are in its process.
func BenchmarkScrapeNodeExporter(b *testing.B) {
	bin, err := exec.LookPath("prometheus-node-exporter")
	if err != nil {
		b.Skip("needs prometheus-node-exporter (Debian's package of that name)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "--web.listen-address="+addr)
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	c := &http.Client{}
	url := "http://" + addr + "/metrics"
	for i := 0; ; i++ {
		if resp, err := c.Get(url); err == nil {
			resp.Body.Close()
			break
		}
		if i == 100 {
			b.Fatal("node exporter did not answer")
		}
		time.Sleep(50 * time.Millisecond)
	}
	size, samples := scrape(b, c, url)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		scrape(b, c, url)
	}
	b.ReportMetric(float64(samples), "samples")
	b.ReportMetric(float64(size), "bytes")
}
