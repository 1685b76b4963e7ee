// Command fleet runs a small fleet the way one is watched in production,
// on one machine: several services, each in a network namespace of its
// own, each embedding the health handler and the Prometheus collector;
// a real Prometheus (Debian's prometheus package) scraping them with
// promtriage's rules; then one service's database goes away, and the
// command asks Prometheus, over its HTTP API, which instance has which
// hypothesis and whether the alert fires.
//
//	sudo go run ./examples/fleet
//
// It needs root (network namespaces and veth pairs), ip(8) and the
// prometheus binary. The rules are the shipped ones with their waits
// shortened from minutes to seconds, so that the alert fires while one
// watches.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/classify"
	"github.com/triagekit/triage/container"
	"github.com/triagekit/triage/health"
	"github.com/triagekit/triage/probe"
	"github.com/triagekit/triage/promtriage"
)

func main() {
	n := flag.Int("n", 3, "how many services")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, *n); err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		os.Exit(1)
	}
}

// fleet is what run set up, undone by close.
type fleet struct {
	dir      string
	services []*service
	prom     *exec.Cmd
	promAddr string
	undo     []func()
}

// service is one instance: its namespace, its address, its health
// handler's server, and the database it depends on, on the host side of
// its veth pair.
type service struct {
	name   string
	ns     string // ip netns name
	addr   string // where Prometheus scrapes it
	dbAddr string
	db     net.Listener
	ctr    *container.Container
	srv    *http.Server
}

func (f *fleet) close() {
	for i := len(f.undo) - 1; i >= 0; i-- {
		f.undo[i]()
	}
}

func run(ctx context.Context, w io.Writer, n int) error {
	if n < 1 || n > 50 {
		return fmt.Errorf("want 1 to 50 services, not %d", n)
	}
	if os.Geteuid() != 0 {
		return errors.New("needs root, for network namespaces")
	}
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		return errors.New("needs prometheus (Debian: apt install prometheus)")
	}
	dir, err := os.MkdirTemp("", "triage-fleet-")
	if err != nil {
		return err
	}
	f := &fleet{dir: dir}
	f.undo = append(f.undo, func() { os.RemoveAll(dir) })
	defer f.close()

	for i := 1; i <= n; i++ {
		s, err := f.start(i)
		if err != nil {
			return fmt.Errorf("service %d: %w", i, err)
		}
		f.services = append(f.services, s)
		fmt.Fprintf(w, "service %s: in netns %s, http://%s/metrics, its database at %s\n", s.name, s.ns, s.addr, s.dbAddr)
	}
	if err := f.startPrometheus(ctx, promBin); err != nil {
		return err
	}
	fmt.Fprintf(w, "prometheus: http://%s/ (scrape and rule interval 1s)\n", f.promAddr)

	// All up and ready, as Prometheus sees them.
	if err := f.until(ctx, 60*time.Second, func() (bool, error) {
		v, err := f.query(ctx, "sum(triage_ready)")
		return err == nil && len(v) == 1 && v[0].Value == fmt.Sprint(n), err
	}); err != nil {
		return fmt.Errorf("waiting for every service to be ready in Prometheus: %w", err)
	}
	fmt.Fprintf(w, "all %d services ready\n", n)

	broken := f.services[len(f.services)/2]
	fmt.Fprintf(w, "breaking %s: its database stops listening\n", broken.name)
	broken.db.Close()

	var cause []sample
	if err := f.until(ctx, 60*time.Second, func() (bool, error) {
		var err error
		cause, err = f.query(ctx, "triage_top_hypothesis == 1")
		return err == nil && len(cause) > 0, err
	}); err != nil {
		return fmt.Errorf("waiting for a hypothesis in Prometheus: %w", err)
	}
	for _, s := range cause {
		fmt.Fprintf(w, "prometheus: instance %s has top hypothesis %s (layer %s)\n", s.Metric["instance"], s.Metric["id"], s.Metric["layer"])
	}
	var firing []alert
	if err := f.until(ctx, 60*time.Second, func() (bool, error) {
		var err error
		firing, err = f.alerts(ctx, "TriageCause")
		return err == nil && len(firing) > 0, err
	}); err != nil {
		return fmt.Errorf("waiting for the alert to fire: %w", err)
	}
	for _, a := range firing {
		fmt.Fprintf(w, "alert %s firing: instance %s, %s\n", a.Labels["alertname"], a.Labels["instance"], a.Labels["id"])
	}
	return nil
}

// start makes service i: a namespace joined to the host by a veth pair
// (host 10.253.i.1, service 10.253.i.2), its database listening on the
// host side, and its handler served inside the namespace.
func (f *fleet) start(i int) (*service, error) {
	s := &service{
		name:   fmt.Sprintf("orders-%d", i),
		ns:     fmt.Sprintf("triage-fleet-%d-%d", os.Getpid(), i),
		addr:   fmt.Sprintf("10.253.%d.2:8080", i),
		dbAddr: fmt.Sprintf("10.253.%d.1:5432", i),
	}
	host, peer := fmt.Sprintf("tfh%x%d", os.Getpid()%0xffff, i), fmt.Sprintf("tfp%x%d", os.Getpid()%0xffff, i)
	steps := [][]string{
		{"netns", "add", s.ns},
		{"link", "add", host, "type", "veth", "peer", "name", peer},
		{"link", "set", peer, "netns", s.ns},
		{"addr", "add", fmt.Sprintf("10.253.%d.1/30", i), "dev", host},
		{"link", "set", host, "up"},
		{"-n", s.ns, "addr", "add", fmt.Sprintf("10.253.%d.2/30", i), "dev", peer},
		{"-n", s.ns, "link", "set", peer, "up"},
		{"-n", s.ns, "link", "set", "lo", "up"},
	}
	f.undo = append(f.undo, func() {
		_ = exec.Command("ip", "link", "del", host).Run()
		_ = exec.Command("ip", "netns", "del", s.ns).Run()
	})
	for _, args := range steps {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	var err error
	if s.db, err = net.Listen("tcp", s.dbAddr); err != nil {
		return nil, err
	}
	f.undo = append(f.undo, func() { s.db.Close() })
	go func() {
		for {
			c, err := s.db.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if s.ctr, err = container.OpenNetNS(filepath.Join("/var/run/netns", s.ns)); err != nil {
		return nil, err
	}
	f.undo = append(f.undo, func() { s.ctr.Close() })

	// The service's own checks, dialled from inside its namespace: its
	// listener, and its database.
	h := health.New(health.Options{
		Checks: []triage.Check{
			triage.Func("self", func(ctx context.Context) probe.TCPResult {
				return probe.TCP(ctx, probe.TCPOptions{Address: s.addr, Dialer: s.ctr})
			}),
			triage.Func("db", func(ctx context.Context) probe.TCPResult {
				return probe.TCP(ctx, probe.TCPOptions{Address: s.dbAddr, Dialer: s.ctr})
			}),
		},
		TTL:      time.Second,
		Classify: classify.Options{SymptomFrom: []string{"self"}},
	})
	reg := prometheus.NewRegistry()
	col := promtriage.NewCollector(h)
	col.Target = promtriage.TargetInfo{Process: "orders", Port: 8080}
	reg.MustRegister(col)
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	var ln net.Listener
	if err := s.ctr.Do(context.Background(), func() (err error) {
		ln, err = net.Listen("tcp", s.addr)
		return err
	}); err != nil {
		return nil, err
	}
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	f.undo = append(f.undo, func() {
		_ = s.srv.Close()
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Close(closeCtx)
	})
	return s, nil
}

// forRe finds the waits of the rules, shortened for the demonstration.
var forRe = regexp.MustCompile(`(?m)^(\s+for:) \S+$`)

func (f *fleet) startPrometheus(ctx context.Context, bin string) error {
	rules := forRe.ReplaceAll(promtriage.Rules, []byte("$1 3s"))
	if err := os.WriteFile(filepath.Join(f.dir, "triage.rules.yml"), rules, 0o644); err != nil {
		return err
	}
	var targets []string
	for _, s := range f.services {
		targets = append(targets, fmt.Sprintf("%q", s.addr))
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - triage.rules.yml
scrape_configs:
  - job_name: orders
    static_configs:
      - targets: [%s]
`, strings.Join(targets, ", "))
	if err := os.WriteFile(filepath.Join(f.dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	f.promAddr = ln.Addr().String()
	ln.Close()
	f.prom = exec.Command(bin, "--config.file="+filepath.Join(f.dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(f.dir, "data"), "--web.listen-address="+f.promAddr,
		"--log.level=warn")
	logf, err := os.Create(filepath.Join(f.dir, "prometheus.log"))
	if err != nil {
		return err
	}
	f.prom.Stdout, f.prom.Stderr = logf, logf
	if err := f.prom.Start(); err != nil {
		logf.Close()
		return err
	}
	f.undo = append(f.undo, func() {
		_ = f.prom.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = f.prom.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = f.prom.Process.Kill()
			<-done
		}
		logf.Close()
	})
	return f.until(ctx, 30*time.Second, func() (bool, error) {
		resp, err := http.Get("http://" + f.promAddr + "/-/ready")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}

// until polls cond every 500ms until it holds, ctx ends or limit passes.
func (f *fleet) until(ctx context.Context, limit time.Duration, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("%w (last error: %v)", ctx.Err(), last)
			}
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

type sample struct {
	Metric map[string]string
	Value  string
}

// query runs an instant query through Prometheus' HTTP API.
func (f *fleet) query(ctx context.Context, q string) ([]sample, error) {
	var doc struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := f.get(ctx, "/api/v1/query?query="+url.QueryEscape(q), &doc); err != nil {
		return nil, err
	}
	out := make([]sample, len(doc.Data.Result))
	for i, r := range doc.Data.Result {
		out[i] = sample{Metric: r.Metric, Value: fmt.Sprint(r.Value[1])}
	}
	return out, nil
}

type alert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

// alerts returns the alerts called name that are firing.
func (f *fleet) alerts(ctx context.Context, name string) ([]alert, error) {
	var doc struct {
		Data struct {
			Alerts []alert `json:"alerts"`
		} `json:"data"`
	}
	if err := f.get(ctx, "/api/v1/alerts", &doc); err != nil {
		return nil, err
	}
	var out []alert
	for _, a := range doc.Data.Alerts {
		if a.Labels["alertname"] == name && a.State == "firing" {
			out = append(out, a)
		}
	}
	return out, nil
}

func (f *fleet) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+f.promAddr+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("prometheus %s: %s", path, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(v)
}
