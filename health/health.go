package health

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/classify"
)

// Defaults for the zero [Options].
const (
	DefaultTTL     = 5 * time.Second
	DefaultTimeout = 2 * time.Second
)

// Options configures a [Handler].
type Options struct {
	// Checks are the readiness checks, fixed at construction.
	Checks []triage.Check
	// Runner runs the checks; its zero value runs them all at once.
	Runner triage.Runner
	// TTL is how long a snapshot is served before a request refreshes
	// it. If zero, DefaultTTL.
	TTL time.Duration
	// Timeout bounds one refresh. If zero, DefaultTimeout.
	Timeout time.Duration
	// FailOn is the least status that makes /readyz fail: Fail, the
	// default, or Warn.
	FailOn triage.Status
	// FailUnknown makes a check that could not tell fail /readyz too.
	// Either way the details document never reports it as passing.
	FailUnknown bool
	// Details reports whether a request may see reasons, findings and
	// hypotheses. If nil, no request may.
	Details func(*http.Request) bool
	// Classify tunes the hypotheses in the details document.
	Classify classify.Options
	// Now is the clock. If nil, time.Now.
	Now func() time.Time
}

// Handler serves /livez, /readyz and /health. Create it with [New].
type Handler struct {
	opts Options
	snap atomic.Pointer[snapshot]

	mu      sync.Mutex // held by the one request that refreshes
	first   chan struct{}
	firstMu sync.Once
}

// snapshot is one refresh, rendered once for every kind of answer.
type snapshot struct {
	view     Snapshot
	at       time.Time
	ready    bool
	verbose  []byte // [+]/[-] lines, names and states only
	detailed []byte // [+]/[-] lines with reasons
	public   []byte // health+json, status only
	full     []byte // health+json with checks and the triage report
}

// New returns a handler for the given checks. Nothing runs until the
// first request.
func New(opts Options) *Handler {
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.FailOn != triage.Warn {
		opts.FailOn = triage.Fail
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Handler{opts: opts, first: make(chan struct{})}
}

var (
	textPlain  = []string{"text/plain; charset=utf-8"}
	healthJSON = []string{"application/health+json"}
	noStore    = []string{"no-store"}
	okBody     = []byte("ok\n")
	notReady   = []byte("not ready\n")
	liveBody   = []byte("[+]ping ok\nlivez check passed\n")
)

// ServeHTTP routes on the last element of the path: "livez", "readyz" or
// "health". Anything else is 404.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		path = path[i+1:]
	}
	switch path {
	case "livez":
		h.serveLive(w, r)
	case "readyz":
		h.serveReady(w, r)
	case "health":
		h.serveDetails(w, r)
	default:
		http.NotFound(w, r)
	}
}

// Livez returns the liveness handler alone.
func (h *Handler) Livez() http.Handler { return http.HandlerFunc(h.serveLive) }

// Readyz returns the readiness handler alone.
func (h *Handler) Readyz() http.Handler { return http.HandlerFunc(h.serveReady) }

// Details returns the details handler alone.
func (h *Handler) Details() http.Handler { return http.HandlerFunc(h.serveDetails) }

func (h *Handler) serveLive(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr["Content-Type"] = textPlain
	hdr["Cache-Control"] = noStore
	if verbose(r) {
		_, _ = w.Write(liveBody)
		return
	}
	_, _ = w.Write(okBody)
}

func (h *Handler) serveReady(w http.ResponseWriter, r *http.Request) {
	s := h.current(r.Context())
	hdr := w.Header()
	hdr["Content-Type"] = textPlain
	hdr["Cache-Control"] = noStore
	if s == nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write(notReady)
		return
	}
	if !s.ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	switch {
	case !verbose(r):
		if s.ready {
			_, _ = w.Write(okBody)
		} else {
			_, _ = w.Write(notReady)
		}
	case h.allowed(r):
		_, _ = w.Write(s.detailed)
	default:
		_, _ = w.Write(s.verbose)
	}
}

func (h *Handler) serveDetails(w http.ResponseWriter, r *http.Request) {
	s := h.current(r.Context())
	hdr := w.Header()
	hdr["Content-Type"] = healthJSON
	hdr["Cache-Control"] = noStore
	if s == nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"fail"}`))
		return
	}
	if !s.ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	if h.allowed(r) {
		_, _ = w.Write(s.full)
		return
	}
	_, _ = w.Write(s.public)
}

func verbose(r *http.Request) bool {
	// Only a parse when a query is present keeps the common path
	// allocation-free.
	return r.URL.RawQuery != "" && r.URL.Query().Has("verbose")
}

func (h *Handler) allowed(r *http.Request) bool {
	return h.opts.Details != nil && h.opts.Details(r)
}

// current returns a fresh enough snapshot, refreshing it when stale. Only
// one request refreshes at a time; the others get the last snapshot, or
// wait for the first one when there is none yet. It returns nil when ctx
// ends before any snapshot exists.
func (h *Handler) current(ctx context.Context) *snapshot {
	s := h.snap.Load()
	if s != nil && h.opts.Now().Sub(s.at) < h.opts.TTL {
		return s
	}
	if h.mu.TryLock() {
		// Another request may have refreshed while this one looked.
		if s2 := h.snap.Load(); s2 == s || h.opts.Now().Sub(s2.at) >= h.opts.TTL {
			s = h.refresh(ctx)
			h.snap.Store(s)
			h.firstMu.Do(func() { close(h.first) })
		} else {
			s = s2
		}
		h.mu.Unlock()
		return s
	}
	if s != nil {
		return s
	}
	select {
	case <-h.first:
		return h.snap.Load()
	case <-ctx.Done():
		return nil
	}
}

// Snapshot is one round of checks as the handler caches it. Its slices
// are shared: read them, do not change them.
type Snapshot struct {
	Time    time.Time        // when the checks ran
	Ready   bool             // what /readyz answers
	Results []triage.Outcome // the typed results, in the order of Options.Checks
	Report  classify.Report  // the symptom and hypotheses
}

// Snapshot returns the cached round of checks, refreshing it under the
// same rules as a request. ok is false when ctx ends before the first
// round completes.
func (h *Handler) Snapshot(ctx context.Context) (s Snapshot, ok bool) {
	if cur := h.current(ctx); cur != nil {
		return cur.view, true
	}
	return Snapshot{}, false
}

// Refresh runs the checks now and replaces the cached snapshot.
func (h *Handler) Refresh(ctx context.Context) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.snap.Store(h.refresh(ctx))
	h.firstMu.Do(func() { close(h.first) })
}

func (h *Handler) refresh(ctx context.Context) *snapshot {
	// The refresh serves every waiting request, so the one that happens
	// to run it must not cancel it by going away.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.opts.Timeout)
	defer cancel()
	results := h.opts.Runner.Run(ctx, h.opts.Checks...)
	return render(results, classify.Classify(results, h.opts.Classify), h.opts)
}

func failing(opts Options, r *triage.Result) bool {
	if r.Status == triage.Unknown {
		return opts.FailUnknown
	}
	return !opts.FailOn.Worse(r.Status)
}

func render(results []triage.Outcome, verdict classify.Report, opts Options) *snapshot {
	s := &snapshot{at: opts.Now(), ready: true}
	s.view = Snapshot{Time: s.at, Results: results, Report: verdict}
	var verbose, detailed strings.Builder
	doc := healthDoc{Status: "pass", Checks: map[string][]checkDoc{}}
	worst := triage.OK
	for _, o := range results {
		r := o.Common()
		fail := failing(opts, r)
		if fail {
			s.ready = false
		}
		worst = triage.Worst(worst, r.Status)
		mark, word := "+", "ok"
		if fail {
			mark, word = "-", "failed"
		}
		fmt.Fprintf(&verbose, "[%s]%s %s\n", mark, r.Label(), word)
		fmt.Fprintf(&detailed, "[%s]%s %s", mark, r.Label(), word)
		if reason := reasonOf(r); reason != "" && (fail || r.Status != triage.OK) {
			fmt.Fprintf(&detailed, ": %s", reason)
		}
		detailed.WriteByte('\n')
		doc.Checks[r.Label()] = append(doc.Checks[r.Label()], checkDoc{
			Status: ietfStatus(r.Status, fail), Output: reasonOf(r), Time: s.at.UTC().Format(time.RFC3339),
			ObservedValue: o,
		})
	}
	tail := "readyz check passed\n"
	if !s.ready {
		tail = "readyz check failed\n"
	}
	s.view.Ready = s.ready
	verbose.WriteString(tail)
	detailed.WriteString(tail)
	s.verbose = []byte(verbose.String())
	s.detailed = []byte(detailed.String())

	doc.Status = ietfStatus(worst, !s.ready)
	s.public, _ = json.Marshal(struct {
		Status string `json:"status"`
	}{doc.Status})
	doc.Triage = &verdict
	s.full, _ = json.Marshal(doc)
	return s
}

// reasonOf is the one line that says why a result is not OK.
func reasonOf(r *triage.Result) string {
	var worst *triage.Finding
	for i := range r.Findings {
		if worst == nil || r.Findings[i].Status.Worse(worst.Status) {
			worst = &r.Findings[i]
		}
	}
	switch {
	case worst != nil && worst.Status != triage.OK:
		return worst.Summary
	case r.Err != nil:
		return r.Err.Error()
	}
	return ""
}

func ietfStatus(s triage.Status, failing bool) string {
	switch {
	case failing:
		return "fail"
	case s == triage.OK:
		return "pass"
	}
	return "warn"
}

// healthDoc is the application/health+json document.
type healthDoc struct {
	Status string                `json:"status"`
	Checks map[string][]checkDoc `json:"checks"`
	Triage *classify.Report      `json:"triage,omitempty"`
}

type checkDoc struct {
	Status        string         `json:"status"`
	Output        string         `json:"output,omitempty"`
	Time          string         `json:"time"`
	ObservedValue triage.Outcome `json:"observedValue"`
}
