//go:build linux

package logscan

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/testnginx"
)

// freePort returns a loopback port nothing listens on (right now).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// hungUpstream accepts connections and never answers.
func hungUpstream(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return l.Addr().(*net.TCPAddr).Port
}

func TestIntegrationNginxUpstream(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("nginx needs root here")
	}
	dead, hung, pooled := freePort(t), hungUpstream(t), freePort(t)
	// A group whose only live server is dead: once its one failure marks
	// it down (max_fails=1), nginx has no server left to try. A group of
	// one server never marks it down, hence the second, disabled one.
	p := testnginx.StartWithUpstreams(t, map[string]string{
		"/dead":   fmt.Sprintf("127.0.0.1:%d", dead),
		"/hung":   fmt.Sprintf("127.0.0.1:%d", hung),
		"/pooled": "backend",
	}, map[string][]string{
		"backend": {fmt.Sprintf("127.0.0.1:%d max_fails=1 fail_timeout=60s", pooled), "127.0.0.1:9 down"},
	})
	addr, errLog := p.Addr, p.ErrorLog

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	defer client.CloseIdleConnections()
	get := func(path string) int {
		resp, err := client.Get("http://" + addr + path)
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := 0; i < 3; i++ {
		assert.Equal(t, http.StatusBadGateway, get("/dead"))
	}
	assert.Equal(t, http.StatusGatewayTimeout, get("/hung"))
	assert.Equal(t, http.StatusBadGateway, get("/pooled"), "the connect fails and marks the server down")
	assert.Equal(t, http.StatusBadGateway, get("/pooled"), "no live upstreams")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r := Check(ctx, Options{Files: []string{errLog}, Since: 10 * time.Minute})
	require.NoError(t, r.Err)
	assert.Equal(t, triage.Fail, r.Status)
	refused := signal(t, r, CodeUpstreamRefused, fmt.Sprintf("127.0.0.1:%d", dead))
	assert.Equal(t, 3, refused.Count)
	assert.WithinDuration(t, time.Now(), refused.Last, time.Minute)
	timeout := signal(t, r, CodeUpstreamTimeout, fmt.Sprintf("127.0.0.1:%d", hung))
	assert.Equal(t, 1, timeout.Count)
	f := findingOf(t, r, CodeUpstreamRefused)
	assert.Equal(t, fmt.Sprintf("127.0.0.1:%d", dead), f.Evidence.String("target"))
	n, _ := f.Evidence.Int("count")
	assert.EqualValues(t, 3, n)
	n, _ = f.Evidence.Int("no_live_upstreams")
	assert.Zero(t, n)
	assert.Equal(t, 6, r.ErrorLines)
	t.Logf("%s", f.Evidence.String("example"))

	// The group's server refused once, then nginx had nobody to ask. The
	// line names the group, not a server: upstream: "http://backend/pooled".
	first := signal(t, r, CodeUpstreamRefused, fmt.Sprintf("127.0.0.1:%d", pooled))
	assert.Equal(t, 1, first.Count)
	assert.Zero(t, first.NoLiveUpstreams)
	noLive := signal(t, r, CodeUpstreamRefused, "backend")
	assert.Equal(t, 1, noLive.Count)
	assert.Equal(t, 1, noLive.NoLiveUpstreams)
	assert.Contains(t, noLive.Example, "no live upstreams")
	var nl triage.Finding
	for _, f := range r.Findings {
		if f.Code == CodeUpstreamRefused && f.Evidence.String("target") == "backend" {
			nl = f
		}
	}
	require.Equal(t, CodeUpstreamRefused, nl.Code, "a finding for the group in %v", r.Findings)
	assert.Equal(t, triage.Fail, nl.Status)
	n, ok := nl.Evidence.Int("no_live_upstreams")
	assert.True(t, ok)
	assert.EqualValues(t, 1, n)
	assert.Contains(t, nl.Summary, "no live upstreams")
}
