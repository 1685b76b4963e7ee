package probe

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/testnet"
)

// startNginx runs a real nginx reverse proxy on loopback with the given
// locations and returns its address. It skips when nginx is missing.
func startNginx(t *testing.T, locations string) string {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, err2 := os.Stat("/usr/sbin/nginx"); err2 != nil {
			t.Skip("needs nginx")
		}
		bin = "/usr/sbin/nginx"
	}
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "logs"), 0o755))
	port := freePort(t)
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;"
	}
	conf := fmt.Sprintf(`%s
worker_processes 1;
daemon off;
master_process off;
pid %[2]s/nginx.pid;
error_log %[2]s/logs/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path %[2]s/body;
	proxy_temp_path %[2]s/proxy;
	fastcgi_temp_path %[2]s/fastcgi;
	uwsgi_temp_path %[2]s/uwsgi;
	scgi_temp_path %[2]s/scgi;
	server {
		listen 127.0.0.1:%[3]d;
		%[4]s
	}
}
`, user, dir, port, locations)
	path := filepath.Join(dir, "nginx.conf")
	require.NoError(t, os.WriteFile(path, []byte(conf), 0o644))
	cmd := exec.Command(bin, "-p", dir, "-c", path)
	out, err := os.Create(filepath.Join(dir, "logs", "stderr"))
	require.NoError(t, err)
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	}, 5*time.Second, 20*time.Millisecond, "nginx did not start: %s", readFile(filepath.Join(dir, "logs", "stderr")))
	return addr
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func TestIntegrationHTTPNginx(t *testing.T) {
	dead := closedPort(t)
	hung := silentServer(t, "tcp", "127.0.0.1:0")
	addr := startNginx(t, fmt.Sprintf(`
		location /dead { proxy_pass http://%s; }
		location /hung { proxy_pass http://%s; proxy_read_timeout 300ms; }
	`, dead, hung))

	tests := []struct {
		path     string
		status   int
		upstream string
	}{
		{"/dead", 502, "refused or broke the connection"},
		{"/hung", 504, "did not answer in time"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			within(t, 5*time.Second, func(ctx context.Context) {
				r := HTTP(ctx, HTTPOptions{URL: "http://" + addr + tt.path})
				require.NoError(t, r.Err)
				f, ok := r.Find(CodeHTTPStatus5xx)
				require.True(t, ok, "findings: %v", r.Findings)
				assert.Equal(t, triage.Fail, f.Status)
				st, _ := f.Evidence.Int(KeyHTTPStatus)
				assert.Equal(t, int64(tt.status), st)
				proxy, _ := f.Evidence.Lookup("proxy")
				assert.True(t, proxy.Bool(), "Server: %s", f.Evidence.String("server"))
				assert.Contains(t, f.Evidence.String("server"), "nginx")
				assert.Equal(t, tt.upstream, f.Evidence.String("upstream"))
				assert.Contains(t, f.Summary, "behind the proxy")
			})
		})
	}
}

// The HTTP check dials through a caller's Dialer: here from inside a
// namespace whose firewall drops the SYNs.
func TestIntegrationHTTPSYNDrop(t *testing.T) {
	testnet.RequireIPTables(t)
	ns := testnet.New(t)
	ln := nsListen(t, ns, "127.0.0.1:8080")
	ns.Exec(t, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", "8080", "-j", "DROP")
	within(t, 500*time.Millisecond, func(ctx context.Context) {
		r := HTTP(ctx, HTTPOptions{URL: "http://" + ln.Addr().String() + "/", Dialer: ns})
		require.NoError(t, r.Err)
		h := r.Attempts[0].Last()
		assert.Equal(t, ClassTimeout, h.Class, "error: %v", h.Err)
		assert.Equal(t, "connect", h.Phase)
		assert.True(t, r.Has(CodeTCPTimeout), "findings: %v", r.Findings)
		assertTimingsAddUp(t, h.Timings)
	})
}
