package probe

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/testca"
)

func tlsServer(t *testing.T, cert tls.Certificate, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func okHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Server", "testapp/1.0")
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, "hello\n")
}

// TestHTTPOK checks the facts of a plain answer: timings that add up, the
// address connected, the headers kept and the traceparent the server got.
func TestHTTPOK(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("traceparent"))
		mu.Unlock()
		okHandler(w, r)
	}))
	defer srv.Close()

	for _, method := range []string{"GET", "HEAD"} {
		t.Run(method, func(t *testing.T) {
			r := HTTP(context.Background(), HTTPOptions{URL: srv.URL + "/health", Method: method})
			require.NoError(t, r.Err)
			assert.Equal(t, "probe.http", r.Check)
			assert.Equal(t, triage.Target{URL: srv.URL + "/health", Host: "127.0.0.1",
				Port: srv.Listener.Addr().(*net.TCPAddr).Port, Addr: netip.MustParseAddrPort(srv.Listener.Addr().String())}, r.Target)
			assert.Equal(t, triage.OK, r.Status)
			require.Len(t, r.Attempts, 1)
			a := r.Attempts[0]
			require.Len(t, a.Hops, 1)
			h := a.Last()
			assert.Equal(t, 200, h.StatusCode)
			assert.Equal(t, "HTTP/1.1", h.Proto)
			assert.Equal(t, ClassNone, h.Class)
			assert.Equal(t, srv.Listener.Addr().String(), h.Remote.String())
			assert.Equal(t, "testapp/1.0", h.Header.Get("Server"))
			assert.Equal(t, "text/plain", h.Header.Get("Content-Type"))
			assert.Empty(t, h.Header.Get("Date"), "only selected headers are kept")
			if method == "GET" {
				assert.Equal(t, int64(6), h.BodyBytes)
				assert.Equal(t, "hello\n", h.BodyPreview)
			} else {
				assert.Zero(t, h.BodyBytes)
			}
			assertTimingsAddUp(t, h.Timings)
			assert.Positive(t, h.Timings.Connect)
			assert.Zero(t, h.Timings.DNS, "an IP address needs no DNS")
			assert.Zero(t, h.Timings.TLS)

			mu.Lock()
			last := got[len(got)-1]
			mu.Unlock()
			assert.Equal(t, h.TraceParent, last)
			assert.Regexp(t, `^00-[0-9a-f]{32}-[0-9a-f]{16}-01$`, last)
			assert.Contains(t, last, a.TraceID)

			f, ok := r.Find(CodeHTTPOK)
			require.True(t, ok)
			st, _ := f.Evidence.Int(KeyHTTPStatus)
			assert.Equal(t, int64(200), st)
			assert.Equal(t, a.TraceID, f.Evidence.String("trace_id"))
			assert.Equal(t, "127.0.0.1", f.Evidence.String("addr"))
			assert.Contains(t, f.Command, "curl")
		})
	}
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 2)
	assert.NotEqual(t, got[0][3:35], got[1][3:35], "each request has a fresh trace id")
}

// TestHTTPRedactsPassword: the password of a URL is kept out of the
// result: its target, hops, evidence and commands.
func TestHTTPRedactsPassword(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(okHandler))
	defer srv.Close()
	u, err := url.Parse(srv.URL + "/health")
	require.NoError(t, err)
	u.User = url.UserPassword("ops", "s3cret")

	r := HTTP(context.Background(), HTTPOptions{URL: u.String()})
	require.NoError(t, r.Err)
	assert.Equal(t, u.Redacted(), r.Target.URL)
	b, err := json.Marshal(r)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "s3cret")
	for _, f := range r.Findings {
		assert.NotContains(t, f.Command, "s3cret")
		assert.NotContains(t, f.Evidence.String(triage.KeyURL), "s3cret")
	}
}

func assertTimingsAddUp(t *testing.T, tm HTTPTimings) {
	t.Helper()
	assert.Equal(t, tm.Total, tm.DNS+tm.Connect+tm.TLS+tm.Wait+tm.Transfer, "%+v", tm)
	for _, d := range []time.Duration{tm.DNS, tm.Connect, tm.TLS, tm.Wait, tm.Transfer} {
		assert.GreaterOrEqual(t, d, time.Duration(0))
	}
}

func TestHTTPStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/500":
			w.WriteHeader(500)
		case "/404":
			w.WriteHeader(404)
		case "/429":
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(429)
		case "/429date":
			w.Header().Set("Retry-After", time.Now().Add(2*time.Minute).UTC().Format(http.TimeFormat))
			w.WriteHeader(429)
		case "/503nginx":
			w.Header().Set("Server", "nginx/1.25.3")
			w.WriteHeader(503)
		case "/504via":
			w.Header().Set("Via", "1.1 varnish")
			w.WriteHeader(504)
		}
	}))
	defer srv.Close()

	tests := []struct {
		path   string
		code   triage.Code
		status triage.Status
		check  func(t *testing.T, f triage.Finding)
	}{
		{"/500", CodeHTTPStatus5xx, triage.Fail, func(t *testing.T, f triage.Finding) {
			v, _ := f.Evidence.Lookup("proxy")
			assert.False(t, v.Bool())
			assert.Contains(t, f.Summary, "the application failed")
		}},
		{"/404", CodeHTTPStatus4xx, triage.Warn, nil},
		{"/429", CodeHTTPRateLimited, triage.Warn, func(t *testing.T, f triage.Finding) {
			v, ok := f.Evidence.Lookup("retry_after_ns")
			require.True(t, ok)
			assert.Equal(t, 30*time.Second, v.Duration())
		}},
		{"/429date", CodeHTTPRateLimited, triage.Warn, func(t *testing.T, f triage.Finding) {
			v, ok := f.Evidence.Lookup("retry_after_ns")
			require.True(t, ok)
			assert.InDelta(t, 2*time.Minute, v.Duration(), float64(5*time.Second))
		}},
		{"/503nginx", CodeHTTPStatus5xx, triage.Fail, func(t *testing.T, f triage.Finding) {
			v, _ := f.Evidence.Lookup("proxy")
			assert.True(t, v.Bool())
			assert.Equal(t, "nginx/1.25.3", f.Evidence.String("server"))
			assert.Contains(t, f.Summary, "behind the proxy")
		}},
		{"/504via", CodeHTTPStatus5xx, triage.Fail, func(t *testing.T, f triage.Finding) {
			v, _ := f.Evidence.Lookup("proxy")
			assert.True(t, v.Bool())
			assert.Equal(t, "1.1 varnish", f.Evidence.String("via"))
			assert.Equal(t, "did not answer in time", f.Evidence.String("upstream"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := HTTP(context.Background(), HTTPOptions{URL: srv.URL + tt.path})
			require.NoError(t, r.Err)
			assert.Equal(t, tt.status, r.Status)
			f, ok := r.Find(tt.code)
			require.True(t, ok, "findings: %v", r.Findings)
			assert.Equal(t, tt.status, f.Status)
			if tt.check != nil {
				tt.check(t, f)
			}
		})
	}
}

// gatewayErrorHandler answers like nginx: 504 when the upstream timed
// out, 502 otherwise.
func gatewayErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("Via", "1.1 test-gateway")
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		w.WriteHeader(http.StatusGatewayTimeout)
		return
	}
	w.WriteHeader(http.StatusBadGateway)
}

func TestHTTPReverseProxy(t *testing.T) {
	hung := silentServer(t, "tcp", "127.0.0.1:0")
	tests := []struct {
		name     string
		upstream string
		status   int
		upstr    string
	}{
		{"dead upstream", closedPort(t), 502, "refused or broke the connection"},
		{"hung upstream", hung, 504, "did not answer in time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, _ := url.Parse("http://" + tt.upstream)
			rp := httputil.NewSingleHostReverseProxy(target)
			tr := &http.Transport{ResponseHeaderTimeout: 300 * time.Millisecond}
			defer tr.CloseIdleConnections()
			rp.Transport = tr
			rp.ErrorHandler = gatewayErrorHandler
			proxy := httptest.NewServer(rp)
			defer proxy.Close()

			r := HTTP(context.Background(), HTTPOptions{URL: proxy.URL + "/api"})
			require.NoError(t, r.Err)
			assert.Equal(t, triage.Fail, r.Status)
			f, ok := r.Find(CodeHTTPStatus5xx)
			require.True(t, ok, "findings: %v", r.Findings)
			st, _ := f.Evidence.Int(KeyHTTPStatus)
			assert.Equal(t, int64(tt.status), st)
			v, _ := f.Evidence.Lookup("proxy")
			assert.True(t, v.Bool())
			assert.Equal(t, tt.upstr, f.Evidence.String("upstream"))
		})
	}
}

func TestHTTPRedirects(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/a", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/b", http.StatusFound) })
	mux.HandleFunc("/b", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/c", http.StatusPermanentRedirect)
	})
	mux.HandleFunc("/c", okHandler)
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	t.Run("not followed", func(t *testing.T) {
		r := HTTP(context.Background(), HTTPOptions{URL: srv.URL + "/a"})
		require.NoError(t, r.Err)
		require.Len(t, r.Attempts[0].Hops, 1)
		h := r.Attempts[0].Last()
		assert.Equal(t, 302, h.StatusCode)
		assert.Equal(t, "/b", h.Header.Get("Location"))
		assert.True(t, r.Has(CodeHTTPOK))
	})
	t.Run("followed", func(t *testing.T) {
		r := HTTP(context.Background(), HTTPOptions{URL: srv.URL + "/a", FollowRedirects: true})
		require.NoError(t, r.Err)
		a := r.Attempts[0]
		require.Len(t, a.Hops, 3)
		assert.Equal(t, []int{302, 308, 200}, []int{a.Hops[0].StatusCode, a.Hops[1].StatusCode, a.Hops[2].StatusCode})
		assert.Equal(t, srv.URL+"/c", a.Hops[2].URL)
		assert.False(t, a.Hops[0].Reused)
		assert.True(t, a.Hops[1].Reused, "the second hop reuses the connection")
		assert.Zero(t, a.Hops[1].Timings.Connect)
		seen := map[string]bool{}
		for _, h := range a.Hops {
			assertTimingsAddUp(t, h.Timings)
			assert.Contains(t, h.TraceParent, a.TraceID)
			assert.False(t, seen[h.TraceParent], "a new span per hop")
			seen[h.TraceParent] = true
		}
		assert.Equal(t, triage.OK, r.Status)
	})
	t.Run("too many", func(t *testing.T) {
		r := HTTP(context.Background(), HTTPOptions{URL: srv.URL + "/loop", FollowRedirects: true, MaxRedirects: 3})
		require.NoError(t, r.Err)
		assert.Len(t, r.Attempts[0].Hops, 4)
		assert.True(t, r.Has(CodeHTTPTooManyRedirects))
		assert.Equal(t, triage.Fail, r.Status)
	})
}

// cipherNames are the names of the cipher suites crypto/tls implements.
var cipherNames = func() []string {
	var names []string
	for _, c := range tls.CipherSuites() {
		names = append(names, c.Name)
	}
	return names
}()

func TestHTTPTLS(t *testing.T) {
	ca := testca.New(t)
	other := testca.New(t)
	now := time.Now()
	good := tlsServer(t, ca.Leaf(t, now.Add(-time.Hour), now.Add(90*24*time.Hour), "127.0.0.1", "api.test"), http.HandlerFunc(okHandler))
	expired := tlsServer(t, ca.Leaf(t, now.Add(-48*time.Hour), now.Add(-24*time.Hour), "127.0.0.1"), http.HandlerFunc(okHandler))
	wrongName := tlsServer(t, ca.Leaf(t, now.Add(-time.Hour), now.Add(24*time.Hour), "other.test"), http.HandlerFunc(okHandler))
	unknown := tlsServer(t, other.Leaf(t, now.Add(-time.Hour), now.Add(24*time.Hour), "127.0.0.1"), http.HandlerFunc(okHandler))
	expiring := tlsServer(t, ca.Leaf(t, now.Add(-time.Hour), now.Add(3*24*time.Hour), "127.0.0.1"), http.HandlerFunc(okHandler))

	tests := []struct {
		name     string
		srv      *httptest.Server
		insecure bool
		code     triage.Code
		class    ErrorClass
		verified bool
	}{
		{"verified", good, false, CodeHTTPOK, ClassNone, true},
		{"expired", expired, false, CodeHTTPTLSExpired, ClassTLSExpired, false},
		{"wrong name", wrongName, false, CodeHTTPTLSNameMismatch, ClassTLSNameMismatch, false},
		{"unknown authority", unknown, false, CodeHTTPTLSUnknownAuthority, ClassTLSUnknownAuthority, false},
		{"expiring soon", expiring, false, CodeHTTPTLSExpiring, ClassNone, true},
		{"insecure expired", expired, true, CodeHTTPOK, ClassNone, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := HTTP(context.Background(), HTTPOptions{URL: tt.srv.URL, RootCAs: ca.Pool, Insecure: tt.insecure})
			require.NoError(t, r.Err)
			assert.True(t, r.Has(tt.code), "findings: %v", r.Findings)
			h := r.Attempts[0].Last()
			assert.Equal(t, tt.class, h.Class)
			require.NotNil(t, h.TLS, "the certificate facts are kept even when it fails")
			assert.Equal(t, tt.verified, h.TLS.Verified)
			assert.NotEmpty(t, h.TLS.Version)
			assert.Contains(t, cipherNames, h.TLS.Cipher, "a cipher suite by name")
			assert.NotEmpty(t, h.TLS.Subject)
			assert.Contains(t, h.TLS.Issuer, "triage test CA")
			assert.False(t, h.TLS.NotAfter.IsZero())
			assert.Equal(t, "127.0.0.1", h.TLS.ServerName)
			if tt.class != ClassNone {
				assert.Equal(t, triage.Fail, r.Status)
				assert.Equal(t, "tls", h.Phase)
				assert.Equal(t, tt.class, h.TLS.VerifyClass)
			}
			if tt.insecure {
				assert.Equal(t, ClassTLSExpired, h.TLS.VerifyClass, "insecure still says what verification would have said")
			}
			if tt.class == ClassNone {
				assertTimingsAddUp(t, h.Timings)
				assert.Positive(t, h.Timings.TLS)
			}
		})
	}

	t.Run("http2", func(t *testing.T) {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(okHandler))
		srv.EnableHTTP2 = true
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Leaf(t, now.Add(-time.Hour), now.Add(90*24*time.Hour), "127.0.0.1")}}
		srv.StartTLS()
		defer srv.Close()
		r := HTTP(context.Background(), HTTPOptions{URL: srv.URL, RootCAs: ca.Pool})
		require.NoError(t, r.Err)
		assert.True(t, r.Has(CodeHTTPOK), "findings: %v", r.Findings)
		h := r.Attempts[0].Last()
		assert.Equal(t, "HTTP/2.0", h.Proto)
		assert.Equal(t, "h2", h.TLS.ALPN)
		assert.Contains(t, cipherNames, h.TLS.Cipher)
		assertTimingsAddUp(t, h.Timings)
	})
	t.Run("system roots", func(t *testing.T) {
		r := HTTP(context.Background(), HTTPOptions{URL: good.URL})
		assert.True(t, r.Has(CodeHTTPTLSUnknownAuthority))
	})
	t.Run("resolve keeps the name for SNI", func(t *testing.T) {
		_, port, _ := net.SplitHostPort(good.Listener.Addr().String())
		r := HTTP(context.Background(), HTTPOptions{
			URL:     "https://api.test:" + port + "/",
			Resolve: []string{"api.test:" + port + ":127.0.0.1"},
			RootCAs: ca.Pool,
		})
		require.NoError(t, r.Err)
		assert.True(t, r.Has(CodeHTTPOK), "findings: %v", r.Findings)
		h := r.Attempts[0].Last()
		assert.Equal(t, "api.test", h.TLS.ServerName)
		assert.True(t, h.TLS.Verified)
		assert.Contains(t, h.TLS.SANs, "api.test")
	})
}

// trickleServer answers each connection's request with a status line
// one byte every 50ms, never finishing its headers, until release.
func trickleServer(t *testing.T, release chan struct{}) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				buf := make([]byte, 4096)
				_, _ = c.Read(buf)
				for _, b := range []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n") {
					select {
					case <-release:
						return
					case <-time.After(50 * time.Millisecond):
					}
					if _, err := c.Write([]byte{b}); err != nil {
						return
					}
				}
				<-release
			})
		}
	})
	return ln.Addr().String()
}

// TestHTTPHangs checks that every phase a server can hang in is named,
// and that HTTP returns by its deadline with nothing left behind.
func TestHTTPHangs(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	stop := func() { once.Do(func() { close(release) }) }
	defer stop()
	stalled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		_, _ = io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer stalled.Close()
	defer stop()
	silent := silentServer(t, "tcp", "127.0.0.1:0")
	queueFull := fullAcceptQueue(t)
	trickle := trickleServer(t, release)

	tests := []struct {
		name  string
		url   string
		code  triage.Code
		class ErrorClass
		phase string
	}{
		{"no first byte", "http://" + silent + "/", CodeHTTPNoFirstByte, ClassNoFirstByte, "wait"},
		{"tls handshake", "https://" + silent + "/", CodeHTTPTLSTimeout, ClassTLSTimeout, "tls"},
		{"body stalled", stalled.URL, CodeHTTPBodyStalled, ClassBodyStalled, "transfer"},
		{"status line trickled", "http://" + trickle + "/", CodeHTTPNoFirstByte, ClassNoFirstByte, "headers"},
		{"connect", "http://" + queueFull + "/", CodeTCPTimeout, ClassTimeout, "connect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, viaTimeout := range []bool{false, true} {
				// The deadline comes either from the context or from the
				// option; both end in the same classification.
				deadline, timeout := 400*time.Millisecond, time.Duration(0)
				if viaTimeout {
					deadline, timeout = 5*time.Second, 400*time.Millisecond
				}
				within(t, deadline, func(ctx context.Context) {
					r := HTTP(ctx, HTTPOptions{URL: tt.url, Timeout: timeout})
					require.NoError(t, r.Err)
					h := r.Attempts[0].Last()
					assert.Equal(t, tt.class, h.Class, "error: %v", h.Err)
					assert.Equal(t, tt.phase, h.Phase)
					assert.True(t, r.Has(tt.code), "findings: %v", r.Findings)
					assert.Equal(t, triage.Fail, r.Status)
					assertTimingsAddUp(t, h.Timings)
				})
			}
		})
	}
}

func TestHTTPConnectionFailures(t *testing.T) {
	reset := rawServer(t, func(c *net.TCPConn) {
		_, _ = c.Read(make([]byte, 4096))
		_ = c.SetLinger(0)
		_ = c.Close()
	})
	empty := rawServer(t, func(c *net.TCPConn) {
		_, _ = c.Read(make([]byte, 4096))
		_ = c.Close()
	})
	tests := []struct {
		name  string
		url   string
		code  triage.Code
		class ErrorClass
		errno error
	}{
		{"refused", "http://" + closedPort(t) + "/", CodeTCPRefused, ClassRefused, syscall.ECONNREFUSED},
		{"reset", "http://" + reset + "/", CodeTCPReset, ClassReset, syscall.ECONNRESET},
		{"empty reply", "http://" + empty + "/", CodeHTTPEmptyReply, ClassEmptyReply, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := HTTP(context.Background(), HTTPOptions{URL: tt.url})
			require.NoError(t, r.Err)
			h := r.Attempts[0].Last()
			assert.Equal(t, tt.class, h.Class, "error: %v", h.Err)
			assert.ErrorIs(t, h.Err, tt.errno)
			f, ok := r.Find(tt.code)
			require.True(t, ok, "findings: %v", r.Findings)
			assert.Equal(t, "127.0.0.1", f.Evidence.String("addr"))
			assert.Equal(t, triage.Fail, r.Status)
		})
	}
}

func TestHTTPResolve(t *testing.T) {
	var host string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host = r.Host
		okHandler(w, r)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	t.Run("pinned name", func(t *testing.T) {
		// .invalid never resolves: only the pin can make this work.
		u := "http://api.triage.invalid:" + port + "/x"
		r := HTTP(context.Background(), HTTPOptions{URL: u, Resolve: []string{"api.triage.invalid:" + port + ":127.0.0.1"}})
		require.NoError(t, r.Err)
		assert.True(t, r.Has(CodeHTTPOK), "findings: %v", r.Findings)
		assert.Equal(t, "api.triage.invalid:"+port, host)
		h := r.Attempts[0].Last()
		assert.Zero(t, h.Timings.DNS)
		assert.Equal(t, srv.Listener.Addr().String(), h.Remote.String())
		f, _ := r.Find(CodeHTTPOK)
		assert.Contains(t, f.Command, "--resolve api.triage.invalid:"+port+":127.0.0.1")
		pinned, ok := f.Evidence.Lookup(KeyPinned)
		assert.True(t, ok && pinned.Bool(), "a pinned answer says so: %v", f.Evidence)

		direct := HTTP(context.Background(), HTTPOptions{URL: srv.URL})
		f, _ = direct.Find(CodeHTTPOK)
		_, ok = f.Evidence.Lookup(KeyPinned)
		assert.False(t, ok, "an answer where the name resolves is not pinned")
	})
	t.Run("each address", func(t *testing.T) {
		// 127.0.0.2 is loopback too, but nothing listens there.
		u := "http://api.triage.invalid:" + port + "/"
		r := HTTP(context.Background(), HTTPOptions{
			URL: u, EachAddress: true,
			Resolve: []string{"api.triage.invalid:" + port + ":127.0.0.1,127.0.0.2"},
		})
		require.NoError(t, r.Err)
		require.Len(t, r.Attempts, 2)
		assert.Equal(t, netip.MustParseAddr("127.0.0.1"), r.Attempts[0].Pinned)
		assert.Equal(t, 200, r.Attempts[0].Last().StatusCode)
		assert.Equal(t, ClassRefused, r.Attempts[1].Last().Class)
		assert.NotEqual(t, r.Attempts[0].TraceID, r.Attempts[1].TraceID)
		f, ok := r.Find(CodeTCPRefused)
		require.True(t, ok)
		assert.Equal(t, "127.0.0.2", f.Evidence.String("addr"))
		pinned, ok := f.Evidence.Lookup(KeyPinned)
		assert.True(t, ok && pinned.Bool())
		assert.Equal(t, triage.Fail, r.Status)
	})
	t.Run("dns", func(t *testing.T) {
		res := dnsServer(t, 3)
		r := HTTP(context.Background(), HTTPOptions{URL: "http://nosuch.triage.test.:" + port + "/", Resolver: res})
		require.NoError(t, r.Err)
		assert.True(t, r.Has(CodeTCPDNSNotFound), "findings: %v", r.Findings)
		r = HTTP(context.Background(), HTTPOptions{URL: "http://nosuch.triage.test.:" + port + "/", Resolver: res, EachAddress: true})
		require.NoError(t, r.Err)
		assert.True(t, r.Has(CodeTCPDNSNotFound), "findings: %v", r.Findings)
	})
}

// Names resolved by the caller's resolver: the lookup is a timed phase,
// EachAddress tries every address it gave, and a resolver that never
// answers is a DNS timeout, named so, by the deadline.
func TestHTTPResolver(t *testing.T) {
	ipv6Loopback(t)
	res := dnsZone(t, dualZone)
	srv := httptest.NewServer(http.HandlerFunc(okHandler)) // IPv4 only
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	u := "http://dual.triage.test.:" + port + "/"

	t.Run("one attempt", func(t *testing.T) {
		r := HTTP(context.Background(), HTTPOptions{URL: u, Resolver: res})
		require.NoError(t, r.Err)
		assert.True(t, r.Has(CodeHTTPOK), "findings: %v", r.Findings)
		require.Len(t, r.Attempts, 1)
		h := r.Attempts[0].Last()
		assert.Equal(t, srv.Listener.Addr().String(), h.Remote.String())
		assert.Positive(t, h.Timings.DNS)
		assert.Positive(t, h.Timings.Connect)
		assertTimingsAddUp(t, h.Timings)
	})
	t.Run("each address", func(t *testing.T) {
		r := HTTP(context.Background(), HTTPOptions{URL: u, Resolver: res, EachAddress: true})
		require.NoError(t, r.Err)
		require.Len(t, r.Attempts, 2)
		var pinned []netip.Addr
		for _, a := range r.Attempts {
			pinned = append(pinned, a.Pinned)
			h := a.Last()
			assert.Positive(t, h.Timings.DNS, "the lookup that found the address")
			assertTimingsAddUp(t, h.Timings)
			if a.Pinned.Is4() {
				assert.Equal(t, 200, h.StatusCode)
				assert.Equal(t, ClassNone, h.Class)
				assert.Positive(t, h.Timings.Connect)
			} else {
				assert.Equal(t, ClassRefused, h.Class)
				assert.Equal(t, "connect", h.Phase)
				assert.Equal(t, "[::1]:"+port, h.tried.String())
			}
		}
		assert.ElementsMatch(t, dualZone["dual.triage.test."], pinned)
		assert.True(t, r.Has(CodeHTTPOK), "findings: %v", r.Findings)
		f, ok := r.Find(CodeTCPRefused)
		require.True(t, ok, "findings: %v", r.Findings)
		assert.Equal(t, "::1", f.Evidence.String("addr"))
		assert.Equal(t, triage.Fail, r.Status)
	})
	t.Run("dns timeout", func(t *testing.T) {
		silent := dnsServer(t, -1)
		for _, each := range []bool{false, true} {
			for _, viaTimeout := range []bool{false, true} {
				t.Run(fmt.Sprintf("each=%v/timeout=%v", each, viaTimeout), func(t *testing.T) {
					deadline, timeout := 400*time.Millisecond, time.Duration(0)
					if viaTimeout {
						deadline, timeout = 5*time.Second, 400*time.Millisecond
					}
					within(t, deadline, func(ctx context.Context) {
						start := time.Now()
						r := HTTP(ctx, HTTPOptions{URL: u, Resolver: silent, EachAddress: each, Timeout: timeout})
						if took := time.Since(start); viaTimeout && took > timeout+time.Second {
							t.Errorf("returned after %s, Timeout was %s", took, timeout)
						}
						require.NoError(t, r.Err)
						assert.Equal(t, triage.Fail, r.Status)
						f, ok := r.Find(CodeTCPDNSTimeout)
						require.True(t, ok, "findings: %v", r.Findings)
						assert.Equal(t, "dual.triage.test.", f.Evidence.String("host"))
						if each {
							assert.Empty(t, r.Attempts, "no address to try")
							return
						}
						require.Len(t, r.Attempts, 1)
						h := r.Attempts[0].Last()
						assert.Equal(t, ClassDNSTimeout, h.Class, "error: %v", h.Err)
						assert.Equal(t, "dns", h.Phase)
						assert.Positive(t, h.Timings.DNS)
						assertTimingsAddUp(t, h.Timings)
					})
				})
			}
		}
	})
}

func TestHTTPIPv6(t *testing.T) {
	ipv6Loopback(t)
	ln, err := net.Listen("tcp6", "[::1]:0")
	require.NoError(t, err)
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(okHandler)}}
	srv.Start()
	defer srv.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())

	r := HTTP(context.Background(), HTTPOptions{URL: "http://[::1]:" + port + "/"})
	require.NoError(t, r.Err)
	assert.True(t, r.Has(CodeHTTPOK), "findings: %v", r.Findings)
	assert.True(t, r.Attempts[0].Last().Remote.Addr().Is6())

	r = HTTP(context.Background(), HTTPOptions{URL: "http://v6.triage.invalid:" + port + "/", Resolve: []string{"v6.triage.invalid:" + port + ":[::1]"}})
	require.NoError(t, r.Err)
	assert.True(t, r.Has(CodeHTTPOK), "findings: %v", r.Findings)
}

func TestHTTPRequestOptions(t *testing.T) {
	var got *http.Request
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		_, _ = io.WriteString(w, strings.Repeat("x", 5000))
	}))
	defer srv.Close()

	r := HTTP(context.Background(), HTTPOptions{
		URL:          srv.URL,
		Method:       "POST",
		Header:       http.Header{"X-Api-Key": {"k"}, "Host": {"svc.internal"}, "Traceparent": {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}},
		Body:         []byte(`{"ping":true}`),
		MaxBodyBytes: 100,
	})
	require.NoError(t, r.Err)
	assert.Equal(t, "POST", got.Method)
	assert.Equal(t, "k", got.Header.Get("X-Api-Key"))
	assert.Equal(t, "svc.internal", got.Host)
	assert.Equal(t, `{"ping":true}`, body)
	assert.Equal(t, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", got.Header.Get("traceparent"))
	h := r.Attempts[0].Last()
	assert.Equal(t, int64(100), h.BodyBytes)
	assert.True(t, h.BodyTruncated)
	assert.Equal(t, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", h.TraceParent)
	// The trace id recorded is the one the server got, not a fresh one.
	assert.Equal(t, "0af7651916cd43dd8448eb211c80319c", r.Attempts[0].TraceID)
	f, ok := r.Find(CodeHTTPOK)
	require.True(t, ok, "findings: %v", r.Findings)
	assert.Equal(t, "0af7651916cd43dd8448eb211c80319c", f.Evidence.String("trace_id"))
}

// A caller's traceparent is sent as given. When it is valid its trace id
// is the one recorded, on every attempt; when it is not, a server ignores
// it and starts a trace of its own, so no trace id is recorded at all.
func TestHTTPCallerTraceparent(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Values("traceparent")...)
		mu.Unlock()
		okHandler(w, r)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	const valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	tests := []struct {
		name   string
		header http.Header
		sent   string
		id     string
	}{
		{"valid", http.Header{"Traceparent": {valid}}, valid, "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"lowercase key", http.Header{"traceparent": {valid}}, valid, "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"future version", http.Header{"Traceparent": {"cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds"}},
			"cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds", "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"garbage", http.Header{"Traceparent": {"not-a-traceparent"}}, "not-a-traceparent", ""},
		{"uppercase", http.Header{"Traceparent": {"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"}},
			"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", ""},
		{"zero trace id", http.Header{"Traceparent": {"00-00000000000000000000000000000000-00f067aa0ba902b7-01"}},
			"00-00000000000000000000000000000000-00f067aa0ba902b7-01", ""},
		{"zero parent id", http.Header{"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"}},
			"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", ""},
		{"version ff", http.Header{"Traceparent": {"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}},
			"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", ""},
		{"version 00 too long", http.Header{"Traceparent": {valid + "-x"}}, valid + "-x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			// Two attempts, one per address: both send the caller's header.
			r := HTTP(context.Background(), HTTPOptions{
				URL: "http://api.triage.invalid:" + port + "/", Header: tt.header, EachAddress: true,
				Resolve: []string{"api.triage.invalid:" + port + ":127.0.0.1,127.0.0.1"},
			})
			require.NoError(t, r.Err)
			require.Len(t, r.Attempts, 2)
			mu.Lock()
			assert.Equal(t, []string{tt.sent, tt.sent}, got)
			mu.Unlock()
			for _, a := range r.Attempts {
				assert.Equal(t, tt.id, a.TraceID)
				assert.Equal(t, tt.sent, a.Last().TraceParent)
			}
			require.Len(t, r.Findings, 2)
			for _, f := range r.Findings {
				assert.Equal(t, CodeHTTPOK, f.Code)
				v, ok := f.Evidence.Lookup("trace_id")
				assert.Equal(t, tt.id != "", ok, "trace_id evidence only for a trace id the server saw")
				if ok {
					assert.Equal(t, tt.id, v.String())
				}
			}
		})
	}
}

func TestHTTPCanceled(t *testing.T) {
	silent := silentServer(t, "tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	r := HTTP(ctx, HTTPOptions{URL: "http://" + silent + "/"})
	assert.ErrorIs(t, r.Err, context.Canceled)
	assert.Equal(t, triage.Unknown, r.Status)
}

func TestHTTPInvalid(t *testing.T) {
	for _, o := range []HTTPOptions{
		{},
		{URL: "ftp://x/"},
		{URL: "http://"},
		{URL: "http://x:0/"},
		{URL: "http://x:99999/"},
		{URL: "://bad"},
		{URL: "http://x/", Method: "GET /"},
		{URL: "http://x/", Timeout: -1},
		{URL: "http://x/", Resolve: []string{"x:80"}},
		{URL: "http://x/", Resolve: []string{"x:80:not-an-ip"}},
		{URL: "http://x/", Resolve: []string{"x:http:127.0.0.1"}},
	} {
		t.Run(fmt.Sprintf("%q", o.URL), func(t *testing.T) {
			r := HTTP(context.Background(), o)
			assert.ErrorIs(t, r.Err, triage.ErrInvalid)
			assert.Equal(t, triage.Unknown, r.Status)
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 2 * time.Minute, true},
		{" 0 ", 0, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"soon", 0, false},
		{"-5", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, ok := parseRetryAfter(tt.in, now)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, d)
		})
	}
}

func TestParseResolve(t *testing.T) {
	pins, err := parseResolve([]string{"API.example.com:443:10.0.0.1,[2001:db8::1]", "b:80:::1"})
	require.NoError(t, err)
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("2001:db8::1")}, pins["api.example.com:443"])
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("::1")}, pins["b:80"])
}

func FuzzParseResolve(f *testing.F) {
	for _, s := range []string{"a:80:127.0.0.1", "a:443:[::1]", "a:1:1.2.3.4,5.6.7.8", ":::", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pins, err := parseResolve([]string{s})
		if err != nil {
			assert.ErrorIs(t, err, triage.ErrInvalid)
			return
		}
		for k, v := range pins {
			_, _, err := net.SplitHostPort(k)
			assert.NoError(t, err)
			assert.NotEmpty(t, v)
		}
	})
}

func TestIsProxyServer(t *testing.T) {
	for s, want := range map[string]bool{
		"nginx": true, "nginx/1.25.3": true, "envoy": true, "cloudflare": true, "awselb/2.0": true,
		"AkamaiGHost": true, "Apache/2.4.58 (Ubuntu)": false, "gunicorn": false, "": false, "nginxish": false,
	} {
		assert.Equal(t, want, isProxyServer(s), s)
	}
}
