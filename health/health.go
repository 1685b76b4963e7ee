package health

import (
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
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
	// Checks are the readiness checks, fixed at construction. Each is
	// known by its name (triage.Check.Name), or by the kind of its result
	// when it has none; names should be unique, and one path segment.
	Checks []triage.Check
	// Runner runs the checks; its zero value runs them all at once.
	Runner triage.Runner
	// TTL is how long a snapshot is served before a request starts a
	// refresh. If zero, DefaultTTL.
	TTL time.Duration
	// Timeout bounds one refresh, and how long the first request waits
	// for the first snapshot. If zero, DefaultTimeout.
	Timeout time.Duration
	// FailOn is the least status that makes /readyz fail: Fail, the
	// default, or Warn.
	FailOn triage.Status
	// FailUnknown makes a check that could not tell (Unknown: an error, a
	// panic, a check that did not return) fail /readyz too. Either way no
	// answer ever shows it as passing.
	FailUnknown bool
	// Details reports whether a request may see reasons, findings and
	// hypotheses. If nil, no request may.
	Details func(*http.Request) bool
	// Classify tunes the hypotheses in the details document.
	Classify classify.Options
	// Now is the clock. If nil, time.Now.
	Now func() time.Time
	// History is how many readiness changes are kept, each with its round
	// of checks (Handler.Transitions, /health/transitions). If zero,
	// DefaultHistory; negative keeps none.
	History int
	// Logger, if not nil, logs each readiness change: a warning with the
	// symptom, the cause and the failing checks when the service stops
	// being ready, an info line when it is ready again, so that log
	// pipelines keep the evidence too. slog.Default() is a good choice.
	Logger *slog.Logger
}

// Handler serves /livez, /readyz, /readyz/<check> and /health. Create it
// with [New].
type Handler struct {
	opts   Options
	checks []*tracked
	snap   atomic.Pointer[snapshot]
	age    atomic.Pointer[ageHeader]

	mu        sync.Mutex // held by the one refresh under way
	hist      history
	first     chan struct{}
	firstOnce sync.Once
	closed    atomic.Bool
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
	h := &Handler{opts: opts, first: make(chan struct{})}
	h.hist.max = opts.History
	if h.hist.max == 0 {
		h.hist.max = DefaultHistory
	}
	for i, c := range opts.Checks {
		h.checks = append(h.checks, &tracked{check: c, label: c.Name, index: i})
	}
	return h
}

var (
	textPlain   = []string{"text/plain; charset=utf-8"}
	healthJSON  = []string{"application/health+json"}
	noStore     = []string{"no-store"}
	okBody      = []byte("ok\n")
	notReady    = []byte("not ready\n")
	liveBody    = []byte("[+]ping ok\nlivez check passed\n")
	noSnapshot  = []byte(`{"status":"fail"}`)
	passTail    = "readyz check passed\n"
	failTail    = "readyz check failed\n"
	excludeWarn = "warn: some health checks cannot be excluded: no matches for "
)

// ServeHTTP serves these paths, relative to where the handler is mounted:
//
//	/livez             200 while the process serves HTTP (also /livez/ping)
//	/readyz            200 or 503 over every check (also /healthz)
//	/readyz/<check>    200 or 503 for the checks of that name; 404 for none
//	/health            the application/health+json document
//	/health/transitions the last readiness changes and their evidence
//	                   (JSON, newest first; 403 without details)
//
// Anything else is 404. Mount it at the root, under a subtree pattern
// (mux.Handle("/healthz/", h) serves /healthz/readyz and so on), behind
// http.StripPrefix, or path by path with exact patterns
// (mux.Handle("/readyz", h)).
//
// /readyz takes Kubernetes' query parameters: ?verbose lists the checks,
// one line each, and ?exclude=<check> (repeatable) leaves a check out.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := relative(r)
	switch {
	case p == "/livez" || p == "/livez/ping":
		h.serveLive(w, r)
	case p == "/readyz" || p == "/healthz":
		h.serveReady(w, r, "")
	case strings.HasPrefix(p, "/readyz/"):
		h.serveReady(w, r, p[len("/readyz/"):])
	case strings.HasPrefix(p, "/healthz/"):
		h.serveReady(w, r, p[len("/healthz/"):])
	case p == "/health":
		h.serveDetails(w, r)
	case p == "/health/transitions":
		h.serveTransitions(w, r)
	default:
		http.NotFound(w, r)
	}
}

// relative returns the request's path below the pattern that routed it
// here: "/readyz" for /healthz/readyz under the pattern "/healthz/". A
// path that does not begin with the pattern's segments, as after
// http.StripPrefix, is already relative.
func relative(r *http.Request) string {
	p, pat := r.URL.Path, r.Pattern
	if pat == "" {
		return p
	}
	if i := strings.IndexByte(pat, ' '); i >= 0 {
		pat = strings.TrimLeft(pat[i+1:], " \t")
	}
	if i := strings.IndexByte(pat, '/'); i > 0 {
		pat = pat[i:] // a host
	}
	switch {
	case strings.HasSuffix(pat, "...}"):
		pat = pat[:strings.LastIndexByte(pat, '/')]
	case strings.HasSuffix(pat, "/"):
		pat = pat[:len(pat)-1]
	default:
		return p // an exact pattern: the path is the endpoint's own
	}
	rest := p
	for pat != "" {
		var want, got string
		want, pat = segment(pat)
		if rest == "" {
			return p
		}
		got, rest = segment(rest)
		if got != want && !(strings.HasPrefix(want, "{") && strings.HasSuffix(want, "}")) {
			return p
		}
	}
	if rest == "" {
		return "/"
	}
	return rest
}

// segment splits "/a/b" into "a" and "/b".
func segment(p string) (string, string) {
	p = p[1:]
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i], p[i:]
	}
	return p, ""
}

// Livez returns the liveness handler alone.
func (h *Handler) Livez() http.Handler { return http.HandlerFunc(h.serveLive) }

// Readyz returns the readiness handler alone. Mounted with a pattern that
// names a {check} wildcard (mux.Handle("GET /readyz/{check}", h.Readyz())),
// it answers for that check.
func (h *Handler) Readyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.serveReady(w, r, r.PathValue("check"))
	})
}

// Details returns the details handler alone.
func (h *Handler) Details() http.Handler { return http.HandlerFunc(h.serveDetails) }

func (h *Handler) serveLive(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr["Content-Type"] = textPlain
	hdr["Cache-Control"] = noStore
	if r.URL.RawQuery != "" && r.URL.Query().Has("verbose") {
		_, _ = w.Write(liveBody)
		return
	}
	_, _ = w.Write(okBody)
}

func (h *Handler) serveReady(w http.ResponseWriter, r *http.Request, name string) {
	var q url.Values
	if r.URL.RawQuery != "" {
		// Only a parse when a query is present keeps the common path
		// allocation-free.
		q = r.URL.Query()
	}
	s, age := h.current(r.Context())
	if s != nil && name != "" && s.byName[name] == nil {
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	hdr["Content-Type"] = textPlain
	hdr["Cache-Control"] = noStore
	if s == nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write(notReady)
		return
	}
	hdr["Age"] = age
	details := h.allowed(r)
	ready, verbose := s.ready, s.verbose
	if details {
		verbose = s.detailed
	}
	switch {
	case name != "":
		n := s.byName[name]
		ready, verbose = n.ready, n.verbose
		if details {
			verbose = n.detailed
		}
	case len(q["exclude"]) > 0:
		ready, verbose = s.excluding(q["exclude"], details)
	}
	if !ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	switch {
	case q.Has("verbose"):
		_, _ = w.Write(verbose)
	case ready:
		_, _ = w.Write(okBody)
	default:
		_, _ = w.Write(notReady)
	}
}

func (h *Handler) serveDetails(w http.ResponseWriter, r *http.Request) {
	s, age := h.current(r.Context())
	hdr := w.Header()
	hdr["Content-Type"] = healthJSON
	hdr["Cache-Control"] = noStore
	if s == nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write(noSnapshot)
		return
	}
	hdr["Age"] = age
	if !s.ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	if h.allowed(r) {
		_, _ = w.Write(s.full)
		return
	}
	_, _ = w.Write(s.public)
}

func (h *Handler) allowed(r *http.Request) bool {
	return h.opts.Details != nil && h.opts.Details(r)
}

// ageHeader is the Age header's value for one whole number of seconds,
// kept so that a cached answer allocates nothing.
type ageHeader struct {
	secs  int64
	value []string
}

// ageOf returns the Age header for a snapshot taken at, seen at now: the
// whole seconds since its checks ran, as HTTP caches say it.
func (h *Handler) ageOf(at, now time.Time) []string {
	secs := int64(now.Sub(at) / time.Second)
	if secs < 0 {
		secs = 0
	}
	if a := h.age.Load(); a != nil && a.secs == secs {
		return a.value
	}
	a := &ageHeader{secs: secs, value: []string{strconv.FormatInt(secs, 10)}}
	h.age.Store(a)
	return a.value
}
