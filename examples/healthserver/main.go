// Command healthserver is a small notes service that embeds the health
// handler the way a real service would: its readiness is made of checks
// on what it depends on, configured once from flags, and it serves them
// beside its own API.
//
//	go run ./examples/healthserver -listen 127.0.0.1:8080 -token s3cret
//	curl -d 'hello' localhost:8080/api/notes         # add a note
//	curl localhost:8080/api/notes                    # list them
//	curl 'localhost:8080/readyz?verbose'             # [+]db ok ... readyz check passed
//	curl -H 'Authorization: Bearer s3cret' localhost:8080/health
//
// # API
//
//	GET  /api/notes   the notes, one "id<TAB>text" line each
//	POST /api/notes   stores the request body as a note (201); with -dep,
//	                  first sends it, one line, to that TCP dependency, and
//	                  answers 502 when it cannot
//
// Every API request is logged as a JSON line to the -log file; requests
// that fail are logged at level ERROR with the error. Health probes and
// scrapes are not logged: they would drown the requests in the window
// that the log check reads.
//
// # Health endpoints
//
//	/livez            200 while the process serves HTTP; checks never fail it
//	/readyz           200 or 503; ?verbose lists the checks like Kubernetes,
//	                  ?exclude=CHECK leaves one out
//	/readyz/CHECK     200 or 503 for one check, 404 for a name it does not have
//	/health           the report as application/health+json
//	/metrics          Prometheus metrics from the same cached snapshot
//
// The checks, each named as it appears in /readyz?verbose:
//
//	self      a TCP connect to the service's own listening address
//	listener  sockstat on its port: listening, on which address, accept queue overflows
//	db        a ping of its database/sql pool (SQLite, -db) and the pool's waits
//	dep       a TCP connect to -dep, when given
//	log       logscan over its own request log, -log-window back
//	disk      bytes, inodes and a write probe on the directories of -log and -db
//
// Their targets come only from the flags, never from a request. A failing
// dependency fails readiness twice over while it lasts: the connect fails,
// and the refused connections logged by the API stay in the log check's
// window for -log-window, so that a dependency that flaps does not bring
// traffic back at once.
//
// Results are cached for -ttl: however many probes arrive, the checks run
// at most once per TTL, in the background, and a cached answer costs one
// atomic load. A check that hangs is not started again until it returns.
//
// # Connections
//
// The server is set up so that clients cannot starve the probes: headers
// must arrive within 5 s and at most 16 KiB of them, a request within
// 10 s, a response is written within 30 s (more with a longer -timeout),
// idle keep-alive connections are closed after 30 s, and at most
// -max-conns connections are open at once (fewer when the file limit is
// lower). Once three quarters of them are in use, every response closes
// its connection, so that idle clients cannot take the slots a probe's
// new connection needs.
//
// # Details and the token
//
// Reasons, findings and hypotheses name addresses, paths and error texts.
// They are shown only to requests carrying "Authorization: Bearer TOKEN",
// where TOKEN is -token or, when that flag is empty, the environment
// variable HEALTHSERVER_TOKEN. Without a token nobody sees them: /health
// says only {"status":"pass"|"warn"|"fail"} and /readyz?verbose only check
// names and states. /metrics carries only check names, finding codes and
// hypothesis ids, beside the Go runtime's and the process's own figures
// (goroutines, memory, open files); put it behind the same network policy
// as the scrapes.
//
// SIGINT or SIGTERM shuts the server down gracefully. Exit status: 0 after
// a clean shutdown, 1 when the service could not start or serve, 2 for a
// usage error.
package main

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/net/netutil"
	_ "modernc.org/sqlite"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/diskcheck"
	"github.com/triagekit/triage/health"
	"github.com/triagekit/triage/logscan"
	"github.com/triagekit/triage/probe"
	"github.com/triagekit/triage/promtriage"
	"github.com/triagekit/triage/sockstat"
)

var errUsage = errors.New("usage")

// tokenEnv names the environment variable read when -token is empty.
const tokenEnv = "HEALTHSERVER_TOKEN"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type config struct {
	listen    string
	logPath   string
	dbPath    string
	dep       string
	token     string
	ttl       time.Duration
	timeout   time.Duration
	logWindow time.Duration
	maxConns  int
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("healthserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:8080", "serve on `ADDR`")
	fs.StringVar(&c.logPath, "log", "", "append the request log to `PATH` (default: requests.log in a new temporary directory)")
	fs.StringVar(&c.dbPath, "db", "", "keep the notes in the SQLite file `PATH` (default: notes.db beside the default log, or in a new temporary directory)")
	fs.StringVar(&c.dep, "dep", "", "a TCP dependency `HOST:PORT` that new notes are sent to, and that readiness checks")
	fs.StringVar(&c.token, "token", "", "bearer `TOKEN` that may see health details (default: $"+tokenEnv+"; none: nobody may)")
	fs.DurationVar(&c.ttl, "ttl", health.DefaultTTL, "serve a round of checks this long before running them again")
	fs.DurationVar(&c.timeout, "timeout", 2*time.Second, "bound one round of checks")
	fs.DurationVar(&c.logWindow, "log-window", 5*time.Minute, "how far back the log check reads")
	fs.IntVar(&c.maxConns, "max-conns", 1024, "serve at most `N` connections at once")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: healthserver [flags]\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	case c.ttl <= 0:
		return c, fmt.Errorf("%w: -ttl must be positive", errUsage)
	case c.timeout <= 0:
		return c, fmt.Errorf("%w: -timeout must be positive", errUsage)
	case c.logWindow <= 0:
		return c, fmt.Errorf("%w: -log-window must be positive", errUsage)
	case c.maxConns < 4:
		return c, fmt.Errorf("%w: -max-conns must be at least 4", errUsage)
	}
	if c.dep != "" {
		if _, port, err := net.SplitHostPort(c.dep); err != nil || port == "" {
			return c, fmt.Errorf("%w: -dep %q is not HOST:PORT", errUsage, c.dep)
		}
	}
	if c.token == "" {
		c.token = os.Getenv(tokenEnv)
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "healthserver: %v\n", err)
		return 2
	case err != nil:
		return 2 // the flag package has said why
	}
	if err := serve(ctx, c, stdout); err != nil {
		fmt.Fprintf(stderr, "healthserver: %v\n", err)
		return 1
	}
	return 0
}

// service is the notes API and what it depends on.
type service struct {
	db  *sql.DB
	dep string
	log *slog.Logger
}

func serve(ctx context.Context, c config, stdout io.Writer) error {
	if c.logPath == "" || c.dbPath == "" {
		dir, err := os.MkdirTemp("", "healthserver-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if c.logPath == "" {
			c.logPath = filepath.Join(dir, "requests.log")
		}
		if c.dbPath == "" {
			c.dbPath = filepath.Join(dir, "notes.db")
		}
	}
	logFile, err := os.OpenFile(c.logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()

	db, err := openDB(ctx, c.dbPath)
	if err != nil {
		return err
	}
	defer db.Close()

	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return err
	}
	defer ln.Close()

	svc := &service{db: db, dep: c.dep, log: slog.New(slog.NewJSONHandler(logFile, nil))}
	h := health.New(health.Options{
		Checks:  checks(c, ln.Addr(), db),
		TTL:     c.ttl,
		Timeout: c.timeout,
		Details: bearer(c.token),
	})
	reg := prometheus.NewRegistry()
	reg.MustRegister(promtriage.NewCollector(h),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	mux := http.NewServeMux()
	mux.Handle("GET /livez", h.Livez())
	mux.Handle("GET /readyz", h.Readyz())
	mux.Handle("GET /readyz/{check}", h.Readyz())
	mux.Handle("GET /health", h.Details())
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/api/notes", svc.logged(svc.notes))

	srv, ln := newServer(mux, ln, c)
	srv.ErrorLog = slog.NewLogLogger(svc.log.Handler(), slog.LevelError)
	fmt.Fprintf(stdout, "healthserver: listening on http://%s\nhealthserver: request log %s\n", ln.Addr(), c.logPath)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown)
	<-served
	// No check runs once the service is down: wait for a refresh that
	// a last request started behind its answer.
	if cerr := h.Close(shutdown); err == nil {
		err = cerr
	}
	fmt.Fprintln(stdout, "healthserver: stopped")
	return err
}

// newServer is the server and listener that no client can exhaust: every
// phase of a request is bounded in time and size, connections are capped
// below the file limit, and idle ones are closed when most of the cap is
// in use, so that a probe's new connection is always accepted soon.
func newServer(h http.Handler, ln net.Listener, c config) (*http.Server, net.Listener) {
	limit := min(c.maxConns, fileLimit()-64)
	if limit < 4 {
		limit = 4
	}
	conns := &connCount{high: int64(limit) * 3 / 4}
	srv := &http.Server{
		Handler:           conns.shed(h),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		// The first request waits for the first round of checks.
		WriteTimeout:   max(30*time.Second, 2*c.timeout),
		IdleTimeout:    30 * time.Second,
		MaxHeaderBytes: 16 << 10,
		ConnState:      conns.track,
	}
	return srv, netutil.LimitListener(ln, limit)
}

// connCount counts the server's open connections.
type connCount struct {
	open atomic.Int64
	high int64 // past this many, responses close their connections
}

func (c *connCount) track(_ net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		c.open.Add(1)
	case http.StateClosed, http.StateHijacked:
		c.open.Add(-1)
	}
}

// shed makes every response close its connection while more than c.high
// are open, so that clients holding idle keep-alive connections cannot
// fill the cap: a slot frees as each answer is sent.
func (c *connCount) shed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.open.Load() > c.high {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

func openDB(ctx context.Context, path string) (*sql.DB, error) {
	// A busy timeout makes concurrent writers wait for the lock instead
	// of failing at once; WAL lets readers go on meanwhile.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// checks are the readiness checks, all of them from configuration.
func checks(c config, addr net.Addr, db *sql.DB) []triage.Check {
	self := selfAddr(addr)
	out := []triage.Check{
		triage.Func("self", func(ctx context.Context) probe.TCPResult {
			return probe.TCP(ctx, probe.TCPOptions{Address: self.String(), Timeout: time.Second})
		}),
		triage.Func("listener", func(ctx context.Context) sockstat.Result {
			o := sockstat.Options{Port: int(self.Port())}
			if ap, err := netip.ParseAddrPort(addr.String()); err == nil && !ap.Addr().IsUnspecified() {
				o.Addr = ap.Addr()
			}
			return sockstat.Check(ctx, o)
		}),
		triage.Func("db", func(ctx context.Context) probe.DBResult {
			// A short interval keeps a round quick; a pool that makes
			// requests wait shows within it under any real load.
			return probe.DB(ctx, db, probe.DBOptions{Interval: 100 * time.Millisecond, PingTimeout: time.Second})
		}),
	}
	if c.dep != "" {
		out = append(out, triage.Func("dep", func(ctx context.Context) probe.TCPResult {
			return probe.TCP(ctx, probe.TCPOptions{Address: c.dep, Timeout: time.Second})
		}))
	}
	out = append(out, triage.Func("log", func(ctx context.Context) logscan.Result {
		return logscan.Check(ctx, logscan.Options{Files: []string{c.logPath}, Since: c.logWindow})
	}))
	dirs := []string{filepath.Dir(c.logPath)}
	if d := filepath.Dir(c.dbPath); d != dirs[0] {
		dirs = append(dirs, d)
	}
	out = append(out, triage.Func("disk", func(ctx context.Context) diskcheck.Result {
		return diskcheck.Check(ctx, diskcheck.Options{Paths: dirs, Probe: true})
	}))
	return out
}

// selfAddr is where a client on this host reaches the listener: the
// loopback address of the same family when it listens on all addresses.
func selfAddr(addr net.Addr) netip.AddrPort {
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return netip.AddrPortFrom(netip.IPv6Loopback(), 0)
	}
	if ap.Addr().IsUnspecified() {
		lo := netip.IPv6Loopback()
		if ap.Addr().Is4() {
			lo = netip.AddrFrom4([4]byte{127, 0, 0, 1})
		}
		return netip.AddrPortFrom(lo, ap.Port())
	}
	return ap
}

// bearer allows the requests that carry the token; with no token, none.
func bearer(token string) func(*http.Request) bool {
	if token == "" {
		return nil
	}
	want := []byte(token)
	return func(r *http.Request) bool {
		scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		return ok && strings.EqualFold(scheme, "Bearer") &&
			subtle.ConstantTimeCompare([]byte(got), want) == 1
	}
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// serverError is an API failure that is the service's, not the client's:
// answered with its code, logged with its error.
type serverError struct {
	code int
	err  error
}

func (e *serverError) Error() string { return e.err.Error() }
func (e *serverError) Unwrap() error { return e.err }

// apiFunc answers a request itself, or returns the *serverError to answer.
type apiFunc func(w http.ResponseWriter, r *http.Request) *serverError

// logged serves fn and writes one JSON line per request to the request
// log: level ERROR, with the error, for a server error.
func (s *service) logged(fn apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		level := slog.LevelInfo
		var extra []slog.Attr
		if e := fn(sw, r); e != nil {
			http.Error(sw, http.StatusText(e.code), e.code)
			level = slog.LevelError
			extra = append(extra, slog.String("error", e.Error()))
		}
		attrs := append([]slog.Attr{
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Duration("took", time.Since(start)),
		}, extra...)
		s.log.LogAttrs(r.Context(), level, "request", attrs...)
	})
}

func (s *service) notes(w http.ResponseWriter, r *http.Request) *serverError {
	switch r.Method {
	case http.MethodGet:
		list, err := s.list(r.Context())
		if err != nil {
			return &serverError{http.StatusInternalServerError, err}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, list)
	case http.MethodPost:
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4<<10))
		if err != nil {
			http.Error(w, "note too long", http.StatusRequestEntityTooLarge)
			return nil
		}
		note := strings.TrimSpace(strings.ReplaceAll(string(body), "\n", " "))
		if note == "" {
			http.Error(w, "empty note", http.StatusBadRequest)
			return nil
		}
		if err := s.publish(r.Context(), note); err != nil {
			return &serverError{http.StatusBadGateway, fmt.Errorf("publish note: %w", err)}
		}
		res, err := s.db.ExecContext(r.Context(), `INSERT INTO notes (body) VALUES (?)`, note)
		if err != nil {
			return &serverError{http.StatusInternalServerError, fmt.Errorf("store note: %w", err)}
		}
		id, _ := res.LastInsertId()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, strconv.FormatInt(id, 10)+"\n")
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
	}
	return nil
}

func (s *service) list(ctx context.Context) (string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, body FROM notes ORDER BY id`)
	if err != nil {
		return "", fmt.Errorf("list notes: %w", err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id int64
		var body string
		if err := rows.Scan(&id, &body); err != nil {
			return "", fmt.Errorf("list notes: %w", err)
		}
		fmt.Fprintf(&b, "%d\t%s\n", id, body)
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("list notes: %w", err)
	}
	return b.String(), nil
}

// publish sends the note, one line, to the dependency.
func (s *service) publish(ctx context.Context, note string) error {
	if s.dep == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.dep)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	_, err = io.WriteString(conn, note+"\n")
	return err
}
