package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/logscan"
	"github.com/triagekit/triage/probe"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startWriter is the service's stdout: it hands over the URL the service
// announces once it listens.
type startWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	url  chan string
	sent bool
}

var listening = regexp.MustCompile(`listening on (http://\S+)\n`)

func (w *startWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if m := listening.FindSubmatch(w.buf.Bytes()); m != nil && !w.sent {
		w.sent = true
		w.url <- string(m[1])
	}
	return len(p), nil
}

// server is the service running in-process until the test ends.
type server struct {
	url    string
	client *http.Client
}

func start(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &startWriter{url: make(chan string, 1)}
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"-listen", "127.0.0.1:0"}, args...), out, &stderr)
	}()
	var url string
	select {
	case url = <-out.url:
	case code := <-done:
		cancel()
		t.Fatalf("run returned %d before listening: %s", code, stderr.String())
	}
	t.Cleanup(func() {
		cancel()
		assert.Equal(t, 0, <-done, "clean shutdown; stderr: %s", stderr.String())
		assert.Contains(t, out.buf.String(), "healthserver: stopped")
	})
	return &server{url: url, client: &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}}
}

func (s *server) do(t *testing.T, method, path, token, body string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b), resp.Header
}

func (s *server) get(t *testing.T, path, token string) (int, string) {
	t.Helper()
	code, body, _ := s.do(t, http.MethodGet, path, token, "")
	return code, body
}

// await polls path until its answer contains every one of want. The
// handler answers from its last round of checks while the next runs
// behind it, so a change shows from the round that began after it.
func (s *server) await(t *testing.T, path, token string, want ...string) {
	t.Helper()
	var last string
	ok := assert.Eventually(t, func() bool {
		req, err := http.NewRequest(http.MethodGet, s.url+path, nil)
		if err != nil {
			return false
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := s.client.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		last = string(b)
		for _, w := range want {
			if !strings.Contains(last, w) {
				return false
			}
		}
		return true
	}, 30*time.Second, 5*time.Millisecond)
	if !ok {
		t.Fatalf("%s never said %q; last: %s", path, want, last)
	}
}

// dependency is a loopback TCP peer that receives the published notes.
type dependency struct {
	ln    net.Listener
	notes chan string
	done  chan struct{}
	once  sync.Once
}

func newDependency(t *testing.T) *dependency {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	d := &dependency{ln: ln, notes: make(chan string, 16), done: make(chan struct{})}
	go func() {
		defer close(d.done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			// The readiness probe connects and closes; the service sends
			// a line.
			if line, err := bufio.NewReader(c).ReadString('\n'); err == nil {
				d.notes <- strings.TrimSuffix(line, "\n")
			}
			c.Close()
		}
	}()
	t.Cleanup(d.close)
	return d
}

func (d *dependency) addr() string { return d.ln.Addr().String() }

// close stops the dependency: connections to it are refused from now on.
func (d *dependency) close() {
	d.once.Do(func() { d.ln.Close(); <-d.done })
}

// healthDoc is the part of the application/health+json document the
// tests read.
type healthDoc struct {
	Status string `json:"status"`
	Checks map[string][]struct {
		Status        string `json:"status"`
		ObservedValue struct {
			Findings []triage.Finding `json:"findings"`
		} `json:"observedValue"`
	} `json:"checks"`
	Triage *struct {
		Hypotheses []struct {
			ID string `json:"id"`
		} `json:"hypotheses"`
	} `json:"triage"`
}

func (d healthDoc) codes(check string) []triage.Code {
	var out []triage.Code
	for _, c := range d.Checks[check] {
		for _, f := range c.ObservedValue.Findings {
			out = append(out, f.Code)
		}
	}
	return out
}

func decodeHealth(t *testing.T, body string) healthDoc {
	t.Helper()
	var doc healthDoc
	require.NoError(t, json.Unmarshal([]byte(body), &doc), body)
	return doc
}

var checkNames = []string{"self", "listener", "db", "dep", "log", "disk"}

// The whole service against a real dependency that goes away: the API,
// every endpoint, details only with the token, and the metrics.
func TestServe(t *testing.T) {
	const token = "s3cret"
	dir := t.TempDir()
	logPath := filepath.Join(dir, "logs", "requests.log")
	require.NoError(t, os.Mkdir(filepath.Dir(logPath), 0o755))
	dep := newDependency(t)
	// A TTL this short makes every probe see the state of the moment.
	s := start(t, "-log", logPath, "-db", filepath.Join(dir, "notes.db"), "-dep", dep.addr(), "-token", token, "-ttl", "1ms")

	code, body := s.get(t, "/livez", "")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok\n", body)

	code, body, _ = s.do(t, http.MethodPost, "/api/notes", "", "hello")
	require.Equal(t, http.StatusCreated, code, body)
	assert.Equal(t, "1\n", body)
	assert.Equal(t, "hello", <-dep.notes, "the note was published to the dependency")
	code, body = s.get(t, "/api/notes", "")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "1\thello\n", body)
	code, _, _ = s.do(t, http.MethodPut, "/api/notes", "", "x")
	assert.Equal(t, http.StatusMethodNotAllowed, code)

	t.Run("healthy", func(t *testing.T) {
		code, body := s.get(t, "/readyz", "")
		assert.Equal(t, http.StatusOK, code)
		assert.Equal(t, "ok\n", body)
		code, body = s.get(t, "/readyz?verbose", "")
		assert.Equal(t, http.StatusOK, code)
		for _, name := range checkNames {
			// A busy test machine may make a host-wide finding warn;
			// readiness holds, and the line says warn, as /health does.
			assert.Regexp(t, `(?m)^\[\+\]`+name+` (ok|warn)$`, body)
		}
		code, body, hdr := s.do(t, http.MethodGet, "/health", "", "")
		assert.Equal(t, http.StatusOK, code)
		assert.Equal(t, "application/health+json", hdr.Get("Content-Type"))
		// A busy test machine may make a host-wide finding warn (other
		// tests' TIME-WAIT); readiness holds, and nothing fails.
		var public map[string]any
		require.NoError(t, json.Unmarshal([]byte(body), &public), body)
		assert.Len(t, public, 1, body)
		assert.Contains(t, []any{"pass", "warn"}, public["status"], body)

		code, body = s.get(t, "/health", token)
		assert.Equal(t, http.StatusOK, code)
		doc := decodeHealth(t, body)
		assert.Contains(t, []string{"pass", "warn"}, doc.Status, body)
		assert.ElementsMatch(t, checkNames, keys(doc.Checks))
		assert.Contains(t, doc.codes("self"), probe.CodeTCPConnected)
		assert.Contains(t, doc.codes("dep"), probe.CodeTCPConnected)
		assert.Contains(t, doc.codes("db"), probe.CodeDBOK)

		_, metrics := s.get(t, "/metrics", "")
		assert.Contains(t, metrics, "triage_ready 1\n")
		assert.Contains(t, metrics, `triage_check_status{check="dep",status="ok"} 1`)
	})

	dep.close()
	code, body, _ = s.do(t, http.MethodPost, "/api/notes", "", "lost")
	assert.Equal(t, http.StatusBadGateway, code, body)
	logged, err := os.ReadFile(logPath)
	require.NoError(t, err)
	assert.Contains(t, string(logged), `"level":"ERROR"`)
	assert.Contains(t, string(logged), "connection refused")

	t.Run("dependency gone", func(t *testing.T) {
		s.await(t, "/readyz?verbose", "", "[-]dep failed\n", "[-]log failed\n")
		code, body := s.get(t, "/livez", "")
		assert.Equal(t, http.StatusOK, code, "a dependency never fails liveness")
		assert.Equal(t, "ok\n", body)
		code, body = s.get(t, "/readyz", "")
		assert.Equal(t, http.StatusServiceUnavailable, code)
		assert.Equal(t, "not ready\n", body)

		// Without the token, or with a wrong one: names and states only.
		var anon []string
		for _, tok := range []string{"", "wrong"} {
			code, body = s.get(t, "/readyz?verbose", tok)
			anon = append(anon, body)
			assert.Equal(t, http.StatusServiceUnavailable, code)
			assert.Contains(t, body, "[-]dep failed\n")
			assert.Contains(t, body, "[-]log failed\n", "the refused publish is in the request log")
			assert.Contains(t, body, "[+]db ok\n")
			code, body = s.get(t, "/health", tok)
			assert.Equal(t, http.StatusServiceUnavailable, code)
			assert.JSONEq(t, `{"status":"fail"}`, body)
		}
		for _, body := range anon {
			assert.NotContains(t, body, "127.0.0.1")
			assert.NotContains(t, body, "refused")
		}
		// Metrics carry codes and ids ("tcp.refused"), never targets.
		_, metrics := s.get(t, "/metrics", "")
		assert.NotContains(t, metrics, "127.0.0.1")
		assert.NotContains(t, metrics, dir)

		code, body = s.get(t, "/readyz?verbose", token)
		assert.Equal(t, http.StatusServiceUnavailable, code)
		assert.Contains(t, body, "[-]dep failed: "+dep.addr())
		code, body = s.get(t, "/health", token)
		assert.Equal(t, http.StatusServiceUnavailable, code)
		doc := decodeHealth(t, body)
		assert.Equal(t, "fail", doc.Status)
		require.NotEmpty(t, doc.Checks["dep"])
		assert.Equal(t, "fail", doc.Checks["dep"][0].Status)
		assert.Contains(t, doc.codes("dep"), probe.CodeTCPRefused)
		assert.Contains(t, doc.codes("log"), logscan.CodeDependencyRefused)
		require.NotNil(t, doc.Triage)
		assert.NotEmpty(t, doc.Triage.Hypotheses, "the classification comes with the details")

		assert.Contains(t, metrics, "triage_ready 0\n")
		assert.Contains(t, metrics, `triage_check_status{check="dep",status="fail"} 1`)
		assert.Contains(t, metrics, `triage_findings{check="log",code="log.dependency_refused",status="fail"} 1`)
	})
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

var snapshotTime = regexp.MustCompile(`(?m)^triage_snapshot_timestamp_seconds (\S+)$`)

// Within the TTL a storm of probes is served one round of checks, and a
// dependency that goes away meanwhile is not seen until the TTL ends.
func TestServeFromCache(t *testing.T) {
	dep := newDependency(t)
	s := start(t, "-log", filepath.Join(t.TempDir(), "requests.log"), "-dep", dep.addr(), "-ttl", "1h")
	_, metrics := s.get(t, "/metrics", "")
	first := snapshotTime.FindStringSubmatch(metrics)
	require.NotNil(t, first, metrics)

	dep.close()
	var wg sync.WaitGroup
	codes := make(chan int, 100)
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := s.client.Get(s.url + "/readyz")
			if !assert.NoError(t, err) {
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	for code := range codes {
		assert.Equal(t, http.StatusOK, code, "served from the round before the dependency went")
	}
	_, metrics = s.get(t, "/metrics", "")
	assert.Equal(t, first, snapshotTime.FindStringSubmatch(metrics), "one round of checks for every probe")
}

// The token may come from the environment.
func TestTokenFromEnvironment(t *testing.T) {
	t.Setenv(tokenEnv, "from-env")
	s := start(t, "-log", filepath.Join(t.TempDir(), "requests.log"))
	code, body := s.get(t, "/health", "")
	assert.Equal(t, http.StatusOK, code)
	// Without the token only the status shows; a busy test machine may
	// make it warn (TIME-WAIT from other tests), never fail.
	var public map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &public), body)
	assert.Len(t, public, 1, body)
	assert.Contains(t, []any{"pass", "warn"}, public["status"], body)
	code, body = s.get(t, "/health", "from-env")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, decodeHealth(t, body).Checks, "disk")
	assert.NotContains(t, decodeHealth(t, body).Checks, "dep", "no -dep, no dep check")
}

func TestRunErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	logPath := filepath.Join(t.TempDir(), "requests.log")
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"help", []string{"-h"}, 0},
		{"unknown flag", []string{"-nope"}, 2},
		{"argument", []string{"extra"}, 2},
		{"zero ttl", []string{"-ttl", "0"}, 2},
		{"negative timeout", []string{"-timeout", "-1s"}, 2},
		{"zero log window", []string{"-log-window", "0"}, 2},
		{"dep without port", []string{"-dep", "localhost"}, 2},
		{"too few connections", []string{"-max-conns", "2"}, 2},
		{"address in use", []string{"-log", logPath, "-listen", busy.Addr().String()}, 1},
		{"log directory missing", []string{"-log", filepath.Join(t.TempDir(), "no", "such.log"), "-listen", "127.0.0.1:0"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			assert.Equal(t, tt.code, run(context.Background(), tt.args, &out, &errb), errb.String())
			if tt.code != 0 {
				assert.NotEmpty(t, errb.String(), "says why")
			}
		})
	}
}
