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
	dead, hung := freePort(t), hungUpstream(t)
	p := testnginx.Start(t, map[string]string{
		"/dead": fmt.Sprintf("127.0.0.1:%d", dead),
		"/hung": fmt.Sprintf("127.0.0.1:%d", hung),
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
	assert.Equal(t, 4, r.ErrorLines)
	t.Logf("%s", f.Evidence.String("example"))
}
