package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/health"
)

// The load measurements below give the figures of the README's
// reliability section. They take minutes and load both cores, so they run
// only when asked, on loopback only:
//
//	cd bench && TRIAGE_LOAD=1 go test -run TestLoad -v -timeout 30m .
//
// HEALTHSERVER_BIN names a healthserver binary to measure instead of
// building ../examples/healthserver, to compare with an older build; the
// stuck-check figures measure the library this module is built with.

func loadOnly(t *testing.T) {
	t.Helper()
	if os.Getenv("TRIAGE_LOAD") == "" {
		t.Skip("load measurement: set TRIAGE_LOAD=1 to run it")
	}
	if runtime.GOOS != "linux" {
		t.Skip("load measurement: reads /proc, Linux only")
	}
}

// healthserver is the example service running as a child process.
type healthserver struct {
	url string
	pid int
}

// startHealthserver starts the service; with nofile above zero, under
// that limit of open files.
func startHealthserver(t *testing.T, nofile int, args ...string) *healthserver {
	t.Helper()
	bin := os.Getenv("HEALTHSERVER_BIN")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "healthserver")
		build := exec.Command("go", "build", "-o", bin, "./examples/healthserver")
		build.Dir = ".."
		out, err := build.CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	dir := t.TempDir()
	args = append([]string{"-listen", "127.0.0.1:0",
		"-log", filepath.Join(dir, "requests.log"), "-db", filepath.Join(dir, "notes.db")}, args...)
	cmd := exec.Command(bin, args...)
	if nofile > 0 {
		cmd = exec.Command("sh", append([]string{"-c", fmt.Sprintf(`ulimit -n %d && exec "$0" "$@"`, nofile), bin}, args...)...)
	}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if _, url, ok := strings.Cut(sc.Text(), "listening on "); ok {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			return &healthserver{url: url, pid: cmd.Process.Pid}
		}
	}
	t.Fatal("healthserver did not say where it listens")
	return nil
}

// procFigures are a process's resident memory, threads and open files.
type procFigures struct {
	rssKiB, threads, fds int
}

func readProc(t *testing.T, pid int) procFigures {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	var p procFigures
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		switch k {
		case "VmRSS":
			p.rssKiB, _ = strconv.Atoi(fields[0])
		case "Threads":
			p.threads, _ = strconv.Atoi(fields[0])
		}
	}
	if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		p.fds = len(fds)
	}
	return p
}

// gauges reads the named gauges from a /metrics answer; absent ones are
// left out.
func gauges(url string, names ...string) map[string]float64 {
	out := map[string]float64{}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url + "/metrics")
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok || !slices.Contains(names, name) {
			continue
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			out[name] = f
		}
	}
	return out
}

// quantile of sorted durations.
func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(q*float64(len(d))))]
}

// 200 clients, each on its own keep-alive connection, for 20 s against
// each endpoint: throughput, latency, and what the server holds meanwhile.
func TestLoadEndpoints(t *testing.T) {
	loadOnly(t)
	const clients, ttl = 200, 5 * time.Second
	dur := 20 * time.Second
	if d, err := time.ParseDuration(os.Getenv("TRIAGE_LOAD_DURATION")); err == nil {
		dur = d
	}
	healthy := startHealthserver(t, 0, "-ttl", ttl.String())
	// A dependency whose SYNs are dropped: every round waits out the
	// dependency check's 1 s connect timeout.
	stalled := startHealthserver(t, 0, "-ttl", ttl.String(), "-dep", blackhole(t))
	for _, s := range []*healthserver{healthy, stalled} {
		c := &http.Client{Timeout: 10 * time.Second}
		resp, err := c.Get(s.url + "/readyz")
		require.NoError(t, err)
		resp.Body.Close()
	}
	time.Sleep(time.Second)
	idle := readProc(t, healthy.pid)
	t.Logf("idle server: RSS %d MiB, %d threads, goroutines %v", idle.rssKiB>>10, idle.threads, gauges(healthy.url, "go_goroutines"))
	t.Logf("| endpoint | requests/s | p50 | p99 | max | errors | RSS max | threads max | goroutines max | rounds of checks | rounds per TTL |")
	for _, tt := range []struct {
		s    *healthserver
		path string
	}{{healthy, "/readyz"}, {healthy, "/health"}, {healthy, "/metrics"}, {stalled, "/readyz"}} {
		s, path := tt.s, tt.path
		if s == stalled {
			path += " (dependency blackholed)"
		}
		tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
		client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		lat := make([][]time.Duration, clients)
		var errs atomic.Int64
		var wg sync.WaitGroup
		stop := make(chan struct{})
		var peak procFigures
		peakG := 0.0
		rounds := map[float64]bool{}
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			tick := time.NewTicker(250 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				p := readProc(t, s.pid)
				peak.rssKiB, peak.threads = max(peak.rssKiB, p.rssKiB), max(peak.threads, p.threads)
				g := gauges(s.url, "go_goroutines", "triage_snapshot_timestamp_seconds")
				peakG = max(peakG, g["go_goroutines"])
				if ts, ok := g["triage_snapshot_timestamp_seconds"]; ok {
					rounds[ts] = true
				}
			}
		}()
		start := time.Now()
		for i := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					t0 := time.Now()
					resp, err := client.Get(s.url + tt.path)
					if err != nil {
						errs.Add(1)
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					lat[i] = append(lat[i], time.Since(t0))
				}
			}()
		}
		time.Sleep(dur)
		close(stop)
		wg.Wait()
		elapsed := time.Since(start)
		<-sampled
		tr.CloseIdleConnections()
		var all []time.Duration
		for _, l := range lat {
			all = append(all, l...)
		}
		slices.Sort(all)
		n := 0
		for ts := range rounds {
			if ts >= float64(start.UnixNano())/1e9 {
				n++ // a round that ran within the window
			}
		}
		goroutines := "—"
		if peakG > 0 {
			goroutines = strconv.Itoa(int(peakG))
		}
		t.Logf("| `%s` | %.0f | %v | %v | %v | %d | %d MiB | %d | %s | %d in %v | %.2f |", path,
			float64(len(all))/elapsed.Seconds(), quantile(all, 0.5).Round(time.Microsecond),
			quantile(all, 0.99).Round(time.Microsecond), all[len(all)-1].Round(time.Microsecond),
			errs.Load(), peak.rssKiB>>10, peak.threads, goroutines, n, elapsed.Round(time.Second),
			float64(n)/(elapsed.Seconds()/ttl.Seconds()))
	}
}

// 15,000 clients each make one keep-alive request and keep the connection
// open, idle; meanwhile a probe opens a new connection for /livez each
// time, as kubelet does, with kubelet's default 1 s timeout.
//
// It runs twice: with the file limit the service inherits, and with one
// of 15,000, as a container may have, which the clients reach.
func TestLoadIdleConnections(t *testing.T) {
	loadOnly(t)
	const conns = 15000
	var lim syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
	if lim.Cur < conns+1000 {
		lim.Cur = max(lim.Max, conns+1000)
		lim.Max = lim.Cur
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Skipf("needs %d open files: %v", conns+1000, err)
		}
	}
	for _, nofile := range []int{0, conns} {
		t.Run(fmt.Sprintf("nofile=%d", nofile), func(t *testing.T) { idleConnections(t, conns, nofile) })
	}
}

func idleConnections(t *testing.T, conns, nofile int) {
	s := startHealthserver(t, nofile)
	addr := strings.TrimPrefix(s.url, "http://")
	probes := func() string {
		c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		var lat []time.Duration
		failed := 0
		for range 20 {
			t0 := time.Now()
			resp, err := c.Get(s.url + "/livez")
			if err != nil {
				failed++
				continue
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				failed++
				continue
			}
			lat = append(lat, time.Since(t0))
			time.Sleep(50 * time.Millisecond)
		}
		slices.Sort(lat)
		return fmt.Sprintf("/livez p50 %v, max %v, %d of 20 failed", quantile(lat, 0.5).Round(time.Microsecond),
			quantile(lat, 1).Round(time.Microsecond), failed)
	}
	resp, err := http.Get(s.url + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	time.Sleep(time.Second)
	before := readProc(t, s.pid)
	t.Logf("before: RSS %d MiB, %d threads, %d open files, goroutines %v; %s",
		before.rssKiB>>10, before.threads, before.fds, gauges(s.url, "go_goroutines"), probes())

	held := make([]net.Conn, conns)
	var answered, refused atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 500)
	start := time.Now()
	for i := range held {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				refused.Add(1)
				return
			}
			held[i] = c
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			if _, err := c.Write([]byte("GET /livez HTTP/1.1\r\nHost: load\r\n\r\n")); err != nil {
				return
			}
			if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
				resp.Body.Close()
				answered.Add(1)
			}
		}()
	}
	wg.Wait()
	t.Logf("%d connections made in %v: %d answered, %d not connected", conns, time.Since(start).Round(time.Millisecond), answered.Load(), refused.Load())
	time.Sleep(2 * time.Second)
	during := readProc(t, s.pid)
	t.Logf("held idle: RSS %d MiB, %d threads, %d open files, goroutines %v; %s",
		during.rssKiB>>10, during.threads, during.fds, gauges(s.url, "go_goroutines"), probes())
	for _, c := range held {
		if c != nil {
			c.Close()
		}
	}
}

// A check stuck in a system call that ignores its context (open(2) of a
// FIFO nobody writes), over 1,000 refreshes: the goroutines and OS threads
// it holds.
func TestLoadStuckCheck(t *testing.T) {
	loadOnly(t)
	fifo := filepath.Join(t.TempDir(), "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	var runs atomic.Int64
	check := triage.Check{Name: "fifo", Run: func(ctx context.Context) triage.Outcome {
		runs.Add(1)
		f, err := os.Open(fifo) // blocks until a writer comes, whatever ctx says
		if err == nil {
			f.Close()
		}
		r := &triage.Result{}
		r.Finish(err)
		return r
	}}
	threads := func() int { return readProc(t, os.Getpid()).threads }
	h := health.New(health.Options{Checks: []triage.Check{check}, Timeout: 5 * time.Millisecond})
	g0, th0 := runtime.NumGoroutine(), threads()
	start := time.Now()
	for range 1000 {
		h.Refresh(context.Background())
	}
	g1, th1 := runtime.NumGoroutine(), threads()
	t.Logf("1000 refreshes in %v: check started %d times; goroutines %d → %d, threads %d → %d",
		time.Since(start).Round(time.Millisecond), runs.Load(), g0, g1, th0, th1)
	// Free every open(2) still waiting: a writer that comes and goes.
	require.Eventually(t, func() bool {
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		return runtime.NumGoroutine() <= g0+2
	}, time.Minute, 10*time.Millisecond)
}

// blackhole is a loopback address whose SYNs are dropped: a listener with
// a full accept queue that never accepts.
func blackhole(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	t.Cleanup(func() { syscall.Close(fd) })
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	require.NoError(t, syscall.Listen(fd, 0))
	sa, err := syscall.Getsockname(fd)
	require.NoError(t, err)
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	for range 8 {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return addr // the queue is full: this SYN was dropped
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Fatal("the accept queue never filled")
	return ""
}
