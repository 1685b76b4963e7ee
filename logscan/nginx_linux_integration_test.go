package logscan

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

const nginxBin = "/usr/sbin/nginx"

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
	if _, err := os.Stat(nginxBin); err != nil {
		t.Skip("nginx not installed")
	}
	if os.Geteuid() != 0 {
		t.Skip("nginx needs root here")
	}
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o777))
	errLog := filepath.Join(dir, "error.log")
	dead, hung, port := freePort(t), hungUpstream(t), freePort(t)
	conf := fmt.Sprintf(`
worker_processes 1;
error_log %[1]s/error.log error;
pid %[1]s/nginx.pid;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	server {
		listen 127.0.0.1:%[2]d;
		location /dead { proxy_pass http://127.0.0.1:%[3]d; proxy_connect_timeout 1s; }
		location /hung { proxy_pass http://127.0.0.1:%[4]d; proxy_connect_timeout 1s; proxy_read_timeout 1s; }
	}
}
`, dir, port, dead, hung)
	confPath := filepath.Join(dir, "nginx.conf")
	require.NoError(t, os.WriteFile(confPath, []byte(conf), 0o644))

	cmd := exec.Command(nginxBin, "-p", dir, "-c", confPath, "-g", "daemon off; master_process off;")
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		}
	}
	t.Cleanup(stop)

	addr := fmt.Sprintf("127.0.0.1:%d", port)
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 5*time.Second, 20*time.Millisecond, "nginx did not start")

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
	stop()

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
