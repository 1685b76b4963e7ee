//go:build linux

// Package testhaproxy runs a real haproxy in front of backends a test
// chooses, so that 503s, 504s and haproxy's own log lines come from the
// proxy operators run, not from a stand-in.
package testhaproxy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/triagekit/triage/internal/testnet"
)

// Proxy is one haproxy process serving HTTP on loopback.
type Proxy struct {
	// Addr is where haproxy listens, host:port on 127.0.0.1.
	Addr string
	// Log is haproxy's log (option httplog, raw format): one line per
	// request when it ends, and haproxy's alerts.
	Log string
	// PID is haproxy's process.
	PID int
}

// Options tune the proxy. Zero durations take short defaults, so that
// tests are fast.
type Options struct {
	// Server is the backend's only server, host:port.
	Server string
	// Check enables haproxy's health checks of the server, which mark
	// it DOWN and answer 503 with no server to send to.
	Check bool
	// ConnectTimeout (default 500ms) and ServerTimeout (default 1s) are
	// haproxy's timeout connect and timeout server.
	ConnectTimeout, ServerTimeout time.Duration
}

// Start runs haproxy in the foreground and stops it when the test ends.
// It skips the test when haproxy is not installed.
func Start(t testing.TB, o Options) *Proxy {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		if _, err := os.Stat("/usr/sbin/haproxy"); err != nil {
			t.Skip("needs haproxy (Debian package haproxy)")
		}
		bin = "/usr/sbin/haproxy"
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = 500 * time.Millisecond
	}
	if o.ServerTimeout == 0 {
		o.ServerTimeout = time.Second
	}
	dir := t.TempDir()
	port := testnet.FreePort(t)
	check := ""
	if o.Check {
		check = " check inter 100ms fall 1 rise 1"
	}
	conf := fmt.Sprintf(`global
	log stdout format raw local0 info
defaults
	mode http
	log global
	option httplog
	timeout connect %dms
	timeout client 5s
	timeout server %dms
	retries 0
frontend fe
	bind 127.0.0.1:%d
	default_backend app
backend app
	server srv1 %s%s
`, o.ConnectTimeout.Milliseconds(), o.ServerTimeout.Milliseconds(), port, o.Server, check)
	cfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "haproxy.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-db", "-f", cfg)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start haproxy: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		logFile.Close()
	})
	p := &Proxy{Addr: fmt.Sprintf("127.0.0.1:%d", port), Log: logPath, PID: cmd.Process.Pid}
	if err := testnet.WaitDial(p.Addr); err != nil {
		b, _ := os.ReadFile(logPath)
		t.Fatalf("haproxy did not start on %s: %v\n%s", p.Addr, err, b)
	}
	return p
}
