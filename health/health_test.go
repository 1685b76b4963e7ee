package health_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/health"
)

// counted is a check whose status the test sets and whose runs it counts.
type counted struct {
	runs   atomic.Int32
	status atomic.Int32
	delay  time.Duration
}

func (c *counted) check(name string) triage.Check {
	return triage.Check{Name: name, Run: func(ctx context.Context) triage.Outcome {
		c.runs.Add(1)
		if c.delay > 0 {
			select {
			case <-time.After(c.delay):
			case <-ctx.Done():
			}
		}
		r := &triage.Result{}
		st := triage.Status(c.status.Load())
		r.Add(triage.Finding{Code: "test.db", Status: st, Summary: "db at 10.1.2.3:5432 said " + st.String()})
		r.Finish(nil)
		return r
	}}
}

func get(t *testing.T, srv *httptest.Server, path string) (int, string, http.Header) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b), resp.Header
}

func TestReadyAndLive(t *testing.T) {
	db := &counted{}
	db.status.Store(int32(triage.Fail))
	h := health.New(health.Options{Checks: []triage.Check{db.check("db")}})
	srv := httptest.NewServer(h)
	defer srv.Close()

	code, body, _ := get(t, srv, "/livez")
	assert.Equal(t, http.StatusOK, code, "check failures never fail liveness")
	assert.Equal(t, "ok\n", body)
	code, body, _ = get(t, srv, "/livez?verbose")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "[+]ping ok")

	code, body, _ = get(t, srv, "/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "not ready\n", body)

	code, body, _ = get(t, srv, "/readyz?verbose")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "[-]db failed\nreadyz check failed\n", body)
	assert.NotContains(t, body, "10.1.2.3", "no internal details without permission")

	code, body, hdr := get(t, srv, "/health")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "application/health+json", hdr.Get("Content-Type"))
	assert.JSONEq(t, `{"status":"fail"}`, body)

	code, _, _ = get(t, srv, "/other")
	assert.Equal(t, http.StatusNotFound, code)
}

func TestDetailsWhenAllowed(t *testing.T) {
	db := &counted{}
	db.status.Store(int32(triage.Fail))
	h := health.New(health.Options{
		Checks:  []triage.Check{db.check("db")},
		Details: func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer s3cret" },
	})
	srv := httptest.NewServer(h)
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/readyz?verbose", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "[-]db failed: db at 10.1.2.3:5432 said fail\nreadyz check failed\n", string(b))

	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/health", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err = srv.Client().Do(req)
	require.NoError(t, err)
	var doc struct {
		Status string `json:"status"`
		Checks map[string][]struct {
			Status        string `json:"status"`
			Output        string `json:"output"`
			ObservedValue struct {
				Findings []triage.Finding `json:"findings"`
			} `json:"observedValue"`
		} `json:"checks"`
		Triage struct {
			Symptom    string            `json:"symptom"`
			Hypotheses []json.RawMessage `json:"hypotheses"`
		} `json:"triage"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&doc))
	resp.Body.Close()
	assert.Equal(t, "fail", doc.Status)
	require.Len(t, doc.Checks["db"], 1)
	assert.Equal(t, "fail", doc.Checks["db"][0].Status)
	assert.Equal(t, triage.Code("test.db"), doc.Checks["db"][0].ObservedValue.Findings[0].Code)
}

func TestStatusPolicy(t *testing.T) {
	tests := []struct {
		name   string
		status triage.Status
		opts   health.Options
		want   int
	}{
		{"ok", triage.OK, health.Options{}, 200},
		{"warn passes by default", triage.Warn, health.Options{}, 200},
		{"warn fails with FailOn warn", triage.Warn, health.Options{FailOn: triage.Warn}, 503},
		{"unknown passes by default", triage.Unknown, health.Options{}, 200},
		{"unknown fails with FailUnknown", triage.Unknown, health.Options{FailUnknown: true}, 503},
		{"fail fails", triage.Fail, health.Options{}, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &counted{}
			c.status.Store(int32(tt.status))
			tt.opts.Checks = []triage.Check{c.check("c")}
			srv := httptest.NewServer(health.New(tt.opts))
			defer srv.Close()
			code, _, _ := get(t, srv, "/readyz")
			assert.Equal(t, tt.want, code)
			_, body, _ := get(t, srv, "/health")
			if tt.status == triage.Unknown {
				assert.NotContains(t, body, "pass", "could not tell never reads as passing")
			}
		})
	}
}

// 500 concurrent requests collapse into one refresh per TTL.
func TestCacheCollapsesStorm(t *testing.T) {
	c := &counted{delay: 50 * time.Millisecond}
	c.status.Store(int32(triage.OK))
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h := health.New(health.Options{Checks: []triage.Check{c.check("c")}, TTL: time.Minute, Now: clock})

	storm := func() {
		var wg sync.WaitGroup
		for range 500 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
				assert.Equal(t, http.StatusOK, rec.Code)
			}()
		}
		wg.Wait()
	}
	storm()
	assert.EqualValues(t, 1, c.runs.Load())
	storm()
	assert.EqualValues(t, 1, c.runs.Load(), "fresh snapshot served from cache")

	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	storm()
	// The storm that finds it stale is answered from the last snapshot
	// while one refresh runs behind it.
	require.Eventually(t, func() bool { return c.runs.Load() == 2 }, 5*time.Second, time.Millisecond, "one refresh once stale")
	storm()
	assert.EqualValues(t, 2, c.runs.Load(), "one refresh once stale")
}

func TestRefreshBoundedAndDetachedFromRequest(t *testing.T) {
	c := &counted{delay: time.Hour}
	c.status.Store(int32(triage.OK))
	h := health.New(health.Options{Checks: []triage.Check{c.check("slow")}, Timeout: 200 * time.Millisecond})

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the caller is gone; the refresh still completes for others
	start := time.Now()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz?verbose", nil).WithContext(ctx))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "a caller that is gone is not kept waiting")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz?verbose", nil))
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Equal(t, http.StatusOK, rec.Code, "an OK finding delivered as the check stopped at its deadline")
	assert.EqualValues(t, 1, c.runs.Load(), "the refresh the first caller started served the second")
}

func TestServesWhileRefreshing(t *testing.T) {
	c := &counted{}
	c.status.Store(int32(triage.OK))
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h := health.New(health.Options{Checks: []triage.Check{c.check("c")}, TTL: time.Second, Now: clock})
	h.Refresh(context.Background())

	c.delay = 300 * time.Millisecond
	c.status.Store(int32(triage.Fail))
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()

	// The request that finds the snapshot stale, and those after it, get
	// the last snapshot at once while the refresh runs behind them.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	assert.Equal(t, http.StatusOK, rec.Code, "stale snapshot served")
	require.Eventually(t, func() bool { return c.runs.Load() == 2 }, 5*time.Second, time.Millisecond)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	assert.Equal(t, http.StatusOK, rec.Code, "stale snapshot served")
	require.Eventually(t, func() bool {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec.Code == http.StatusServiceUnavailable
	}, 5*time.Second, time.Millisecond, "the new state once the refresh is done")
}

type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

func BenchmarkCachedReadyz(b *testing.B) {
	c := &counted{}
	c.status.Store(int32(triage.OK))
	h := health.New(health.Options{Checks: []triage.Check{c.check("c")}, TTL: time.Hour})
	h.Refresh(context.Background())
	req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &discard{h: http.Header{}}
		for pb.Next() {
			h.ServeHTTP(w, req)
		}
	})
}

// A cached answer allocates nothing, whoever asks.
func TestCachedReadAllocatesNothing(t *testing.T) {
	c := &counted{}
	c.status.Store(int32(triage.Fail))
	h := health.New(health.Options{
		Checks:  []triage.Check{c.check("c")},
		TTL:     time.Hour,
		Details: func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer s3cret" },
	})
	h.Refresh(context.Background())
	anon := httptest.NewRequest(http.MethodGet, "/readyz", nil)
	authed := httptest.NewRequest(http.MethodGet, "/health", nil)
	authed.Header.Set("Authorization", "Bearer s3cret")
	for _, tt := range []struct {
		name string
		req  *http.Request
	}{
		{"readyz", anon},
		{"health", httptest.NewRequest(http.MethodGet, "/health", nil)},
		{"health with details", authed},
		{"livez", httptest.NewRequest(http.MethodGet, "/livez", nil)},
		{"one check", httptest.NewRequest(http.MethodGet, "/readyz/c", nil)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := &discard{h: http.Header{}}
			h.ServeHTTP(w, tt.req)
			assert.Zero(t, testing.AllocsPerRun(100, func() { h.ServeHTTP(w, tt.req) }))
		})
	}
	assert.EqualValues(t, 1, c.runs.Load(), "every answer came from the cache")
}

// A fresh snapshot is served while a refresh holds the handler's lock: the
// cached path does not take it.
func TestCachedReadTakesNoLock(t *testing.T) {
	var blocking, inRefresh atomic.Bool
	started, release := make(chan struct{}), make(chan struct{})
	check := triage.Check{Name: "c", Run: func(ctx context.Context) triage.Outcome {
		if blocking.Load() {
			inRefresh.Store(true)
			close(started)
			select {
			case <-release:
			case <-ctx.Done():
			}
			inRefresh.Store(false)
		}
		r := &triage.Result{}
		r.Finish(nil)
		return r
	}}
	h := health.New(health.Options{Checks: []triage.Check{check}, TTL: time.Hour, Timeout: 10 * time.Second})
	h.Refresh(context.Background())

	blocking.Store(true)
	done := make(chan struct{})
	go func() { defer close(done); h.Refresh(context.Background()) }()
	<-started
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	// Had the read waited for the lock, the refresh would have ended first.
	assert.True(t, inRefresh.Load(), "answered while the refresh still ran")
	assert.Equal(t, http.StatusOK, rec.Code)
	close(release)
	<-done
}

// TestCheckNamedAfterItsURL: an embedder names a check after the URL it
// probes, password included; no answer prints the password.
func TestCheckNamedAfterItsURL(t *testing.T) {
	db := &counted{}
	db.status.Store(int32(triage.Fail))
	h := health.New(health.Options{Checks: []triage.Check{db.check("http://admin:hunter2@api.internal/health")},
		Details: func(*http.Request) bool { return true }})
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, path := range []string{"/readyz?verbose", "/health", "/readyz"} {
		_, body, _ := get(t, srv, path)
		assert.NotContains(t, body, "hunter2", path)
	}
	_, body, _ := get(t, srv, "/readyz?verbose")
	assert.Contains(t, body, "admin:xxxxx@api.internal", "the check is still named")
}

// TestCloseWaitsForTheRefresh: a refresh started behind an answer is
// under way when the service shuts down; Close waits for it, and no check
// starts after it.
func TestCloseWaitsForTheRefresh(t *testing.T) {
	db := &counted{delay: 200 * time.Millisecond}
	db.status.Store(int32(triage.OK))
	h := health.New(health.Options{Checks: []triage.Check{db.check("db")}, TTL: time.Millisecond})
	srv := httptest.NewServer(h)
	defer srv.Close()
	get(t, srv, "/readyz") // the first round
	before, ok := h.Snapshot(context.Background())
	require.True(t, ok)
	time.Sleep(5 * time.Millisecond)
	get(t, srv, "/readyz") // stale: a refresh starts behind the answer
	// The answer may come before the refresh's goroutine has begun the
	// check: wait for it to be under way.
	require.Eventually(t, func() bool { return db.runs.Load() == 2 }, 10*time.Second, time.Millisecond)
	require.NoError(t, h.Close(context.Background()))
	after, ok := h.Snapshot(context.Background())
	require.True(t, ok)
	assert.True(t, after.Time.After(before.Time), "Close returned once the refresh under way had stored its round")
	code, _, _ := get(t, srv, "/readyz")
	assert.Equal(t, http.StatusOK, code, "answered from the last snapshot")
	assert.Equal(t, int32(2), db.runs.Load(), "no refresh after Close")

	// A context that ends first ends the wait, with its error.
	h2 := health.New(health.Options{Checks: []triage.Check{db.check("db")}})
	started := make(chan struct{})
	go func() {
		close(started)
		h2.Refresh(context.Background())
	}()
	<-started
	for db.runs.Load() < 3 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, h2.Close(ctx), context.Canceled)
	require.NoError(t, h2.Close(context.Background()))
}
