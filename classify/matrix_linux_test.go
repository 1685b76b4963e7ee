//go:build linux

package classify_test

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
	_ "modernc.org/sqlite"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/classify"
	"github.com/triagekit/triage/diskcheck"
	"github.com/triagekit/triage/dnscheck"
	"github.com/triagekit/triage/host"
	"github.com/triagekit/triage/internal/testca"
	"github.com/triagekit/triage/internal/testcgroup"
	"github.com/triagekit/triage/internal/testhaproxy"
	"github.com/triagekit/triage/internal/testmount"
	"github.com/triagekit/triage/internal/testnet"
	"github.com/triagekit/triage/internal/testnginx"
	"github.com/triagekit/triage/logscan"
	"github.com/triagekit/triage/probe"
	"github.com/triagekit/triage/process"
	"github.com/triagekit/triage/sockstat"
)

// The fault matrix: for every hypothesis that can be produced on one Linux
// machine as root, set up the real fault, run the real checks through the
// runner, and assert the top hypothesis. Set TRIAGE_MATRIX_TABLE to a file
// name to get the accuracy table as Markdown.

type scenario struct {
	name    string
	want    classify.ID      // the expected top hypothesis; "" for healthy
	symptom classify.Symptom // given by the caller, if any
	// setup makes the fault and returns the checks to run and the names
	// of the checks that decide the symptom.
	setup func(t *testing.T) (checks []triage.Check, targets []string)
	// cli, instead of setup, makes the fault and returns the arguments of
	// the triage command that diagnoses it, which the matrix runs (see
	// runCommand).
	cli func(t *testing.T) []string
}

type matrixRow struct {
	run, scenario, want, top, symptom string
	score                             float64
	inconclusive                      bool
}

const target = "target"

// aimed holds the target each scenario's setup names, by test name: what
// an operator would give the triage command besides the request.
var aimed sync.Map

// aim names what the scenario's operator asks about.
func aim(t *testing.T, tg triage.Target) { aimed.Store(t.Name(), tg) }

func TestIntegrationFaultMatrix(t *testing.T) {
	testnet.Require(t)
	bin := buildCommand(t)
	var (
		mu   sync.Mutex
		rows []matrixRow
	)
	for _, run := range []string{"quiet", "noisy"} {
		t.Run(run, func(t *testing.T) {
			if run == "noisy" {
				startNoise(t)
			}
			for _, sc := range matrix() {
				t.Run(sc.name, func(t *testing.T) {
					if sc.cli != nil {
						row := runCommand(t, run, sc, bin)
						mu.Lock()
						rows = append(rows, row)
						mu.Unlock()
						return
					}
					checks, targets := sc.setup(t)
					checks = append(checks, routine(t)...)
					var tg triage.Target
					if v, ok := aimed.Load(t.Name()); ok {
						tg = v.(triage.Target)
					}
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					defer cancel()
					results := triage.Runner{}.Run(ctx, checks...)
					opts := classify.Options{Symptom: sc.symptom, SymptomFrom: targets, Target: tg}
					rep := classify.Classify(results, opts)
					record(t, run, sc, opts, rep, results)

					row := matrixRow{run: run, scenario: sc.name, want: string(sc.want), symptom: string(rep.Symptom), inconclusive: rep.Inconclusive}
					if top, ok := rep.Top(); ok {
						row.top, row.score = string(top.ID), top.Score
					}
					mu.Lock()
					rows = append(rows, row)
					mu.Unlock()

					if sc.want == "" {
						assert.Equal(t, classify.None, rep.Symptom)
						assert.Empty(t, rep.Hypotheses, "a healthy service raises nothing: %s", describe(rep, results))
					} else {
						assert.Equal(t, string(sc.want), row.top, "ranking: %s", describe(rep, results))
						assert.False(t, rep.Inconclusive, "a known fault is called: %s", describe(rep, results))
					}
				})
			}
		})
	}
	if path := os.Getenv("TRIAGE_MATRIX_TABLE"); path != "" {
		writeTable(t, path, rows)
	}
}

// routine are the checks of the whole host the triage command runs for
// any target: they see whatever else is wrong on the host (an OOM kill
// elsewhere, another filesystem full), which must not change the answer.
func routine(t *testing.T) []triage.Check {
	checks := []triage.Check{diskCheck(diskcheck.Options{})}
	if f, err := os.Open("/dev/kmsg"); err == nil {
		f.Close()
		checks = append(checks, triage.Func("kernel log", func(ctx context.Context) logscan.Result {
			return logscan.Check(ctx, logscan.Options{Kernel: true, Since: time.Minute})
		}))
	}
	return checks
}

func describe(rep classify.Report, results []triage.Outcome) string {
	var b strings.Builder
	fmt.Fprintf(&b, "symptom %q\n", rep.Symptom)
	for _, h := range rep.Hypotheses {
		fmt.Fprintf(&b, "  %s %.3f\n", h.ID, h.Score)
	}
	for _, o := range results {
		r := o.Common()
		fmt.Fprintf(&b, "  [%s %s err=%v]", r.Check, r.Status, r.Err)
		for _, f := range r.Findings {
			fmt.Fprintf(&b, " %s(%s)", f.Code, f.Status)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func writeTable(t *testing.T, path string, rows []matrixRow) {
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].want < rows[j].want })
	type cell struct {
		top      string
		score    float64
		inconc   bool
		want     string
		symptom  string
		scenario string
	}
	byName := map[string]map[string]cell{}
	var order []string
	for _, r := range rows {
		if byName[r.scenario] == nil {
			byName[r.scenario] = map[string]cell{}
			order = append(order, r.scenario)
		}
		byName[r.scenario][r.run] = cell{r.top, r.score, r.inconclusive, r.want, r.symptom, r.scenario}
	}
	var b strings.Builder
	b.WriteString("| scenario | expected | top-1 quiet | score | top-1 noisy | score | symptom |\n|---|---|---|---|---|---|---|\n")
	show := func(s string) string {
		if s == "" {
			return "(none)"
		}
		return s
	}
	for _, name := range order {
		q, n := byName[name]["quiet"], byName[name]["noisy"]
		fmt.Fprintf(&b, "| %s | `%s` | `%s` | %.2f | `%s` | %.2f | %s |\n", name, show(q.want), show(q.top), q.score, show(n.top), n.score, orNone(q.symptom))
	}
	// Calibration: how often the first hypothesis was right, per band.
	bands := []struct {
		name     string
		lo, hi   float64
		right, n int
	}{{"strong (≥0.80)", classify.Strong, 2, 0, 0}, {"likely (0.60–0.80)", classify.Likely, classify.Strong, 0, 0},
		{"possible (0.35–0.60)", classify.Possible, classify.Likely, 0, 0}, {"weak (<0.35, inconclusive)", 0, classify.Possible, 0, 0}}
	for _, r := range rows {
		if r.top == "" {
			continue
		}
		for i := range bands {
			if r.score >= bands[i].lo && r.score < bands[i].hi {
				bands[i].n++
				if r.top == r.want {
					bands[i].right++
				}
			}
		}
	}
	b.WriteString("\n| score band | top-1 right | of |\n|---|---|---|\n")
	for _, bd := range bands {
		fmt.Fprintf(&b, "| %s | %d | %d |\n", bd.name, bd.right, bd.n)
	}
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
}

func orNone(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// Checks, named as the triage command names them.

func tcpCheck(name, addr string, d probe.Dialer) triage.Check {
	return triage.Func(name, func(ctx context.Context) probe.TCPResult {
		return probe.TCP(ctx, probe.TCPOptions{Address: addr, Timeout: time.Second, Dialer: d})
	})
}

func httpCheck(name, u string, d probe.Dialer) triage.Check {
	return triage.Func(name, func(ctx context.Context) probe.HTTPResult {
		return probe.HTTP(ctx, probe.HTTPOptions{URL: u, Timeout: 2 * time.Second, Dialer: d})
	})
}

func sockCheck(o sockstat.Options) triage.Check {
	if o.Sample == 0 {
		o.Sample = -1
	}
	return triage.Func("sockstat", func(ctx context.Context) sockstat.Result { return sockstat.Check(ctx, o) })
}

func diskCheck(o diskcheck.Options) triage.Check {
	return triage.Func("diskcheck", func(ctx context.Context) diskcheck.Result { return diskcheck.Check(ctx, o) })
}

func logCheck(o logscan.Options) triage.Check {
	return triage.Func("logscan", func(ctx context.Context) logscan.Result { return logscan.Check(ctx, o) })
}

func dnsCheck(o dnscheck.Options) triage.Check {
	return triage.Func("dnscheck", func(ctx context.Context) dnscheck.Result { return dnscheck.Check(ctx, o) })
}

// hostCheck judges the host and the cgroup of the service pid.
func hostCheck(pid int) triage.Check {
	return triage.Func("host", func(ctx context.Context) host.Result {
		return host.Check(ctx, host.Options{Window: 500 * time.Millisecond, CgroupPID: pid})
	})
}

// service starts an idle process that stands for the service the
// operator asks about, and returns its PID.
func service(t *testing.T) int {
	cmd := exec.Command("sleep", "600")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd.Process.Pid
}

// serve runs an HTTP server on ln until the test ends.
func serve(t *testing.T, ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
}

// hang blocks handlers until the test ends.
func hang(t *testing.T) http.Handler {
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
}

// upstream serves h on a loopback port of this host until the test ends.
func upstream(t *testing.T, h http.Handler) net.Listener {
	up, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { up.Close() })
	serve(t, up, h)
	return up
}

// slow answers each request after d, or when the test ends.
func slow(t *testing.T, d time.Duration) http.Handler {
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(d):
			_, _ = w.Write([]byte("ok\n"))
		case <-release:
		case <-r.Context().Done():
		}
	})
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })

func port(ln net.Listener) int { return ln.Addr().(*net.TCPAddr).Port }

var loopback = netip.MustParseAddr("127.0.0.1")

// proxy runs Go's reverse proxy inside ns in front of upstream, answering
// 504 when the upstream does not answer in time and 502 otherwise, as
// nginx does.
func proxy(t *testing.T, ns *testnet.NS, upstream string) string {
	u, err := url.Parse("http://" + upstream)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(u)
	tr := &http.Transport{DialContext: ns.DialContext, ResponseHeaderTimeout: 500 * time.Millisecond}
	t.Cleanup(tr.CloseIdleConnections)
	rp.Transport = tr
	rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			w.WriteHeader(http.StatusGatewayTimeout)
			return
		}
		w.WriteHeader(http.StatusBadGateway)
	}
	ln := ns.Listen(t, "tcp", "127.0.0.1:0")
	serve(t, ln, rp)
	return ln.Addr().String()
}

// fill writes to dir until the filesystem says ENOSPC.
func fill(t *testing.T, dir string, fileSize int) {
	buf := make([]byte, fileSize)
	for i := 0; ; i++ {
		err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%06d", i)), buf, 0o644)
		if errors.Is(err, unix.ENOSPC) {
			return
		}
		require.NoError(t, err)
	}
}

// dnsServer answers every question with h on a fresh UDP port of addr.
func dnsServer(t *testing.T, addr string, h dns.HandlerFunc) string {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: h, NotifyStartedFunc: func() { close(started) }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ActivateAndServe()
	}()
	<-started
	t.Cleanup(func() {
		_ = srv.Shutdown()
		<-done
	})
	return pc.LocalAddr().String()
}

// answer replies with A records for any name, or with rcode when no
// address is given.
func answer(rcode int, addrs ...string) dns.HandlerFunc {
	return func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		m.Rcode = rcode
		q := req.Question[0]
		for _, a := range addrs {
			ip := net.ParseIP(a)
			switch {
			case ip.To4() != nil && q.Qtype == dns.TypeA:
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: ip})
			case ip.To4() == nil && q.Qtype == dns.TypeAAAA:
				m.Answer = append(m.Answer, &dns.AAAA{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: 60}, AAAA: ip})
			}
		}
		_ = w.WriteMsg(m)
	}
}

// burn keeps every core busy until the test ends.
func burn(t *testing.T) {
	for range runtime.NumCPU() {
		cmd := exec.Command("sh", "-c", "while :; do :; done")
		require.NoError(t, cmd.Start())
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
	}
	time.Sleep(200 * time.Millisecond)
}

func matrix() []scenario {
	return append(hostScenarios(), containerScenarios()...)
}

func hostScenarios() []scenario {
	return []scenario{
		{
			name: "healthy service", want: "",
			setup: func(t *testing.T) ([]triage.Check, []string) {
				ns := testnet.New(t)
				ln := ns.Listen(t, "tcp", "127.0.0.1:0")
				serve(t, ln, okHandler)
				return []triage.Check{
					httpCheck(target, "http://"+ln.Addr().String()+"/", ns),
					sockCheck(sockstat.Options{NetNS: ns.Path, Port: port(ln), Addr: loopback}),
				}, []string{target}
			},
		},
		{
			name: "nothing listens on the port", want: classify.RefusedNotListening,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				ns := testnet.New(t)
				return []triage.Check{
					tcpCheck(target, "127.0.0.1:8080", ns),
					sockCheck(sockstat.Options{NetNS: ns.Path, Port: 8080, Addr: loopback}),
				}, []string{target}
			},
		},
		{
			name: "service bound to 127.0.0.2, clients dial 127.0.0.1", want: classify.RefusedWrongAddress,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				ns := testnet.New(t)
				ns.Listen(t, "tcp", "127.0.0.2:8080")
				return []triage.Check{
					tcpCheck(target, "127.0.0.1:8080", ns),
					sockCheck(sockstat.Options{NetNS: ns.Path, Port: 8080, Addr: loopback}),
				}, []string{target}
			},
		},
		{
			name: "named process not running", want: classify.RefusedNoProcess,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				ns := testnet.New(t)
				return []triage.Check{
					tcpCheck(target, "127.0.0.1:8080", ns),
					sockCheck(sockstat.Options{NetNS: ns.Path, Port: 8080, Addr: loopback}),
					triage.Func("process", func(ctx context.Context) process.Result {
						return process.Check(ctx, process.Options{Name: "triage-matrix-absent-svc"})
					}),
				}, []string{target}
			},
		},
		{
			name: "iptables REJECT in front of a listener", want: classify.RefusedFirewall,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				testnet.RequireIPTables(t)
				ns := testnet.New(t)
				ns.Listen(t, "tcp", "127.0.0.1:8080")
				ns.Exec(t, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", "8080", "-j", "REJECT", "--reject-with", "tcp-reset")
				return []triage.Check{
					tcpCheck(target, "127.0.0.1:8080", ns),
					sockCheck(sockstat.Options{NetNS: ns.Path, Port: 8080, Addr: loopback}),
				}, []string{target}
			},
		},
		{
			name: "no route to the target from the service's namespace", want: classify.RefusedNoRoute,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				// A namespace with loopback only, as a container whose
				// network was never attached: any other address is
				// unreachable at once.
				ns := testnet.New(t)
				return []triage.Check{
					tcpCheck(target, "192.0.2.10:5432", ns),
					sockCheck(sockstat.Options{NetNS: ns.Path, Target: triage.Target{Host: "192.0.2.10", Port: 5432}}),
				}, []string{target}
			},
		},
		{
			name: "the resolver cannot be reached from the service's namespace", want: classify.DNSUnreachable,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				// Loopback only, and a resolv.conf naming a nameserver
				// beyond it: every query fails at once.
				ns := testnet.New(t)
				dir := t.TempDir()
				rc, hosts := filepath.Join(dir, "resolv.conf"), filepath.Join(dir, "hosts")
				require.NoError(t, os.WriteFile(rc, []byte("nameserver 192.0.2.53\noptions timeout:1 attempts:1\n"), 0o644))
				require.NoError(t, os.WriteFile(hosts, []byte("127.0.0.1 localhost\n"), 0o644))
				lookup, err := dnscheck.AppLookupVia(hosts, rc, ns)
				require.NoError(t, err)
				return []triage.Check{
					triage.Func(target, func(ctx context.Context) probe.TCPResult {
						return probe.TCP(ctx, probe.TCPOptions{Address: "api.internal:8080", Timeout: time.Second, Dialer: ns, Lookup: probe.LookupFunc(lookup)})
					}),
					dnsCheck(dnscheck.Options{Name: "api.internal", ResolvConf: rc, HostsFile: hosts, Dialer: ns, QueryTimeout: time.Second}),
				}, []string{target}
			},
		},
		{
			name: "iptables DROP eats the SYNs", want: classify.TimeoutPacketDrop,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				testnet.RequireIPTables(t)
				ns := testnet.New(t)
				ns.Listen(t, "tcp", "127.0.0.1:8080")
				ns.Exec(t, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", "8080", "-j", "DROP")
				return []triage.Check{
					tcpCheck(target, "127.0.0.1:8080", ns),
					sockCheck(sockstat.Options{NetNS: ns.Path, Port: 8080, Addr: loopback}),
				}, []string{target}
			},
		},
		{
			name: "the connection-tracking table is full", want: classify.ConnConntrackFull,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				// The service listens and accepts; the kernel drops the
				// SYNs of new connections for lack of room to track them.
				ns := testnet.New(t)
				ln := ns.Listen(t, "tcp", "127.0.0.1:8080")
				testnet.Hold(t, ln)
				ns.FillConntrack(t, "127.0.0.1:8080", 16)
				return []triage.Check{
					tcpCheck(target, "127.0.0.1:8080", ns),
					sockCheck(sockstat.Options{NetNS: ns.Path, Port: 8080, Addr: loopback}),
				}, []string{target}
			},
		},
		{
			name: "every first SYN dropped: connecting takes a retransmit", want: classify.SlowConnect,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				testnet.RequireIPTables(t)
				ns := testnet.New(t)
				ln := ns.Listen(t, "tcp", "127.0.0.1:8080")
				serve(t, ln, okHandler)
				// Every other SYN is lost, as on a lossy link or a
				// conntrack table that drops: the client's retransmit
				// after a second gets through.
				ns.Exec(t, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", "8080", "--syn",
					"-m", "statistic", "--mode", "nth", "--every", "2", "--packet", "0", "-j", "DROP")
				return []triage.Check{
					triage.Func(target, func(ctx context.Context) probe.HTTPResult {
						return probe.HTTP(ctx, probe.HTTPOptions{URL: "http://127.0.0.1:8080/", Timeout: 4 * time.Second, Dialer: ns})
					}),
					sockCheck(sockstat.Options{NetNS: ns.Path, Port: 8080, Addr: loopback}),
				}, []string{target}
			},
		},
		{
			name: "accept queue full", want: classify.TimeoutBacklogFull,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				ns := testnet.New(t)
				_, ap := ns.ListenBacklog(t, "127.0.0.1:0", 1, -1)
				for range 4 {
					ns.Connect(t, ap)
				}
				time.Sleep(100 * time.Millisecond)
				return []triage.Check{
					tcpCheck(target, ap.String(), ns),
					sockCheck(sockstat.Options{NetNS: ns.Path, Port: int(ap.Port()), Addr: loopback}),
				}, []string{target}
			},
		},
		{
			name: "server accepts and never answers", want: classify.TimeoutSlowApp,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				ns := testnet.New(t)
				ln := ns.Listen(t, "tcp", "127.0.0.1:0")
				serve(t, ln, hang(t))
				return []triage.Check{
					httpCheck(target, "http://"+ln.Addr().String()+"/", ns),
					sockCheck(sockstat.Options{NetNS: ns.Path, Port: port(ln), Addr: loopback}),
				}, []string{target}
			},
		},
		{
			name: "slow because the database pool is exhausted", want: classify.TimeoutDependency,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				ns := testnet.New(t)
				ln := ns.Listen(t, "tcp", "127.0.0.1:0")
				serve(t, ln, hang(t))
				db := exhaustedPool(t)
				return []triage.Check{
					httpCheck(target, "http://"+ln.Addr().String()+"/", ns),
					triage.Func("probe.db", func(ctx context.Context) probe.DBResult {
						return probe.DB(ctx, db, probe.DBOptions{Interval: 300 * time.Millisecond})
					}),
				}, []string{target}
			},
		},
		{
			name: "Go reverse proxy, dead upstream (502)", want: classify.UpstreamRefused,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				ns := testnet.New(t)
				front := proxy(t, ns, "127.0.0.1:9")
				return []triage.Check{httpCheck(target, "http://"+front+"/", ns)}, []string{target}
			},
		},
		{
			name: "Go reverse proxy, hung upstream (504)", want: classify.UpstreamTimeout,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				ns := testnet.New(t)
				up := ns.Listen(t, "tcp", "127.0.0.1:0")
				serve(t, up, hang(t))
				front := proxy(t, ns, up.Addr().String())
				return []triage.Check{httpCheck(target, "http://"+front+"/", ns)}, []string{target}
			},
		},
		{
			name: "nginx, dead upstream, its error log scanned", want: classify.UpstreamRefused,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				p := testnginx.Start(t, map[string]string{"/": deadPort(t)})
				return nginxChecks(t, p)
			},
		},
		{
			name: "nginx, hung upstream, its error log scanned", want: classify.UpstreamTimeout,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				up := upstream(t, hang(t))
				p := testnginx.Start(t, map[string]string{"/": up.Addr().String()})
				return nginxChecks(t, p)
			},
		},
		{
			name: "timeout given, but the port refuses", want: classify.RefusedNotListening, symptom: classify.Timeout,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				ns := testnet.New(t)
				return []triage.Check{
					tcpCheck(target, "127.0.0.1:8080", ns),
					sockCheck(sockstat.Options{NetNS: ns.Path, Port: 8080, Addr: loopback}),
				}, []string{target}
			},
		},
		{
			name: "healthy service reached as localhost, DNS says NXDOMAIN", want: "",
			setup: func(t *testing.T) ([]triage.Check, []string) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
				serve(t, ln, okHandler)
				return append(localhost(t),
					httpCheck(target, fmt.Sprintf("http://localhost:%d/", port(ln)), nil),
					sockCheck(sockstat.Options{Target: triage.Target{Host: "localhost", Port: port(ln)}}),
				), []string{target}
			},
		},
		{
			name: "dead service reached as localhost, DNS says NXDOMAIN", want: classify.RefusedNotListening,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				p := deadPort(t)
				_, ps, _ := net.SplitHostPort(p)
				n, _ := strconv.Atoi(ps)
				return append(localhost(t),
					httpCheck(target, fmt.Sprintf("http://localhost:%d/", n), nil),
					sockCheck(sockstat.Options{Target: triage.Target{Host: "localhost", Port: n}}),
				), []string{target}
			},
		},
		{
			name: "nginx, dead upstream, probed as a dependency", want: classify.UpstreamRefused,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				up := deadPort(t)
				p := testnginx.Start(t, map[string]string{"/": up})
				return []triage.Check{
					httpCheck(target, "http://"+p.Addr+"/", nil),
					tcpCheck("dependency "+up, up, nil),
				}, []string{target}
			},
		},
		{
			name: "app answers 500: its database refuses, logged and probed", want: classify.DependencyDown,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				db := deadPort(t)
				logPath := filepath.Join(t.TempDir(), "app.log")
				app := appServer(t, logPath, func() error {
					c, err := net.DialTimeout("tcp", db, time.Second)
					if err == nil {
						c.Close()
					}
					return err
				})
				return []triage.Check{
					httpCheck(target, app, nil),
					logCheck(logscan.Options{Files: []string{logPath}, Since: time.Minute}),
					tcpCheck("dependency "+db, db, nil),
				}, []string{target}
			},
		},
		{
			name: "app answers 500 and logs JSON lines: its cache refuses", want: classify.DependencyDown,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				cache := deadPort(t)
				logPath := filepath.Join(t.TempDir(), "app.jsonl")
				f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
				require.NoError(t, err)
				t.Cleanup(func() { f.Close() })
				// A Go service logging with log/slog's JSON handler.
				logger := slog.New(slog.NewJSONHandler(f, nil))
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
				serve(t, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					c, err := net.DialTimeout("tcp", cache, time.Second)
					if err != nil {
						logger.Error("get session: "+err.Error(), "path", r.URL.Path)
						w.WriteHeader(http.StatusInternalServerError)
						return
					}
					c.Close()
				}))
				u := "http://" + ln.Addr().String() + "/cart"
				for range 2 {
					resp, err := http.Get(u)
					require.NoError(t, err)
					resp.Body.Close()
				}
				return []triage.Check{httpCheck(target, u, nil),
					logCheck(logscan.Options{Files: []string{logPath}, Since: time.Minute})}, []string{target}
			},
		},
		{
			name: "app answers 500 while another tenant keeps every core busy", want: classify.AppError,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				burn(t)
				logPath := filepath.Join(t.TempDir(), "app.log")
				app := appServer(t, logPath, func() error {
					return errors.New("java.lang.IllegalStateException: order 4711 has no customer")
				})
				return []triage.Check{
					httpCheck(target, app, nil),
					logCheck(logscan.Options{Files: []string{logPath}, Since: time.Minute}),
					hostCheck(0),
				}, []string{target}
			},
		},
		{
			name: "haproxy, dead backend, its log scanned", want: classify.UpstreamRefused,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				p := testhaproxy.Start(t, testhaproxy.Options{Server: deadPort(t)})
				return proxyChecks(t, p.Addr, p.Log)
			},
		},
		{
			name: "haproxy, hung backend, its log scanned", want: classify.UpstreamTimeout,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				up := upstream(t, hang(t))
				p := testhaproxy.Start(t, testhaproxy.Options{Server: up.Addr().String()})
				return proxyChecks(t, p.Addr, p.Log)
			},
		},
		{
			name: "haproxy, dead backend, no log", want: classify.UpstreamRefused,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				p := testhaproxy.Start(t, testhaproxy.Options{Server: deadPort(t)})
				return []triage.Check{httpCheck(target, "http://"+p.Addr+"/", nil)}, []string{target}
			},
		},
		{
			name: "haproxy waits on a hung backend longer than the probe", want: classify.TimeoutDependency,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				up := upstream(t, hang(t))
				p := testhaproxy.Start(t, testhaproxy.Options{Server: up.Addr().String(), ServerTimeout: 30 * time.Second})
				return []triage.Check{httpCheck(target, "http://"+p.Addr+"/", nil), foundUpstream(p.PID)}, []string{target}
			},
		},
		{
			name: "haproxy in front of a backend slower than the probe waits", want: classify.TimeoutDependency,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				up := upstream(t, slow(t, 3*time.Second))
				p := testhaproxy.Start(t, testhaproxy.Options{Server: up.Addr().String(), ServerTimeout: 30 * time.Second})
				return []triage.Check{httpCheck(target, "http://"+p.Addr+"/", nil), foundUpstream(p.PID)}, []string{target}
			},
		},
		{
			name: "app answers 429 while another tenant keeps every core busy", want: classify.ClientRateLimited,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				burn(t)
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
				serve(t, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Retry-After", "30")
					w.WriteHeader(http.StatusTooManyRequests)
				}))
				return []triage.Check{httpCheck(target, "http://"+ln.Addr().String()+"/", nil), hostCheck(0)}, []string{target}
			},
		},
		{
			name: "app answers 500 and logs exceptions", want: classify.AppError,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				logPath := filepath.Join(t.TempDir(), "app.log")
				app := appServer(t, logPath, func() error {
					return errors.New("java.lang.IllegalStateException: order 4711 has no customer")
				})
				return []triage.Check{
					httpCheck(target, app, nil),
					logCheck(logscan.Options{Files: []string{logPath}, Since: time.Minute}),
				}, []string{target}
			},
		},
		{
			name: "app answers 500: its uploads hit a full disk", want: classify.DiskFullWrites,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				data := testmount.Tmpfs(t, "size=64k")
				logPath := filepath.Join(t.TempDir(), "app.log")
				app := appServer(t, logPath, func() error {
					return os.WriteFile(filepath.Join(data, "upload"), make([]byte, 256<<10), 0o644)
				})
				return []triage.Check{
					httpCheck(target, app, nil),
					logCheck(logscan.Options{Files: []string{logPath}, Since: time.Minute}),
					diskCheck(diskcheck.Options{Paths: []string{data}}),
				}, []string{target}
			},
		},
		{
			name: "tmpfs full by bytes", want: classify.DiskFull,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				dir := testmount.Tmpfs(t, "size=1m")
				fill(t, dir, 64<<10)
				return []triage.Check{diskCheck(diskcheck.Options{Paths: []string{dir}})}, nil
			},
		},
		{
			name: "tmpfs out of inodes", want: classify.DiskInodesExhausted,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				dir := testmount.Tmpfs(t, "size=8m,nr_inodes=64")
				fill(t, dir, 0)
				return []triage.Check{diskCheck(diskcheck.Options{Paths: []string{dir}})}, nil
			},
		},
		{
			name: "tmpfs remounted read-only", want: classify.DiskReadOnly,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				dir := testmount.Tmpfs(t, "size=1m")
				out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput()
				require.NoError(t, err, "%s", out)
				return []triage.Check{diskCheck(diskcheck.Options{Paths: []string{dir}})}, nil
			},
		},
		{
			name: "deleted file held open", want: classify.DiskDeletedOpenFiles,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				dir := testmount.Tmpfs(t, "size=8m")
				f := filepath.Join(dir, "huge.log")
				cmd := exec.Command("sh", "-c", `exec 3>"$1"; head -c 4194304 /dev/zero >&3; rm "$1"; echo held; exec sleep 60`, "sh", f)
				out, err := cmd.StdoutPipe()
				require.NoError(t, err)
				require.NoError(t, cmd.Start())
				t.Cleanup(func() {
					_ = cmd.Process.Kill()
					_ = cmd.Wait()
				})
				buf := make([]byte, 5)
				_, err = out.Read(buf)
				require.NoError(t, err)
				return []triage.Check{diskCheck(diskcheck.Options{Paths: []string{dir}, DeletedOpen: true})}, nil
			},
		},
		{
			name: "resolver answers NXDOMAIN", want: classify.DNSNXDomain,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				s := dnsServer(t, "127.0.0.1:0", answer(dns.RcodeNameError))
				return []triage.Check{dnsCheck(dnscheck.Options{Name: "api.matrix.test.", Servers: []string{s}, SkipSystem: true})}, nil
			},
		},
		{
			name: "resolver answers SERVFAIL", want: classify.DNSServFail,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				s := dnsServer(t, "127.0.0.1:0", answer(dns.RcodeServerFailure))
				return []triage.Check{dnsCheck(dnscheck.Options{Name: "api.matrix.test.", Servers: []string{s}, SkipSystem: true})}, nil
			},
		},
		{
			name: "two resolvers disagree", want: classify.DNSMismatch,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				a := dnsServer(t, "127.0.0.1:0", answer(dns.RcodeSuccess, "127.0.0.10"))
				b := dnsServer(t, "127.0.0.1:0", answer(dns.RcodeSuccess, "127.0.0.20"))
				return []triage.Check{dnsCheck(dnscheck.Options{Name: "api.matrix.test.", Types: []string{"A"}, Servers: []string{a, b}, SkipSystem: true})}, nil
			},
		},
		{
			name: "/etc/hosts-style override", want: classify.DNSHostsOverride,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				// resolv.conf cannot name a port: the resolver listens on 53
				// of an address of its own.
				s := dnsServer(t, "127.77.0.53:53", answer(dns.RcodeSuccess, "127.0.0.10"))
				host, _, _ := net.SplitHostPort(s)
				dir := t.TempDir()
				hosts := filepath.Join(dir, "hosts")
				resolv := filepath.Join(dir, "resolv.conf")
				require.NoError(t, os.WriteFile(hosts, []byte("127.0.0.99 api.matrix.test\n"), 0o644))
				require.NoError(t, os.WriteFile(resolv, []byte("nameserver "+host+"\noptions timeout:1 attempts:1\n"), 0o644))
				res := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
					var d net.Dialer
					return d.DialContext(ctx, network, s)
				}}
				return []triage.Check{dnsCheck(dnscheck.Options{Name: "api.matrix.test", Types: []string{"A"},
					HostsFile: hosts, ResolvConf: resolv, Resolver: res})}, nil
			},
		},
		{
			name: "AAAA address unreachable, IPv4 fine", want: classify.DNSIPv6Broken,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				ln, err := net.Listen("tcp4", "127.0.0.1:0")
				require.NoError(t, err)
				t.Cleanup(func() { ln.Close() })
				s := dnsServer(t, "127.0.0.1:0", answer(dns.RcodeSuccess, "127.0.0.1", "::1"))
				return []triage.Check{dnsCheck(dnscheck.Options{Name: "api.matrix.test.", Servers: []string{s}, SkipSystem: true, Port: port(ln)})}, nil
			},
		},
		{
			name: "resolver never answers, symptom timeout", want: classify.TimeoutDNS, symptom: classify.Timeout,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				pc, err := net.ListenPacket("udp", "127.0.0.1:0")
				require.NoError(t, err)
				t.Cleanup(func() { pc.Close() })
				return []triage.Check{dnsCheck(dnscheck.Options{Name: "api.matrix.test.", Servers: []string{pc.LocalAddr().String()},
					SkipSystem: true, QueryTimeout: 500 * time.Millisecond})}, nil
			},
		},
		{
			name: "TIME-WAIT flood from short connections", want: classify.ConnTimeWaitExcess,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				ns := testnet.New(t)
				ln := ns.Listen(t, "tcp", "127.0.0.1:0")
				serve(t, ln, okHandler)
				client := &http.Client{Transport: &http.Transport{DialContext: ns.DialContext, DisableKeepAlives: true}}
				for range 150 {
					resp, err := client.Get("http://" + ln.Addr().String() + "/")
					require.NoError(t, err)
					resp.Body.Close()
				}
				// The operator asks about the service its clients call.
				aim(t, triage.Target{Host: "127.0.0.1", Port: port(ln)})
				return []triage.Check{sockCheck(sockstat.Options{NetNS: ns.Path, Thresholds: sockstat.Thresholds{TimeWait: 100}})}, nil
			},
		},
		{
			name: "ephemeral ports used up in a namespace with four of them", want: classify.ConnPortsExhausted,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				ns := testnet.New(t)
				ns.Exec(t, "sysctl", "-q", "-w", "net.ipv4.ip_local_port_range=40000 40003")
				ln := ns.Listen(t, "tcp", "127.0.0.1:0")
				serve(t, ln, okHandler)
				// A client that keeps its connections: every local port
				// toward the service is taken.
				for range 8 {
					c, err := ns.DialContext(context.Background(), "tcp", ln.Addr().String())
					if err != nil {
						break
					}
					t.Cleanup(func() { c.Close() })
				}
				return []triage.Check{tcpCheck(target, ln.Addr().String(), ns),
					sockCheck(sockstat.Options{NetNS: ns.Path, Port: port(ln)})}, []string{target}
			},
		},
		{
			name: "connections stuck in SYN-SENT", want: classify.ConnSynSentBacklog,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				testnet.RequireIPTables(t)
				ns := testnet.New(t)
				_, ap := ns.ListenBacklog(t, "127.0.0.1:0", 16, -1)
				ns.Exec(t, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", fmt.Sprint(ap.Port()), "--tcp-flags", "SYN,ACK", "SYN", "-j", "DROP")
				for range 8 {
					ns.Connect(t, ap)
				}
				return []triage.Check{sockCheck(sockstat.Options{NetNS: ns.Path, Peer: ap.Addr(), PeerPort: int(ap.Port())})}, nil
			},
		},
		{
			name: "process near its open-file limit", want: classify.ConnFDExhaustion,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				if _, err := exec.LookPath("bash"); err != nil {
					t.Skip("needs bash")
				}
				cmd := exec.Command("bash", "-c", `ulimit -n 64; for i in $(seq 10 62); do eval "exec $i</dev/null"; done; echo ready; exec sleep 60`)
				out, err := cmd.StdoutPipe()
				require.NoError(t, err)
				require.NoError(t, cmd.Start())
				t.Cleanup(func() {
					_ = cmd.Process.Kill()
					_ = cmd.Wait()
				})
				buf := make([]byte, 6)
				_, err = out.Read(buf)
				require.NoError(t, err)
				pid := cmd.Process.Pid
				return []triage.Check{triage.Func("process", func(ctx context.Context) process.Result {
					return process.Check(ctx, process.Options{PID: pid})
				})}, nil
			},
		},
		{
			name: "one thread of the service spins", want: classify.ResourceThreadSpin,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				// At a higher priority than the tests sharing the machine,
				// as a service often runs: the loop gets its core.
				cmd := exec.Command("nice", "-n", "-10", "sh", "-c", "while :; do :; done")
				require.NoError(t, cmd.Start())
				t.Cleanup(func() {
					_ = cmd.Process.Kill()
					_ = cmd.Wait()
				})
				pid := cmd.Process.Pid
				time.Sleep(100 * time.Millisecond)
				return []triage.Check{triage.Func("process", func(ctx context.Context) process.Result {
					// Half a core is the operator's bar here: the two cores
					// of a test machine are shared with the other tests.
					return process.Check(ctx, process.Options{PID: pid, Window: 500 * time.Millisecond, ThreadHotPct: 50})
				})}, nil
			},
		},
		{
			name: "CLOSE-WAIT piles up on the service", want: classify.ConnCloseWaitLeak,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				ns := testnet.New(t)
				_, ap := ns.ListenBacklog(t, "127.0.0.1:0", 64, -1)
				// The service accepts and never closes; its clients hang up.
				for range 16 {
					fd := ns.Connect(t, ap)
					require.NoError(t, unix.Shutdown(fd, unix.SHUT_WR))
				}
				time.Sleep(100 * time.Millisecond)
				return []triage.Check{sockCheck(sockstat.Options{NetNS: ns.Path, Port: int(ap.Port()), Addr: loopback})}, nil
			},
		},
		{
			name: "every core busy", want: classify.ResourceCPUSaturated,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				burn(t)
				return []triage.Check{hostCheck(service(t))}, nil
			},
		},
		{
			name: "every core busy, symptom timeout", want: classify.TimeoutResourceSaturation, symptom: classify.Timeout,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				burn(t)
				return []triage.Check{hostCheck(service(t))}, nil
			},
		},
		{
			name: "a container near its memory limit", want: classify.ResourceMemoryPressure,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				m := testcgroup.NewMemory(t, 64<<20)
				pid := m.Hold(t, 60<<20)
				return []triage.Check{triage.Func("host", func(ctx context.Context) host.Result {
					// CPU out of reach: this scenario is about memory, and
					// a shared test machine may well be busy.
					return host.Check(ctx, host.Options{CgroupPID: pid, Window: 500 * time.Millisecond,
						Thresholds: host.Thresholds{CPUBusyPct: 101, LoadPerCore: 1e6, CPUPressurePct: 101, IOWaitPct: 101, StealPct: 101, IOPressurePct: 101}})
				})}, nil
			},
		},
		{
			name: "a service swapping past its memory limit", want: classify.ResourceSwapping,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				// Three times its limit in memory, swap allowed: it runs,
				// and every pass over its memory waits for the disk.
				testcgroup.Swap(t, 256<<20)
				m := testcgroup.NewMemory(t, 32<<20)
				m.AllowSwap(t)
				pid := m.Walk(t, 96<<20)
				aim(t, triage.Target{PID: pid})
				return []triage.Check{hostCheck(pid), triage.Func("process", func(ctx context.Context) process.Result {
					return process.Check(ctx, process.Options{PID: pid, Window: 500 * time.Millisecond})
				})}, nil
			},
		},
		{
			name: "app answers after 1.3 s", want: classify.SlowApp,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
				serve(t, ln, slow(t, 1300*time.Millisecond))
				return []triage.Check{httpCheck(target, "http://"+ln.Addr().String()+"/", nil),
					sockCheck(sockstat.Options{Port: port(ln)}), hostCheck(0)}, []string{target}
			},
		},
		{
			name: "app slow because its dependency answers after 1.2 s", want: classify.SlowDependency,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				dep := upstream(t, slow(t, 1200*time.Millisecond))
				depURL := "http://" + dep.Addr().String() + "/"
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
				client := &http.Client{Timeout: 5 * time.Second}
				t.Cleanup(client.CloseIdleConnections)
				serve(t, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					resp, err := client.Get(depURL)
					if err != nil {
						w.WriteHeader(http.StatusBadGateway)
						return
					}
					resp.Body.Close()
					_, _ = w.Write([]byte("ok\n"))
				}))
				return []triage.Check{httpCheck(target, "http://"+ln.Addr().String()+"/", nil),
					httpCheck("dependency "+dep.Addr().String(), depURL, nil), hostCheck(0)}, []string{target}
			},
		},
		{
			name: "certificate expired", want: classify.TLSCertExpired,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				ca := testca.New(t)
				now := time.Now()
				u := tlsService(t, ca.Leaf(t, now.Add(-48*time.Hour), now.Add(-time.Hour), "127.0.0.1"))
				return []triage.Check{tlsCheck(target, u, ca)}, []string{target}
			},
		},
		{
			name: "certificate for another name", want: classify.TLSNameMismatch,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				ca := testca.New(t)
				now := time.Now()
				u := tlsService(t, ca.Leaf(t, now.Add(-time.Hour), now.Add(90*24*time.Hour), "other.example"))
				return []triage.Check{tlsCheck(target, u, ca)}, []string{target}
			},
		},
		{
			name: "certificate from an authority the client does not trust", want: classify.TLSUnknownAuthority,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				ca, other := testca.New(t), testca.New(t)
				now := time.Now()
				u := tlsService(t, other.Leaf(t, now.Add(-time.Hour), now.Add(90*24*time.Hour), "127.0.0.1"))
				return []triage.Check{tlsCheck(target, u, ca)}, []string{target}
			},
		},
		{
			name: "first nameserver never answers, the second does", want: classify.SlowDNS,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
				serve(t, ln, okHandler)
				// A nameserver that takes queries and never answers, and
				// one that does; options timeout:1 as many sites set it.
				pc, err := net.ListenPacket("udp", "127.77.0.61:53")
				if err != nil {
					t.Skipf("cannot listen on 127.77.0.61:53: %v", err)
				}
				t.Cleanup(func() { pc.Close() })
				go func() {
					buf := make([]byte, 512)
					for {
						if _, _, err := pc.ReadFrom(buf); err != nil {
							return
						}
					}
				}()
				dnsServer(t, "127.77.0.62:53", answer(dns.RcodeSuccess, "127.0.0.1"))
				dir := t.TempDir()
				hosts, resolv := filepath.Join(dir, "hosts"), filepath.Join(dir, "resolv.conf")
				require.NoError(t, os.WriteFile(hosts, []byte("127.0.0.1 localhost\n"), 0o644))
				require.NoError(t, os.WriteFile(resolv, []byte("nameserver 127.77.0.61\nnameserver 127.77.0.62\noptions timeout:1 attempts:2\n"), 0o644))
				lookup, err := dnscheck.AppLookup(hosts, resolv)
				require.NoError(t, err)
				u := fmt.Sprintf("http://orders.test:%d/", port(ln))
				return []triage.Check{triage.Func(target, func(ctx context.Context) probe.HTTPResult {
					return probe.HTTP(ctx, probe.HTTPOptions{URL: u, Timeout: 4 * time.Second, Lookup: probe.LookupFunc(lookup)})
				}), dnsCheck(dnscheck.Options{Name: "orders.test", HostsFile: hosts, ResolvConf: resolv}),
					sockCheck(sockstat.Options{Port: port(ln)})}, []string{target}
			},
		},
		{
			name: "app answers 401 to a stale token", want: classify.ClientAuthRejected,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
				serve(t, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token"`)
					w.WriteHeader(http.StatusUnauthorized)
				}))
				u := "http://" + ln.Addr().String() + "/"
				return []triage.Check{triage.Func(target, func(ctx context.Context) probe.HTTPResult {
					return probe.HTTP(ctx, probe.HTTPOptions{URL: u, Timeout: 2 * time.Second,
						Header: http.Header{"Authorization": {"Bearer stale"}}})
				}), sockCheck(sockstat.Options{Port: port(ln)})}, []string{target}
			},
		},
		{
			name: "HTTP_PROXY names a proxy that is down", want: classify.ClientProxy,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
				serve(t, ln, okHandler)
				// The service is healthy; the application's environment
				// sends its requests through a proxy that is not.
				choose := probe.ProxyFromEnvironment([]string{"HTTP_PROXY=http://" + deadPort(t), "NO_PROXY=.internal"})
				u := fmt.Sprintf("http://api.example:%d/", port(ln))
				return []triage.Check{triage.Func(target, func(ctx context.Context) probe.HTTPResult {
					return probe.HTTP(ctx, probe.HTTPOptions{URL: u, Timeout: 2 * time.Second, Proxy: choose})
				}), sockCheck(sockstat.Options{Port: port(ln)})}, []string{target}
			},
		},
		{
			name: "HTTPS_PROXY names a hung proxy, the host in its own namespace", want: classify.ClientProxy,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				// Client, proxy and service share a namespace, as a pod's
				// containers do: the service answers, the proxy takes the
				// connection and never answers CONNECT.
				ns := testnet.New(t)
				serve(t, ns.Listen(t, "tcp", "127.0.0.1:8443"), okHandler)
				px := ns.Listen(t, "tcp", "127.0.0.1:3128")
				go func() {
					for {
						c, err := px.Accept()
						if err != nil {
							return
						}
						t.Cleanup(func() { c.Close() })
					}
				}()
				choose := probe.ProxyFromEnvironment([]string{"HTTPS_PROXY=http://127.0.0.1:3128", "NO_PROXY=.cluster.local"})
				return []triage.Check{triage.Func(target, func(ctx context.Context) probe.HTTPResult {
					return probe.HTTP(ctx, probe.HTTPOptions{URL: "https://billing.example:8443/", Timeout: time.Second, Proxy: choose, Dialer: ns})
				}), sockCheck(sockstat.Options{NetNS: ns.Path, Port: 8443})}, []string{target}
			},
		},
		{
			name: "certificate expired, symptom tls given", want: classify.TLSCertExpired, symptom: classify.TLS,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				ca := testca.New(t)
				now := time.Now()
				u := tlsService(t, ca.Leaf(t, now.Add(-48*time.Hour), now.Add(-time.Hour), "127.0.0.1"))
				return []triage.Check{tlsCheck(target, u, ca)}, []string{target}
			},
		},
		{
			name: "app answers 429, symptom 4xx given", want: classify.ClientRateLimited, symptom: classify.Status4xx,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
				serve(t, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Retry-After", "30")
					w.WriteHeader(http.StatusTooManyRequests)
				}))
				return []triage.Check{httpCheck(target, "http://"+ln.Addr().String()+"/", nil),
					sockCheck(sockstat.Options{Port: port(ln)})}, []string{target}
			},
		},
		{
			name: "a service answers slowly at its CPU quota", want: classify.SlowResources,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				// A real service process, each answer 150 ms of CPU, in a
				// cgroup allowed 10% of a core: the quota, not its code,
				// makes it slow.
				cpu := testcgroup.NewCPU(t, 10000)
				pid, addr := cpuService(t, cpu)
				aim(t, triage.Target{PID: pid})
				return []triage.Check{triage.Func(target, func(ctx context.Context) probe.HTTPResult {
					return probe.HTTP(ctx, probe.HTTPOptions{URL: "http://" + addr + "/", Timeout: 5 * time.Second})
				}), hostCheck(pid)}, []string{target}
			},
		},
		{
			name: "a service using up its CPU quota", want: classify.ResourceCPUThrottled,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				cpu := testcgroup.NewCPU(t, 20000)
				pid := cpu.Spin(t)
				time.Sleep(300 * time.Millisecond)
				aim(t, triage.Target{PID: pid})
				return []triage.Check{hostCheck(pid)}, nil
			},
		},
		{
			name: "a process killed by the OOM killer", want: classify.ResourceOOMKilled,
			setup: func(t *testing.T) ([]triage.Check, []string) {
				m := oomKill(t)
				// The operator asks about the service in that cgroup.
				aim(t, triage.Target{Cgroup: "/" + filepath.Base(m.Dir)})
				return []triage.Check{logCheck(logscan.Options{Kernel: true, Since: time.Minute})}, nil
			},
		},
	}
}

// cpuService starts the test binary as a service whose every answer
// costs 150 ms of CPU (see TestMain), confined to cpu, and returns its PID
// and address once it listens.
func cpuService(t *testing.T, cpu *testcgroup.CPU) (int, string) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "TRIAGE_TEST_CPU_SERVER=1", "GOMAXPROCS=1")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	require.NoError(t, os.WriteFile(filepath.Join(cpu.Dir, "cgroup.procs"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644))
	line := make([]byte, 64)
	n, err := out.Read(line)
	require.NoError(t, err)
	return cmd.Process.Pid, strings.TrimSpace(string(line[:n]))
}

// tlsService serves okHandler over TLS with cert until the test ends and
// returns its https URL.
func tlsService(t *testing.T, cert tls.Certificate) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	serve(t, tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}}), okHandler)
	return "https://" + ln.Addr().String() + "/"
}

// tlsCheck requests u trusting only the authority c, as a client with its
// own CA bundle does.
func tlsCheck(name, u string, c *testca.CA) triage.Check {
	return triage.Func(name, func(ctx context.Context) probe.HTTPResult {
		return probe.HTTP(ctx, probe.HTTPOptions{URL: u, Timeout: 2 * time.Second, RootCAs: c.Pool})
	})
}

// localhost is the DNS check of an application that reaches its service
// as localhost: the hosts file answers, and the resolver, asked directly,
// says NXDOMAIN, as real resolvers do for a name they do not serve.
func localhost(t *testing.T) []triage.Check {
	s := dnsServer(t, "127.77.0.54:53", answer(dns.RcodeNameError))
	h, _, _ := net.SplitHostPort(s)
	dir := t.TempDir()
	hosts := filepath.Join(dir, "hosts")
	resolv := filepath.Join(dir, "resolv.conf")
	require.NoError(t, os.WriteFile(hosts, []byte("127.0.0.1 localhost\n::1 localhost ip6-localhost\n"), 0o644))
	require.NoError(t, os.WriteFile(resolv, []byte("nameserver "+h+"\noptions timeout:1 attempts:1\n"), 0o644))
	return []triage.Check{dnsCheck(dnscheck.Options{Name: "localhost", HostsFile: hosts, ResolvConf: resolv})}
}

func deadPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// nginxChecks probes nginx a few times, so that its error log has
// something to say, and scans that log.
func nginxChecks(t *testing.T, p *testnginx.Proxy) ([]triage.Check, []string) {
	return proxyChecks(t, p.Addr, p.ErrorLog)
}

// foundUpstream finds the upstream proxy pid is connected to while the
// request runs (as the triage command does from the target's listener)
// and asks it the same request.
func foundUpstream(pid int) triage.Check {
	return triage.Func("dependency (found)", func(ctx context.Context) probe.HTTPResult {
		var peers []sockstat.Peer
		for i := 0; i < 10 && len(peers) == 0; i++ {
			time.Sleep(100 * time.Millisecond)
			peers, _ = sockstat.Peers(ctx, sockstat.Options{}, pid)
		}
		if len(peers) == 0 {
			r := probe.HTTPResult{Result: triage.Begin(probe.KindHTTP, triage.Target{})}
			r.Finish(errors.New("no upstream connection found"))
			return r
		}
		return probe.HTTP(ctx, probe.HTTPOptions{URL: "http://" + peers[0].Addr.String() + "/", Timeout: time.Second})
	})
}

// proxyChecks probes a proxy and scans its log once the probe's failure
// had time to reach it.
func proxyChecks(t *testing.T, addr, log string) ([]triage.Check, []string) {
	aim(t, triage.Target{Paths: []string{log}})
	return []triage.Check{
		httpCheck(target, "http://"+addr+"/", nil),
		triage.Func("logscan", func(ctx context.Context) logscan.Result {
			// The probe runs alongside: give nginx's log the time to get
			// the failure the probe provokes.
			select {
			case <-time.After(1500 * time.Millisecond):
			case <-ctx.Done():
			}
			return logscan.Check(ctx, logscan.Options{Files: []string{log}, Since: time.Minute})
		}),
	}, []string{target}
}

// appServer is a small app on loopback that runs work for each request and,
// when it fails, logs the error the way a Java service would and answers
// 500.
func appServer(t *testing.T, logPath string, work func() error) string {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	var mu sync.Mutex
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	serve(t, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := work(); err != nil {
			mu.Lock()
			fmt.Fprintf(f, "%s ERROR [http-nio-8080-exec-1] c.e.OrderController - request failed: %v\n\tat com.example.OrderController.create(OrderController.java:42)\n\tat java.base/java.lang.Thread.run(Thread.java:833)\n",
				time.Now().Format("2006-01-02 15:04:05.000"), err)
			mu.Unlock()
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	}))
	u := "http://" + ln.Addr().String() + "/orders"
	// Two earlier failures, as users would have had them.
	for range 2 {
		resp, err := http.Get(u)
		require.NoError(t, err)
		resp.Body.Close()
	}
	return u
}

// exhaustedPool returns a database whose only connection is held, with
// callers queueing for it until the test ends.
func exhaustedPool(t *testing.T) *sql.DB {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "app.db"))
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	_, err = db.Exec("CREATE TABLE orders (id INTEGER)")
	require.NoError(t, err)
	tx, err := db.Begin()
	require.NoError(t, err)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
				_, _ = db.ExecContext(ctx, "INSERT INTO orders VALUES (1)")
				cancel()
			}
		}()
	}
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
		_ = tx.Rollback()
		_ = db.Close()
	})
	return db
}

// oomKill makes the kernel OOM killer kill a child in a memory-limited
// cgroup (v1 memory controller or a v2 cgroup), so that the kernel log
// has a fresh "Killed process" line.
func oomKill(t *testing.T) *testcgroup.Memory {
	m := testcgroup.NewMemory(t, 32<<20)
	// tail -c keeps the last N bytes of a pipe in memory: 256MiB of them
	// grow it past the limit.
	cmd := exec.Command("sh", "-c", m.EnterScript()+` && head -c 268435456 /dev/zero | tail -c 268435456 >/dev/null`)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Skipf("the child was not killed by the OOM killer: %s", out)
	}
	return m
}
