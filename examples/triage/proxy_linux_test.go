//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestApplicationProxy: the application's environment names a proxy that
// is down while the service is healthy. The request goes the way the
// application's would, through that proxy, and the report blames it;
// -no-proxy goes direct and finds the service healthy.
func TestApplicationProxy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	port := ln.Addr().(*net.TCPAddr).Port

	dead, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	deadAddr := dead.Addr().String()
	require.NoError(t, dead.Close())

	// The application: a real process whose environment names the proxy.
	app := exec.Command("sleep", "600")
	app.Env = []string{"PATH=/usr/bin:/bin", "http_proxy=http://" + deadAddr, "no_proxy=.internal"}
	require.NoError(t, app.Start())
	t.Cleanup(func() {
		_ = app.Process.Kill()
		_ = app.Wait()
	})

	// A name that is not loopback, since no client proxies loopback; the
	// proxy resolves it, so no DNS is needed here.
	u := fmt.Sprintf("http://api.example:%d/", port)
	args := []string{"-url", u, "-pid", strconv.Itoa(app.Process.Pid), "-path", t.TempDir(), "-json", "-timeout", "8s"}
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	var doc struct {
		Symptom    string `json:"symptom"`
		Hypotheses []struct {
			ID string `json:"id"`
		} `json:"hypotheses"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc), errb.String())
	require.NotEmpty(t, doc.Hypotheses, out.String())
	assert.Equal(t, "client.proxy", doc.Hypotheses[0].ID, out.String())
	assert.Equal(t, "refused", doc.Symptom)
	assert.Equal(t, exitTrouble, code)

	// Direct, the request reaches the name's address: none here, so the
	// service is pinned as curl --resolve would.
	out.Reset()
	code = run(context.Background(), append(args, "-no-proxy", "-resolve", fmt.Sprintf("api.example:%d:127.0.0.1", port)), &out, &errb)
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc), errb.String())
	for _, h := range doc.Hypotheses {
		assert.NotEqual(t, "client.proxy", h.ID, out.String())
	}
	assert.Equal(t, "none", doc.Symptom, out.String())
	_ = code
}

// TestSlowFlag: -slow sets the latency above which an answer is slow.
func TestSlowFlag(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		_, _ = w.Write([]byte("ok\n"))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	u := "http://" + ln.Addr().String() + "/"

	for _, tt := range []struct {
		slow, want string
	}{{"100ms", "slow"}, {"2s", "none"}} {
		var out, errb bytes.Buffer
		run(context.Background(), []string{"-url", u, "-slow", tt.slow, "-path", t.TempDir(), "-json", "-timeout", "8s"}, &out, &errb)
		var doc struct {
			Symptom    string `json:"symptom"`
			Hypotheses []struct {
				ID string `json:"id"`
			} `json:"hypotheses"`
		}
		require.NoError(t, json.Unmarshal(out.Bytes(), &doc), errb.String())
		assert.Equal(t, tt.want, doc.Symptom, "-slow %s: %s", tt.slow, out.String())
		if tt.want == "slow" && assert.NotEmpty(t, doc.Hypotheses) {
			assert.Equal(t, "slow.app", doc.Hypotheses[0].ID, out.String())
		}
	}
	var out, errb bytes.Buffer
	assert.Equal(t, exitUsage, run(context.Background(), []string{"-slow", "0s"}, &out, &errb))
}
