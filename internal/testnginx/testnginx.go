//go:build linux

// Package testnginx runs a real nginx reverse proxy for tests, so that
// 502s, 504s and nginx's own error log come from the third-party peer
// operators actually run, not from a stand-in.
package testnginx

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/triagekit/triage/internal/testnet"
)

// Proxy is one nginx process serving on loopback.
type Proxy struct {
	// Addr is where nginx listens, host:port on 127.0.0.1.
	Addr string
	// ErrorLog is nginx's error log, written at level "error".
	ErrorLog string
	// Dir is nginx's prefix directory.
	Dir string
}

// Start runs nginx with one location per route, each proxying to an
// upstream host:port with 1s connect and read timeouts, and stops it when
// the test ends. It skips the test when nginx is not installed.
func Start(t testing.TB, routes map[string]string) *Proxy {
	t.Helper()
	return StartWithUpstreams(t, routes, nil)
}

// StartWithUpstreams is Start with upstream blocks: each name maps to the
// block's server lines, such as "127.0.0.1:9 max_fails=1", and a route may
// proxy to the name instead of a host:port.
func StartWithUpstreams(t testing.TB, routes map[string]string, upstreams map[string][]string) *Proxy {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, err := os.Stat("/usr/sbin/nginx"); err != nil {
			t.Skip("needs nginx (Debian package nginx-light)")
		}
		bin = "/usr/sbin/nginx"
	}
	dir := t.TempDir()
	// nginx's workers drop to an unprivileged user when run as root; let
	// them write their temp files.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	port := testnet.FreePort(t)
	blocks := ""
	for name, servers := range upstreams {
		blocks += "\tupstream " + name + " {\n"
		for _, srv := range servers {
			blocks += "\t\tserver " + srv + ";\n"
		}
		blocks += "\t}\n"
	}
	locations := ""
	for path, upstream := range routes {
		locations += fmt.Sprintf("\t\tlocation %s { proxy_pass http://%s; proxy_connect_timeout 1s; proxy_read_timeout 1s; }\n", path, upstream)
	}
	conf := fmt.Sprintf(`worker_processes 1;
daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log error;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
%[4]s	server {
		listen 127.0.0.1:%[2]d;
%[3]s	}
}
`, dir, port, locations, blocks)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", path)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	p := &Proxy{Addr: fmt.Sprintf("127.0.0.1:%d", port), ErrorLog: filepath.Join(dir, "error.log"), Dir: dir}
	if err := testnet.WaitDial(p.Addr); err != nil {
		t.Fatalf("nginx did not start on %s: %v", p.Addr, err)
	}
	return p
}
