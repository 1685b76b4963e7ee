package probe

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/traceparent"
)

// Finding codes of [HTTP]. Dial and DNS failures use the tcp.* codes of
// [TCP]. Every HTTP finding carries the evidence keys url (triage.KeyURL,
// the hop's URL without its password), host (triage.KeyHost), addr and
// port (triage.KeyAddr, triage.KeyPort: the address connected or tried,
// when known), elapsed_ns, trace_id (absent when HTTPAttempt.TraceID is
// empty) and [KeyPinned] (absent unless true). The status of an answer is
// under [KeyHTTPStatus].
const (
	// CodeHTTPOK (OK): the final answer was 1xx, 2xx or 3xx. Evidence adds
	// [KeyHTTPStatus], proto.
	CodeHTTPOK triage.Code = "http.ok"
	// CodeHTTPStatus5xx (Fail): the final answer was 5xx. Evidence adds
	// [KeyHTTPStatus], server, via, proxy (true when Server, Via or
	// X-Cache name a proxy or cache: with 502, 503 or 504 the failing
	// layer is behind it) and upstream (what a gateway status says about
	// the upstream).
	CodeHTTPStatus5xx triage.Code = "http.status_5xx"
	// CodeHTTPStatus4xx (Warn): the final answer was 4xx other than 429.
	// Evidence adds [KeyHTTPStatus], server, and for 401, 403 and 407
	// [KeyAuthChallenge] and [KeyAuthSent].
	CodeHTTPStatus4xx triage.Code = "http.status_4xx"
	// CodeHTTPRateLimited (Warn): the answer was 429. Evidence adds
	// [KeyHTTPStatus], retry_after_ns when the server sent Retry-After,
	// and the rate-limit headers sent, lower-cased with "_" for "-"
	// (ratelimit_remaining, x_ratelimit_reset ...).
	CodeHTTPRateLimited triage.Code = "http.rate_limited"
	// CodeHTTPTLSUnknownAuthority (Fail): the certificate chain does not
	// lead to a trusted root. Evidence adds subject, issuer.
	CodeHTTPTLSUnknownAuthority triage.Code = "http.tls_unknown_authority"
	// CodeHTTPTLSExpired (Fail): a certificate of the chain is expired or
	// not yet valid. Evidence adds subject, not_after.
	CodeHTTPTLSExpired triage.Code = "http.tls_expired"
	// CodeHTTPTLSNameMismatch (Fail): the certificate does not cover the
	// name asked for. Evidence adds server_name, sans.
	CodeHTTPTLSNameMismatch triage.Code = "http.tls_name_mismatch"
	// CodeHTTPTLSTimeout (Fail): the TLS handshake did not finish before
	// the deadline.
	CodeHTTPTLSTimeout triage.Code = "http.tls_timeout"
	// CodeHTTPTLSError (Fail): the TLS handshake failed otherwise (an
	// alert, no common version or cipher, a plain-text server). Evidence
	// adds error.
	CodeHTTPTLSError triage.Code = "http.tls_error"
	// CodeHTTPTLSExpiring (Warn): the verified certificate expires within
	// TLSExpiryWarning. Evidence adds subject, not_after, expires_in_ns.
	CodeHTTPTLSExpiring triage.Code = "http.tls_expiring"
	// CodeHTTPNoFirstByte (Fail): the server accepted the connection (and
	// the TLS handshake) but sent no answer before the deadline: no byte
	// at all, or (evidence phase "headers") a status line and headers that
	// began but never completed. The application is stuck or slow.
	CodeHTTPNoFirstByte triage.Code = "http.no_first_byte"
	// CodeHTTPBodyStalled (Fail): the answer's headers came but its body
	// stopped before the deadline. Evidence adds [KeyHTTPStatus], body_bytes.
	CodeHTTPBodyStalled triage.Code = "http.body_stalled"
	// CodeHTTPEmptyReply (Fail): the server closed the connection without
	// sending an answer.
	CodeHTTPEmptyReply triage.Code = "http.empty_reply"
	// CodeHTTPTooManyRedirects (Fail): the redirects did not end within
	// HTTPOptions.MaxRedirects hops. Evidence adds [KeyHTTPStatus], location.
	CodeHTTPTooManyRedirects triage.Code = "http.too_many_redirects"
	// CodeHTTPSlow (Warn): an answer came in full, but the attempt took
	// longer than HTTPOptions.Slow. Evidence adds [KeyHTTPStatus],
	// [KeyPhase] (the phase that took the most time: "dns", "connect",
	// "tls", "wait" or "transfer"), dns_ns, connect_ns, tls_ns, wait_ns,
	// transfer_ns (the attempt's phases, redirects added up) and slow_ns
	// (the threshold).
	CodeHTTPSlow triage.Code = "http.slow"
	// CodeHTTPProxyFailed (Fail): the request went through a proxy
	// (HTTPOptions.Proxy) and the proxy failed it before the target was
	// reached: it refused or dropped the connection, did not answer, or
	// answered the CONNECT of an https request with an error status.
	// Evidence adds [KeyViaProxy], [KeyProxyFailure] ("refused",
	// "timeout", "reset", "unreachable", "dns", "status" or "error"),
	// phase, and [KeyHTTPStatus] for a CONNECT answered with an error.
	CodeHTTPProxyFailed triage.Code = "http.proxy_failed"
	// CodeHTTPError (Fail): an HTTP failure no other code describes.
	// Evidence adds error, phase.
	CodeHTTPError triage.Code = "http.error"
)

// Defaults of [HTTPOptions].
const (
	// DefaultHTTPTimeout bounds each attempt when HTTPOptions.Timeout is
	// zero.
	DefaultHTTPTimeout = 10 * time.Second
	// DefaultMaxBodyBytes is how much of a body is read when
	// HTTPOptions.MaxBodyBytes is zero.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultMaxRedirects is how many redirects are followed when
	// HTTPOptions.FollowRedirects is set and MaxRedirects is zero.
	DefaultMaxRedirects = 10
	// TLSExpiryWarning is how close to its expiry a certificate raises
	// CodeHTTPTLSExpiring.
	TLSExpiryWarning = 14 * 24 * time.Hour
	// DefaultSlow is the latency above which a complete answer raises
	// CodeHTTPSlow when HTTPOptions.Slow is zero.
	DefaultSlow = time.Second
)

// HTTPOptions says what request [HTTP] makes. The zero value (plus a URL)
// is curl -v: a GET, TLS verified against the system roots, redirects not
// followed.
type HTTPOptions struct {
	// URL is the http or https URL to request. Required.
	URL string
	// Method is the request method. If empty, GET; HEAD is curl -I.
	Method string
	// Header is sent with the request. A Host header sets the Host the
	// server sees. A traceparent header, if given, is sent as is instead
	// of a fresh one, on every attempt and hop; HTTPAttempt.TraceID is
	// its trace id.
	Header http.Header
	// Body is sent with the request, if not nil.
	Body []byte
	// MaxBodyBytes caps how much of the answer's body is read. If zero,
	// DefaultMaxBodyBytes; if negative, the body is not read at all.
	MaxBodyBytes int64
	// Insecure skips certificate verification (curl -k). The TLS facts
	// are recorded all the same.
	Insecure bool
	// RootCAs verifies server certificates. If nil, the system roots are
	// used.
	RootCAs *x509.CertPool
	// FollowRedirects follows 301, 302, 303, 307 and 308 answers (curl
	// -L), recording each hop.
	FollowRedirects bool
	// MaxRedirects bounds the redirects followed. If zero,
	// DefaultMaxRedirects.
	MaxRedirects int
	// Resolve pins names to addresses exactly like curl's --resolve: each
	// entry is "host:port:addr[,addr...]" (IPv6 in brackets). The URL,
	// the Host header and the TLS server name keep the name; only the
	// dial goes to addr, and no DNS query is made for it.
	Resolve []string
	// EachAddress makes one attempt per address of the URL's host (after
	// Resolve), at the same time, so that one bad backend or a broken
	// IPv6 path shows up. The name is looked up once, before the
	// attempts; that lookup is the DNS phase of each attempt's first hop.
	// If false, one attempt lets the dialer pick.
	EachAddress bool
	// Timeout bounds each attempt, redirects included; with EachAddress,
	// the lookup before the attempts counts in it. If zero,
	// DefaultHTTPTimeout. The context's deadline bounds everything.
	Timeout time.Duration
	// Dialer dials connections. If nil, a net.Dialer using Resolver.
	Dialer Dialer
	// Resolver resolves names for EachAddress, and for dialing when
	// Dialer is nil or a *net.Dialer. If nil, net.DefaultResolver.
	Resolver *net.Resolver
	// Lookup, if not nil, resolves names instead of Resolver, for every
	// hop: the application's own view of names, such as a container's
	// hosts file and resolver
	// ([github.com/triagekit/triage/dnscheck.AppLookup]). The curl
	// command then pins the address it used with --resolve, so that it
	// goes where the probe went.
	Lookup Lookup
	// Slow is the latency above which an answer that came in full still
	// raises CodeHTTPSlow, with the phase that took the time. If zero,
	// DefaultSlow; if negative, never.
	Slow time.Duration
	// Proxy, if not nil, chooses the proxy each hop's URL goes through,
	// or nil for none: [ProxyFromEnvironment] makes the choice an
	// application's HTTP_PROXY, HTTPS_PROXY and NO_PROXY make. If nil,
	// every request goes direct, whatever this process's environment
	// says. A proxy that fails the request raises CodeHTTPProxyFailed;
	// every finding of a proxied hop carries [KeyViaProxy].
	Proxy func(*url.URL) (*url.URL, error)
}

// HTTPResult is what [HTTP] found. Its Check is [KindHTTP]. Its Target
// holds the URL (without its password), its Host and Port, and Addr: the
// address the outcome came from, that of the final hop of the first
// attempt that got an answer, or when none did of the last attempt.
type HTTPResult struct {
	triage.Result
	// Method is the request's method.
	Method string `json:"method"`
	// Attempts has one entry, or one per address with EachAddress.
	Attempts []HTTPAttempt `json:"attempts"`
}

// HTTPAttempt is one request, redirects included.
type HTTPAttempt struct {
	// Pinned is the address this attempt was pinned to with EachAddress;
	// zero otherwise.
	Pinned netip.Addr `json:"pinned,omitzero"`
	// TraceID is the W3C trace id sent in the traceparent header of every
	// hop of the attempt; search the service's logs for it. It is a fresh
	// one, or the trace id of the traceparent header HTTPOptions.Header
	// carries. A caller's header that is not one valid W3C traceparent is
	// still sent as given, but a server ignores it and starts a trace of
	// its own, so TraceID is empty then: there is no trace id the server
	// and the probe share. Each hop's TraceParent says what was sent.
	TraceID string `json:"trace_id"`
	// Hops are the requests made, the first one and each redirect
	// followed. The last one is the outcome.
	Hops []HTTPHop `json:"hops"`
}

// Last returns the attempt's final hop; the zero HTTPHop if there is none.
func (a HTTPAttempt) Last() HTTPHop {
	if len(a.Hops) == 0 {
		return HTTPHop{}
	}
	return a.Hops[len(a.Hops)-1]
}

// HTTPHop is one request and its answer.
type HTTPHop struct {
	// URL and Method are what this hop asked for; URL is without its
	// password.
	URL    string `json:"url"`
	Method string `json:"method"`
	// TraceParent is the traceparent header sent (a caller's several
	// values joined by ", ").
	TraceParent string `json:"traceparent"`
	// Remote and Local are the connection's addresses; zero when no
	// connection was made.
	Remote netip.AddrPort `json:"remote,omitzero"`
	Local  netip.AddrPort `json:"local,omitzero"`
	// Proxy is the proxy the hop went through (HTTPOptions.Proxy),
	// without its password; empty when it went direct. Remote is then
	// the proxy's address.
	Proxy string `json:"proxy,omitempty"`
	// Reused is true when the connection came from the pool (an earlier
	// hop to the same host).
	Reused bool `json:"reused"`
	// Proto is the answer's protocol, such as "HTTP/1.1" or "HTTP/2.0".
	Proto string `json:"proto,omitempty"`
	// StatusCode is the answer's status; 0 when there was no answer.
	StatusCode int `json:"status_code,omitempty"`
	// Header holds the answer's headers that tell who answered and why:
	// Server, Via, X-Cache, Retry-After, Content-Type, Content-Length,
	// Location, WWW-Authenticate, Proxy-Authenticate, and the rate-limit
	// headers (RateLimit, RateLimit-Policy, RateLimit-Limit,
	// RateLimit-Remaining, RateLimit-Reset and their X-RateLimit-
	// forms).
	Header http.Header `json:"header,omitempty"`
	// BodyBytes is how much of the body was read; BodyTruncated is true
	// when the cap stopped the read.
	BodyBytes     int64 `json:"body_bytes"`
	BodyTruncated bool  `json:"body_truncated,omitempty"`
	// BodyPreview is the start of the body (up to 256 bytes of valid
	// UTF-8) for error pages such as "no healthy upstream".
	BodyPreview string `json:"body_preview,omitempty"`
	// TLS holds the handshake's facts; nil for plain HTTP or when the
	// handshake did not get as far as the certificate.
	TLS *TLSInfo `json:"tls,omitempty"`
	// Timings are the phases of the request.
	Timings HTTPTimings `json:"timings"`
	// Class is why the hop failed; ClassNone when an answer came in full
	// (whatever its status).
	Class ErrorClass `json:"class,omitempty"`
	// Phase is the phase the failure happened in ("dns", "connect", "tls",
	// "wait", "transfer"); empty when the hop did not fail.
	Phase string `json:"phase,omitempty"`
	// Err is the error, kept for errors.Is and errors.As.
	Err error `json:"-"`
	// Error is Err's text.
	Error string `json:"error,omitempty"`

	tried netip.AddrPort // the last address dialed, when none connected
	// proxyAnswered is true when a proxy answered the hop's CONNECT,
	// with proxyStatus.
	proxyAnswered bool
	proxyStatus   int
}

// TLSInfo are the facts of a TLS handshake.
type TLSInfo struct {
	Version    string    `json:"version"`           // "TLS 1.3"
	Cipher     string    `json:"cipher"`            // "TLS_AES_128_GCM_SHA256"
	ALPN       string    `json:"alpn,omitempty"`    // "h2"
	ServerName string    `json:"server_name"`       // the SNI sent
	Subject    string    `json:"subject,omitempty"` // of the peer certificate
	Issuer     string    `json:"issuer,omitempty"`  // of the peer certificate
	SANs       []string  `json:"sans,omitempty"`    // DNS names and IP addresses
	NotBefore  time.Time `json:"not_before,omitzero"`
	NotAfter   time.Time `json:"not_after,omitzero"`
	// Verified is true when the chain verified against the roots.
	Verified bool `json:"verified"`
	// VerifyClass and VerifyError say why verification failed; with
	// Insecure they are recorded without failing the request.
	VerifyClass ErrorClass `json:"verify_class,omitempty"`
	VerifyError string     `json:"verify_error,omitempty"`
}

// HTTP makes the request opts describes, like curl -v, and reports each
// hop: phase timings that add up, the address connected, protocol, status,
// the headers that say who answered, TLS facts, and the trace id sent.
//
// Findings per attempt: CodeHTTPOK, CodeHTTPStatus4xx,
// CodeHTTPRateLimited or CodeHTTPStatus5xx for an answer; a tcp.* code
// for a DNS or dial failure; an http.tls_* code for a TLS failure;
// CodeHTTPNoFirstByte or CodeHTTPBodyStalled when the deadline hit while
// waiting for the answer or its body.
//
// Each attempt uses a Transport of its own whose connections are closed
// before HTTP returns. Proxies from the environment (HTTP_PROXY) are not
// used: the probe goes where the URL and Resolve say.
//
// Err is set (status Unknown) for bad input (wrapping triage.ErrInvalid)
// and when ctx was canceled. A deadline is a finding, not an error: it
// says which phase the target did not finish.
func HTTP(ctx context.Context, opts HTTPOptions) HTTPResult {
	r := HTTPResult{Result: triage.Begin(KindHTTP, triage.Target{URL: triage.Redact(opts.URL)}), Method: opts.Method}
	if r.Method == "" {
		r.Method = http.MethodGet
	}
	r.Finish(httpRun(ctx, opts, &r))
	return r
}

// httpPlan is the validated form of HTTPOptions.
type httpPlan struct {
	opts    HTTPOptions
	u       *url.URL
	method  string
	pins    map[string][]netip.Addr // "host:port" -> addresses
	maxBody int64
	maxHops int
	timeout time.Duration
	dialer  Dialer
	// callerTrace is true when opts.Header carries a traceparent;
	// callerTraceID is its trace id when it is valid.
	callerTrace   bool
	callerTraceID string
}

func httpRun(ctx context.Context, opts HTTPOptions, r *HTTPResult) error {
	p, err := httpPrepare(opts)
	if err != nil {
		return err
	}
	r.Method = p.method
	r.Target.Host, r.Target.Port = p.u.Hostname(), portOf(p.u)

	if !opts.EachAddress {
		r.Attempts = []HTTPAttempt{httpAttempt(ctx, p, netip.Addr{}, httpLookup{})}
	} else {
		// The lookup is part of every attempt: it shares their timeout
		// and is their first hop's DNS phase.
		lookup := httpLookup{start: time.Now()}
		lctx, cancel := context.WithDeadline(ctx, lookup.start.Add(p.timeout))
		addrs, took, err := httpAddrs(lctx, p)
		cancel()
		if took > 0 {
			lookup.end = lookup.start.Add(took)
		}
		if errors.Is(err, triage.ErrInvalid) {
			return err
		}
		if err != nil {
			class := classifyDialErr(err)
			if class == ClassCanceled {
				return fmt.Errorf("resolving %s: %w", p.u.Hostname(), err)
			}
			r.Add(dnsFinding(p.u.Hostname(), portOf(p.u), class, took, err))
			return nil
		}
		r.Attempts = make([]HTTPAttempt, len(addrs))
		var wg sync.WaitGroup
		for i, a := range addrs {
			wg.Go(func() { r.Attempts[i] = httpAttempt(ctx, p, a, lookup) })
		}
		wg.Wait()
	}

	var canceled error
	for _, a := range r.Attempts {
		last := a.Last()
		if last.Class == ClassCanceled {
			canceled = last.Err
			continue
		}
		r.Add(httpFindings(p, a)...)
	}
	r.Target.Addr = decisiveAddr(r.Attempts)
	if canceled != nil {
		return fmt.Errorf("requesting %s: %w", p.u.Redacted(), canceled)
	}
	return nil
}

// decisiveAddr is the address the outcome came from: that of the final
// hop of the first attempt that got an answer, or when none did of the
// last attempt that was not canceled.
func decisiveAddr(attempts []HTTPAttempt) netip.AddrPort {
	var last netip.AddrPort
	for _, a := range attempts {
		h := a.Last()
		switch {
		case h.Class == ClassNone && h.StatusCode != 0:
			return hopAddr(h)
		case h.Class != ClassCanceled && hopAddr(h).IsValid():
			last = hopAddr(h)
		}
	}
	return last
}

// hopAddr is the address a hop connected to, or when it connected nowhere
// the last one it tried.
func hopAddr(h HTTPHop) netip.AddrPort {
	if h.Remote.IsValid() {
		return h.Remote
	}
	return h.tried
}

func httpPrepare(opts HTTPOptions) (*httpPlan, error) {
	if opts.URL == "" {
		return nil, fmt.Errorf("%w: empty URL", triage.ErrInvalid)
	}
	u, err := url.Parse(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", triage.ErrInvalid, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: URL %q: scheme must be http or https", triage.ErrInvalid, u.Redacted())
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%w: URL %q has no host", triage.ErrInvalid, u.Redacted())
	}
	if !validHost(u.Hostname()) {
		return nil, fmt.Errorf("%w: URL %q: host is neither an IP address nor a DNS name", triage.ErrInvalid, u.Redacted())
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
			return nil, fmt.Errorf("%w: URL %q: port must be 1-65535", triage.ErrInvalid, u.Redacted())
		}
	}
	method := strings.ToUpper(opts.Method)
	if method == "" {
		method = http.MethodGet
	}
	if strings.ContainsAny(method, " \t\r\n/:") {
		return nil, fmt.Errorf("%w: method %q", triage.ErrInvalid, opts.Method)
	}
	if err := httpCheckHeader(opts.Header); err != nil {
		return nil, err
	}
	if opts.Timeout < 0 || opts.MaxRedirects < 0 {
		return nil, fmt.Errorf("%w: negative timeout or redirect count", triage.ErrInvalid)
	}
	pins, err := parseResolve(opts.Resolve)
	if err != nil {
		return nil, err
	}
	p := &httpPlan{opts: opts, u: u, method: method, pins: pins,
		maxBody: opts.MaxBodyBytes, timeout: opts.Timeout, maxHops: 1}
	var tps []string
	for k, vs := range opts.Header {
		if strings.EqualFold(k, "traceparent") {
			p.callerTrace = true
			tps = append(tps, vs...)
		}
	}
	if len(tps) == 1 {
		// Several traceparent headers are invalid: a server ignores all.
		if traceparent.Accepted(tps[0]) {
			p.callerTraceID, _ = traceparent.ID(tps[0])
		}
	}
	if p.maxBody == 0 {
		p.maxBody = DefaultMaxBodyBytes
	}
	if p.timeout == 0 {
		p.timeout = DefaultHTTPTimeout
	}
	if opts.FollowRedirects {
		p.maxHops = 1 + DefaultMaxRedirects
		if opts.MaxRedirects > 0 {
			p.maxHops = 1 + opts.MaxRedirects
		}
	}
	switch d := opts.Dialer.(type) {
	case nil:
		p.dialer = &net.Dialer{Resolver: opts.Resolver}
	case *net.Dialer:
		if opts.Resolver != nil {
			dc := *d
			dc.Resolver = opts.Resolver
			d = &dc
		}
		p.dialer = d
	default:
		p.dialer = d
	}
	return p, nil
}

// httpCheckHeader rejects what net/http would refuse to send: a field name
// that is not an RFC 9110 token, or a value with a control byte other than
// tab. Caught at the dial instead, it would read as a failing target.
func httpCheckHeader(h http.Header) error {
	for name, values := range h {
		if name == "" || strings.IndexFunc(name, func(c rune) bool { return !isTokenByte(c) }) >= 0 {
			return fmt.Errorf("%w: header name %q", triage.ErrInvalid, name)
		}
		for _, v := range values {
			if strings.IndexFunc(v, func(c rune) bool { return c < ' ' && c != '\t' || c == 0x7f }) >= 0 {
				return fmt.Errorf("%w: header %q: control byte in value", triage.ErrInvalid, name)
			}
		}
	}
	return nil
}

func isTokenByte(c rune) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.ContainsRune("!#$%&'*+-.^_`|~", c)
}

// parseResolve parses curl --resolve entries: "host:port:addr[,addr]".
func parseResolve(entries []string) (map[string][]netip.Addr, error) {
	pins := map[string][]netip.Addr{}
	for _, e := range entries {
		host, rest, ok1 := strings.Cut(e, ":")
		port, addrs, ok2 := strings.Cut(rest, ":")
		if !ok1 || !ok2 || host == "" || addrs == "" || strings.ContainsAny(host, "[]/@ \t") {
			return nil, fmt.Errorf("%w: resolve %q: want host:port:addr", triage.ErrInvalid, e)
		}
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			return nil, fmt.Errorf("%w: resolve %q: port must be 1-65535", triage.ErrInvalid, e)
		}
		key := net.JoinHostPort(strings.ToLower(host), port)
		for _, a := range strings.Split(addrs, ",") {
			a = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(a), "["), "]")
			ip, err := netip.ParseAddr(a)
			if err != nil {
				return nil, fmt.Errorf("%w: resolve %q: %w", triage.ErrInvalid, e, err)
			}
			pins[key] = append(pins[key], ip.Unmap())
		}
	}
	return pins, nil
}

func portOf(u *url.URL) int {
	if p := u.Port(); p != "" {
		n, _ := strconv.Atoi(p)
		return n
	}
	if u.Scheme == "https" {
		return 443
	}
	return 80
}

func hostPortKey(u *url.URL) string {
	return net.JoinHostPort(strings.ToLower(u.Hostname()), strconv.Itoa(portOf(u)))
}

// httpAddrs returns the addresses of the URL's host for EachAddress.
func httpAddrs(ctx context.Context, p *httpPlan) ([]netip.Addr, time.Duration, error) {
	if pinned, ok := p.pins[hostPortKey(p.u)]; ok {
		return pinned, 0, nil
	}
	return tcpResolve(ctx, p.opts.Resolver, p.opts.Lookup, "tcp", p.u.Hostname())
}

// httpLookup is the lookup EachAddress makes before its attempts. start
// is zero when there was none; end is zero when no query was made (an IP
// address, a pinned name).
type httpLookup struct{ start, end time.Time }

// httpAttempt makes one request chain on a Transport of its own, so that
// nothing is shared with other checks and no connection outlives it. Its
// timeout runs from the lookup's start when there was one.
func httpAttempt(ctx context.Context, p *httpPlan, pinned netip.Addr, lookup httpLookup) HTTPAttempt {
	var cancel context.CancelFunc
	if lookup.start.IsZero() {
		ctx, cancel = context.WithTimeout(ctx, p.timeout)
	} else {
		ctx, cancel = context.WithDeadline(ctx, lookup.start.Add(p.timeout))
	}
	defer cancel()

	pins := p.pins
	if pinned.IsValid() {
		pins = make(map[string][]netip.Addr, len(p.pins)+1)
		for k, v := range p.pins {
			pins[k] = v
		}
		pins[hostPortKey(p.u)] = []netip.Addr{pinned}
	}
	dial := httpDialer(p.dialer, pins, p.opts.Lookup)
	tr := &http.Transport{
		DialContext:         dial,
		DialTLSContext:      httpTLSDialer(dial, p.opts.Insecure, p.opts.RootCAs),
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 1,
		// No proxy from this process's environment: the probe goes
		// where it is told, through HTTPOptions.Proxy if set.
		Proxy: nil,
		// Like curl: no Accept-Encoding unless the caller sets one, so
		// BodyBytes counts what came over the wire.
		DisableCompression: true,
	}
	defer tr.CloseIdleConnections()
	ps := &proxyState{}
	if choose := p.opts.Proxy; choose != nil {
		tr.Proxy = func(req *http.Request) (*url.URL, error) { return choose(req.URL) }
		tr.OnProxyConnectResponse = func(_ context.Context, _ *url.URL, _ *http.Request, res *http.Response) error {
			ps.answer(res.StatusCode)
			return nil
		}
		// Through a proxy the Transport makes the TLS connection itself;
		// verify as the TLS dialer does, recording the facts first.
		insecure, roots := p.opts.Insecure, p.opts.RootCAs
		tr.TLSClientConfig = &tls.Config{
			NextProtos:         []string{"h2", "http/1.1"},
			InsecureSkipVerify: true, // verified in VerifyConnection below
			VerifyConnection: func(cs tls.ConnectionState) error {
				if insecure {
					return nil
				}
				return verifyPeer(cs, cs.ServerName, roots)
			},
		}
	}

	a := HTTPAttempt{Pinned: pinned, TraceID: p.callerTraceID}
	if !p.callerTrace {
		a.TraceID = newTraceID()
	}
	u, method, body := p.u, p.method, p.opts.Body
	for hop := 0; ; hop++ {
		h, resp := httpHop(ctx, tr, p, ps, u, method, body, a.TraceID, lookup)
		lookup = httpLookup{}
		a.Hops = append(a.Hops, h)
		if resp == nil || !p.opts.FollowRedirects || !isRedirect(h.StatusCode) {
			break
		}
		loc, err := resp.Location()
		if err != nil {
			break
		}
		if hop+1 >= p.maxHops {
			break
		}
		if h.StatusCode == http.StatusSeeOther ||
			((h.StatusCode == http.StatusMovedPermanently || h.StatusCode == http.StatusFound) && method == http.MethodPost) {
			if method != http.MethodHead {
				method = http.MethodGet
			}
			body = nil
		}
		u = loc
	}
	return a
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// httpDialer dials pinned names to their addresses, in order, like curl;
// names through lookup when it is set; anything else through d.
func httpDialer(d Dialer, pins map[string][]netip.Addr, lookup Lookup) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return d.DialContext(ctx, network, addr)
		}
		pinned, ok := pins[net.JoinHostPort(strings.ToLower(host), port)]
		if !ok && lookup != nil {
			if _, err := netip.ParseAddr(host); err != nil {
				// The application's lookup is the hop's DNS phase: its own
				// dials to nameservers are not the request's connect.
				tr := httptrace.ContextClientTrace(ctx)
				if tr != nil && tr.DNSStart != nil {
					tr.DNSStart(httptrace.DNSStartInfo{Host: host})
				}
				addrs, _, err := tcpResolve(ctx, nil, lookup, network, host)
				if tr != nil && tr.DNSDone != nil {
					info := httptrace.DNSDoneInfo{Err: err}
					for _, a := range addrs {
						info.Addrs = append(info.Addrs, net.IPAddr{IP: a.AsSlice()})
					}
					tr.DNSDone(info)
				}
				if err != nil {
					return nil, &net.OpError{Op: "dial", Net: network, Err: err}
				}
				pinned, ok = addrs, true
			}
		}
		if !ok {
			return d.DialContext(ctx, network, addr)
		}
		var first error
		for _, ip := range pinned {
			c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
			if err == nil {
				return c, nil
			}
			if first == nil {
				first = err
			}
			if ctx.Err() != nil {
				break
			}
		}
		return nil, first
	}
}

// httpTLSDialer makes TLS connections itself rather than leaving it to
// the Transport: the certificate is verified against the name the URL
// asked for (an IP address included), after the handshake has recorded
// it, so that the facts of a certificate that fails are still reported.
func httpTLSDialer(dial func(context.Context, string, string) (net.Conn, error), insecure bool, roots *x509.CertPool) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		raw, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		trace := httptrace.ContextClientTrace(ctx)
		var state *tls.ConnectionState
		cfg := &tls.Config{
			ServerName:         host,
			NextProtos:         []string{"h2", "http/1.1"},
			InsecureSkipVerify: true, // verified in VerifyConnection below
			VerifyConnection: func(cs tls.ConnectionState) error {
				state = &cs
				if insecure {
					return nil
				}
				return verifyPeer(cs, host, roots)
			},
		}
		if trace != nil && trace.TLSHandshakeStart != nil {
			trace.TLSHandshakeStart()
		}
		tc := tls.Client(raw, cfg)
		err = tc.HandshakeContext(ctx)
		if trace != nil && trace.TLSHandshakeDone != nil {
			cs := tc.ConnectionState()
			if state != nil {
				cs = *state
			}
			// The client's state leaves ServerName empty for an IP
			// address (no SNI is sent); keep the name checked.
			cs.ServerName = host
			trace.TLSHandshakeDone(cs, err)
		}
		if err != nil {
			_ = raw.Close()
			return nil, err
		}
		return tc, nil
	}
}

func verifyPeer(cs tls.ConnectionState, name string, roots *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("tls: server sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
		DNSName:       name,
		Roots:         roots,
		Intermediates: inter,
	})
	return err
}

func newTraceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func newSpanID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// interestingHeaders are the answer headers a hop keeps.
var interestingHeaders = []string{
	"Server", "Via", "X-Cache", "Retry-After", "Content-Type", "Content-Length", "Location",
	"WWW-Authenticate", "Proxy-Authenticate",
	"RateLimit", "RateLimit-Policy", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
	"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
}

// httpHop makes one request. resp is returned (with its body closed) when
// an answer came, so that a redirect can be followed. A lookup made for
// the hop beforehand is its DNS phase.
func httpHop(ctx context.Context, tr *http.Transport, p *httpPlan, ps *proxyState, u *url.URL, method string, body []byte, traceID string, lookup httpLookup) (HTTPHop, *http.Response) {
	h := HTTPHop{URL: u.Redacted(), Method: method}
	ps.reset()
	if p.opts.Proxy != nil {
		pu, err := p.opts.Proxy(u)
		if err != nil {
			h.Err, h.Error, h.Class, h.Phase = err, "choosing a proxy: "+err.Error(), ClassOther, phaseConnect.String()
			return h, nil
		}
		if pu != nil {
			h.Proxy = pu.Redacted()
		}
	}
	ht := newHopTrace(time.Now())
	if !lookup.end.IsZero() {
		ht = newHopTrace(lookup.start)
		ht.ends[phaseDNS] = lookup.end
	}
	fail := func(err error, ph phase) {
		h.Err, h.Error, h.Phase = err, err.Error(), ph.String()
		// Once the context is done the transport's error may be any
		// consequence of it (a closed connection); the context says what
		// happened.
		switch {
		case classifyTLSErr(err) != ClassNone:
			h.Class = classifyTLSErr(err)
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			h.Class = classifyHTTPErr(context.DeadlineExceeded, ph)
		case ctx.Err() != nil:
			h.Class = ClassCanceled
		default:
			h.Class = classifyHTTPErr(err, ph)
		}
	}

	var rdr io.Reader
	if body != nil {
		rdr = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, ht.clientTrace()), method, u.String(), rdr)
	if err != nil {
		h.Timings = ht.finish(time.Now())
		h.Err, h.Error, h.Class = err, err.Error(), ClassOther
		return h, nil
	}
	for k, vs := range p.opts.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if host := req.Header.Get("Host"); host != "" {
		req.Host = host
		req.Header.Del("Host")
	}
	if p.callerTrace {
		h.TraceParent = strings.Join(req.Header.Values("traceparent"), ", ")
	} else {
		h.TraceParent = "00-" + traceID + "-" + newSpanID() + "-01"
		req.Header.Set("traceparent", h.TraceParent)
	}

	resp, err := tr.RoundTrip(req)
	if err != nil {
		ph := ht.phase()
		h.Timings = ht.finish(time.Now())
		ht.fill(&h, p.opts.Insecure, p.opts.RootCAs)
		// Without a response the status line and headers never
		// completed, though their first bytes may have come (a server
		// trickling them): the server has not answered, which is no
		// stalled body.
		headersStalled := ph == phaseTransfer
		if headersStalled {
			ph = phaseWait
		}
		fail(err, ph)
		if headersStalled && h.Class == ClassNoFirstByte {
			h.Phase = "headers"
		}
		h.proxyStatus, h.proxyAnswered = ps.get()
		return h, nil
	}
	h.Proto, h.StatusCode = resp.Proto, resp.StatusCode
	h.Header = http.Header{}
	for _, k := range interestingHeaders {
		if vs := resp.Header.Values(k); len(vs) > 0 {
			h.Header[http.CanonicalHeaderKey(k)] = vs
		}
	}

	var readErr error
	if p.maxBody > 0 && method != http.MethodHead {
		var preview bytes.Buffer
		n, err := io.Copy(io.MultiWriter(&limitedBuffer{&preview, 256}), io.LimitReader(resp.Body, p.maxBody))
		h.BodyBytes = n
		readErr = err
		if err == nil && n == p.maxBody {
			var one [1]byte
			if m, _ := resp.Body.Read(one[:]); m > 0 {
				h.BodyTruncated = true
			}
		}
		h.BodyPreview = previewText(preview.Bytes())
	}
	ph := ht.phase()
	ht.leave(phaseTransfer)
	_ = resp.Body.Close()
	h.Timings = ht.finish(time.Now())
	ht.fill(&h, p.opts.Insecure, p.opts.RootCAs)
	if h.TLS == nil && resp.TLS != nil {
		// A reused connection: no handshake this time.
		cs := *resp.TLS
		cs.ServerName = u.Hostname()
		h.TLS = tlsInfo(cs, nil, p.opts.Insecure, p.opts.RootCAs)
	}
	if readErr != nil {
		fail(readErr, ph)
	}
	return h, resp
}

// fill copies what the trace saw into the hop.
func (t *httpHopTrace) fill(h *HTTPHop, insecure bool, roots *x509.CertPool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	h.Remote, h.Local, h.Reused = t.remote, t.local, t.reused
	if !h.Remote.IsValid() {
		h.tried = t.tried
	}
	if t.tlsState != nil && len(t.tlsState.PeerCertificates) > 0 {
		h.TLS = tlsInfo(*t.tlsState, t.tlsErr, insecure, roots)
	}
}

func tlsInfo(cs tls.ConnectionState, handshakeErr error, insecure bool, roots *x509.CertPool) *TLSInfo {
	ti := &TLSInfo{
		Version:    tls.VersionName(cs.Version),
		Cipher:     tls.CipherSuiteName(cs.CipherSuite),
		ALPN:       cs.NegotiatedProtocol,
		ServerName: cs.ServerName,
	}
	if len(cs.PeerCertificates) > 0 {
		c := cs.PeerCertificates[0]
		ti.Subject, ti.Issuer = c.Subject.String(), c.Issuer.String()
		ti.NotBefore, ti.NotAfter = c.NotBefore, c.NotAfter
		ti.SANs = append(ti.SANs, c.DNSNames...)
		for _, ip := range c.IPAddresses {
			ti.SANs = append(ti.SANs, ip.String())
		}
	}
	verr := handshakeErr
	if insecure && verr == nil {
		// The handshake did not verify; say what verification would
		// have said.
		verr = verifyPeer(cs, cs.ServerName, roots)
	}
	if verr == nil {
		ti.Verified = !insecure
		return ti
	}
	if c := classifyTLSErr(verr); c != ClassNone {
		ti.VerifyClass, ti.VerifyError = c, verr.Error()
	}
	return ti
}

// limitedBuffer keeps the first n bytes written to it.
type limitedBuffer struct {
	b *bytes.Buffer
	n int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func previewText(b []byte) string {
	for len(b) > 0 && !utf8.Valid(b) {
		b = b[:len(b)-1]
	}
	return strings.ToValidUTF8(string(b), "")
}

// proxyServers are Server header products of proxies, load balancers and
// CDNs, lowercase.
var proxyServers = []string{
	"nginx", "openresty", "tengine", "envoy", "istio-envoy", "haproxy", "traefik", "caddy",
	"cloudflare", "cloudfront", "awselb", "akamaighost", "google frontend", "gfe",
	"varnish", "squid", "ats", "apache traffic server", "kong", "microsoft-azure-application-gateway",
	"bigip", "big-ip", "fastly",
}

func isProxyServer(server string) bool {
	s := strings.ToLower(server)
	for _, p := range proxyServers {
		if s == p || strings.HasPrefix(s, p+"/") || strings.HasPrefix(s, p+" ") {
			return true
		}
	}
	return false
}

// httpFindings turns an attempt's outcome into findings.
func httpFindings(p *httpPlan, a HTTPAttempt) []triage.Finding {
	h := a.Last()
	hu, _ := url.Parse(h.URL)
	if hu == nil {
		hu = p.u
	}
	host, port := hu.Hostname(), portOf(hu)
	ev := triage.Evidence{
		slog.String(triage.KeyURL, h.URL),
		slog.String(triage.KeyHost, host),
	}
	target := hopAddr(h)
	if target.IsValid() {
		ev = append(ev, slog.String(triage.KeyAddr, target.Addr().String()))
	}
	ev = append(ev, slog.Int(triage.KeyPort, port), slog.Duration("elapsed_ns", h.Timings.Total))
	if _, resolved := p.pins[hostPortKey(hu)]; resolved || a.Pinned.IsValid() {
		// The hop went to an address the caller chose, not where the
		// name resolves: an answer here while the name fails points at
		// DNS.
		ev = append(ev, slog.Bool(KeyPinned, true))
	}
	if a.TraceID != "" {
		ev = append(ev, slog.String("trace_id", a.TraceID))
	}
	if h.Proxy != "" {
		ev = append(ev, slog.String(KeyViaProxy, h.Proxy))
	}
	cmd := curlCommand(p, h, a.Pinned)
	where := h.Method + " " + h.URL
	if target.IsValid() {
		where += " (" + target.String() + ")"
	}

	var out []triage.Finding
	add := func(code triage.Code, st triage.Status, summary string, extra ...slog.Attr) {
		out = append(out, triage.Finding{Code: code, Status: st, Summary: summary,
			Evidence: append(append(triage.Evidence{}, ev...), extra...), Command: cmd})
	}

	if how, ok := proxyFailure(h, hu.Scheme == "https"); ok {
		extra := []slog.Attr{slog.String(KeyProxyFailure, how), slog.String(KeyPhase, h.Phase)}
		what := h.Class.describe()
		if how == "status" {
			extra = append(extra, slog.Int(KeyHTTPStatus, h.proxyStatus))
			what = fmt.Sprintf("answered the CONNECT with status %d", h.proxyStatus)
		}
		add(CodeHTTPProxyFailed, triage.Fail, fmt.Sprintf("%s: the proxy %s failed the request before it reached %s: %s after %s",
			where, h.Proxy, host, what, roundDur(h.Timings.Total)), extra...)
		return out
	}

	switch h.Class {
	case ClassNone:
	case ClassDNSNotFound, ClassDNSTimeout, ClassDNSError:
		add(h.Class.Code(), triage.Fail, fmt.Sprintf("%s: resolving %s: %s after %s",
			where, host, h.Class.describe(), roundDur(h.Timings.Total)))
		return out
	case ClassRefused, ClassTimeout, ClassReset, ClassUnreachable, ClassPortsExhausted, ClassBlocked:
		add(h.Class.Code(), triage.Fail, fmt.Sprintf("%s: %s after %s", where, h.Class.describe(),
			roundDur(h.Timings.Total)), slog.String("phase", h.Phase))
		return out
	case ClassTLSUnknownAuthority, ClassTLSExpired, ClassTLSNameMismatch:
		var extra []slog.Attr
		if h.TLS != nil {
			extra = append(extra, slog.String("subject", h.TLS.Subject), slog.String("issuer", h.TLS.Issuer),
				slog.Time("not_after", h.TLS.NotAfter), slog.String("server_name", h.TLS.ServerName),
				slog.String("sans", strings.Join(h.TLS.SANs, ",")))
		}
		add(h.Class.Code(), triage.Fail, fmt.Sprintf("%s: %s", where, h.Class.describe()), extra...)
		return out
	case ClassTLSTimeout, ClassNoFirstByte:
		what := h.Class.describe()
		if h.Phase == "headers" {
			what = "the status line and headers began but never completed (the server trickles or hangs mid-answer)"
		}
		add(h.Class.Code(), triage.Fail, fmt.Sprintf("%s: %s after %s", where, what,
			roundDur(h.Timings.Total)), slog.String("phase", h.Phase))
		return out
	case ClassBodyStalled:
		add(CodeHTTPBodyStalled, triage.Fail, fmt.Sprintf("%s: status %d, body stalled after %d bytes and %s",
			where, h.StatusCode, h.BodyBytes, roundDur(h.Timings.Total)),
			slog.Int(KeyHTTPStatus, h.StatusCode), slog.Int64("body_bytes", h.BodyBytes))
		return out
	case ClassEmptyReply:
		add(CodeHTTPEmptyReply, triage.Fail, fmt.Sprintf("%s: %s after %s", where, h.Class.describe(),
			roundDur(h.Timings.Total)), slog.String("phase", h.Phase))
		return out
	default:
		code := CodeHTTPError
		if h.Class == ClassTLSError {
			code = CodeHTTPTLSError
		} else if h.Phase == phaseConnect.String() || h.Phase == phaseDNS.String() {
			code = CodeTCPError
		}
		add(code, triage.Fail, fmt.Sprintf("%s: %s in phase %s: %s", where, h.Class.describe(), h.Phase, h.Error),
			slog.String("phase", h.Phase), slog.String("error", h.Error))
		return out
	}

	// An answer came in full.
	if p.opts.FollowRedirects && isRedirect(h.StatusCode) && h.Header.Get("Location") != "" {
		add(CodeHTTPTooManyRedirects, triage.Fail, fmt.Sprintf("%s: still redirecting after %d hops",
			where, len(a.Hops)), slog.Int(KeyHTTPStatus, h.StatusCode), slog.String("location", h.Header.Get("Location")))
		return out
	}
	server, via := h.Header.Get("Server"), h.Header.Get("Via")
	status := slog.Int(KeyHTTPStatus, h.StatusCode)
	took := roundDur(h.Timings.Total)
	switch {
	case h.StatusCode >= 500:
		proxy := via != "" || h.Header.Get("X-Cache") != "" || isProxyServer(server)
		upstream := ""
		switch h.StatusCode {
		case http.StatusBadGateway:
			upstream = "refused or broke the connection"
		case http.StatusServiceUnavailable:
			upstream = "unavailable or none healthy"
		case http.StatusGatewayTimeout:
			upstream = "did not answer in time"
		}
		summary := fmt.Sprintf("%s: status %d in %s", where, h.StatusCode, took)
		if server != "" {
			summary += ", server " + server
		}
		if via != "" {
			summary += ", via " + via
		}
		switch {
		case upstream != "" && proxy:
			summary += "; the failing layer is behind the proxy (its upstream " + upstream + ")"
		case upstream != "":
			summary += "; a gateway answered (its upstream " + upstream + ")"
		default:
			summary += "; the application failed"
		}
		add(CodeHTTPStatus5xx, triage.Fail, summary, status, slog.String("server", server),
			slog.String("via", via), slog.Bool("proxy", proxy), slog.String("upstream", upstream))
	case h.StatusCode == http.StatusTooManyRequests:
		var extra []slog.Attr
		summary := fmt.Sprintf("%s: rate limited (429) in %s", where, took)
		if ra := h.Header.Get("Retry-After"); ra != "" {
			if d, ok := parseRetryAfter(ra, time.Now()); ok {
				extra = append(extra, slog.Duration("retry_after_ns", d))
				summary += fmt.Sprintf(", retry after %s", d)
			}
		}
		for _, k := range []string{"RateLimit", "RateLimit-Policy", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
			"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
			if v := h.Header.Get(k); v != "" {
				extra = append(extra, slog.String(strings.ToLower(strings.ReplaceAll(k, "-", "_")), v))
				if strings.HasSuffix(k, "Remaining") || k == "RateLimit" {
					summary += ", " + k + ": " + v
				}
			}
		}
		add(CodeHTTPRateLimited, triage.Warn, summary, append([]slog.Attr{status}, extra...)...)
	case h.StatusCode >= 400:
		extra := []slog.Attr{status, slog.String("server", server)}
		summary := fmt.Sprintf("%s: status %d in %s", where, h.StatusCode, took)
		switch h.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusProxyAuthRequired:
			challenge := h.Header.Get("WWW-Authenticate")
			if h.StatusCode == http.StatusProxyAuthRequired {
				challenge = h.Header.Get("Proxy-Authenticate")
			}
			sent := p.sentAuthorization(h.StatusCode == http.StatusProxyAuthRequired)
			extra = append(extra, slog.String(KeyAuthChallenge, challenge), slog.Bool(KeyAuthSent, sent))
			if sent {
				summary += "; credentials were sent and refused"
			} else {
				summary += "; no credentials were sent"
			}
			if challenge != "" {
				summary += ", the server asks for " + challenge
			}
		}
		add(CodeHTTPStatus4xx, triage.Warn, summary, extra...)
	default:
		add(CodeHTTPOK, triage.OK, fmt.Sprintf("%s: status %d %s in %s", where, h.StatusCode, h.Proto, took),
			status, slog.String("proto", h.Proto))
	}
	if f, ok := slowFinding(p, a, where); ok {
		add(f.Code, f.Status, f.Summary, f.Evidence...)
	}
	if t := h.TLS; t != nil && t.Verified && !t.NotAfter.IsZero() {
		if left := time.Until(t.NotAfter); left < TLSExpiryWarning {
			add(CodeHTTPTLSExpiring, triage.Warn, fmt.Sprintf("%s: certificate %s expires in %s",
				where, t.Subject, left.Round(time.Hour)),
				slog.String("subject", t.Subject), slog.Time("not_after", t.NotAfter),
				slog.Duration("expires_in_ns", left))
		}
	}
	return out
}

// sentAuthorization says whether the request carried credentials: an
// Authorization header (Proxy-Authorization for a proxy) or a user in the
// URL.
func (p *httpPlan) sentAuthorization(proxy bool) bool {
	name := "Authorization"
	if proxy {
		name = "Proxy-Authorization"
	}
	for k := range p.opts.Header {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return !proxy && p.u.User != nil
}

// slowFinding is CodeHTTPSlow's evidence when the attempt took longer
// than the threshold: its phases added up over its hops, and the one that
// took the most.
func slowFinding(p *httpPlan, a HTTPAttempt, where string) (triage.Finding, bool) {
	limit := p.opts.Slow
	if limit == 0 {
		limit = DefaultSlow
	}
	var t HTTPTimings
	for _, h := range a.Hops {
		t.DNS += h.Timings.DNS
		t.Connect += h.Timings.Connect
		t.TLS += h.Timings.TLS
		t.Wait += h.Timings.Wait
		t.Transfer += h.Timings.Transfer
		t.Total += h.Timings.Total
	}
	if limit < 0 || t.Total <= limit {
		return triage.Finding{}, false
	}
	phases := [phaseCount]time.Duration{t.DNS, t.Connect, t.TLS, t.Wait, t.Transfer}
	top := phaseDNS
	for ph := phaseDNS; ph < phaseCount; ph++ {
		if phases[ph] > phases[top] {
			top = ph
		}
	}
	h := a.Last()
	return triage.Finding{Code: CodeHTTPSlow, Status: triage.Warn,
		Summary: fmt.Sprintf("%s: answered %d in %s, over %s; most of it in %s (%s): dns %s, connect %s, tls %s, wait %s, transfer %s",
			where, h.StatusCode, roundDur(t.Total), limit, phaseWords[top], roundDur(phases[top]),
			roundDur(t.DNS), roundDur(t.Connect), roundDur(t.TLS), roundDur(t.Wait), roundDur(t.Transfer)),
		Evidence: triage.Evidence{slog.Int(KeyHTTPStatus, h.StatusCode), slog.String(KeyPhase, top.String()),
			slog.Duration("dns_ns", t.DNS), slog.Duration("connect_ns", t.Connect), slog.Duration("tls_ns", t.TLS),
			slog.Duration("wait_ns", t.Wait), slog.Duration("transfer_ns", t.Transfer), slog.Duration("slow_ns", limit)},
	}, true
}

// phaseWords name the phases for people.
var phaseWords = [phaseCount]string{"resolving the name", "connecting", "the TLS handshake",
	"waiting for the first byte", "reading the answer"}

// parseRetryAfter reads delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if n, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d.Round(time.Second), true
	}
	return 0, false
}

// curlCommand is the curl line that repeats the hop.
func curlCommand(p *httpPlan, h HTTPHop, pinned netip.Addr) string {
	var b strings.Builder
	b.WriteString("curl -v -o /dev/null")
	if h.Method == http.MethodHead {
		b.WriteString(" -I")
	} else if h.Method != http.MethodGet {
		b.WriteString(" -X " + h.Method)
	}
	if p.opts.Insecure {
		b.WriteString(" -k")
	}
	for _, r := range p.opts.Resolve {
		b.WriteString(" --resolve " + r)
	}
	if pinned.IsValid() {
		b.WriteString(fmt.Sprintf(" --resolve %s:%d:%s", p.u.Hostname(), portOf(p.u), bracket(pinned)))
	} else if _, isPinned := p.pins[hostPortKey(p.u)]; p.opts.Lookup != nil && !isPinned {
		// The application's view chose the address: pin it, so that
		// curl goes where the probe went.
		if a := hopAddr(h); a.IsValid() && !isAddr(p.u.Hostname()) {
			b.WriteString(fmt.Sprintf(" --resolve %s:%d:%s", p.u.Hostname(), portOf(p.u), bracket(a.Addr())))
		}
	}
	b.WriteString(" '" + strings.ReplaceAll(h.URL, "'", "%27") + "'")
	return b.String()
}

func isAddr(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}

func bracket(a netip.Addr) string {
	if a.Is6() {
		return "[" + a.String() + "]"
	}
	return a.String()
}
