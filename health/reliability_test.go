package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/health"
)

// serve answers one request in-process, turning a panic that escapes the
// handler into a failed test rather than a crashed one.
func serve(t *testing.T, h http.Handler, req *http.Request) (rec *httptest.ResponseRecorder) {
	t.Helper()
	rec = httptest.NewRecorder()
	defer func() {
		if v := recover(); v != nil {
			t.Errorf("%s %s panicked: %v", req.Method, req.URL, v)
		}
	}()
	h.ServeHTTP(rec, req)
	return rec
}

// stuck is a check that ignores its context: it returns only when the
// test releases it.
type stuck struct {
	runs    atomic.Int32
	release chan struct{}
}

func newStuck(t *testing.T) *stuck {
	s := &stuck{release: make(chan struct{})}
	t.Cleanup(func() { s.free() })
	return s
}

var freeMu sync.Mutex

func (s *stuck) free() {
	freeMu.Lock()
	defer freeMu.Unlock()
	select {
	case <-s.release:
	default:
		close(s.release)
	}
}

func (s *stuck) check(name string) triage.Check {
	return triage.Check{Name: name, Run: func(context.Context) triage.Outcome {
		s.runs.Add(1)
		<-s.release
		r := &triage.Result{}
		r.Finish(nil)
		return r
	}}
}

// A check that ignores its context is not started again while it is still
// in flight: a hundred refreshes leave one copy of it running, not a
// hundred.
func TestStuckCheckNotStartedAgain(t *testing.T) {
	s := newStuck(t)
	ok := &counted{}
	ok.status.Store(int32(triage.OK))
	h := health.New(health.Options{
		Checks:  []triage.Check{s.check("stuck"), ok.check("ok")},
		TTL:     20 * time.Millisecond,
		Timeout: 20 * time.Millisecond,
		Details: func(*http.Request) bool { return true },
	})
	h.Refresh(context.Background())
	before := runtime.NumGoroutine()
	for range 100 {
		h.Refresh(context.Background())
	}
	after := runtime.NumGoroutine()
	assert.EqualValues(t, 1, s.runs.Load(), "the stuck check ran once")
	assert.EqualValues(t, 101, ok.runs.Load(), "the others ran every time")
	assert.Less(t, after-before, 10, "goroutines do not pile up: %d before, %d after", before, after)

	rec := serve(t, h, httptest.NewRequest(http.MethodGet, "/readyz?verbose", nil))
	assert.Contains(t, rec.Body.String(), "[?]stuck unknown: ")
	assert.Contains(t, rec.Body.String(), "still running", "it says the check is stuck, and for how long")
	snap, got := h.Snapshot(context.Background())
	require.True(t, got)
	require.Len(t, snap.Abandoned, 1, "one copy abandoned, however many rounds")
	assert.Equal(t, "stuck", snap.Abandoned[0].Name)
	assert.ErrorIs(t, snap.Results[0].Common().Err, triage.ErrUnresponsive)
	assert.Positive(t, snap.Results[0].Common().Duration, "how long it has been stuck")

	s.free()
	require.Eventually(t, func() bool {
		h.Refresh(context.Background())
		rec := serve(t, h, httptest.NewRequest(http.MethodGet, "/readyz?verbose", nil))
		return strings.Contains(rec.Body.String(), "[+]stuck ok")
	}, 10*time.Second, 10*time.Millisecond, "once it returns, it runs again")
	snap, _ = h.Snapshot(context.Background())
	assert.Empty(t, snap.Abandoned)
}

// A check that ignores its context, served through requests with a short
// TTL as a probe storm would: requests never pile up copies of it either.
func TestStuckCheckUnderProbes(t *testing.T) {
	s := newStuck(t)
	h := health.New(health.Options{
		Checks:  []triage.Check{s.check("stuck")},
		TTL:     20 * time.Millisecond,
		Timeout: 20 * time.Millisecond,
	})
	before := runtime.NumGoroutine()
	for range 100 {
		serve(t, h, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		time.Sleep(5 * time.Millisecond)
	}
	assert.EqualValues(t, 1, s.runs.Load(), "the stuck check ran once")
	assert.Less(t, runtime.NumGoroutine()-before, 10, "goroutines do not pile up")
}

// explosive is a result whose JSON encoding panics.
type explosive struct {
	triage.Result
	boom *atomic.Bool
}

func (e explosive) MarshalJSON() ([]byte, error) {
	if e.boom.Load() {
		panic("explosive result")
	}
	return json.Marshal(e.Result)
}

// A panic while a refresh renders its results does not wedge the handler:
// the next refresh runs the checks again and serves what they say.
func TestPanicDuringRefresh(t *testing.T) {
	var boom atomic.Bool
	boom.Store(true)
	var status atomic.Int32
	status.Store(int32(triage.Fail))
	var runs atomic.Int32
	check := triage.Check{Name: "x", Run: func(context.Context) triage.Outcome {
		runs.Add(1)
		r := &explosive{boom: &boom}
		r.Add(triage.Finding{Code: "test.x", Status: triage.Status(status.Load()), Summary: "x"})
		r.Finish(nil)
		return r
	}}
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h := health.New(health.Options{
		Checks:  []triage.Check{check},
		TTL:     time.Second,
		Now:     clock,
		Details: func(*http.Request) bool { return true },
	})

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	func() {
		defer func() { _ = recover() }()
		h.Refresh(ctx)
	}()
	rec := serve(t, h, httptest.NewRequest(http.MethodGet, "/health", nil).WithContext(ctx))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), "encoding the result panicked", "the document says what it could not encode")

	boom.Store(false)
	status.Store(int32(triage.OK))
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rec := serve(t, h, httptest.NewRequest(http.MethodGet, "/readyz", nil).WithContext(ctx))
		return rec.Code == http.StatusOK
	}, 20*time.Second, 10*time.Millisecond, "the checks run again after the panic")
	assert.GreaterOrEqual(t, runs.Load(), int32(2))
}

// A probe that finds the snapshot stale is answered from it at once; the
// refresh runs behind it.
func TestStaleWhileRevalidate(t *testing.T) {
	var status atomic.Int32
	status.Store(int32(triage.OK))
	var block atomic.Bool
	started, release := make(chan struct{}, 1), make(chan struct{})
	var runs atomic.Int32
	check := triage.Check{Name: "c", Run: func(ctx context.Context) triage.Outcome {
		runs.Add(1)
		if block.Load() {
			started <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		r := &triage.Result{}
		r.Add(triage.Finding{Code: "test.c", Status: triage.Status(status.Load()), Summary: "c"})
		r.Finish(nil)
		return r
	}}
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h := health.New(health.Options{Checks: []triage.Check{check}, TTL: time.Second, Timeout: time.Minute, Now: clock})
	h.Refresh(context.Background())

	block.Store(true)
	status.Store(int32(triage.Fail))
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()

	answered := make(chan *httptest.ResponseRecorder, 1)
	go func() { answered <- serve(t, h, httptest.NewRequest(http.MethodGet, "/readyz", nil)) }()
	var rec *httptest.ResponseRecorder
	select {
	case rec = <-answered:
	case <-time.After(20 * time.Second):
		close(release)
		t.Fatal("the stale probe waited for the refresh")
	}
	assert.Equal(t, http.StatusOK, rec.Code, "the last snapshot, at once")
	assert.NotEmpty(t, rec.Header().Get("Age"), "with its age")
	<-started

	// More probes meanwhile start no second refresh.
	for range 50 {
		rec := serve(t, h, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		assert.Equal(t, http.StatusOK, rec.Code)
	}
	assert.EqualValues(t, 2, runs.Load())

	close(release)
	require.Eventually(t, func() bool {
		rec := serve(t, h, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec.Code == http.StatusServiceUnavailable
	}, 10*time.Second, time.Millisecond, "the refreshed state is served once it is there")
	assert.EqualValues(t, 2, runs.Load())
}

// The handler can be mounted anywhere: under a subtree pattern, behind
// http.StripPrefix, or at Kubernetes' /healthz.
func TestMounted(t *testing.T) {
	db := &counted{}
	db.status.Store(int32(triage.Fail))
	disk := &counted{}
	disk.status.Store(int32(triage.OK))
	h := health.New(health.Options{Checks: []triage.Check{db.check("db"), disk.check("disk")}})

	mux := http.NewServeMux()
	mux.Handle("/healthz/", h)
	mux.Handle("GET /k8s/", http.StripPrefix("/k8s", h))
	mux.Handle("/healthz", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, prefix := range []string{"/healthz", "/k8s"} {
		t.Run(prefix, func(t *testing.T) {
			code, body, _ := get(t, srv, prefix+"/livez")
			assert.Equal(t, http.StatusOK, code)
			assert.Equal(t, "ok\n", body)
			code, _, _ = get(t, srv, prefix+"/readyz")
			assert.Equal(t, http.StatusServiceUnavailable, code)
			code, _, _ = get(t, srv, prefix+"/health")
			assert.Equal(t, http.StatusServiceUnavailable, code)
			code, body, _ = get(t, srv, prefix+"/readyz/disk")
			assert.Equal(t, http.StatusOK, code, body)
			assert.Equal(t, "ok\n", body)
			code, body, _ = get(t, srv, prefix+"/readyz/db?verbose")
			assert.Equal(t, http.StatusServiceUnavailable, code, body)
			assert.Equal(t, "[-]db failed\nreadyz check failed\n", body)
			code, _, _ = get(t, srv, prefix+"/readyz/nope")
			assert.Equal(t, http.StatusNotFound, code)
			code, _, _ = get(t, srv, prefix+"/readyz?exclude=db")
			assert.Equal(t, http.StatusOK, code)
			code, _, _ = get(t, srv, prefix+"/other")
			assert.Equal(t, http.StatusNotFound, code)
		})
	}
	code, body, _ := get(t, srv, "/healthz?verbose")
	assert.Equal(t, http.StatusServiceUnavailable, code, "/healthz alone is readiness, as in Kubernetes")
	assert.Contains(t, body, "[-]db failed\n")
}

// ?exclude leaves checks out of readiness, as Kubernetes' apiserver does.
func TestExclude(t *testing.T) {
	db := &counted{}
	db.status.Store(int32(triage.Fail))
	dep := &counted{}
	dep.status.Store(int32(triage.Fail))
	disk := &counted{}
	disk.status.Store(int32(triage.OK))
	h := health.New(health.Options{Checks: []triage.Check{db.check("db"), dep.check("dep"), disk.check("disk")}})
	srv := httptest.NewServer(h)
	defer srv.Close()

	code, _, _ := get(t, srv, "/readyz?exclude=db")
	assert.Equal(t, http.StatusServiceUnavailable, code, "dep still fails")
	code, body, _ := get(t, srv, "/readyz?exclude=db&exclude=dep&verbose")
	assert.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, "[+]db excluded: ok\n[+]dep excluded: ok\n[+]disk ok\nreadyz check passed\n", body)
	code, body, _ = get(t, srv, "/readyz?exclude=db&exclude=dep&exclude=nope&verbose")
	assert.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `warn: some health checks cannot be excluded: no matches for "nope"`)
}

// One meaning of a status everywhere: a check that could not tell is
// never shown as passing, in any answer.
func TestUnknownNeverShownAsPassing(t *testing.T) {
	unknown := triage.Check{Name: "u", Run: func(context.Context) triage.Outcome {
		r := &triage.Result{}
		r.Finish(errors.New("permission denied"))
		return r
	}}
	panics := triage.Check{Name: "p", Run: func(context.Context) triage.Outcome { panic("boom") }}
	s := newStuck(t)
	tests := []struct {
		name  string
		check triage.Check
	}{
		{"could not tell", unknown},
		{"panicked", panics},
		{"unresponsive", s.check("s")},
	}
	for _, tt := range tests {
		for _, failUnknown := range []bool{false, true} {
			t.Run(tt.name, func(t *testing.T) {
				h := health.New(health.Options{
					Checks: []triage.Check{tt.check}, Timeout: 50 * time.Millisecond,
					FailUnknown: failUnknown, Details: func(*http.Request) bool { return true },
				})
				rec := serve(t, h, httptest.NewRequest(http.MethodGet, "/readyz?verbose", nil))
				body := rec.Body.String()
				assert.NotContains(t, body, "[+]", body)
				assert.NotContains(t, body, " ok", body)
				want, mark := http.StatusOK, "[?]"
				if failUnknown {
					want, mark = http.StatusServiceUnavailable, "[-]"
				}
				assert.Equal(t, want, rec.Code, body)
				assert.True(t, strings.HasPrefix(body, mark+tt.check.Name+" unknown"), body)

				rec = serve(t, h, httptest.NewRequest(http.MethodGet, "/health", nil))
				var doc struct {
					Status string `json:"status"`
					Checks map[string][]struct {
						Status string `json:"status"`
					} `json:"checks"`
				}
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc), rec.Body.String())
				wantDoc := "warn"
				if failUnknown {
					wantDoc = "fail"
				}
				assert.Equal(t, wantDoc, doc.Status)
				require.Len(t, doc.Checks[tt.check.Name], 1, rec.Body.String())
				assert.Equal(t, wantDoc, doc.Checks[tt.check.Name][0].Status)
			})
		}
	}
}

// Readyz alone answers for one check under a {check} wildcard.
func TestReadyzAlone(t *testing.T) {
	db := &counted{}
	db.status.Store(int32(triage.Fail))
	disk := &counted{}
	disk.status.Store(int32(triage.OK))
	h := health.New(health.Options{Checks: []triage.Check{db.check("db"), disk.check("disk")}})
	mux := http.NewServeMux()
	mux.Handle("GET /readyz", h.Readyz())
	mux.Handle("GET /readyz/{check}", h.Readyz())
	mux.Handle("GET /{tenant}/probes/", h)
	mux.Handle("GET /all/x/{rest...}", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, tt := range []struct {
		path string
		code int
	}{
		{"/readyz", http.StatusServiceUnavailable},
		{"/readyz/disk", http.StatusOK},
		{"/readyz/db", http.StatusServiceUnavailable},
		{"/readyz/nope", http.StatusNotFound},
		{"/acme/probes/readyz/disk", http.StatusOK},
		{"/acme/probes/livez", http.StatusOK},
		{"/acme/probes/livez/ping", http.StatusOK},
		{"/acme/probes/health", http.StatusServiceUnavailable},
		{"/acme/probes/", http.StatusNotFound},
		{"/all/x/readyz/db", http.StatusServiceUnavailable},
		{"/all/x/livez", http.StatusOK},
	} {
		code, body, hdr := get(t, srv, tt.path)
		assert.Equal(t, tt.code, code, "%s: %s", tt.path, body)
		if code != http.StatusNotFound && !strings.Contains(tt.path, "livez") {
			assert.Equal(t, "0", hdr.Get("Age"), tt.path)
		}
	}
}
