package probe

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/testca"
)

// forwardProxy is a real forward proxy, as squid or tinyproxy is to the
// client: absolute-form requests are forwarded, CONNECT is tunnelled or,
// when connectStatus is set, answered with it. It sends every request
// for any host to origin, so that test names need no DNS.
func forwardProxy(t *testing.T, origin string, connectStatus int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var seen atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		if r.Method == http.MethodConnect {
			if connectStatus != 0 {
				w.WriteHeader(connectStatus)
				return
			}
			up, err := net.Dial("tcp", origin)
			if err != nil {
				w.WriteHeader(http.StatusBadGateway)
				return
			}
			w.WriteHeader(http.StatusOK)
			c, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				up.Close()
				return
			}
			go func() {
				defer up.Close()
				defer c.Close()
				go func() { _, _ = io.Copy(up, buf) }()
				_, _ = io.Copy(c, up)
			}()
			return
		}
		out, err := http.NewRequestWithContext(r.Context(), r.Method, "http://"+origin+r.URL.RequestURI(), r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		out.Host = r.Host
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			w.Header().Set("Via", "1.1 test-proxy")
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Via", "1.1 test-proxy")
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	return srv, &seen
}

func TestProxyFromEnvironment(t *testing.T) {
	u := func(s string) *url.URL {
		v, err := url.Parse(s)
		require.NoError(t, err)
		return v
	}
	assert.Nil(t, ProxyFromEnvironment(nil), "no proxy named: direct")
	assert.Nil(t, ProxyFromEnvironment([]string{"PATH=/bin", "HTTP_PROXY="}), "an empty value names none")

	choose := ProxyFromEnvironment([]string{"http_proxy=http://lower:1", "HTTP_PROXY=http://upper:3128",
		"HTTPS_PROXY=http://user:secret@tls-proxy:3129", "NO_PROXY=.internal,10.0.0.0/8", "garbage"})
	require.NotNil(t, choose)
	p, err := choose(u("http://api.example/x"))
	require.NoError(t, err)
	assert.Equal(t, "http://upper:3128", p.String(), "the upper-case name wins")
	p, err = choose(u("https://api.example/x"))
	require.NoError(t, err)
	assert.Equal(t, "tls-proxy:3129", p.Host)
	for _, direct := range []string{"http://db.internal/", "http://10.1.2.3/", "http://localhost:8080/", "http://127.0.0.1/"} {
		p, err = choose(u(direct))
		require.NoError(t, err)
		assert.Nil(t, p, "%s goes direct", direct)
	}
}

// TestHTTPProxy sends requests through real proxies: one that forwards,
// one whose port refuses, one that accepts and never answers, and one
// that refuses CONNECT.
func TestHTTPProxy(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(okHandler))
	defer origin.Close()
	originAddr := origin.Listener.Addr().String()
	ca := testca.New(t)
	now := time.Now()
	tlsOrigin := tlsServer(t, ca.Leaf(t, now.Add(-time.Hour), now.Add(90*24*time.Hour), "api.test"), http.HandlerFunc(okHandler))

	good, seen := forwardProxy(t, originAddr, 0)
	tlsGood, tlsSeen := forwardProxy(t, tlsOrigin.Listener.Addr().String(), 0)
	forbidden, _ := forwardProxy(t, originAddr, http.StatusForbidden)

	dead, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	deadAddr := dead.Addr().String()
	dead.Close()

	hung, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer hung.Close()
	go func() {
		for {
			c, err := hung.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()

	via := func(proxy string) func(*url.URL) (*url.URL, error) {
		return ProxyFromEnvironment([]string{"HTTP_PROXY=" + proxy, "HTTPS_PROXY=" + proxy})
	}

	t.Run("forwarded", func(t *testing.T) {
		r := HTTP(context.Background(), HTTPOptions{URL: "http://api.test/ok", Proxy: via(good.URL)})
		require.NoError(t, r.Err)
		f, ok := r.Find(CodeHTTPOK)
		require.True(t, ok, "findings: %v", r.Findings)
		assert.Equal(t, good.URL, f.Evidence.String(KeyViaProxy))
		assert.EqualValues(t, 1, seen.Load(), "the request went through the proxy")
		h := r.Attempts[0].Last()
		assert.Equal(t, good.URL, h.Proxy)
		assert.Equal(t, good.Listener.Addr().String(), h.Remote.String(), "the connection is to the proxy")
	})
	t.Run("tunnelled https verified", func(t *testing.T) {
		r := HTTP(context.Background(), HTTPOptions{URL: "https://api.test/ok", Proxy: via(tlsGood.URL), RootCAs: ca.Pool})
		require.NoError(t, r.Err)
		assert.True(t, r.Has(CodeHTTPOK), "findings: %v", r.Findings)
		assert.EqualValues(t, 1, tlsSeen.Load())
		h := r.Attempts[0].Last()
		require.NotNil(t, h.TLS)
		assert.True(t, h.TLS.Verified)
		assert.Equal(t, "api.test", h.TLS.ServerName)
	})
	t.Run("tunnelled https, certificate of another authority", func(t *testing.T) {
		r := HTTP(context.Background(), HTTPOptions{URL: "https://api.test/ok", Proxy: via(tlsGood.URL)})
		require.NoError(t, r.Err)
		assert.True(t, r.Has(CodeHTTPTLSUnknownAuthority), "the target's certificate, not the proxy, fails: %v", r.Findings)
		assert.False(t, r.Has(CodeHTTPProxyFailed))
	})
	for _, tt := range []struct {
		name, url, proxy, how string
		status                int
	}{
		{"dead proxy, http", "http://api.test/", "http://" + deadAddr, "refused", 0},
		{"dead proxy, https", "https://api.test/", "http://" + deadAddr, "refused", 0},
		{"hung proxy, https", "https://api.test/", "http://" + hung.Addr().String(), "timeout", 0},
		{"CONNECT forbidden", "https://api.test/", forbidden.URL, "status", http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := HTTP(context.Background(), HTTPOptions{URL: tt.url, Proxy: via(tt.proxy), Timeout: 500 * time.Millisecond})
			require.NoError(t, r.Err)
			assert.Equal(t, triage.Fail, r.Status)
			f, ok := r.Find(CodeHTTPProxyFailed)
			require.True(t, ok, "findings: %v", r.Findings)
			assert.Len(t, r.Findings, 1, "the proxy's failure is not the target's: %v", r.Findings)
			assert.Equal(t, tt.how, f.Evidence.String(KeyProxyFailure))
			assert.Equal(t, tt.proxy, f.Evidence.String(KeyViaProxy))
			assert.Contains(t, f.Summary, "before it reached api.test")
			if tt.status != 0 {
				n, _ := f.Evidence.Int(KeyHTTPStatus)
				assert.EqualValues(t, tt.status, n)
			}
		})
	}
	t.Run("password of the proxy never shown", func(t *testing.T) {
		r := HTTP(context.Background(), HTTPOptions{URL: "http://api.test/", Proxy: via("http://u:hunter2@" + deadAddr)})
		f, ok := r.Find(CodeHTTPProxyFailed)
		require.True(t, ok)
		assert.NotContains(t, f.Summary+f.Evidence.String(KeyViaProxy), "hunter2")
	})
	t.Run("chooser error", func(t *testing.T) {
		r := HTTP(context.Background(), HTTPOptions{URL: "http://api.test/", Proxy: func(*url.URL) (*url.URL, error) {
			return nil, assert.AnError
		}})
		require.Len(t, r.Findings, 1)
		assert.Equal(t, triage.Fail, r.Findings[0].Status)
		assert.Contains(t, r.Findings[0].Summary, "choosing a proxy")
	})
}

func TestHTTPSlow(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(150 * time.Millisecond)
		okHandler(w, r)
	}))
	defer srv.Close()

	r := HTTP(context.Background(), HTTPOptions{URL: srv.URL, Slow: 50 * time.Millisecond})
	require.NoError(t, r.Err)
	assert.Equal(t, triage.Warn, r.Status)
	f, ok := r.Find(CodeHTTPSlow)
	require.True(t, ok, "findings: %v", r.Findings)
	assert.Equal(t, "wait", f.Evidence.String(KeyPhase), "the server's think time is the wait")
	wait, _ := f.Evidence.Lookup("wait_ns")
	assert.GreaterOrEqual(t, wait.Duration(), 150*time.Millisecond)
	assert.Contains(t, f.Summary, "waiting for the first byte")
	assert.True(t, r.Has(CodeHTTPOK), "a slow answer is still an answer")

	r = HTTP(context.Background(), HTTPOptions{URL: srv.URL})
	assert.False(t, r.Has(CodeHTTPSlow), "under the default second: %v", r.Findings)
	r = HTTP(context.Background(), HTTPOptions{URL: srv.URL, Slow: -1})
	assert.False(t, r.Has(CodeHTTPSlow), "negative: never")
}

func TestHTTPAuthAndRateLimitEvidence(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/401":
			w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
		case "/403":
			w.WriteHeader(http.StatusForbidden)
		case "/429":
			w.Header().Set("X-RateLimit-Limit", "100")
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("RateLimit-Reset", "17")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	defer srv.Close()

	r := HTTP(context.Background(), HTTPOptions{URL: srv.URL + "/401", Header: http.Header{"Authorization": {"Bearer expired"}}})
	f, ok := r.Find(CodeHTTPStatus4xx)
	require.True(t, ok)
	assert.Equal(t, `Bearer realm="api", error="invalid_token"`, f.Evidence.String(KeyAuthChallenge))
	sent, _ := f.Evidence.Lookup(KeyAuthSent)
	assert.True(t, sent.Bool())
	assert.Contains(t, f.Summary, "credentials were sent and refused")

	r = HTTP(context.Background(), HTTPOptions{URL: srv.URL + "/403"})
	f, ok = r.Find(CodeHTTPStatus4xx)
	require.True(t, ok)
	sent, _ = f.Evidence.Lookup(KeyAuthSent)
	assert.False(t, sent.Bool())
	assert.Contains(t, f.Summary, "no credentials were sent")

	u := strings.Replace(srv.URL, "http://", "http://user:pw@", 1)
	r = HTTP(context.Background(), HTTPOptions{URL: u + "/401"})
	f, _ = r.Find(CodeHTTPStatus4xx)
	sent, _ = f.Evidence.Lookup(KeyAuthSent)
	assert.True(t, sent.Bool(), "a user in the URL is sent as Basic credentials")

	r = HTTP(context.Background(), HTTPOptions{URL: srv.URL + "/429"})
	f, ok = r.Find(CodeHTTPRateLimited)
	require.True(t, ok)
	assert.Equal(t, "0", f.Evidence.String("x_ratelimit_remaining"))
	assert.Equal(t, "100", f.Evidence.String("x_ratelimit_limit"))
	assert.Equal(t, "17", f.Evidence.String("ratelimit_reset"))
	assert.Contains(t, f.Summary, "X-RateLimit-Remaining: 0")
}
