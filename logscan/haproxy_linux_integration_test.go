//go:build linux

package logscan

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage/internal/testhaproxy"
)

// TestIntegrationHAProxy puts real haproxy in front of a dead, a hung and
// a health-checked dead backend, sends it requests and scans its log: the
// termination states and alerts name the upstream's failure and the
// backend/server, and a healthy backend's lines raise nothing.
func TestIntegrationHAProxy(t *testing.T) {
	get := func(t *testing.T, addr string) int {
		c := &http.Client{Timeout: 5 * time.Second}
		resp, err := c.Get("http://" + addr + "/orders")
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	scan := func(t *testing.T, p *testhaproxy.Proxy, want int) Result {
		// haproxy writes a request's line when it ends; give it a moment.
		var r Result
		for deadline := time.Now().Add(3 * time.Second); ; {
			r = Check(context.Background(), Options{Files: []string{p.Log}, Since: time.Minute})
			require.NoError(t, r.Err)
			if len(r.Signals) >= want || time.Now().After(deadline) {
				return r
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Run("dead backend", func(t *testing.T) {
		p := testhaproxy.Start(t, testhaproxy.Options{Server: fmt.Sprintf("127.0.0.1:%d", freePort(t))})
		assert.Equal(t, http.StatusServiceUnavailable, get(t, p.Addr))
		r := scan(t, p, 1)
		s := signal(t, r, CodeUpstreamRefused, "app/srv1")
		assert.Equal(t, 1, s.Count)
		assert.NotContains(t, codes(r), CodeUpstreamTimeout)
	})
	t.Run("hung backend", func(t *testing.T) {
		p := testhaproxy.Start(t, testhaproxy.Options{Server: fmt.Sprintf("127.0.0.1:%d", hungUpstream(t)), ServerTimeout: 300 * time.Millisecond})
		assert.Equal(t, http.StatusGatewayTimeout, get(t, p.Addr))
		r := scan(t, p, 1)
		assert.Equal(t, 1, signal(t, r, CodeUpstreamTimeout, "app/srv1").Count)
		assert.NotContains(t, codes(r), CodeUpstreamRefused)
	})
	t.Run("health-checked dead backend", func(t *testing.T) {
		p := testhaproxy.Start(t, testhaproxy.Options{Server: fmt.Sprintf("127.0.0.1:%d", freePort(t)), Check: true})
		time.Sleep(400 * time.Millisecond) // a few failed checks
		assert.Equal(t, http.StatusServiceUnavailable, get(t, p.Addr))
		r := scan(t, p, 2)
		b, _ := os.ReadFile(p.Log)
		s := signal(t, r, CodeUpstreamRefused, "app/srv1")
		assert.GreaterOrEqual(t, s.Count, 1, "the DOWN alert:\n%s", b)
		assert.GreaterOrEqual(t, signal(t, r, CodeUpstreamRefused, "app/<NOSRV>").Count, 1, "%s", b)
	})
	t.Run("healthy backend", func(t *testing.T) {
		up := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), ReadHeaderTimeout: time.Second}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		go func() { _ = up.Serve(ln) }()
		t.Cleanup(func() { _ = up.Close() })
		p := testhaproxy.Start(t, testhaproxy.Options{Server: ln.Addr().String()})
		for range 3 {
			assert.Equal(t, http.StatusOK, get(t, p.Addr))
		}
		time.Sleep(200 * time.Millisecond)
		r := Check(context.Background(), Options{Files: []string{p.Log}, Since: time.Minute})
		assert.Empty(t, r.Signals, "%v", r.Findings)
	})
}
